"""The bundled producer handler against SQS on moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime.events import MalformedEventError
from scheduled_tasks_constructs.runtime.producer import handler

EVENT = {
    "execution_id": "exec-p",
    "scheduled_time": "2026-11-22T10:00:00Z",
    "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/fanout",
    "attempt_number": "1",
    "tasks": [{"name": f"page-{i}", "token": "payload-secret"} for i in range(23)],
}


def test_handler_sends_the_tasks_of_the_event(
    make_queue: Callable[..., Any],
    lambda_env: pytest.MonkeyPatch,
    lambda_context: Any,
    queue_messages: Callable[[str], list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = make_queue()
    lambda_env.setenv("QUEUE_URL", queue.url)

    with caplog.at_level("DEBUG", logger="scheduled_tasks_constructs"):
        result = handler(EVENT, lambda_context("req-1"))

    assert result == {"execution_id": "exec-p", "sent": 23, "requests": 3}
    bodies = [json.loads(message["Body"]) for message in queue_messages(queue.url)]
    assert sorted(body["task_id"] for body in bodies) == sorted(
        f"exec-p/page-{i}" for i in range(23)
    )
    assert {body["scheduled_time"] for body in bodies} == {"2026-11-22T10:00:00Z"}
    logged = "\n".join(
        entry.getMessage() for entry in caplog.records if entry.name.startswith("scheduled")
    )
    assert logged == "run exec-p: sent 23 tasks in 3 requests (0 entries retried)"


def test_without_execution_id_the_request_id_is_used(
    make_queue: Callable[..., Any],
    lambda_env: pytest.MonkeyPatch,
    lambda_context: Any,
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    queue = make_queue()
    lambda_env.setenv("QUEUE_URL", queue.url)

    result = handler({"tasks": [{"name": "only"}]}, lambda_context("req-7"))

    assert result == {"execution_id": "req-7", "sent": 1, "requests": 1}
    (message,) = queue_messages(queue.url)
    assert json.loads(message["Body"])["task_id"] == "req-7/only"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"execution_id": "e"}, "event field 'tasks' must be a list, got NoneType"),
        ({"execution_id": "e", "tasks": {"a": 1}}, "event field 'tasks' must be a list, got dict"),
        (None, "event field 'tasks' must be a list, got NoneType"),
        ([1, 2], "event must be a JSON object, got list"),
    ],
)
def test_malformed_events_raise(lambda_env: pytest.MonkeyPatch, event: Any, message: str) -> None:
    lambda_env.setenv("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/unused")

    with pytest.raises(MalformedEventError) as caught:
        handler(event, None)

    assert str(caught.value) == message


def test_missing_queue_url_raises(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.delenv("QUEUE_URL", raising=False)

    with pytest.raises(RuntimeError, match="^environment variable QUEUE_URL is not set$"):
        handler(EVENT, None)
