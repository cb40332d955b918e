"""Generate CONTRACTS.md from synthesized templates.

Usage::

    python scripts/gen_contracts.py              # writes CONTRACTS.md
    python scripts/gen_contracts.py -o out.md    # writes somewhere else
    python scripts/gen_contracts.py --check      # exit 1 when CONTRACTS.md is stale

(``tests/test_contracts.py`` fails when the committed file is stale.)

Nothing in CONTRACTS.md is written by hand. Each construct is synthesized once
in its default configuration and once per prop variant listed in
``CONFIGURATIONS`` (all of them in one CDK app, one stack each, one synthesis),
and the file is read back from the templates and the stacks' metadata:

* per construct: the resources it creates, its alarms and the cdk-nag findings
  it acknowledges on your behalf (``Validations.of(...).acknowledge``, read from
  the ``aws:cdk:acknowledged-rules`` metadata), each with the configurations
  it is in or left out of;
* per created function: handler, runtime, memory, timeout, layers, its
  environment variables (and what each holds), the statements of its role
  (actions and resources, named by construct path), and what invokes it with
  which event (the schedule's input, the SQS event source, the SNS topic).

Resources are named by their construct path below the construct (``Table``,
``FunctionRole``), never by logical ID, so the text does not depend on the
stack. Asset hashes are never printed, so the output is reproducible.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _generated_file  # noqa: E402  (the scripts folder is not a package)

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "CONTRACTS.md"
REGENERATE = "python scripts/gen_contracts.py"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(ROOT / "src"))

from aws_cdk import App, Duration, Stack  # noqa: E402
from aws_cdk import aws_dynamodb as dynamodb  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk import aws_scheduler as scheduler  # noqa: E402
from aws_cdk import aws_secretsmanager as secretsmanager  # noqa: E402
from aws_cdk import aws_sns as sns  # noqa: E402
from aws_cdk import aws_sqs as sqs  # noqa: E402

from scheduled_tasks_constructs import (  # noqa: E402
    AlarmWebhook,
    DependenciesLayer,
    RuntimeLayer,
    ScheduledLambdaToTable,
    ScheduledTaskFanout,
)
from scheduled_tasks_constructs import runtime as _runtime  # noqa: E402

#: The construct ID every configuration gives the construct.
ID = "Construct"
HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
ONCE = scheduler.ScheduleExpression.at(_dt.datetime(2030, 1, 1, 9, 0, tzinfo=_dt.timezone.utc))
WORKER = {"worker_code": lambda_.Code.from_inline("def handler(event, context): ..."), "worker_handler": "index.handler"}
TASKS = [{"name": "report"}]
YOUR_CODE = {"code": lambda_.Code.from_inline("def handler(event, context): ..."), "handler": "index.handler"}
YOUR_PRODUCER = {
    "producer_code": lambda_.Code.from_inline("def handler(event, context): ..."),
    "producer_handler": "index.handler",
}
#: Skip asset bundling (the pip install of a DependenciesLayer): its output is not read.
NO_BUNDLING = {"aws:cdk:bundling-stacks": [], "aws:cdk:version-reporting": False}
#: Context key of the folder synthesis may write to.
WORKDIR = "contracts:workdir"


def _secret(stack: Stack) -> secretsmanager.ISecret:
    return secretsmanager.Secret.from_secret_name_v2(stack, "YourSecret", "your-webhook")


def _queue(stack: Stack) -> sqs.IQueue:
    return sqs.Queue.from_queue_arn(stack, "YourQueue", "arn:aws:sqs:us-east-1:111122223333:your-queue")


def _dead_letter_queue(stack: Stack) -> sqs.IQueue:
    return sqs.Queue.from_queue_arn(stack, "YourDeadLetterQueue", "arn:aws:sqs:us-east-1:111122223333:your-dlq")


def _table(stack: Stack) -> dynamodb.ITable:
    return dynamodb.Table.from_table_name(stack, "YourTable", "your-table")


def _requirements(stack: Stack) -> str:
    path = Path(stack.node.get_context(WORKDIR)) / "requirements.txt"
    path.write_text("six==1.16.0\n", encoding="utf-8")
    return str(path)


@dataclass(frozen=True)
class Configuration:
    """One synthesized configuration of a construct."""

    label: str
    """How the configuration is named in the text (the props that differ from the default)."""
    build: Callable[[Stack], Any]
    """Creates the construct, with ID ``ID``, in the given stack."""


def _table_construct(**props: Any) -> Callable[[Stack], Any]:
    return lambda stack: ScheduledLambdaToTable(stack, ID, **{"schedule": HOURLY, **props})


def _fanout(**props: Any) -> Callable[[Stack], Any]:
    def build(stack: Stack) -> Any:
        given = {"schedule": HOURLY, "tasks": TASKS, **WORKER, **props}
        for name, value in list(given.items()):
            if value in (_secret, _queue, _dead_letter_queue):  # a resource of yours, made in this stack
                given[name] = value(stack)
        if given.get("producer_code") is not None:
            given.pop("tasks")
        return ScheduledTaskFanout(stack, ID, **given)

    return build


#: Construct -> (what the default configuration gives, the configurations).
CONFIGURATIONS: Dict[str, Tuple[str, List[Configuration]]] = {
    "ScheduledLambdaToTable": (
        "schedule=rate(1 hour)",
        [
            Configuration("default", _table_construct()),
            Configuration("item_ttl", _table_construct(item_ttl=Duration.days(7))),
            Configuration("code + handler", _table_construct(**YOUR_CODE)),
            Configuration("tracing=True", _table_construct(tracing=True)),
            Configuration("alarms=False", _table_construct(alarms=False)),
            Configuration("schedule_enabled=False", _table_construct(schedule_enabled=False)),
            Configuration("schedule=at(...)", _table_construct(schedule=ONCE)),
            Configuration("dead_letter_queue", lambda s: ScheduledLambdaToTable(
                s, ID, schedule=HOURLY, dead_letter_queue=_dead_letter_queue(s))),
            Configuration("existing_table", lambda s: ScheduledLambdaToTable(
                s, ID, schedule=HOURLY, existing_table=_table(s))),
        ],
    ),
    "ScheduledTaskFanout": (
        "schedule=rate(1 hour), tasks=[{\"name\": \"report\"}], worker_code + worker_handler",
        [
            Configuration("default", _fanout()),
            Configuration("webhook_secret", _fanout(webhook_secret=_secret)),
            Configuration("producer_code + producer_handler", _fanout(**YOUR_PRODUCER)),
            Configuration("tracing=True", _fanout(tracing=True)),
            Configuration("alarms=False", _fanout(alarms=False)),
            Configuration("schedule_enabled=False", _fanout(schedule_enabled=False)),
            Configuration("schedule=at(...)", _fanout(schedule=ONCE)),
            Configuration("existing_queue", _fanout(existing_queue=_queue)),
            Configuration("run_dead_letter_queue", _fanout(run_dead_letter_queue=_dead_letter_queue)),
        ],
    ),
    "AlarmWebhook": (
        "topic, webhook_secret",
        [
            Configuration("default", lambda s: AlarmWebhook(
                s, ID, topic=sns.Topic(s, "YourTopic"), webhook_secret=_secret(s))),
        ],
    ),
    "DependenciesLayer": (
        "requirements_file",
        [Configuration("default", lambda s: DependenciesLayer(s, ID, requirements_file=_requirements(s)))],
    ),
    "RuntimeLayer": (
        "`RuntimeLayer.of(stack)`: no props",
        [Configuration("default", lambda s: RuntimeLayer.of(s))],
    ),
}

#: What ``Ref`` returns, by resource type.
_REF = {
    "AWS::DynamoDB::Table": "name",
    "AWS::SQS::Queue": "URL",
    "AWS::SNS::Topic": "ARN",
    "AWS::Lambda::Function": "name",
    "AWS::Logs::LogGroup": "name",
    "AWS::IAM::Role": "name",
    "AWS::Lambda::LayerVersion": "ARN",
    "AWS::Scheduler::Schedule": "name",
    "AWS::SecretsManager::Secret": "ARN",
}

def _env_meanings() -> Dict[str, str]:
    """The docstring of each environment variable constant of ``runtime`` (read statically)."""
    import ast

    source = Path(_runtime.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    meanings: Dict[str, str] = {}
    body = tree.body
    for node, following in zip(body, body[1:]):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            text = " ".join(following.value.value.split())
            meanings[node.targets[0].id] = text.removeprefix("Environment variable: ")
    return meanings


# --- reading a synthesized stack ---------------------------------------------------


@dataclass
class Synthesized:
    """One configuration's template, read back."""

    resources: Dict[str, dict]
    """Logical ID -> resource."""
    paths: Dict[str, str]
    """Logical ID -> construct path below the stack."""
    acknowledged: Dict[str, Dict[str, str]]
    """Construct path below the stack -> acknowledged rule ID -> reason."""

    def name(self, logical_id: str) -> str:
        """A resource's name in the text: its construct path below the construct."""
        path = _clean(self.paths.get(logical_id, logical_id))
        if path.startswith(ID + "/"):
            return f"`{path[len(ID) + 1:]}`"
        if path.startswith("Your"):
            return f"your `{path}`"
        return f"`{path}` (stack root)"

    def render(self, value: Any) -> str:
        """A property value, with references named by construct path."""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float, bool)) or value is None:
            return json.dumps(value)
        if isinstance(value, list):
            return ", ".join(self.render(v) for v in value)
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                if arg.startswith("AWS::"):
                    return "${" + arg + "}"
                kind = _REF.get(self.resources[arg]["Type"], "Ref")
                return f"{kind} of {self.name(arg)}"
            if key == "Fn::GetAtt":
                target, attribute = arg
                return f"{attribute} of {self.name(target)}"
            if key == "Fn::Join":
                separator, parts = arg
                pieces = [
                    p if isinstance(p, str) or p.get("Ref", "").startswith("AWS::") else "{" + self.render(p) + "}"
                    for p in parts
                ]
                pieces = [p if isinstance(p, str) else self.render(p) for p in pieces]
                return separator.join(pieces)
            if key == "Fn::Sub" and isinstance(arg, str):
                return arg
        return json.dumps(value, sort_keys=True)

    def of_type(self, type_: str) -> Dict[str, dict]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == type_}

    def refers_to(self, value: Any, logical_id: str) -> bool:
        return value in ({"Ref": logical_id}, {"Fn::GetAtt": [logical_id, "Arn"]})


def _clean(path: str) -> str:
    """A construct path without its ``/Resource`` leaf and without stack-derived unique IDs.

    The L2s name some children after the unique ID of another construct
    (``SqsEventSource:<queue's unique ID>``, ``AllowInvoke:<topic's unique ID>``),
    which includes the stack name: keep only the part before the colon.
    """
    path = path[: -len("/Resource")] if path.endswith("/Resource") else path
    return "/".join(part.split(":")[0] + ":..." if ":" in part else part for part in path.split("/"))


def _synthesize(workdir: Path) -> Dict[Tuple[str, str], Synthesized]:
    outdir = workdir / "cdk.out"
    app = App(outdir=str(outdir), context={**NO_BUNDLING, WORKDIR: str(workdir)}, analytics_reporting=False)
    names: Dict[Tuple[str, str], str] = {}
    for construct, (_, configurations) in CONFIGURATIONS.items():
        for index, configuration in enumerate(configurations):
            stack_name = f"{construct}{index}"
            configuration.build(Stack(app, stack_name))
            names[(construct, configuration.label)] = stack_name
    app.synth()
    result = {}
    for key, stack_name in names.items():
        template = json.loads((outdir / f"{stack_name}.template.json").read_text(encoding="utf-8"))
        metadata = json.loads((outdir / f"{stack_name}.metadata.json").read_text(encoding="utf-8"))
        paths: Dict[str, str] = {}
        acknowledged: Dict[str, Dict[str, str]] = {}
        for path, entries in metadata.items():
            below = path.split("/", 2)[2] if path.count("/") >= 2 else ""
            for entry in entries:
                if entry["type"] == "aws:cdk:logicalId":
                    paths[entry["data"]] = below
                elif entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged.setdefault(below, {}).update(entry["data"])
        resources = {
            lid: r for lid, r in template.get("Resources", {}).items() if r["Type"] != "AWS::CDK::Metadata"
        }
        result[key] = Synthesized(resources, paths, acknowledged)
    return result


# --- rendering ---------------------------------------------------------------------


def _where(present: List[str], labels: List[str]) -> str:
    """In which configurations something is: all, all but some, or only some."""
    if len(labels) == 1:
        return "always"
    if set(present) == set(labels):
        return "all"
    if "default" in present:
        return "all but " + ", ".join(f"`{x}`" for x in labels if x not in present)
    return "only with " + ", ".join(f"`{x}`" for x in present)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _collect(
    synthesized: Dict[Tuple[str, str], Synthesized],
    construct: str,
    labels: List[str],
    rows: Callable[[Synthesized], List[Tuple[str, ...]]],
) -> List[Tuple[Tuple[str, ...], List[str]]]:
    """Every row any configuration yields, in first-seen order, with the configurations that yield it."""
    seen: Dict[Tuple[str, ...], List[str]] = {}
    for label in labels:
        for row in rows(synthesized[(construct, label)]):
            present = seen.setdefault(row, [])
            if label not in present:
                present.append(label)
    return list(seen.items())


def _md_table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _resource_rows(s: Synthesized) -> List[Tuple[str, ...]]:
    return [(s.name(lid), r["Type"]) for lid, r in s.resources.items() if not s.name(lid).startswith("your")]


def _functions(s: Synthesized) -> Dict[str, str]:
    """Construct name -> logical ID of every function the construct creates."""
    return {s.name(lid): lid for lid in s.of_type("AWS::Lambda::Function") if not s.name(lid).startswith("your")}


def _function_rows(s: Synthesized, function: str) -> List[Tuple[str, ...]]:
    lid = _functions(s).get(function)
    if lid is None:
        return []
    props = s.resources[lid]["Properties"]
    rows: List[Tuple[str, ...]] = [
        ("setting", "handler", props.get("Handler", "")),
        ("setting", "runtime / architecture", f"{props.get('Runtime')} / {s.render(props.get('Architectures'))}"),
        ("setting", "memory", f"{props.get('MemorySize')} MB"),
        ("setting", "timeout", f"{props.get('Timeout')} s"),
        ("setting", "tracing", props.get("TracingConfig", {}).get("Mode", "PassThrough")),
        ("setting", "layers", s.render(props.get("Layers", [])) or "none"),
        ("setting", "reserved concurrency", str(props.get("ReservedConcurrentExecutions", "none"))),
    ]
    for name, value in props.get("Environment", {}).get("Variables", {}).items():
        rows.append(("env", name, s.render(value)))
    role = props["Role"]["Fn::GetAtt"][0]
    for statement in _role_statements(s, role):
        rows.append(("iam",) + statement)
    for config in s.of_type("AWS::Lambda::EventInvokeConfig").values():
        p = config["Properties"]
        if s.refers_to(p["FunctionName"], lid):
            failure = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            rows.append((
                "async",
                "asynchronous invocation",
                f"{p.get('MaximumRetryAttempts')} retries, events up to {p.get('MaximumEventAgeInSeconds')} s old, "
                f"then to {s.render(failure) if failure else 'nowhere'}",
            ))
    return rows


def _role_statements(s: Synthesized, role: str) -> List[Tuple[str, str, str]]:
    """(effect, actions, resources) of every statement of the role's policies."""
    out = []
    documents = [p["PolicyDocument"] for p in s.resources[role]["Properties"].get("Policies", [])]
    for policy in s.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"].get("Roles", []):
            documents.append(policy["Properties"]["PolicyDocument"])
    for document in documents:
        statements = document["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            effect = statement["Effect"] + (
                " if " + json.dumps(statement["Condition"], sort_keys=True) if "Condition" in statement else ""
            )
            out.append((effect, ", ".join(f"`{a}`" for a in actions), "; ".join(s.render(r) for r in resources)))
    return out


def _trust(s: Synthesized, role: str) -> str:
    statements = s.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    parts = []
    for statement in statements:
        principal = statement["Principal"].get("Service", statement["Principal"])
        text = f"`{principal}`"
        for operator, conditions in statement.get("Condition", {}).items():
            text += " if " + ", ".join(f"{key} {operator} {s.render(v)}" for key, v in conditions.items())
        parts.append(text)
    return "; ".join(parts)


def _invokers(s: Synthesized, function: str) -> List[Tuple[str, ...]]:
    """What invokes the function, with the event it receives."""
    lid = _functions(s).get(function)
    if lid is None:
        return []
    rows: List[Tuple[str, ...]] = []
    for schedule_lid, schedule in s.of_type("AWS::Scheduler::Schedule").items():
        target = schedule["Properties"]["Target"]
        if not s.refers_to(target["Arn"], lid):
            continue
        payload = json.loads(target.get("Input", "{}"))
        if "tasks" in payload:
            payload["tasks"] = "<the tasks prop: one JSON value per task>"
        retry = target.get("RetryPolicy", {})
        rows.append((
            "schedule",
            f"{s.name(schedule_lid)} (EventBridge Scheduler, asynchronous invocation; role "
            f"{s.name(target['RoleArn']['Fn::GetAtt'][0])}; {retry.get('MaximumRetryAttempts')} retries within "
            f"{retry.get('MaximumEventAgeInSeconds')} s, then to "
            f"{s.render(target.get('DeadLetterConfig', {}).get('Arn', 'nowhere'))})",
            json.dumps(payload, indent=2),
            "ignored (an asynchronous invocation); an error is retried, then goes to the on-failure destination",
        ))
    for mapping in s.of_type("AWS::Lambda::EventSourceMapping").values():
        p = mapping["Properties"]
        if not s.refers_to(p["FunctionName"], lid):
            continue
        settings = [f"batch size {p.get('BatchSize', 10)}"]
        if "MaximumBatchingWindowInSeconds" in p:
            settings.append(f"batching window {p['MaximumBatchingWindowInSeconds']} s")
        if "ScalingConfig" in p:
            settings.append(f"maximum concurrency {p['ScalingConfig'].get('MaximumConcurrency')}")
        response = p.get("FunctionResponseTypes", [])
        settings.append("response types: " + (", ".join(response) or "none"))
        event = json.dumps(
            {"Records": [{
                "messageId": "<SQS message ID>",
                "body": "<one task message, as runtime.fanout.send_tasks writes it>",
                "attributes": {"ApproximateReceiveCount": "1", "...": "..."},
                "messageAttributes": {"task_id": {"stringValue": "<task ID>", "dataType": "String"}},
                "...": "...",
            }]},
            indent=2,
        )
        answer = (
            '`{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}`: the messages to retry '
            "(the others are deleted); `runtime.worker.process_batch` returns it"
            if "ReportBatchItemFailures" in response
            else "an error retries the whole batch"
        )
        rows.append((
            "sqs", f"SQS event source on {s.render(p['EventSourceArn'])} ({', '.join(settings)})", event, answer
        ))
    for subscription in s.of_type("AWS::SNS::Subscription").values():
        p = subscription["Properties"]
        if p.get("Protocol") == "lambda" and s.refers_to(p.get("Endpoint"), lid):
            rows.append((
                "sns",
                f"SNS subscription to {s.render(p['TopicArn'])}",
                json.dumps(
                    {"Records": [{"Sns": {"Subject": "...", "Message": "<CloudWatch alarm state change, JSON>"}}]},
                    indent=2,
                ),
                "ignored (an asynchronous invocation); an error is retried by Lambda",
            ))
    return rows


def _alarm_rows(s: Synthesized) -> List[Tuple[str, ...]]:
    rows = []
    for lid, alarm in s.of_type("AWS::CloudWatch::Alarm").items():
        p = alarm["Properties"]
        dimensions = ", ".join(f"{d['Name']}={s.render(d['Value'])}" for d in p.get("Dimensions", []))
        rows.append((
            s.name(lid),
            f"{p['Namespace']} {p['MetricName']} ({p['Statistic']}, {p['Period']} s) of {dimensions}",
            f"{p['ComparisonOperator']} {p['Threshold']}; missing data: {p.get('TreatMissingData', 'missing')}",
            p.get("AlarmDescription", ""),
        ))
    return rows


def _acknowledgment_rows(s: Synthesized) -> List[Tuple[str, ...]]:
    rows = []
    for path, rules in sorted(s.acknowledged.items()):
        name = _clean(path)
        name = f"`{name[len(ID) + 1:]}`" if name.startswith(ID + "/") else f"`{name}`"
        for rule, reason in sorted(rules.items()):
            rows.append((f"`{rule}`", name, reason))
    return rows


def render() -> str:
    """Return the Markdown text of CONTRACTS.md."""
    with tempfile.TemporaryDirectory(prefix="contracts-") as workdir:
        synthesized = _synthesize(Path(workdir))
    meanings = _env_meanings()
    out = [
        "# Contracts",
        "",
        f"<!-- Generated from synthesized templates by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "What each construct creates and what each function it creates receives, read from",
        "templates synthesized with the default props and with each variant named below (a test",
        "regenerates this file and fails when it is stale). Resources are named by their construct",
        "path below the construct; `${AWS::Region}` and the like are CloudFormation pseudo",
        "parameters. Props are in [API.md](API.md).",
        "",
        "In the tables, *all* means every configuration of the construct; *all but* names the",
        "configurations that do not have the row; *only with* the ones that do.",
    ]
    for construct, (default, configurations) in CONFIGURATIONS.items():
        labels = [c.label for c in configurations]
        out += ["", f"## {construct}", ""]
        if len(labels) > 1:
            out.append(f"Configurations: `default` ({default}), and the default with one change each: "
                       + ", ".join(f"`{x}`" for x in labels[1:]) + ".")
        else:
            out.append(f"Configuration: `default` ({default}).")

        out += ["", "### Resources", ""]
        rows = _collect(synthesized, construct, labels, _resource_rows)
        out += _md_table(["construct path", "type", "configurations"], [[n, t, _where(p, labels)] for (n, t), p in rows])

        functions: List[str] = []
        for label in labels:
            for name in _functions(synthesized[(construct, label)]):
                if name not in functions:
                    functions.append(name)
        for function in functions:
            out += ["", f"### Function {function}", ""]
            rows = _collect(synthesized, construct, labels, lambda s: _function_rows(s, function))
            settings = [[r[1], r[2], _where(p, labels)] for r, p in rows if r[0] in ("setting", "async")]
            out += _md_table(["setting", "value", "configurations"], settings)
            env = [
                [f"`{r[1]}`", r[2], meanings.get(r[1], "set by you (`environment`)"), _where(p, labels)]
                for r, p in rows if r[0] == "env"
            ]
            out += ["", "Environment variables:", ""]
            out += _md_table(["name", "value", "what it holds", "configurations"], env) if env else ["none"]
            iam = [[r[2], r[3], r[1], _where(p, labels)] for r, p in rows if r[0] == "iam"]
            out += ["", "Permissions of its role:", ""]
            out += _md_table(["actions", "resources", "effect", "configurations"], iam)
            invokers = _collect(synthesized, construct, labels, lambda s: _invokers(s, function))
            out += ["", "Invoked by:", ""]
            for (kind, how, event, answer), present in invokers:
                out += [f"- {how} ({_where(present, labels)}). Event:", "", "  ```json"]
                out += ["  " + line for line in event.splitlines()]
                out += ["  ```", "", f"  Response: {answer}."]
            if not invokers:
                out.append("nothing the construct wires")

        roles: List[str] = []
        for label in labels:
            s = synthesized[(construct, label)]
            for lid in s.of_type("AWS::Scheduler::Schedule").values():
                name = s.name(lid["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0])
                if name not in roles:
                    roles.append(name)
        for role in roles:
            out += ["", f"### Schedule role {role}", ""]

            def role_rows(s: Synthesized, role: str = role) -> List[Tuple[str, ...]]:
                lids = [lid for lid in s.of_type("AWS::IAM::Role") if s.name(lid) == role]
                if not lids:
                    return []
                return [("trust", _trust(s, lids[0]), "")] + [("iam",) + st for st in _role_statements(s, lids[0])]

            rows = _collect(synthesized, construct, labels, role_rows)
            trust = sorted({r[1] for r, _p in rows if r[0] == "trust"})
            out += ["Trusted principal: " + "; ".join(trust), ""]
            out += _md_table(
                ["actions", "resources", "effect", "configurations"],
                [[r[2], r[3], r[1], _where(p, labels)] for r, p in rows if r[0] == "iam"],
            )

        alarms = _collect(synthesized, construct, labels, _alarm_rows)
        if alarms:
            out += ["", "### Alarms", "", "For the default `rate(1 hour)` schedule (the missed-run alarm's period and",
                    "threshold follow the schedule). Each notifies `alarm_topic`.", ""]
            merged: Dict[str, Tuple[Tuple[str, ...], List[str]]] = {}
            for row, present in alarms:
                if row[0] in merged:
                    merged[row[0]][1].extend(x for x in present if x not in merged[row[0]][1])
                else:
                    merged[row[0]] = (row, list(present))
            out += _md_table(
                ["alarm", "metric", "condition", "description", "configurations"],
                [[*row, _where(sorted(present, key=labels.index), labels)] for row, present in merged.values()],
            )
        acknowledgments = _collect(synthesized, construct, labels, _acknowledgment_rows)
        out += ["", "### cdk-nag findings acknowledged", ""]
        if acknowledgments:
            out += _md_table(
                ["rule", "on", "configurations", "reason"],
                [[rule, on, _where(p, labels), reason] for (rule, on, reason), p in acknowledgments],
            )
        else:
            out.append("none")
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    return _generated_file.main(
        render, output=OUTPUT, regenerate=REGENERATE, description=__doc__.splitlines()[0], argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
