"""Static checks of every synthesized template: cdk-nag, cfn-lint, IAM and secure defaults.

One CDK app holds every configuration checked here, one stack each: both
example stacks, each construct with its default props, each construct with
``tracing=True``, a fan-out that posts to a webhook, and a DependenciesLayer.
It is synthesized once per test run, with cdk-nag's AwsSolutions pack as a
validation plugin (under xdist the first worker synthesizes and the others
wait for it), and every test reads the templates and the validation report
that synthesis wrote.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from aws_cdk import App, Duration, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from scheduled_tasks_constructs import (
    AlarmWebhook,
    DependenciesLayer,
    ScheduledLambdaToTable,
    ScheduledTaskFanout,
)
from scheduled_tasks_constructs._schedule import DLQ_ACKNOWLEDGMENT, TRACING_ACKNOWLEDGMENT

try:
    import fcntl
except ImportError:  # not POSIX: each xdist worker synthesizes on its own
    fcntl = None

# Every test here reads the one synthesized app: keep them on one xdist worker
# where --dist loadgroup works; the fixture shares the synthesis otherwise.
pytestmark = pytest.mark.xdist_group("static-checks")

#: Written after synthesis: the error synth raised, empty when it passed.
SYNTH_ERROR = "synth-error.txt"

HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
WORKER = {
    "worker_code": lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    "worker_handler": "index.handler",
}
TASKS = [{"name": "report"}]

#: Stack name -> what it holds.
STACKS = {
    "TheScheduledLambdaStack": "example: the_scheduled_lambda",
    "ServerlessTaskSchedulerStack": "example: serverless_task_scheduler",
    "TableDefault": "ScheduledLambdaToTable, default props",
    "TableTracing": "ScheduledLambdaToTable, tracing=True",
    "FanoutDefault": "ScheduledTaskFanout, default props (tasks and worker are required)",
    "FanoutTracing": "ScheduledTaskFanout, tracing=True",
    "FanoutWebhook": "ScheduledTaskFanout and AlarmWebhook with a webhook secret referenced by name",
    "LayerDefault": "DependenciesLayer, default props",
}
TRACING_STACKS = ("TableTracing", "FanoutTracing")

#: The queues the Scheduler and Lambda send failed runs to directly.
RUN_DEAD_LETTER_QUEUES = {
    "TheScheduledLambdaStack": "ScheduledLambda/DeadLetterQueue",
    "ServerlessTaskSchedulerStack": "TaskScheduler/RunDeadLetterQueue",
    "TableDefault": "Scheduled/DeadLetterQueue",
    "TableTracing": "Scheduled/DeadLetterQueue",
    "FanoutDefault": "Fanout/RunDeadLetterQueue",
    "FanoutTracing": "Fanout/RunDeadLetterQueue",
    "FanoutWebhook": "Fanout/RunDeadLetterQueue",
}
#: The roles of the functions the tracing stacks create.
TRACED_ROLES = {
    "TableTracing": ("Scheduled/FunctionRole", "Scheduled/WatchdogRole"),
    "FanoutTracing": ("Fanout/ProducerRole", "Fanout/WorkerRole", "Fanout/WatchdogRole"),
}
XRAY_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
#: What tracing=True adds to each traced function's role.
XRAY_STATEMENT = {
    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    "Effect": "Allow",
    "Resource": "*",
}


def _example_helpers():
    """``load_example`` and ``NO_BUNDLING`` of the example snapshot tests."""
    path = Path(__file__).resolve().parent / "examples" / "test_example_snapshots.py"
    spec = importlib.util.spec_from_file_location("_static_checks_example_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Synthesized:
    outdir: Path
    templates: Dict[str, dict]
    #: stack -> construct path below the stack -> logical ID
    logical_ids: Dict[str, Dict[str, str]]
    report: dict
    synth_error: Optional[str]


def _synthesize(outdir: Path, workdir: Path) -> None:
    """Synthesize every configuration into ``outdir``; cdk-nag writes its report there too."""
    helpers = _example_helpers()
    # NO_BUNDLING skips the pip install of the dependencies layers.
    app = App(outdir=str(outdir), context=helpers.NO_BUNDLING)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    helpers.load_example("the_scheduled_lambda").TheScheduledLambdaStack(app, "TheScheduledLambdaStack")
    helpers.load_example("serverless_task_scheduler").ServerlessTaskSchedulerStack(
        app, "ServerlessTaskSchedulerStack"
    )
    ScheduledLambdaToTable(Stack(app, "TableDefault"), "Scheduled", schedule=HOURLY)
    ScheduledLambdaToTable(Stack(app, "TableTracing"), "Scheduled", schedule=HOURLY, tracing=True)
    ScheduledTaskFanout(Stack(app, "FanoutDefault"), "Fanout", schedule=HOURLY, tasks=TASKS, **WORKER)
    ScheduledTaskFanout(
        Stack(app, "FanoutTracing"), "Fanout", schedule=HOURLY, tasks=TASKS, tracing=True, **WORKER
    )
    webhook = Stack(app, "FanoutWebhook")
    secret = secretsmanager.Secret.from_secret_name_v2(webhook, "Hook", "task-results-hook")
    fanout = ScheduledTaskFanout(
        webhook, "Fanout", schedule=HOURLY, tasks=TASKS, webhook_secret=secret, **WORKER
    )
    AlarmWebhook(webhook, "Alarms", topic=fanout.alarm_topic, webhook_secret=secret)
    requirements = workdir / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    DependenciesLayer(Stack(app, "LayerDefault"), "Deps", requirements_file=str(requirements))

    try:
        app.synth()
        error = ""
    except Exception as exc:  # cdk-nag findings: the report says which
        error = str(exc) or type(exc).__name__
    (outdir / SYNTH_ERROR).write_text(error, encoding="utf-8")


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The one synthesis, shared by the xdist workers of a run (the first one does it)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        base = base.parent  # shared by every worker of this run
    outdir = base / "static-checks-cdk.out"
    workdir = base / "static-checks-work"
    with _exclusive(base / "static-checks.lock") if fcntl is not None else contextlib.nullcontext():
        if not (outdir / SYNTH_ERROR).exists():
            workdir.mkdir(exist_ok=True)
            _synthesize(outdir, workdir)

    def read(name: str) -> dict:
        return json.loads((outdir / name).read_text(encoding="utf-8"))

    templates = {name: read(f"{name}.template.json") for name in STACKS}
    logical_ids = {
        name: {
            path.split("/", 2)[2]: entry["data"]
            for path, entries in read(f"{name}.metadata.json").items()
            for entry in entries
            if entry["type"] == "aws:cdk:logicalId"
        }
        for name in STACKS
    }
    error = (outdir / SYNTH_ERROR).read_text(encoding="utf-8") or None
    return Synthesized(outdir, templates, logical_ids, read("validation-report.json"), error)


# --- helpers ---------------------------------------------------------------------


def _nag_report(synthesized: Synthesized) -> dict:
    (report,) = [r for r in synthesized.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    return report


def _findings(entries: List[dict]) -> Iterator[Tuple[str, str, dict]]:
    """(rule name, construct path, entry) for every construct of every entry."""
    for entry in entries:
        for construct in entry["violatingConstructs"]:
            yield entry["ruleName"], construct["constructPath"], entry


def _resources(template: dict, type_: str) -> Dict[str, dict]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == type_}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _statements(synthesized: Synthesized) -> Iterator[Tuple[str, str, str, dict]]:
    """(stack, logical id, resource type, statement) of every policy statement in every template."""
    for stack, template in synthesized.templates.items():
        for lid, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            documents = []
            if "PolicyDocument" in props:  # IAM policies, queue and topic policies
                documents.append(props["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents.append(props["AssumeRolePolicyDocument"])
                documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
            for document in documents:
                for statement in _as_list(document["Statement"]):
                    yield stack, lid, resource["Type"], statement


def _wildcard(resource: Any, template: dict) -> Optional[str]:
    """The resource as a pattern when it matches more than one named thing, else None.

    Literal ``*`` or ``?`` anywhere in the ARN counts, and so does the ARN of a
    log group: CloudFormation's ``Arn`` of ``AWS::Logs::LogGroup`` ends in
    ``:*`` (every log stream of the group).
    """
    if isinstance(resource, str):
        return resource if re.search(r"[*?]", resource) else None
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target, attribute = resource["Fn::GetAtt"]
        if attribute == "Arn" and template["Resources"][target]["Type"] == "AWS::Logs::LogGroup":
            return "<log group ARN>:*"
        return None
    if isinstance(resource, dict) and "Fn::Join" in resource:
        _, parts = resource["Fn::Join"]
        literal = "".join(part if isinstance(part, str) else "<token>" for part in parts)
        return literal if re.search(r"[*?]", literal) else None
    if isinstance(resource, dict) and set(resource) == {"Ref"}:
        return None
    text = json.dumps(resource)  # any other intrinsic: judge its literal text
    return text if re.search(r"[*?]", text) else None


def _logical_id_of(synthesized: Synthesized, stack: str, path: str) -> str:
    """The logical ID of the resource whose construct path is ``<stack>/<path>``."""
    return synthesized.logical_ids[stack][path]


# --- cdk-nag ---------------------------------------------------------------------


def test_nag_ran_and_synthesis_passed(synthesized):
    report = _nag_report(synthesized)
    assert report["conclusion"] == "success", synthesized.synth_error
    assert synthesized.synth_error is None
    # The plugin checked the stacks: each run dead-letter queue has its acknowledged finding.
    seen = {path.split("/")[0] for _, path, _ in _findings(report.get("suppressedViolations", []))}
    assert seen == set(RUN_DEAD_LETTER_QUEUES)


@pytest.mark.parametrize("stack", list(STACKS))
def test_nag_has_no_unacknowledged_findings(synthesized, stack):
    report = _nag_report(synthesized)
    unacknowledged = [
        (rule, entry["severity"], path)
        for rule, path, entry in _findings(report.get("violations", []))
        if path.split("/")[0] == stack
    ]
    assert unacknowledged == [], f"{STACKS[stack]}: {unacknowledged}"


def test_acknowledgments_are_the_named_ones_on_the_narrowest_resource(synthesized):
    """SQS3 on the run dead-letter queues; IAM5 Resource::* on traced functions' policies; nothing else."""
    expected = {("AwsSolutions-SQS3", f"{stack}/{queue}/Resource") for stack, queue in RUN_DEAD_LETTER_QUEUES.items()}
    expected |= {
        ("AwsSolutions-IAM5[Resource::*]", f"{stack}/{role}/DefaultPolicy/Resource")
        for stack, roles in TRACED_ROLES.items()
        for role in roles
    }
    reasons = {
        "AwsSolutions-SQS3": (DLQ_ACKNOWLEDGMENT.id, DLQ_ACKNOWLEDGMENT.reason),
        "AwsSolutions-IAM5[Resource::*]": (TRACING_ACKNOWLEDGMENT.id, TRACING_ACKNOWLEDGMENT.reason),
    }
    found = set()
    for rule, path, entry in _findings(_nag_report(synthesized).get("suppressedViolations", [])):
        found.add((rule, path))
        assert entry["acknowledgedAt"] == path, "acknowledged on a parent, not on the resource itself"
        assert (entry["acknowledgedId"], entry["reason"]) == reasons[rule]
    assert found == expected


def test_acknowledged_queues_are_the_dead_letter_targets_of_scheduler_and_lambda(synthesized):
    """Why SQS3 does not apply: the Scheduler and Lambda send failed runs to these queues directly."""
    for stack, queue in RUN_DEAD_LETTER_QUEUES.items():
        template = synthesized.templates[stack]
        arn = {"Fn::GetAtt": [_logical_id_of(synthesized, stack, f"{queue}/Resource"), "Arn"]}
        schedules = _resources(template, "AWS::Scheduler::Schedule")
        (schedule,) = (s for lid, s in schedules.items() if "Watchdog" not in lid)
        assert schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"] == arn
        configs = _resources(template, "AWS::Lambda::EventInvokeConfig")
        destinations = [
            c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
            for lid, c in configs.items()
            if "Watchdog" not in lid
        ]
        assert destinations == [arn]
        # The watchdog is not retried and keeps no dead letters: the next watchdog run is the retry.
        for lid, watchdog in schedules.items():
            if "Watchdog" in lid:
                assert "DeadLetterConfig" not in watchdog["Properties"]["Target"]
        for lid, config in configs.items():
            if "Watchdog" in lid:
                assert config["Properties"]["MaximumRetryAttempts"] == 0
                assert "DestinationConfig" not in config["Properties"]


def test_tracing_acknowledgment_covers_the_xray_statement_only(synthesized):
    for stack, roles in TRACED_ROLES.items():
        template = synthesized.templates[stack]
        for role in roles:
            policy = template["Resources"][_logical_id_of(synthesized, stack, f"{role}/DefaultPolicy/Resource")]
            star = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "*" in _as_list(s["Resource"])]
            assert star == [XRAY_STATEMENT]


# --- cfn-lint ---------------------------------------------------------------------


@pytest.mark.parametrize("stack", list(STACKS))
def test_cfn_lint_finds_nothing(synthesized, stack):
    matches = lint_file(synthesized.outdir / f"{stack}.template.json", ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


# --- IAM --------------------------------------------------------------------------

#: Every wildcard resource an Allow statement may name, with why the service needs it.
REQUIRED_WILDCARDS = {
    "xray": (
        XRAY_ACTIONS,
        re.compile(r"\*"),
        "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions",
    ),
    "log streams": (
        frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
        re.compile(r"<log group ARN>:\*"),
        "Lambda names each log stream at run time; the ARN covers the streams of the "
        "function's own log group only",
    ),
    "secret suffix": (
        frozenset({"secretsmanager:GetSecretValue"}),
        re.compile(r"arn:<token>:secretsmanager:<token>:<token>:secret:task-results-hook-\?{6}"),
        "a secret referenced by name: Secrets Manager ends its ARN in six random characters",
    ),
}


def _named_wildcard(actions: frozenset, pattern: str) -> Optional[str]:
    for name, (allowed_actions, allowed_pattern, _) in REQUIRED_WILDCARDS.items():
        if actions == allowed_actions and allowed_pattern.fullmatch(pattern):
            return name
    return None


def test_no_wildcard_actions(synthesized):
    offending = []
    for stack, lid, type_, statement in _statements(synthesized):
        assert "NotAction" not in statement and "NotResource" not in statement, (stack, lid)
        actions = _as_list(statement["Action"])
        if not any("*" in action for action in actions):
            continue
        # The one exception: the Deny of plain HTTP on the queues (enforce_ssl).
        https_only = (
            statement["Effect"] == "Deny"
            and type_ == "AWS::SQS::QueuePolicy"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        )
        if not https_only:
            offending.append((stack, lid, statement))
    assert offending == []


def test_wildcard_resources_are_the_named_service_requirements(synthesized):
    found: Dict[str, set] = {name: set() for name in REQUIRED_WILDCARDS}
    unexplained = []
    for stack, lid, _, statement in _statements(synthesized):
        if statement["Effect"] != "Allow" or "Resource" not in statement:
            continue
        actions = frozenset(_as_list(statement["Action"]))
        for resource in _as_list(statement["Resource"]):
            pattern = _wildcard(resource, synthesized.templates[stack])
            if pattern is None:
                continue
            name = _named_wildcard(actions, pattern)
            if name is None:
                unexplained.append((stack, lid, sorted(actions), pattern))
            else:
                found[name].add((stack, lid))
    assert unexplained == []
    xray_stacks = {stack for stack, _ in found["xray"]}
    assert xray_stacks == set(TRACING_STACKS) and len(found["xray"]) == 5  # one per traced function
    assert {stack for stack, _ in found["secret suffix"]} == {"FanoutWebhook"}
    # Every created function writes to its own log group, through its own role.
    functions = sum(len(_resources(t, "AWS::Lambda::Function")) for t in synthesized.templates.values())
    assert len(found["log streams"]) == functions


def test_tracing_adds_only_the_xray_statement_to_iam(synthesized):
    for default, traced in (("TableDefault", "TableTracing"), ("FanoutDefault", "FanoutTracing")):
        before = _resources(synthesized.templates[default], "AWS::IAM::Policy")
        after = _resources(synthesized.templates[traced], "AWS::IAM::Policy")
        assert set(before) == set(after)
        added = []
        for lid, policy in after.items():
            old = before[lid]["Properties"]["PolicyDocument"]["Statement"]
            added += [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s not in old]
        roles = len(TRACED_ROLES[traced])
        assert added == [XRAY_STATEMENT] * roles
        functions = _resources(synthesized.templates[traced], "AWS::Lambda::Function").values()
        assert all(f["Properties"]["TracingConfig"] == {"Mode": "Active"} for f in functions)
        functions = _resources(synthesized.templates[default], "AWS::Lambda::Function").values()
        assert all("TracingConfig" not in f["Properties"] for f in functions)


def test_no_managed_policies(synthesized):
    for stack, template in synthesized.templates.items():
        for lid, role in _resources(template, "AWS::IAM::Role").items():
            assert "ManagedPolicyArns" not in role["Properties"], (stack, lid)


def test_scheduler_roles_are_scoped_to_account_and_schedule_group(synthesized):
    group_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":scheduler:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":schedule-group/default",
            ],
        ]
    }
    for stack, template in synthesized.templates.items():
        schedules = _resources(template, "AWS::Scheduler::Schedule")
        scheduler_roles = {
            lid: role
            for lid, role in _resources(template, "AWS::IAM::Role").items()
            for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            if s["Principal"].get("Service") == "scheduler.amazonaws.com"
        }
        assert len(scheduler_roles) == len(schedules), stack
        for schedule in schedules.values():
            role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
            (statement,) = scheduler_roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert statement["Condition"] == {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}, "aws:SourceArn": group_arn}
            }


# --- secure and cheap defaults ------------------------------------------------------


def test_every_queue_is_encrypted_and_https_only(synthesized):
    for stack, template in synthesized.templates.items():
        policies = _resources(template, "AWS::SQS::QueuePolicy").values()
        for lid, queue in _resources(template, "AWS::SQS::Queue").items():
            assert queue["Properties"].get("SqsManagedSseEnabled") is True, (stack, lid)
            denies = [
                s
                for p in policies
                if {"Ref": lid} in p["Properties"]["Queues"]
                for s in p["Properties"]["PolicyDocument"]["Statement"]
                if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            ]
            assert len(denies) == 1, (stack, lid)


def test_every_table_is_encrypted_on_demand_with_point_in_time_recovery(synthesized):
    tables = {}
    for stack, template in synthesized.templates.items():
        for lid, table in _resources(template, "AWS::DynamoDB::Table").items():
            props = table["Properties"]
            assert props["BillingMode"] == "PAY_PER_REQUEST", (stack, lid)
            assert props["SSESpecification"] == {"SSEEnabled": True}, (stack, lid)
            assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, (stack, lid)
            tables[stack] = props
    assert set(tables) == {
        "TheScheduledLambdaStack", "TableDefault", "TableTracing",
        # each fan-out's run ledger
        "ServerlessTaskSchedulerStack", "FanoutDefault", "FanoutTracing", "FanoutWebhook",
    }
    # TTL is optional for a ScheduledLambdaToTable: off by default, on in the example (item_ttl);
    # a run ledger keeps 90 days by default.
    assert "TimeToLiveSpecification" not in tables["TableDefault"]
    assert tables["FanoutDefault"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert tables["TheScheduledLambdaStack"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_every_function_has_its_own_log_group_with_finite_retention(synthesized):
    for stack, template in synthesized.templates.items():
        functions = _resources(template, "AWS::Lambda::Function")
        log_groups = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in functions.values()]
        assert len(set(log_groups)) == len(functions), stack
        for lid in log_groups:
            group = template["Resources"][lid]
            assert group["Type"] == "AWS::Logs::LogGroup"
            assert group["Properties"]["RetentionInDays"] == 30, (stack, lid)


def test_no_secret_in_any_template_or_environment(synthesized):
    for stack, template in synthesized.templates.items():
        text = json.dumps(template)
        assert "{{resolve:" not in text, stack  # no dynamic reference pulls a secret value in
        assert not re.search(r"hooks\.slack\.com|discord(app)?\.com/api/webhooks", text), stack
        assert not _resources(template, "AWS::SecretsManager::Secret"), stack
        for lid, function in _resources(template, "AWS::Lambda::Function").items():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            for name, value in variables.items():
                assert not (isinstance(value, str) and "://" in value), (stack, lid, name)
    # The worker gets the secret's ARN, never its value.
    template = synthesized.templates["FanoutWebhook"]
    worker = template["Resources"][_logical_id_of(synthesized, "FanoutWebhook", "Fanout/Worker/Resource")]
    variables = worker["Properties"]["Environment"]["Variables"]
    arn = variables["WEBHOOK_SECRET_ARN"]
    assert sorted(variables) == [
        "LEDGER_TABLE_NAME", "LOCK_SECONDS", "MAX_RECEIVE_COUNT", "OVERLAP", "WEBHOOK_MESSAGES", "WEBHOOK_SECRET_ARN"
    ]
    assert ":secretsmanager:" not in json.dumps({k: v for k, v in variables.items() if k != "WEBHOOK_SECRET_ARN"})
    assert ":secretsmanager:" in json.dumps(arn) and ":secret:task-results-hook" in json.dumps(arn)
