"""The local runner without the CDK: hand-made run specs against the shared moto server.

Each test describes a construct the way the constructs do (a ``RunSpec``) and
runs it with :func:`run_app`; the handlers are the bundled ones or tiny ones
written to ``tmp_path``. Counts in the report are checked against what the
moto server holds afterwards.
"""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import boto3
import pytest

from scheduled_tasks_constructs._spec import FunctionSpec, RunSpec
from scheduled_tasks_constructs.local.cdk_app import (
    ConstructPlan,
    FunctionPlan,
    LoadedApp,
    TablePlan,
    one_line,
    parse_context,
    split_handler,
)
from scheduled_tasks_constructs.local.lambda_local import Container, HandlerError, Invocation, LambdaContext
from scheduled_tasks_constructs.local.runner import (
    RunOptions,
    _failed_ids,
    fill_placeholders,
    run_app,
    sqs_record,
)

REGION = "us-east-1"
AFTER = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
CONTEXT_INPUT = {
    "execution_id": "<aws.scheduler.execution-id>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "attempt_number": "<aws.scheduler.attempt-number>",
}
RECORD_RUN = "scheduled_tasks_constructs.runtime.record_run.handler"
PRODUCER = "scheduled_tasks_constructs.runtime.producer.handler"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def clients(moto_server: str) -> Dict[str, Any]:
    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_server,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return {name: make(name) for name in ("sqs", "dynamodb")}


def function_plan(
    role: str,
    handler: str,
    code_dir: Optional[Path] = None,
    *,
    retries: int = 2,
    environment: Optional[Dict[str, str]] = None,
    timeout: float = 30.0,
) -> FunctionPlan:
    return FunctionPlan(
        role=role,
        handler=handler,
        code_dir=str(code_dir) if code_dir else None,
        logical_id=None,
        name=f"Test-{role}",
        memory_mb=128,
        timeout_seconds=timeout,
        async_retry_attempts=retries,
        environment=dict(environment or {}),
        layer_dirs=[],
        bundled=handler.startswith("scheduled_tasks_constructs."),
    )


def table_app(function: FunctionPlan, *, expression: str = "rate(2 minutes)", path: str = "Test/Table") -> LoadedApp:
    spec = RunSpec(
        kind="table",
        path=path,
        expression=expression,
        time_zone="Etc/UTC",
        enabled=True,
        start=None,
        end=None,
        target_input=dict(CONTEXT_INPUT),
        function=FunctionSpec(code_dir=function.code_dir, handler=function.handler),
    )
    plan = ConstructPlan(
        path=path,
        class_name="ScheduledLambdaToTable",
        spec=spec,
        stack_name="Test",
        schedule_name="Test-Schedule",
        function=function,
        table=TablePlan(
            logical_id=None,
            key_schema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
            attribute_definitions=[{"AttributeName": "run_id", "AttributeType": "S"}],
        ),
    )
    return LoadedApp(app_file=Path("app.py"), outdir=Path("."), synthesized=True, stacks=[], constructs=[plan])


def fanout_app(
    worker: FunctionPlan,
    tasks: List[Any],
    *,
    batch_size: int = 10,
    max_receive_count: int = 3,
    webhook: bool = False,
    path: str = "Test/Fanout",
) -> LoadedApp:
    producer = function_plan("producer", PRODUCER)
    spec = RunSpec(
        kind="fanout",
        path=path,
        expression="cron(0 9 ? * MON-FRI *)",
        time_zone="Asia/Taipei",
        enabled=True,
        start=None,
        end=None,
        target_input=dict(CONTEXT_INPUT, tasks=tasks),
        function=FunctionSpec(code_dir=None, handler=PRODUCER),
        worker=FunctionSpec(code_dir=worker.code_dir, handler=worker.handler),
        batch_size=batch_size,
        max_receive_count=max_receive_count,
        visibility_timeout_seconds=360.0,
        webhook=webhook,
    )
    plan = ConstructPlan(
        path=path,
        class_name="ScheduledTaskFanout",
        spec=spec,
        stack_name="Test",
        schedule_name="Test-Schedule",
        function=producer,
        worker=worker,
    )
    return LoadedApp(app_file=Path("app.py"), outdir=Path("."), synthesized=True, stacks=[], constructs=[plan])


def write_handler(folder: Path, source: str, name: str = "handler.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    return folder


def queue_count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def scan_items(dynamodb: Any, table: str) -> List[Dict[str, Any]]:
    return dynamodb.scan(TableName=table)["Items"]


# --------------------------------------------------------------------------- pure helpers


def test_fill_placeholders_replaces_every_placeholder_also_inside_strings() -> None:
    event = fill_placeholders(
        {**CONTEXT_INPUT, "note": "run <aws.scheduler.execution-id>", "tasks": [{"n": 1}]},
        {"execution_id": "e-1", "scheduled_time": "2026-11-22T10:02:00Z", "schedule_arn": "arn:x", "attempt_number": "1"},
    )
    assert event == {
        "execution_id": "e-1",
        "scheduled_time": "2026-11-22T10:02:00Z",
        "schedule_arn": "arn:x",
        "attempt_number": "1",
        "note": "run e-1",
        "tasks": [{"n": 1}],
    }


def test_sqs_record_has_the_lambda_event_shape(clients: Dict[str, Any]) -> None:
    sqs = clients["sqs"]
    url = sqs.create_queue(QueueName=f"record-shape-{datetime.now().timestamp():.0f}")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"task_id": "e/1", "task": 1}',
        MessageAttributes={"task_id": {"DataType": "String", "StringValue": "e/1"}},
    )
    message = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"][0]

    record = sqs_record(message, queue_arn="arn:aws:sqs:us-east-1:123456789012:q", region=REGION)

    assert record["messageId"] == message["MessageId"]
    assert record["receiptHandle"] == message["ReceiptHandle"]
    assert record["body"] == '{"task_id": "e/1", "task": 1}'
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "task_id": {"stringValue": "e/1", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["awsRegion"] == REGION
    assert record["md5OfBody"] == message["MD5OfBody"]


@pytest.mark.parametrize(
    ("result", "ok", "failed", "whole_batch"),
    [
        (None, True, set(), False),
        ({"batchItemFailures": []}, True, set(), False),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, True, {"b"}, False),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, True, {"a", "b"}, True),
        ({"batchItemFailures": [{}]}, True, {"a", "b"}, True),
        ({"batchItemFailures": "b"}, True, {"a", "b"}, True),
        (None, False, {"a", "b"}, True),
    ],
)
def test_batch_item_failures_follow_lambda_rules(result: Any, ok: bool, failed: set, whole_batch: bool) -> None:
    invocation = Invocation("r", ok, result, None if ok else "ValueError: x", 0.0, "")
    got, reason = _failed_ids(invocation, ["a", "b"])
    assert got == failed
    assert (reason is not None) == whole_batch


def test_lambda_context_counts_down_from_the_timeout() -> None:
    now = [100.0]
    context = LambdaContext(
        function_name="fn", memory_mb=256, timeout_seconds=3, request_id="r-1",
        region=REGION, account="123456789012", clock=lambda: now[0],
    )
    assert context.get_remaining_time_in_millis() == 3000
    now[0] += 1.25
    assert context.get_remaining_time_in_millis() == 1750
    now[0] += 10
    assert context.get_remaining_time_in_millis() == 0
    assert context.aws_request_id == "r-1"
    assert context.memory_limit_in_mb == "256"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert context.log_group_name == "/aws/lambda/fn"


def test_small_parsers() -> None:
    assert split_handler("pkg.mod.run") == ("pkg.mod", "run")
    with pytest.raises(ValueError, match="module.function"):
        split_handler("handler")
    assert parse_context(["a=1", "b=text", 'c={"x": 2}']) == {"a": 1, "b": "text", "c": {"x": 2}}
    assert one_line(RuntimeError("first\n    at node:1\n second")) == "RuntimeError: first; second"


# --------------------------------------------------------------------------- containers


def test_containers_keep_same_named_handler_modules_apart(tmp_path: Path) -> None:
    first = write_handler(tmp_path / "one", "def handler(event, context):\n    return 'one'\n")
    second = write_handler(tmp_path / "two", "def handler(event, context):\n    return 'two'\n")
    path_before = list(sys.path)

    containers = [
        Container(function_plan("worker", "handler.handler", folder), environment=dict, region=REGION,
                  account="123456789012", owner=folder.name)
        for folder in (first, second)
    ]
    results = [c.invoke({}).result for c in containers] + [c.invoke({}).result for c in containers]

    assert results == ["one", "two", "one", "two"]
    assert "handler" not in sys.modules
    assert sys.path == path_before


def test_container_reports_an_unimportable_handler_on_one_line(tmp_path: Path) -> None:
    folder = write_handler(tmp_path / "bad", "import no_such_module_for_this_test\n")
    container = Container(function_plan("worker", "handler.handler", folder), environment=dict,
                          region=REGION, account="123456789012", owner="App/Fanout")

    with pytest.raises(HandlerError) as caught:
        container.cold_start()

    message = str(caught.value)
    assert "\n" not in message
    assert "App/Fanout worker handler 'handler.handler' cannot be imported" in message
    assert "No module named 'no_such_module_for_this_test'" in message


def test_container_invocation_captures_output_and_restores_the_environment(tmp_path: Path) -> None:
    folder = write_handler(
        tmp_path / "env",
        """
        import os
        def handler(event, context):
            print("hello from the handler")
            return {"flag": os.environ["FLAG"], "left": context.get_remaining_time_in_millis() > 0}
        """,
    )
    container = Container(function_plan("function", "handler.handler", folder), environment=lambda: {"FLAG": "on"},
                          region=REGION, account="123456789012", owner="App/Table")

    invocation = container.invoke({"k": 1})

    assert invocation.ok and invocation.result == {"flag": "on", "left": True}
    assert "hello from the handler" in invocation.output
    assert "FLAG" not in __import__("os").environ


# --------------------------------------------------------------------------- whole runs


def test_table_runs_record_one_item_per_fire_time(moto_server: str, clients: Dict[str, Any]) -> None:
    app = table_app(function_plan("function", RECORD_RUN))

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=3, after=AFTER))

    construct = report.constructs[0]
    assert report.ok and construct.ok
    assert construct.fire_times == ["2026-11-22T10:02:00Z", "2026-11-22T10:04:00Z", "2026-11-22T10:06:00Z"]
    items = scan_items(clients["dynamodb"], construct.resources["table"])
    assert construct.table_items == len(items) == 3
    assert sorted(item["scheduled_time"]["S"] for item in items) == construct.fire_times
    for item in items:
        assert item["attempt_number"] == {"N": "1"}
        assert item["schedule_arn"]["S"] == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/Test-Schedule"
        assert len(item["execution_id"]["S"]) == 36  # a UUID


def test_failed_runs_are_retried_then_sent_to_the_run_dead_letter_queue(
    tmp_path: Path, moto_server: str, clients: Dict[str, Any]
) -> None:
    folder = write_handler(tmp_path / "fails", "def handler(event, context):\n    raise ValueError('no luck')\n")
    app = table_app(function_plan("function", "handler.handler", folder, retries=1))

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=2, after=AFTER))

    construct = report.constructs[0]
    assert not report.ok
    assert (construct.runs, construct.runs_failed, construct.invocations) == (2, 2, 4)
    url = construct.resources["run_dead_letter_queue"]
    assert construct.runs_dead_lettered == queue_count(clients["sqs"], url) == 2
    body = json.loads(clients["sqs"].receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 2
    assert body["responsePayload"] == {"errorType": "ValueError", "errorMessage": "no luck"}
    assert body["requestPayload"]["scheduled_time"] in construct.fire_times


def test_fanout_feeds_the_worker_in_batches_with_sqs_events(
    tmp_path: Path, moto_server: str, clients: Dict[str, Any]
) -> None:
    capture = tmp_path / "events.jsonl"
    folder = write_handler(
        tmp_path / "worker",
        """
        import json, os
        def handler(event, context):
            with open(os.environ["CAPTURE"], "a") as out:
                out.write(json.dumps({"event": event, "request_id": context.aws_request_id,
                                      "function": context.function_name,
                                      "left": context.get_remaining_time_in_millis()}) + "\\n")
            return {"batchItemFailures": []}
        """,
    )
    worker = function_plan("worker", "handler.handler", folder, environment={"CAPTURE": str(capture)})
    app = fanout_app(worker, [{"name": f"t{i}"} for i in range(7)], batch_size=3)

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=1, after=AFTER))

    construct = report.constructs[0]
    assert report.ok
    assert construct.fire_times == ["2026-11-23T01:00:00Z"]  # 09:00 in Taipei, the next weekday
    assert (construct.tasks_sent, construct.tasks_succeeded, construct.worker_invocations) == (7, 7, 3)
    calls = [json.loads(line) for line in capture.read_text().splitlines()]
    assert [len(c["event"]["Records"]) for c in calls] == [3, 3, 1]
    record = calls[0]["event"]["Records"][0]
    body = json.loads(record["body"])
    assert body["task_id"].startswith(body["execution_id"] + "/t")
    assert body["scheduled_time"] == "2026-11-23T01:00:00Z"
    assert record["messageAttributes"]["task_id"]["stringValue"] == body["task_id"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["eventSourceARN"].endswith(":" + construct.resources["queue"].rsplit("/", 1)[1])
    assert calls[0]["function"] == "Test-worker" and calls[0]["left"] > 0
    assert len({c["request_id"] for c in calls}) == 3
    assert queue_count(clients["sqs"], construct.resources["queue"]) == 0


def test_a_task_that_always_fails_ends_in_the_dead_letter_queue(
    tmp_path: Path, moto_server: str, clients: Dict[str, Any]
) -> None:
    folder = write_handler(
        tmp_path / "worker",
        """
        from scheduled_tasks_constructs.runtime.worker import task_handler

        @task_handler
        def handler(task):
            if task.payload == "bad":
                raise RuntimeError("always")
            return "fine"
        """,
    )
    worker = function_plan("worker", "handler.handler", folder)
    app = fanout_app(worker, ["good", "bad", "good2"], max_receive_count=3)

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=2, after=AFTER))

    construct = report.constructs[0]
    assert not construct.ok and not report.ok
    assert construct.tasks_sent == 6
    assert construct.tasks_succeeded == 4
    assert construct.tasks_retried == 2
    assert construct.task_deliveries == 4 + 2 * 3
    dlq = construct.resources["dead_letter_queue"]
    assert construct.tasks_dead_lettered == queue_count(clients["sqs"], dlq) == 2
    message = clients["sqs"].receive_message(QueueUrl=dlq)["Messages"][0]
    assert json.loads(message["Body"])["task"] == "bad"
    assert construct.notes == []


def test_an_invalid_batch_response_fails_the_whole_batch(
    tmp_path: Path, moto_server: str, clients: Dict[str, Any]
) -> None:
    folder = write_handler(
        tmp_path / "worker",
        "def handler(event, context):\n    return {'batchItemFailures': [{'itemIdentifier': 'not-in-batch'}]}\n",
    )
    app = fanout_app(function_plan("worker", "handler.handler", folder), ["a", "b"], max_receive_count=2)

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=1, after=AFTER))

    construct = report.constructs[0]
    assert (construct.tasks_succeeded, construct.tasks_dead_lettered) == (0, 2)
    assert queue_count(clients["sqs"], construct.resources["dead_letter_queue"]) == 2


def test_results_are_posted_to_the_local_webhook(tmp_path: Path, moto_server: str) -> None:
    folder = write_handler(
        tmp_path / "worker",
        """
        from scheduled_tasks_constructs.runtime.worker import task_handler

        @task_handler(post_results=True)
        def handler(task):
            return f"done {task.payload}"
        """,
    )
    app = fanout_app(function_plan("worker", "handler.handler", folder), ["a", "b", "c"], webhook=True)

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=2, after=AFTER))

    construct = report.constructs[0]
    assert report.ok
    assert construct.results_posted == 6
    assert construct.resources["webhook_url"].startswith("http://127.0.0.1:")


def test_real_time_waits_for_each_fire_time(moto_server: str, clients: Dict[str, Any]) -> None:
    clock = [datetime(2026, 11, 22, 10, 0, 30, tzinfo=timezone.utc)]
    slept: List[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    options = RunOptions(runs=2, real_time=True, now=lambda: clock[0], sleep=sleep)
    report = run_app(table_app(function_plan("function", RECORD_RUN)), endpoint=moto_server, options=options)

    construct = report.constructs[0]
    assert report.ok
    assert construct.fire_times == ["2026-11-22T10:02:30Z", "2026-11-22T10:04:30Z"]
    assert sum(slept) == pytest.approx(240)
    assert max(slept) <= 1.0
    assert construct.table_items == 2


def test_real_time_stops_at_the_time_limit(moto_server: str) -> None:
    options = RunOptions(runs=2, real_time=True, timeout_seconds=30, sleep=lambda s: None)

    report = run_app(table_app(function_plan("function", RECORD_RUN)), endpoint=moto_server, options=options)

    assert not report.ok
    assert report.constructs[0].runs == 0
    assert "time limit" in report.notes[0]


def test_a_one_time_schedule_plans_one_run(moto_server: str) -> None:
    app = table_app(function_plan("function", RECORD_RUN), expression="at(2026-11-22T12:00:00)")

    report = run_app(app, endpoint=moto_server, options=RunOptions(runs=3, after=AFTER))

    construct = report.constructs[0]
    assert report.ok
    assert (construct.runs_requested, construct.runs_planned, construct.runs) == (3, 1, 1)
    assert construct.fire_times == ["2026-11-22T12:00:00Z"]
    assert construct.table_items == 1
    assert construct.notes == ["the schedule fires 1 time(s) after 2026-11-22T10:00:00Z, not 3"]
