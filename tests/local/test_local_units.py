"""Pure helpers of the local runner: construct kinds, the Scheduler, the event source mapping, reports."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from scheduled_tasks_constructs.local import reporting
from scheduled_tasks_constructs.local.construct_kinds import (
    FanoutKind,
    TableKind,
    kind_for,
    known_kinds,
)
from scheduled_tasks_constructs.local.event_source_mapping import (
    failed_message_ids,
    queue_count,
    sqs_record,
)
from scheduled_tasks_constructs.local.lambda_local import Invocation
from scheduled_tasks_constructs.local.planning import (
    AsyncConfig,
    RunnerError,
    ScheduleSpec,
)
from scheduled_tasks_constructs.local.reporting import (
    ConstructReport,
    ProgressLine,
    RunReport,
    format_report,
    iso_z,
    plural,
)
from scheduled_tasks_constructs.local.scheduler import (
    ScheduledTarget,
    fill_placeholders,
    plan_fire_times,
)

NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


# -- construct kinds ---------------------------------------------------------------------


def test_known_kinds_are_the_two_constructs_sorted() -> None:
    # GIVEN the registry of kinds; WHEN listed; THEN both kinds, sorted, as a tuple
    assert known_kinds() == ("ScheduledLambdaToTable", "ScheduledTaskFanout")


def test_kind_for_returns_the_registered_strategy_of_each_kind() -> None:
    # GIVEN each known kind name
    # WHEN its strategy is looked up twice
    table = kind_for("ScheduledLambdaToTable", where="App/Nightly")
    fanout = kind_for("ScheduledTaskFanout", where="App/Fanout")

    # THEN it is the one registered (stateless) instance of the matching class
    assert isinstance(table, TableKind) and table.name == "ScheduledLambdaToTable"
    assert isinstance(fanout, FanoutKind) and fanout.name == "ScheduledTaskFanout"
    assert kind_for("ScheduledTaskFanout", where="elsewhere") is fanout


@pytest.mark.parametrize("construct", ["X", "scheduledtaskfanout", ""])
def test_kind_for_refuses_an_unknown_kind_naming_the_construct(construct: str) -> None:
    # GIVEN a kind the runner does not know (names are case-sensitive)
    # WHEN its strategy is looked up; THEN a RunnerError names the path, the known kinds and the kind
    with pytest.raises(RunnerError) as error:
        kind_for(construct, where="App/Odd")
    assert str(error.value) == (
        f"App/Odd: construct kind must be one of ScheduledLambdaToTable, ScheduledTaskFanout, got {construct!r}"
    )


def test_table_kind_progress_line_says_ok_or_failed() -> None:
    # GIVEN the table kind, which measures nothing before a run
    kind = TableKind()
    run = SimpleNamespace()
    assert kind.before_run(run) is None

    # WHEN a run ends; THEN its line is the label and the outcome
    assert kind.after_run(run, "App/Nightly: run 1/2", True, None) == "App/Nightly: run 1/2: ok"
    assert kind.after_run(run, "App/Nightly: run 2/2", False, None) == "App/Nightly: run 2/2: FAILED"


# -- scheduler -----------------------------------------------------------------------------


def test_fill_placeholders_replaces_every_occurrence_even_inside_strings() -> None:
    # GIVEN a target input using each placeholder, one twice and one inside a longer string
    template = json.dumps(
        {
            "id": "<aws.scheduler.execution-id>",
            "again": "run-<aws.scheduler.execution-id>",
            "at": "<aws.scheduler.scheduled-time>",
            "arn": "<aws.scheduler.schedule-arn>",
            "attempt": "<aws.scheduler.attempt-number>",
        }
    )
    values = {"execution_id": "e-1", "scheduled_time": "2026-01-01T00:00:00Z", "schedule_arn": "arn:s", "attempt_number": "1"}

    # WHEN filled; THEN no placeholder is left
    assert json.loads(fill_placeholders(template, values)) == {
        "id": "e-1",
        "again": "run-e-1",
        "at": "2026-01-01T00:00:00Z",
        "arn": "arn:s",
        "attempt": "1",
    }


def test_fill_placeholders_leaves_placeholders_without_a_value_and_other_text() -> None:
    # GIVEN a value for one placeholder only, and a look-alike that is no placeholder
    text = "<aws.scheduler.execution-id> <aws.scheduler.schedule-arn> <aws.scheduler.other>"

    # WHEN filled; THEN only the valued placeholder changes
    assert fill_placeholders(text, {"execution_id": "e-9"}) == "e-9 <aws.scheduler.schedule-arn> <aws.scheduler.other>"


def test_plan_fire_times_of_a_disabled_schedule_is_empty_with_a_note() -> None:
    # GIVEN a disabled schedule
    notes: list[str] = []
    spec = ScheduleSpec("rate(1 hour)", "UTC", False, None, None)

    # WHEN its fire times are planned; THEN none, and the report says why
    assert plan_fire_times(spec, after=NEW_YEAR, count=3, where="App/S", notes=notes) == []
    assert notes == ["the schedule is disabled: it does not fire"]


def test_plan_fire_times_stops_at_the_end_date_in_the_schedules_zone() -> None:
    # GIVEN a daily 09:00 Berlin schedule that ends on 3 January
    notes: list[str] = []
    spec = ScheduleSpec("cron(0 9 * * ? *)", "Europe/Berlin", True, None, datetime(2026, 1, 3, tzinfo=UTC))

    # WHEN five fire times are asked for
    times = plan_fire_times(spec, after=NEW_YEAR, count=5, where="App/S", notes=notes)

    # THEN two come back, 08:00 UTC each, and a note says fewer fired
    assert [iso_z(t) for t in times] == ["2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z"]
    assert notes == ["the schedule fires 2 time(s) after 2026-01-01T00:00:00Z, not 5"]


def test_plan_fire_times_refuses_an_expression_it_cannot_read() -> None:
    # GIVEN an expression that is no rate, cron or at expression
    spec = ScheduleSpec("every day", "UTC", True, None, None)

    # WHEN planned; THEN a RunnerError names the construct and the expression, and no note is added
    notes: list[str] = []
    with pytest.raises(RunnerError, match=r"^App/S: cannot compute the fire times of every day: "):
        plan_fire_times(spec, after=NEW_YEAR, count=1, where="App/S", notes=notes)
    assert notes == []


class _Pool:
    """A function pool that answers from a list of outcomes and remembers what it was sent."""

    def __init__(self, outcomes: list[Invocation]) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[dict[str, Any]] = []
        self.image = SimpleNamespace(arn="arn:aws:lambda:us-east-1:123456789012:function:producer")

    def invoke(self, event: Any, *, request_id: str) -> Invocation:
        self.calls.append({"event": event, "request_id": request_id})
        outcome = self.outcomes.pop(0)
        return Invocation(request_id=request_id, ok=outcome.ok, error_type=outcome.error_type, error_message=outcome.error_message)


class _Sqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def _failed(message: str = "boom") -> Invocation:
    return Invocation(request_id="", ok=False, error_type="ValueError", error_message=message)


def _target(outcomes: list[Invocation], config: AsyncConfig, template: Any = "{}") -> ScheduledTarget:
    return ScheduledTarget(_Pool(outcomes), config, sqs=_Sqs(), input_template=template, schedule_arn="arn:schedule")


@pytest.mark.parametrize(("retries", "attempts"), [(0, 1), (1, 2), (2, 3), (-1, 1)])
def test_attempts_are_the_first_invocation_and_its_retries(retries: int, attempts: int) -> None:
    # GIVEN MaximumRetryAttempts; WHEN the attempts are counted; THEN one more (never fewer than one)
    assert _target([], AsyncConfig(retries=retries)).attempts == attempts


def test_event_fills_the_scheduler_context_and_parses_json() -> None:
    # GIVEN a target input using every placeholder
    template = json.dumps(
        {
            "id": "<aws.scheduler.execution-id>",
            "at": "<aws.scheduler.scheduled-time>",
            "arn": "<aws.scheduler.schedule-arn>",
            "attempt": "<aws.scheduler.attempt-number>",
        }
    )
    target = _target([], AsyncConfig(), template)

    # WHEN the event of a run at 10:30 in UTC+2 is made
    event = target.event(datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))))

    # THEN it is JSON data with the UTC time, the ARN, attempt 1 and a fresh UUID
    assert event["at"] == "2026-03-01T08:30:00Z"
    assert event["arn"] == "arn:schedule"
    assert event["attempt"] == "1"
    assert str(uuid.UUID(event["id"])) == event["id"]


def test_event_that_is_not_json_stays_text() -> None:
    # GIVEN a target input that is plain text; WHEN the event is made; THEN it is the filled text
    target = _target([], AsyncConfig(), "fired <aws.scheduler.scheduled-time>")
    assert target.event(NEW_YEAR) == "fired 2026-01-01T00:00:00Z"


def test_invoke_retries_with_one_request_id_until_it_succeeds() -> None:
    # GIVEN a function that fails twice and then succeeds, and two retries
    target = _target([_failed(), _failed(), Invocation(request_id="", ok=True)], AsyncConfig(retries=2, on_failure_url="q"))
    seen: list[tuple] = []

    # WHEN invoked
    invocation, attempts = target.invoke({"n": 1}, lambda attempt, inv: seen.append((attempt, inv.ok)))

    # THEN three attempts were observed under one request ID, and nothing went to the destination
    assert invocation.ok and attempts == 3
    assert seen == [(1, False), (2, False), (3, True)]
    assert len({call["request_id"] for call in target.pool.calls}) == 1
    assert target.sqs.sent == []


def test_invoke_sends_an_on_failure_record_after_the_last_retry() -> None:
    # GIVEN a function that always fails, one retry and an on-failure destination
    target = _target([_failed(), _failed()], AsyncConfig(retries=1, on_failure_url="http://q/failed"))

    # WHEN invoked
    invocation, attempts = target.invoke({"n": 1}, lambda *_: None)

    # THEN the destination gets the record Lambda writes, with the invoke count and the error
    assert not invocation.ok and attempts == 2
    (message,) = target.sqs.sent
    assert message["QueueUrl"] == "http://q/failed" and "MessageAttributes" not in message
    record = json.loads(message["MessageBody"])
    assert record["timestamp"].endswith("Z")
    assert datetime.fromisoformat(record["timestamp"]).tzinfo is not None
    del record["timestamp"]
    assert record == {
        "version": "1.0",
        "requestContext": {
            "requestId": invocation.request_id,
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:producer:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 2,
        },
        "requestPayload": {"n": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom", "errorType": "ValueError"},
    }


@pytest.mark.parametrize(("error", "expected"), [("x" * 300, "x" * 256), ("", "error"), (None, "error")])
def test_invoke_sends_the_event_to_a_dead_letter_queue_with_error_attributes(error: Any, expected: str) -> None:
    # GIVEN a function that always fails, no retries and a dead-letter queue (not a destination)
    config = AsyncConfig(retries=0, on_failure_url="http://q/dlq", dead_letter_target="arn:dlq")
    target = _target([_failed(error)], config)

    # WHEN invoked
    invocation, _ = target.invoke({"n": 2}, lambda *_: None)

    # THEN the bare event goes to the queue, its error message cut to 256 characters (or "error")
    assert target.sqs.sent == [
        {
            "QueueUrl": "http://q/dlq",
            "MessageBody": '{"n": 2}',
            "MessageAttributes": {
                "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": expected},
            },
        }
    ]


def test_invoke_without_a_failure_queue_sends_nothing() -> None:
    # GIVEN a function that fails and no on-failure destination; WHEN invoked; THEN nothing is sent
    target = _target([_failed()], AsyncConfig(retries=0))
    invocation, attempts = target.invoke({}, lambda *_: None)
    assert (invocation.ok, attempts, target.sqs.sent) == (False, 1, [])


# -- event source mapping ------------------------------------------------------------------


def test_sqs_record_of_a_bare_message() -> None:
    # GIVEN a message with no attributes; WHEN made a record; THEN Lambda's fields, empty where absent
    record = sqs_record({"MessageId": "m-1", "ReceiptHandle": "r-1"}, queue_arn="arn:q", region="eu-west-1")
    assert record == {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": "",
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:q",
        "awsRegion": "eu-west-1",
    }


def test_sqs_record_keeps_lambdas_attributes_and_encodes_binary_values() -> None:
    # GIVEN a message with system attributes (one Lambda does not pass on) and message attributes
    message = {
        "MessageId": "m-2",
        "ReceiptHandle": "r-2",
        "Body": '{"task": 1}',
        "MD5OfBody": "abc",
        "MD5OfMessageAttributes": "def",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "VisibilityTimeout": "30"},
        "MessageAttributes": {
            "kind": {"DataType": "String", "StringValue": "daily"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            "text": {"BinaryValue": "hi"},
        },
    }

    # WHEN made a record
    record = sqs_record(message, queue_arn="arn:q", region="us-east-1")

    # THEN only Lambda's attributes stay, binary values are base64, the attributes' MD5 is kept
    assert record["body"] == '{"task": 1}' and record["md5OfBody"] == "abc"
    assert record["attributes"] == {"ApproximateReceiveCount": "2", "SentTimestamp": "1"}
    assert record["messageAttributes"] == {
        "kind": {"stringListValues": [], "binaryListValues": [], "dataType": "String", "stringValue": "daily"},
        "blob": {"stringListValues": [], "binaryListValues": [], "dataType": "Binary", "binaryValue": "AAE="},
        "text": {"stringListValues": [], "binaryListValues": [], "dataType": "String", "binaryValue": "aGk="},
    }
    assert record["md5OfMessageAttributes"] == "def"


IDS = ["m-1", "m-2", "m-3"]


def _ok(result: Any) -> Invocation:
    return Invocation(request_id="r", ok=True, result=result)


def test_a_failed_invocation_fails_the_whole_batch_with_its_error() -> None:
    # GIVEN a worker invocation that raised; WHEN read; THEN every message fails, with the error
    invocation = Invocation(request_id="r", ok=False, error_type="KeyError", error_message="'id'")
    assert failed_message_ids(invocation, IDS, partial=True) == ({"m-1", "m-2", "m-3"}, "KeyError: 'id'")


def test_batch_item_failures_name_the_messages_that_go_back() -> None:
    # GIVEN a partial batch response naming two of three messages
    response = {"batchItemFailures": [{"itemIdentifier": "m-3"}, {"itemIdentifier": "m-1"}]}

    # WHEN read with and without ReportBatchItemFailures
    # THEN only the mapping that reports item failures returns them to the queue
    assert failed_message_ids(_ok(response), IDS, partial=True) == ({"m-1", "m-3"}, None)
    assert failed_message_ids(_ok(response), IDS, partial=False) == (set(), None)


@pytest.mark.parametrize("result", [None, "done", [], {}, {"batchItemFailures": None}, {"batchItemFailures": []}])
def test_a_response_without_item_failures_is_a_full_success(result: Any) -> None:
    # GIVEN a successful response that names no failure; WHEN read; THEN nothing fails
    assert failed_message_ids(_ok(result), IDS, partial=True) == (set(), None)


@pytest.mark.parametrize(
    ("failures", "reason"),
    [
        ("m-1", "the response's batchItemFailures is not a list"),
        ({"itemIdentifier": "m-1"}, "the response's batchItemFailures is not a list"),
        ([{"itemIdentifier": "m-9"}], "the response names an itemIdentifier that is not in the batch"),
        ([{"itemIdentifier": "m-1"}, "m-2"], "the response names an itemIdentifier that is not in the batch"),
        ([{"itemIdentifier": 1}], "the response names an itemIdentifier that is not in the batch"),
        ([{"id": "m-1"}], "the response names an itemIdentifier that is not in the batch"),
    ],
)
def test_a_malformed_batch_response_fails_the_whole_batch(failures: Any, reason: str) -> None:
    # GIVEN a partial batch response Lambda cannot read; WHEN read; THEN every message fails, and why
    result = {"batchItemFailures": failures}
    assert failed_message_ids(_ok(result), IDS, partial=True) == ({"m-1", "m-2", "m-3"}, reason)


def test_queue_count_sums_visible_in_flight_and_delayed_messages() -> None:
    # GIVEN a client reporting three kinds of messages
    asked: list[dict[str, Any]] = []

    def get_queue_attributes(**kwargs: Any) -> dict[str, Any]:
        asked.append(kwargs)
        return {"Attributes": {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "2", "ApproximateNumberOfMessagesDelayed": "1"}}

    sqs = SimpleNamespace(get_queue_attributes=get_queue_attributes)

    # WHEN counted with and without a URL; THEN their sum, and 0 without asking the client
    assert queue_count(sqs, "http://q/tasks") == 6
    assert queue_count(sqs, None) == 0 and queue_count(sqs, "") == 0
    assert [call["QueueUrl"] for call in asked] == ["http://q/tasks"]


# -- reporting -----------------------------------------------------------------------------


def test_iso_z_writes_utc_to_the_second() -> None:
    # GIVEN instants in other offsets and with microseconds; WHEN written; THEN UTC, seconds, a Z
    assert iso_z(datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8)))) == "2026-11-23T01:00:00Z"
    assert iso_z(datetime(2026, 12, 31, 23, 30, 5, 999999, tzinfo=timezone(timedelta(hours=-1)))) == "2027-01-01T00:30:05Z"


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [
        (1, "task", "1 task"),
        (0, "task", "0 tasks"),
        (2, "batch", "2 batches"),
        (3, "delivery", "3 deliveries"),
        (2, "day", "2 days"),
        (2, "box", "2 boxes"),
        (2, "bus", "2 buses"),
        (2, "wish", "2 wishes"),
        (1, "delivery", "1 delivery"),
        (2, "cold start", "2 cold starts"),
    ],
)
def test_plural(count: int, noun: str, text: str) -> None:
    # GIVEN a count and a noun; WHEN written; THEN the noun is plural unless the count is 1
    assert plural(count, noun) == text


def test_construct_report_is_ok_only_when_nothing_was_lost() -> None:
    # GIVEN a report whose planned runs all fired and succeeded
    report = ConstructReport("App/F", "ScheduledTaskFanout", "rate(1 day)", "UTC", runs_requested=1, runs_planned=1, runs=1)
    assert report.ok and report.to_dict()["ok"] is True
    data = {key: value for key, value in report.to_dict().items() if key != "ok"}

    # WHEN tasks are left, dead-lettered, counts do not add up or a run did not fire; THEN not ok
    for change in (
        {"tasks_left_in_queue": 1},
        {"tasks_dead_lettered": 2},
        {"notes": ["count mismatch: 3 task(s) sent"]},
        {"runs": 0},
        {"runs_failed": 1},
    ):
        assert not ConstructReport(**{**data, **change}).ok, change
    # AND an ordinary note, zero dead-lettered or zero left keeps it ok
    assert ConstructReport(**{**data, "notes": ["the schedule is disabled"], "tasks_dead_lettered": 0, "tasks_left_in_queue": 0}).ok


def test_run_report_to_dict() -> None:
    # GIVEN a real-time run with one failed construct and a note
    construct = ConstructReport("App/N", "ScheduledLambdaToTable", "rate(1 day)", "UTC", runs_requested=1, runs_planned=1)
    report = RunReport(
        app="cdk.out", endpoint="http://localhost:4566", embedded=False, real_time=True,
        constructs=[construct], seconds=1.23456, notes=["stopped"],
    )

    # WHEN written as data; THEN the keys the JSON output has, the seconds rounded, not ok
    data = report.to_dict()
    assert data == {
        "app": "cdk.out",
        "endpoint": "http://localhost:4566",
        "embedded_endpoint": False,
        "time": "real",
        "ok": False,
        "seconds": 1.235,
        "notes": ["stopped"],
        "constructs": [construct.to_dict()],
    }
    assert data["constructs"][0]["ok"] is False


def test_progress_line_writes_rate_and_eta_at_most_four_times_a_second(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a progress line on a clock under the test's control
    now = [100.0]
    monkeypatch.setattr(reporting, "time", SimpleNamespace(monotonic=lambda: now[0]))
    line = ProgressLine(True, "App/Fanout: run 1/1", 5000)

    # WHEN updated at 0.1 s, again at 0.2 s, then finally at 2 s
    now[0] = 100.1
    line.update(1)
    now[0] = 100.2
    line.update(2)
    now[0] = 102.0
    line.update(5000, final=True)

    # THEN the second update is not shown, and the last one ends the line
    first = "App/Fanout: run 1/1: 1/5000 tasks, 10/s, ETA 500 s"
    last = "App/Fanout: run 1/1: 5000/5000 tasks, 2,500/s, ETA 0 s"
    assert capsys.readouterr().err == "\r" + first.ljust(80) + "\r" + last.ljust(80) + "\n"


def test_disabled_progress_line_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a progress line that is off (not a terminal); WHEN updated; THEN nothing is written
    line = ProgressLine(False, "App/F: run 1/1", 3)
    line.update(1)
    line.update(3, final=True)
    assert capsys.readouterr().err == ""


def test_format_report_of_a_table_construct() -> None:
    # GIVEN an embedded, virtual-time run of a table construct with four fire times
    construct = ConstructReport(
        "App/Nightly", "ScheduledLambdaToTable", "rate(1 day)", "UTC", runs_requested=4, runs_planned=4,
        runs=4, runs_succeeded=4, invocations=4, table_items=4, cold_starts=1, seconds=0.5,
        fire_times=["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"],
    )
    report = RunReport(app="cdk.out", endpoint="http://127.0.0.1:5000", embedded=True, real_time=False, constructs=[construct], seconds=1.234)

    # WHEN written as text; THEN one header and one block, three fire times shown
    assert format_report(report).split("\n") == [
        "Local run of cdk.out: OK in 1.23 s (embedded moto server http://127.0.0.1:5000, virtual time)",
        "",
        "App/Nightly  (ScheduledLambdaToTable)",
        "  schedule           rate(1 day), UTC",
        "  runs               4 of 4 succeeded (4 invocations)",
        "  fire times         2026-01-01T00:00:00Z, 2026-01-02T00:00:00Z, 2026-01-03T00:00:00Z, ... (4 in all)",
        "  table items        4",
        "  failed runs queue  none (no on-failure destination)",
        "  time               0.50 s (1 cold start)",
    ]


def test_format_report_of_a_failed_fanout_construct() -> None:
    # GIVEN a fanout run that failed once, missed a run, dead-lettered tasks and hit four worker errors
    construct = ConstructReport(
        "App/Fanout", "ScheduledTaskFanout", "cron(0 9 * * ? *)", "Europe/Berlin", runs_requested=3,
        runs_planned=3, runs=2, runs_succeeded=1, runs_failed=1, invocations=4, batch_size=10,
        max_receive_count=3, concurrency=2, tasks_sent=20, tasks_succeeded=15, tasks_filtered=2,
        tasks_retried=3, tasks_dead_lettered=2, tasks_left_in_queue=1, task_deliveries=1,
        worker_invocations=1, runs_dead_lettered=1, results_posted=0, cold_starts=2, seconds=3.0,
        errors={"worker": {"E1": 5, "E2": 4, "E3": 3, "E4": 1}}, notes=["a note"],
    )
    report = RunReport(app="cdk.out", endpoint="http://localhost:4566", embedded=False, real_time=True, constructs=[construct], notes=["cut short"])

    # WHEN written as text; THEN every task row, three error kinds and the rest summed up
    assert format_report(report).split("\n") == [
        "Local run of cdk.out: FAILED in 0.00 s (local endpoint http://localhost:4566, real time)",
        "  note: cut short",
        "",
        "App/Fanout  (ScheduledTaskFanout)",
        "  schedule           cron(0 9 * * ? *), Europe/Berlin",
        "  runs               1 of 3 succeeded, 1 failed, 1 did not fire (4 invocations)",
        "  tasks sent         20 (on the task queue when the producer returned)",
        "  succeeded          15 (batch size 10, 1 worker invocation, up to 2 at a time)",
        "  filtered out       2 (deleted: no filter of the mapping matched)",
        "  retried            3 (1 delivery)",
        "  dead-letter queue  2 (max receive count 3)",
        "  left in queue      1",
        "  failed runs queue  1",
        "  results posted     0",
        "  worker error       5 x E1",
        "  worker error       4 x E2",
        "  worker error       3 x E3",
        "  worker error       ... 1 more kinds (--json lists all)",
        "  time               3.00 s (2 cold starts)",
        "  note: a note",
    ]
