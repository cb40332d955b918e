"""End to end: what runs locally is the synthesized app, and fails where AWS would.

One app holds a construct per case. It is synthesized once (a subprocess, as
``cdk synth`` runs it); each case then runs through ``scheduled-tasks run`` on
the synthesized cloud assembly against the shared moto server, and the report
is checked against what the server holds.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import boto3
import pytest

from scheduled_tasks_constructs.local import cli
from scheduled_tasks_constructs.local.assembly import CloudAssembly

pytestmark = pytest.mark.xdist_group("fidelity")

AFTER = "2026-11-22T10:00:00Z"

APP = '''
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs

from scheduled_tasks_constructs import RuntimeLayer, ScheduledLambdaToTable, ScheduledTaskFanout

app = App()
stack = Stack(app, "Fidelity")
hourly = scheduler.ScheduleExpression.rate(Duration.hours(1))


def code(name):
    return lambda_.Code.from_asset(name)


# A function of the user's code that imports the runtime helpers (gets the layer).
ScheduledLambdaToTable(stack, "UserCode", schedule=hourly, code=code("user_code"), handler="handler.handler", alarms=False)
# A function that imports a module that is in the development environment but in no layer.
ScheduledLambdaToTable(stack, "MissingModule", schedule=hourly, code=code("needs_pytest"), handler="handler.handler",
                       alarms=False, function_retry_attempts=0)
# The bundled handler with a table keyed otherwise (an imported one: for a table of the app,
# synthesis already refuses the key schema).
ScheduledLambdaToTable(
    stack, "KeyedOtherwise", schedule=hourly, alarms=False, function_retry_attempts=1,
    existing_table=dynamodb.Table.from_table_name(stack, "IdTable", "keyed-by-id"),
)
# A function of the app brought as existing_function: it gets TABLE_NAME.
ScheduledLambdaToTable(
    stack, "OwnFunction", schedule=hourly, alarms=False,
    existing_function=lambda_.Function(stack, "Own", runtime=lambda_.Runtime.PYTHON_3_13, handler="handler.handler",
                                       code=code("own_function")),
)
# An imported function: its code is not in the app.
ScheduledLambdaToTable(
    stack, "Imported", schedule=hourly, alarms=False,
    existing_function=lambda_.Function.from_function_attributes(
        stack, "Elsewhere", function_arn="arn:aws:lambda:us-east-1:111122223333:function:elsewhere",
        role=iam.Role.from_role_arn(stack, "ElsewhereRole", "arn:aws:iam::111122223333:role/elsewhere"),
        same_environment=True,
    ),
)
# An imported table.
ScheduledLambdaToTable(stack, "ExternalTable", schedule=hourly, alarms=False,
                       existing_table=dynamodb.Table.from_table_name(stack, "Runs", "runs-external"))
# A queue of the app without a redrive policy.
ScheduledTaskFanout(
    stack, "OwnQueue", schedule=hourly, alarms=False, tasks=[{"name": "a"}, {"name": "b"}, {"name": "c"}],
    existing_queue=sqs.Queue(stack, "PlainQueue", visibility_timeout=Duration.minutes(6)),
    worker_code=code("worker_ok"), worker_handler="handler.handler",
)
# A worker of the app brought as existing_worker, with the runtime layer attached by the user.
ScheduledTaskFanout(
    stack, "OwnWorker", schedule=hourly, alarms=False, tasks=[{"name": f"t{n}"} for n in range(25)],
    existing_worker=lambda_.Function(stack, "Worker", runtime=lambda_.Runtime.PYTHON_3_14, handler="handler.handler",
                                     code=code("worker_ok"), layers=[RuntimeLayer.of(stack)], timeout=Duration.seconds(30)),
)
# A worker that runs past its timeout: its tasks move to the dead-letter queue.
ScheduledTaskFanout(
    stack, "SlowWorker", schedule=hourly, alarms=False, tasks=[{"name": "slow"}], max_receive_count=2,
    worker_code=code("worker_slow"), worker_handler="handler.handler", worker_timeout=Duration.seconds(1),
)
app.synth()
'''

FILES = {
    "user_code/handler.py": """
        import os
        import boto3
        from scheduled_tasks_constructs.runtime.events import parse_schedule_input

        def handler(event, context):
            run = parse_schedule_input(event, fallback_id=context.aws_request_id)
            boto3.client("dynamodb").put_item(TableName=os.environ["TABLE_NAME"], Item={"run_id": {"S": run.execution_id}})
    """,
    "needs_pytest/handler.py": """
        import pytest  # installed where the tests run, not in Lambda

        def handler(event, context):
            return None
    """,
    "own_function/handler.py": """
        import os
        import boto3

        def handler(event, context):
            boto3.client("dynamodb").put_item(TableName=os.environ["TABLE_NAME"], Item={"run_id": {"S": event["execution_id"]}})
    """,
    "worker_ok/handler.py": """
        from scheduled_tasks_constructs.runtime.worker import task_handler

        @task_handler
        def handler(task):
            return task.payload["name"]
    """,
    "worker_slow/handler.py": """
        import time
        from scheduled_tasks_constructs.runtime.worker import task_handler

        @task_handler
        def handler(task):
            time.sleep(5)
    """,
}


def run_cli(argv: List[str]) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def queue_count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


@pytest.fixture(scope="module")
def assembly_dir(tmp_path_factory: pytest.TempPathFactory, synthesize_app: Any) -> Path:
    return synthesize_app(tmp_path_factory.mktemp("fidelity-app"), APP, FILES)


@pytest.fixture(scope="module")
def run(assembly_dir: Path, moto_server: str):
    def run_construct(name: str, *extra: str) -> Tuple[int, Dict[str, Any], str]:
        code, out, err = run_cli(
            ["run", str(assembly_dir), "--construct", f"Fidelity/{name}", "--endpoint", moto_server,
             "--json", "--runs", "2", "--after", AFTER, *extra]
        )
        return code, (json.loads(out) if out.strip() else {}), err

    return run_construct


def template(assembly_dir: Path) -> Dict[str, Any]:
    return CloudAssembly(assembly_dir).stack("Fidelity").template


def test_user_code_importing_the_runtime_helpers_runs_with_the_layer(run, assembly_dir: Path, moto_server: str) -> None:
    code, report, err = run("UserCode")

    assert code == 0, err
    (construct,) = report["constructs"]
    assert construct["runs_succeeded"] == 2 and construct["table_items"] == 2
    items = client("dynamodb", moto_server).scan(TableName=construct["resources"]["table"])["Items"]
    assert len(items) == 2


def test_a_module_in_no_layer_fails_locally_as_in_lambda(run) -> None:
    code, report, err = run("MissingModule")

    assert code == 1
    (construct,) = report["constructs"]
    assert construct["runs_failed"] == 2 and construct["runs_dead_lettered"] == 2
    (error, count), = construct["errors"]["scheduled function"].items()
    assert error == "Runtime.ImportModuleError: Unable to import module 'handler': No module named 'pytest'"
    assert count == 2


def test_the_bundled_handler_fails_on_a_table_keyed_otherwise(run, tmp_path: Path) -> None:
    schema = tmp_path / "keyed-by-id.json"
    schema.write_text(json.dumps({"tables": {"keyed-by-id": {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    }}}))

    code, report, err = run("KeyedOtherwise", "--external-resources", str(schema))

    assert code == 1
    (construct,) = report["constructs"]
    assert construct["runs_failed"] == 2 and construct["invocations"] == 4  # one retry each, then the destination
    assert construct["table_items"] == 0 and construct["runs_dead_lettered"] == 2
    (error,) = construct["errors"]["scheduled function"]
    assert error.startswith("ClientError: ") and "key" in error.lower()  # the item lacks the table's key


def test_an_existing_function_of_the_app_runs_and_gets_table_name(run, assembly_dir: Path) -> None:
    own = next(r for k, r in template(assembly_dir)["Resources"].items() if k.startswith("Own") and r["Type"] == "AWS::Lambda::Function")
    assert "TABLE_NAME" in own["Properties"]["Environment"]["Variables"]

    code, report, err = run("OwnFunction")

    assert code == 0, err
    assert report["constructs"][0]["table_items"] == 2


def test_an_imported_function_is_refused_with_the_reason(run) -> None:
    code, report, err = run("Imported")

    assert code == 2 and not report
    assert "arn:aws:lambda:us-east-1:111122223333:function:elsewhere" in err
    assert err.startswith("reading ")
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert line.startswith("scheduled-tasks: error: Fidelity/Imported:") and "its code is not in this app" in line


def test_an_imported_table_needs_a_schema_or_the_endpoint(run, tmp_path: Path) -> None:
    code, _, err = run("ExternalTable")
    assert code == 2 and "'runs-external'" in err and "--external-resources" in err

    schema = tmp_path / "external.json"
    schema.write_text(json.dumps({"tables": {"runs-external": {
        "KeySchema": [{"AttributeName": "run_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "run_id", "AttributeType": "S"}],
    }}}))
    code, report, err = run("ExternalTable", "--external-resources", str(schema))

    assert code == 0, err
    assert report["constructs"][0]["table_items"] == 2
    assert report["constructs"][0]["resources"]["table"] == "runs-external"


def test_a_queue_without_a_redrive_policy_has_no_dead_letter_queue_in_the_report(run, moto_server: str) -> None:
    code, report, err = run("OwnQueue")

    assert code == 0, err
    (construct,) = report["constructs"]
    assert construct["resources"]["dead_letter_queue"] is None
    assert construct["tasks_dead_lettered"] is None and construct["max_receive_count"] is None
    assert (construct["tasks_sent"], construct["tasks_succeeded"]) == (6, 6)
    assert any("no redrive policy" in note for note in construct["notes"])
    assert queue_count(client("sqs", moto_server), construct["resources"]["queue"]) == 0


def test_an_existing_worker_with_the_runtime_layer_runs(run) -> None:
    code, report, err = run("OwnWorker")

    assert code == 0, err
    (construct,) = report["constructs"]
    assert (construct["tasks_sent"], construct["tasks_succeeded"], construct["worker_invocations"]) == (50, 50, 6)


def test_a_worker_past_its_timeout_dead_letters_its_task(run, moto_server: str) -> None:
    code, report, err = run("SlowWorker")

    assert code == 1
    (construct,) = report["constructs"]
    assert construct["tasks_sent"] == 2 and construct["tasks_dead_lettered"] == 2
    assert construct["errors"]["worker"] == {"Sandbox.Timedout: Task timed out after 1.00 seconds": 4}
    assert queue_count(client("sqs", moto_server), construct["resources"]["dead_letter_queue"]) == 2
    # A worker stopped by Lambda cannot count its task: each run stays running in the ledger (until the
    # watchdog calls it late), and the report says so. The hourly slots are an hour apart, the run
    # deadline is an hour, so the second slot is not skipped.
    assert [run["status"] for run in construct["ledger"]] == ["running", "running"]
    assert any("still running in the run ledger" in note for note in construct["notes"])


def test_a_progress_line_per_run_on_a_terminal_only(assembly_dir: Path, moto_server: str, capsys) -> None:
    from scheduled_tasks_constructs.local.runner import RunOptions, run_app

    assembly = CloudAssembly(assembly_dir)
    (entry,) = [c for c in assembly.scheduled_constructs() if c.path == "Fidelity/OwnWorker"]
    shown = RunOptions(runs=1, progress_bar=True)
    quiet = RunOptions(runs=1)  # stderr is not a terminal here

    run_app(assembly, [entry], endpoint=moto_server, options=shown)
    with_bar = capsys.readouterr().err
    run_app(assembly, [entry], endpoint=moto_server, options=quiet)
    without = capsys.readouterr().err

    final = with_bar.rsplit("\r", 1)[-1]
    assert final.startswith("Fidelity/OwnWorker: run 1/1 at ") and ": 25/25 tasks, " in final and "/s, ETA 0 s" in final
    assert "\r" not in without and "tasks, " not in without


def test_a_run_cut_off_by_the_time_limit_says_so_and_reports_what_happened(run) -> None:
    code, report, err = run("SlowWorker", "--timeout", "2")

    assert code == 1
    (note,) = report["notes"]
    assert note.startswith("stopped at the time limit of 2 s (--timeout)") and "what had happened by then" in note
    (construct,) = report["constructs"]
    assert construct["runs"] == 1 and construct["runs_planned"] == 2  # the second run never fired
    assert construct["tasks_sent"] == 1 and construct["tasks_succeeded"] == 0


def test_real_time_waits_for_each_fire_time(assembly_dir: Path, moto_server: str) -> None:
    from datetime import datetime, timedelta, timezone

    from scheduled_tasks_constructs.local.runner import RunOptions, run_app

    clock = {"now": datetime(2026, 11, 22, 10, 0, 30, tzinfo=timezone.utc)}
    slept: List[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["now"] += timedelta(seconds=seconds)

    assembly = CloudAssembly(assembly_dir)
    (entry,) = [c for c in assembly.scheduled_constructs() if c.path == "Fidelity/UserCode"]
    options = RunOptions(runs=2, real_time=True, now=lambda: clock["now"], sleep=sleep, timeout_seconds=10_000)

    report = run_app(assembly, [entry], endpoint=moto_server, options=options)

    (construct,) = report.constructs
    assert report.ok and construct.runs_succeeded == 2 and construct.table_items == 2
    # rate(1 hour) from 10:00:30: the runs wait for 11:00:30 and 12:00:30, a second at a time.
    assert construct.fire_times == ["2026-11-22T11:00:30Z", "2026-11-22T12:00:30Z"]
    assert round(sum(slept)) == 7200 and max(slept) <= 1.0
