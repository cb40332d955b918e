"""process_batch and task_handler: unit cases and a dead-letter queue on moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime.events import MalformedEventError, RunContext
from scheduled_tasks_constructs.runtime.fanout import send_tasks
from scheduled_tasks_constructs.runtime.worker import Task, process_batch, task_handler

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:tasks"


def record(
    message_id: str, body: Any, *, receive_count: str = "1", arn: str = QUEUE_ARN
) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": receive_count},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }


def body(task_id: str, payload: Any) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "execution_id": "exec-1",
        "scheduled_time": "2026-11-22T10:00:00Z",
        "task": payload,
    }


def test_exactly_the_failed_records_are_reported() -> None:
    # GIVEN a batch mixing good records, a raising task and malformed bodies
    event = {
        "Records": [
            record("m-ok-1", body("exec-1/a", {"n": 1}), receive_count="2"),
            record("m-raises", body("exec-1/b", {"boom": True})),
            record("m-not-json", "{not json"),
            record("m-no-task-id", {"execution_id": "exec-1", "task": {"n": 3}}),
            record("m-list", [1, 2, 3]),
            record("m-no-task", {"task_id": "exec-1/c"}),
            record("m-ok-2", body("exec-1/d", None)),
        ]
    }
    seen: list[Task] = []

    def fn(task: Task) -> str:
        seen.append(task)
        if isinstance(task.payload, dict) and task.payload.get("boom"):
            raise RuntimeError("task failed")
        return "done"

    # WHEN it is processed
    response = process_batch(event, fn)

    # THEN exactly the raising and malformed records are reported, in order
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": "m-raises"},
            {"itemIdentifier": "m-not-json"},
            {"itemIdentifier": "m-no-task-id"},
            {"itemIdentifier": "m-list"},
            {"itemIdentifier": "m-no-task"},
        ]
    }
    # AND fn saw the parseable tasks, once each, fully parsed
    assert [task.message_id for task in seen] == ["m-ok-1", "m-raises", "m-ok-2"]
    assert seen[0] == Task(
        task_id="exec-1/a",
        execution_id="exec-1",
        scheduled_time="2026-11-22T10:00:00Z",
        payload={"n": 1},
        message_id="m-ok-1",
        receive_count=2,
    )


def test_all_good_means_no_failures() -> None:
    event = {"Records": [record(f"m-{i}", body(f"e/{i}", i)) for i in range(5)]}

    assert process_batch(event, lambda task: None) == {"batchItemFailures": []}


def test_on_result_gets_every_result_and_its_errors_do_not_fail_the_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = {"Records": [record("m-1", body("e/1", 1)), record("m-2", body("e/2", 2))]}
    results: list[tuple[str, Any]] = []

    def on_result(task: Task, result: Any) -> None:
        results.append((task.task_id, result))
        if result == 4:
            raise ConnectionError("post failed")

    with caplog.at_level("ERROR"):
        response = process_batch(event, lambda task: task.payload * 2, on_result=on_result)

    assert results == [("e/1", 2), ("e/2", 4)]
    assert response == {"batchItemFailures": []}
    assert [entry.getMessage() for entry in caplog.records] == [
        "task e/2 (message m-2) succeeded but its result was not reported: "
        "ConnectionError: post failed",
        "1 of 2 results in the batch were not reported",
    ]


class FakeContext:
    """The Lambda context's remaining time, set by the test."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_tasks_not_started_before_the_deadline_are_deferred(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a 30 s batch of five tasks whose first two use up all but 2 s
    context = FakeContext(30_000)
    event = {"Records": [record(f"m-{n}", body(f"e/{n}", n)) for n in range(1, 6)]}
    ran: list[int] = []

    def fn(task: Task) -> None:
        ran.append(task.payload)
        context.remaining_ms -= 14_000

    # WHEN the batch runs with the context
    with caplog.at_level("WARNING"):
        response = process_batch(event, fn, context=context)

    # THEN only the unstarted tasks are failed (the margin is 10% of 30 s = 3 s)
    assert ran == [1, 2]
    assert response == {
        "batchItemFailures": [{"itemIdentifier": f"m-{n}"} for n in (3, 4, 5)]
    }
    assert [entry.getMessage() for entry in caplog.records] == [
        "deferred 3 of 5 tasks to a retry: 2000 ms left, below the 3000 ms margin"
    ]


def test_the_deadline_margin_is_at_least_one_second() -> None:
    event = {"Records": [record("m-1", body("e/1", 1)), record("m-2", body("e/2", 2))]}
    context = FakeContext(5_000)  # 10% would be 0.5 s

    def fn(task: Task) -> None:
        context.remaining_ms = 999

    response = process_batch(event, fn, context=context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}


def test_with_little_time_left_the_first_task_still_runs_and_the_rest_wait() -> None:
    # Every invocation makes progress, even for a function whose timeout is below the margin.
    event = {"Records": [record("m-1", body("e/1", 1)), record("m-2", body("e/2", 2))]}
    ran: list[Task] = []

    response = process_batch(event, ran.append, context=FakeContext(500))

    assert [task.task_id for task in ran] == ["e/1"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}


def test_task_handler_passes_the_lambda_context_on() -> None:
    handler = task_handler(lambda task: None)
    event = {"Records": [record("m-1", body("e/1", 1)), record("m-2", body("e/2", 2))]}

    assert handler(event, FakeContext(100)) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert handler(event, object()) == {"batchItemFailures": []}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "event field 'Records' must be a list, got NoneType"),
        (None, "event field 'Records' must be a list, got NoneType"),
        ({"Records": "x"}, "event field 'Records' must be a list, got str"),
        ({"Records": [{"body": "{}"}]}, "record 0 has no string 'messageId'"),
        ({"Records": ["text"]}, "record 0 has no string 'messageId'"),
    ],
)
def test_an_event_that_is_not_an_sqs_batch_fails_as_a_whole(event: Any, message: str) -> None:
    calls: list[Task] = []

    with pytest.raises(MalformedEventError) as caught:
        process_batch(event, calls.append)

    assert str(caught.value) == message
    assert calls == []


def test_fifo_records_after_a_failure_are_not_run() -> None:
    fifo = "arn:aws:sqs:us-east-1:123456789012:tasks.fifo"
    event = {
        "Records": [
            record("m-1", body("e/1", 1), arn=fifo),
            record("m-2", body("e/2", 2), arn=fifo),
            record("m-3", body("e/3", 3), arn=fifo),
        ]
    }
    seen = []

    def fn(task: Task) -> None:
        seen.append(task.payload)
        if task.payload == 2:
            raise ValueError("no")

    response = process_batch(event, fn)

    assert seen == [1, 2]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}]}


def test_failures_are_logged_with_the_error_message_but_not_the_payload(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "card-4111-1111"
    event = {
        "Records": [
            record("m-1", body("exec-1/pay", {"card": secret})),
            record("m-2", '{"card": "' + secret + '"'),
            record("m-3", body("exec-1/long", {"card": secret})),
            record("m-4", body("exec-1/bare", {"card": secret})),
        ]
    }

    def fn(task: Task) -> None:
        if task.task_id == "exec-1/pay":
            raise ValueError("card declined\n  (code 51)")
        if task.task_id == "exec-1/long":
            raise ValueError("x" * 500)
        raise KeyError

    with caplog.at_level("DEBUG"):
        process_batch(event, fn)

    logged = [entry.getMessage() for entry in caplog.records]
    assert logged == [
        "task exec-1/pay (message m-1, receive 1) failed: ValueError: card declined (code 51)",
        "message m-2 is not a task message: the body is not JSON",
        "task exec-1/long (message m-3, receive 1) failed: ValueError: " + "x" * 197 + "...",
        "task exec-1/bare (message m-4, receive 1) failed: KeyError",
    ]
    assert all(secret not in line for line in logged)


def test_failures_are_logged_with_the_message_and_traceback_by_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fn(task: Task) -> None:
        raise ValueError("card 4111 declined")

    with caplog.at_level("ERROR"):
        process_batch({"Records": [record("m-1", body("exec-1/pay", {}))]}, fn)

    (entry,) = caplog.records
    assert entry.getMessage() == (
        "task exec-1/pay (message m-1, receive 1) failed: ValueError: card 4111 declined"
    )
    assert entry.exc_info is not None and entry.exc_info[1] is not None
    assert "card 4111 declined" in caplog.text


@pytest.mark.parametrize("via_handler", [False, True])
def test_with_log_error_messages_off_only_the_exception_type_is_logged(
    caplog: pytest.LogCaptureFixture, via_handler: bool
) -> None:
    # GIVEN a task whose error message and result-reporting error both quote the payload
    secret = "card-4111-1111"
    event = {
        "Records": [
            record("m-1", body("exec-1/pay", {"card": secret})),
            record("m-2", body("exec-1/ok", {"card": secret})),
        ]
    }

    def fn(task: Task) -> str:
        if task.task_id == "exec-1/pay":
            raise ValueError(f"card {task.payload['card']} declined")
        return task.payload["card"]

    def on_result(task: Task, result: str) -> None:
        raise RuntimeError(f"could not report {result}")

    # WHEN the batch runs with log_error_messages=False
    with caplog.at_level("DEBUG"):
        if via_handler:
            response = task_handler(fn, log_error_messages=False)(event, None)
        else:
            response = process_batch(event, fn, on_result=on_result, log_error_messages=False)

    # THEN the failure is still reported, and the log names the type only, with no traceback
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    expected = ["task exec-1/pay (message m-1, receive 1) failed: ValueError"]
    if not via_handler:
        expected += [
            "task exec-1/ok (message m-2) succeeded but its result was not reported: "
            "RuntimeError",
            "1 of 2 results in the batch were not reported",
        ]
    assert [entry.getMessage() for entry in caplog.records] == expected
    assert all(entry.exc_info is None for entry in caplog.records)
    assert secret not in caplog.text


def test_task_handler_works_bare_and_with_options() -> None:
    @task_handler
    def bare(task: Task) -> int:
        return task.payload + 1

    @task_handler()
    def called(task: Task) -> int:
        raise RuntimeError("x")

    event = {"Records": [record("m-1", body("e/1", 1))]}

    assert bare(event, None) == {"batchItemFailures": []}
    assert called(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert bare.__name__ == "bare"


def test_a_task_that_always_fails_ends_in_the_dead_letter_queue(
    make_queue: Callable[..., Any],
    sqs: Any,
    drain_queue: Callable[..., Any],
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN a queue with a redrive policy (3 receives) holding 4 good tasks and 1 bad one
    queue = make_queue(max_receive_count=3, visibility_timeout=0)
    tasks = [
        {"name": "good-1"},
        {"name": "good-2"},
        {"name": "bad"},
        {"name": "good-3"},
        {"name": "good-4"},
    ]
    send_tasks(queue.url, tasks, run=RunContext("exec-dlq"), client=sqs)
    calls: dict[str, list[int]] = {}

    def fn(task: Task) -> None:
        calls.setdefault(task.payload["name"], []).append(task.receive_count)
        if task.payload["name"] == "bad":
            raise RuntimeError("always fails")

    # WHEN the event source loop (receive -> process_batch -> delete successes) runs dry
    stats = drain_queue(queue, fn)

    # THEN the bad task was tried 3 times and moved to the dead-letter queue
    assert calls == {"good-1": [1], "good-2": [1], "bad": [1, 2, 3], "good-3": [1], "good-4": [1]}
    assert stats.failures == 3
    assert stats.deleted == 4
    (dead,) = queue_messages(queue.dlq_url)
    assert json.loads(dead["Body"])["task_id"] == "exec-dlq/bad"
    assert queue_messages(queue.url) == []
