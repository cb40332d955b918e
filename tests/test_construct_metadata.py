"""The construct metadata both scheduled constructs publish in the cloud assembly.

One app holds every configuration, one stack each, and is synthesized once into
a folder; the tests read what a tool reading the assembly would read: the
manifest, each stack's metadata and its template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Set, Tuple

import pytest
from aws_cdk import App, Duration, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout
from scheduled_tasks_constructs._metadata import METADATA_TYPE, METADATA_VERSION

HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")
WORKER = {"worker_code": CODE, "worker_handler": "index.handler"}
TASKS = [{"name": "report"}]
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:"

#: The CloudFormation type of the resource behind each role.
RESOURCE_TYPES = {
    "schedule": "AWS::Scheduler::Schedule",
    "function": "AWS::Lambda::Function",
    "producer": "AWS::Lambda::Function",
    "worker": "AWS::Lambda::Function",
    "table": "AWS::DynamoDB::Table",
    "ledger": "AWS::DynamoDB::Table",
    "queue": "AWS::SQS::Queue",
    "deadLetterQueue": "AWS::SQS::Queue",
    "runDeadLetterQueue": "AWS::SQS::Queue",
    "eventSourceMapping": "AWS::Lambda::EventSourceMapping",
    "webhookSecret": "AWS::SecretsManager::Secret",
    "watchdog": "AWS::Lambda::Function",
    "watchdogSchedule": "AWS::Scheduler::Schedule",
}


def _function(stack: Stack, id: str) -> lambda_.Function:
    return lambda_.Function(stack, id, code=CODE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_14)


def _imported_function(stack: Stack, id: str) -> lambda_.IFunction:
    """A function imported by ARN with its role (the table, queue and secret grant to the role)."""
    return lambda_.Function.from_function_attributes(
        stack,
        id,
        function_arn=FUNCTION_ARN + id.lower(),
        role=iam.Role.from_role_arn(stack, f"{id}Role", f"arn:aws:iam::{ACCOUNT}:role/{id.lower()}"),
        same_environment=True,
    )


def _table(stack: Stack, id: str) -> dynamodb.Table:
    return dynamodb.Table(
        stack, id, partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.STRING)
    )


@dataclass
class Synthesized:
    constructs: Dict[str, Any]
    #: "/<construct path>" -> the metadata entries of that construct, as written
    metadata: Dict[str, list]
    #: stack artifact ID -> template
    templates: Dict[str, dict]


def _build(app: App) -> Dict[str, Any]:
    built: Dict[str, Any] = {}

    defaults = Stack(app, "Defaults")
    built["table"] = ScheduledLambdaToTable(defaults, "Runs", schedule=HOURLY)
    built["fanout"] = ScheduledTaskFanout(defaults, "Jobs", schedule=HOURLY, tasks=TASKS, **WORKER)

    existing = Stack(app, "Existing")
    built["existing_table"] = ScheduledLambdaToTable(
        existing,
        "Runs",
        schedule=HOURLY,
        existing_function=_function(existing, "MyFunction"),
        existing_table=_table(existing, "MyTable"),
        dead_letter_queue=sqs.Queue(existing, "MyDeadLetters"),
    )
    built["existing_fanout"] = ScheduledTaskFanout(
        existing,
        "Jobs",
        schedule=HOURLY,
        existing_producer=_function(existing, "MyProducer"),
        existing_worker=_function(existing, "MyWorker"),
        existing_queue=sqs.Queue(existing, "MyTasks", visibility_timeout=Duration.minutes(30)),
        run_dead_letter_queue=sqs.Queue(existing, "MyRunDeadLetters"),
        webhook_secret=secretsmanager.Secret(existing, "MyHook"),
    )

    imported = Stack(app, "Imported")
    built["imported_table"] = ScheduledLambdaToTable(
        imported,
        "Runs",
        schedule=HOURLY,
        existing_function=_imported_function(imported, "Recorder"),
        existing_table=dynamodb.Table.from_table_name(imported, "TheirTable", "runs"),
        dead_letter_queue=sqs.Queue.from_queue_arn(imported, "TheirDeadLetters", QUEUE_ARN + "dead-letters"),
    )
    built["imported_fanout"] = ScheduledTaskFanout(
        imported,
        "Jobs",
        schedule=HOURLY,
        existing_producer=_imported_function(imported, "Producer"),
        existing_worker=_imported_function(imported, "Worker"),
        existing_queue=sqs.Queue.from_queue_arn(imported, "TheirTasks", QUEUE_ARN + "tasks"),
        run_dead_letter_queue=sqs.Queue.from_queue_arn(imported, "TheirRunDeadLetters", QUEUE_ARN + "run-dlq"),
        webhook_secret=secretsmanager.Secret.from_secret_name_v2(imported, "TheirHook", "task-results-hook"),
    )

    # Resources of one stack used by constructs in another stack of the same app.
    shared = Stack(app, "Shared")
    table = _table(shared, "Runs")
    table.node.default_child.override_logical_id("SharedRunsTable")
    dead_letters, tasks = sqs.Queue(shared, "DeadLetters"), sqs.Queue(
        shared, "Tasks", visibility_timeout=Duration.minutes(6)
    )
    secret = secretsmanager.Secret(shared, "Hook")
    uses = Stack(app, "UsesShared")
    built["shared_table"] = ScheduledLambdaToTable(
        uses, "Runs", schedule=HOURLY, existing_table=table, dead_letter_queue=dead_letters
    )
    built["shared_fanout"] = ScheduledTaskFanout(
        uses, "Jobs", schedule=HOURLY, tasks=TASKS, existing_queue=tasks, webhook_secret=secret, **WORKER
    )
    built["shared"] = {"table": table, "dead_letters": dead_letters, "tasks": tasks, "secret": secret}
    return built


def _stack_metadata(outdir: Path, artifact: dict) -> Dict[str, list]:
    """A stack artifact's metadata: in the manifest, or in the file it names."""
    if "metadata" in artifact:
        return artifact["metadata"]
    return json.loads((outdir / artifact["additionalMetadataFile"]).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("metadata-cdk.out")
    app = App(outdir=str(outdir))
    constructs = _build(app)
    app.synth()
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    metadata: Dict[str, list] = {}
    templates: Dict[str, dict] = {}
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        metadata.update(_stack_metadata(outdir, artifact))
        template_file = artifact["properties"]["templateFile"]
        templates[artifact_id] = json.loads((outdir / template_file).read_text(encoding="utf-8"))
    return Synthesized(constructs, metadata, templates)


def _published(synthesized: Synthesized, path: str) -> dict:
    """The data of the one scheduled-tasks entry of the construct at ``path``."""
    (data,) = [e["data"] for e in synthesized.metadata[path] if e["type"] == "scheduled-tasks-constructs"]
    return data


def _entries(synthesized: Synthesized) -> Dict[str, dict]:
    return {
        path: entry["data"]
        for path, entries in synthesized.metadata.items()
        for entry in entries
        if entry["type"] == "scheduled-tasks-constructs"
    }


def _ref(resource) -> Dict[str, str]:
    stack = Stack.of(resource)
    return {"stack": stack.artifact_id, "logicalId": stack.get_logical_id(resource.node.default_child)}


def _mapping(fanout: ScheduledTaskFanout):
    return fanout.worker.node.find_child(f"SqsEventSource:{Names.node_unique_id(fanout.queue.node)}")


# --- shape -------------------------------------------------------------------


def test_type_and_version_are_the_published_contract():
    assert (METADATA_TYPE, METADATA_VERSION) == ("scheduled-tasks-constructs", 1)


def test_one_entry_per_construct_under_its_path(synthesized):
    assert sorted(_entries(synthesized)) == sorted(
        f"/{stack}/{id}"
        for stack in ("Defaults", "Existing", "Imported", "UsesShared")
        for id in ("Runs", "Jobs")
    )
    for data in _entries(synthesized).values():
        assert set(data) == {"version", "construct", "resources"} and data["version"] == 1


def test_default_table(synthesized):
    construct = synthesized.constructs["table"]
    assert _published(synthesized, "/Defaults/Runs") == {
        "version": 1,
        "construct": "ScheduledLambdaToTable",
        "resources": {
            "schedule": _ref(construct.schedule),
            "function": _ref(construct.function),
            "table": _ref(construct.table),
            "ledger": _ref(construct.table),  # the table is the run ledger
            "deadLetterQueue": _ref(construct.dead_letter_queue),
            "watchdog": _ref(construct.watchdog_function),
            "watchdogSchedule": _ref(construct.watchdog_schedule),
        },
    }


def test_default_fanout_has_no_webhook_secret(synthesized):
    construct = synthesized.constructs["fanout"]
    assert _published(synthesized, "/Defaults/Jobs") == {
        "version": 1,
        "construct": "ScheduledTaskFanout",
        "resources": {
            "schedule": _ref(construct.schedule),
            "producer": _ref(construct.producer),
            "worker": _ref(construct.worker),
            "queue": _ref(construct.queue),
            "deadLetterQueue": _ref(construct.dead_letter_queue),
            "runDeadLetterQueue": _ref(construct.run_dead_letter_queue),
            "eventSourceMapping": _ref(_mapping(construct)),
            "ledger": _ref(construct.ledger_table),
            "watchdog": _ref(construct.watchdog_function),
            "watchdogSchedule": _ref(construct.watchdog_schedule),
        },
    }


# --- what the user brings ------------------------------------------------------


def test_existing_resources_of_this_app_are_named_by_logical_id(synthesized):
    table = synthesized.constructs["existing_table"]
    resources = _published(synthesized, "/Existing/Runs")["resources"]
    assert resources["function"] == _ref(table.function)
    assert resources["function"]["stack"] == "Existing" and resources["function"]["logicalId"].startswith("MyFunction")
    assert resources["table"] == _ref(table.table)
    assert resources["deadLetterQueue"] == _ref(table.dead_letter_queue)

    fanout = synthesized.constructs["existing_fanout"]
    resources = _published(synthesized, "/Existing/Jobs")["resources"]
    assert resources == {
        "schedule": _ref(fanout.schedule),
        "producer": _ref(fanout.producer),
        "worker": _ref(fanout.worker),
        "queue": _ref(fanout.queue),
        "runDeadLetterQueue": _ref(fanout.run_dead_letter_queue),
        "eventSourceMapping": _ref(_mapping(fanout)),
        "webhookSecret": _ref(fanout.webhook_secret),
        "ledger": _ref(fanout.ledger_table),
        "watchdog": _ref(fanout.watchdog_function),
        "watchdogSchedule": _ref(fanout.watchdog_schedule),
    }  # no deadLetterQueue: the redrive of a queue you bring is yours


def test_imported_resources_are_named_by_arn(synthesized):
    imported = _published(synthesized, "/Imported/Runs")["resources"]
    assert {role: ref for role, ref in imported.items() if role != "ledger"} == {
        "schedule": _ref(synthesized.constructs["imported_table"].schedule),
        "function": {"arn": FUNCTION_ARN + "recorder"},
        "table": {
            "arn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":dynamodb:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":table/runs",
                    ],
                ]
            }
        },
        "deadLetterQueue": {"arn": QUEUE_ARN + "dead-letters"},
        # The watchdog is created in this app whatever the construct imports.
        "watchdog": _ref(synthesized.constructs["imported_table"].watchdog_function),
        "watchdogSchedule": _ref(synthesized.constructs["imported_table"].watchdog_schedule),
    }
    assert imported["ledger"] == imported["table"]
    fanout = synthesized.constructs["imported_fanout"]
    resources = _published(synthesized, "/Imported/Jobs")["resources"]
    assert {role: ref for role, ref in resources.items() if role != "webhookSecret"} == {
        "schedule": _ref(fanout.schedule),
        "producer": {"arn": FUNCTION_ARN + "producer"},
        "worker": {"arn": FUNCTION_ARN + "worker"},
        "queue": {"arn": QUEUE_ARN + "tasks"},
        "runDeadLetterQueue": {"arn": QUEUE_ARN + "run-dlq"},
        # The mapping is created in this app, as a child of the imported worker.
        "eventSourceMapping": _ref(_mapping(fanout)),
        "ledger": _ref(fanout.ledger_table),
        "watchdog": _ref(fanout.watchdog_function),
        "watchdogSchedule": _ref(fanout.watchdog_schedule),
    }
    secret_arn = json.dumps(resources["webhookSecret"]["arn"])
    assert set(resources["webhookSecret"]) == {"arn"} and ":secret:task-results-hook" in secret_arn


def test_resources_in_another_stack_name_that_stack(synthesized):
    shared = synthesized.constructs["shared"]
    table = _published(synthesized, "/UsesShared/Runs")["resources"]
    # The logical ID is the one the template has, override_logical_id included.
    assert table["table"] == {"stack": "Shared", "logicalId": "SharedRunsTable"}
    assert table["deadLetterQueue"] == _ref(shared["dead_letters"]) and table["deadLetterQueue"]["stack"] == "Shared"
    assert table["function"]["stack"] == table["schedule"]["stack"] == "UsesShared"
    fanout = _published(synthesized, "/UsesShared/Jobs")["resources"]
    assert fanout["queue"] == _ref(shared["tasks"]) and fanout["queue"]["stack"] == "Shared"
    assert fanout["webhookSecret"] == _ref(shared["secret"]) and fanout["webhookSecret"]["stack"] == "Shared"
    assert fanout["worker"]["stack"] == fanout["eventSourceMapping"]["stack"] == "UsesShared"


def test_every_logical_id_names_a_resource_of_the_expected_type(synthesized):
    checked: Set[Tuple[str, str]] = set()
    for path, data in _entries(synthesized).items():
        for role, ref in data["resources"].items():
            if "logicalId" not in ref:
                continue
            resource = synthesized.templates[ref["stack"]]["Resources"].get(ref["logicalId"])
            assert resource is not None, (path, role, ref)
            assert resource["Type"] == RESOURCE_TYPES[role], (path, role, ref)
            checked.add((path, role))
    # Defaults 5 + 8, Existing 5 + 8, Imported 1 + 3 (schedules, mapping, fan-out ledger), UsesShared 5 + 8,
    # and every construct's watchdog and its schedule (8 x 2).
    assert len(checked) == 59
