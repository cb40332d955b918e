"""Consumer-side helper: run one function per SQS message of a batch.

:func:`process_batch` turns each SQS record into a :class:`Task`, calls your
function once per task and returns the ``batchItemFailures`` response that
Lambda's ``ReportBatchItemFailures`` expects: only the messages that failed
go back to the queue (and, after the queue's ``maxReceiveCount``, to its
dead-letter queue); the others are deleted.

Delivery is at least once: a message can be delivered again (a retry, or
SQS delivering twice), and a retried run of the producer sends its tasks
again with the same ids. Make the effect of your function idempotent, keyed
by ``task.task_id`` (see :mod:`.idempotency`).

:func:`task_handler` wraps a function into a ready Lambda handler that can
also post each result to a Slack or Discord webhook.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from . import WEBHOOK_KIND, WEBHOOK_SECRET_ARN, _aws
from .events import MalformedEventError

logger = logging.getLogger(__name__)

R = TypeVar("R")

BatchResponse = dict[str, list[dict[str, str]]]
"""``{"batchItemFailures": [{"itemIdentifier": <message id>}, ...]}``."""


@dataclass(frozen=True)
class Task:
    """One task, as delivered by SQS.

    Parameters
    ----------
    task_id : str
        Deterministic id ``"<execution id>/<name or index>"``; the same for
        every delivery of the task, including after a retried run.
    execution_id : str or None
        Execution id of the scheduled run the task belongs to.
    scheduled_time : str or None
        Time the run was scheduled for, ISO-8601.
    payload : Any
        The task itself, as given to the producer.
    message_id : str
        SQS message id (differs between two sends of the same task).
    receive_count : int
        How many times SQS has delivered this message, this time included.

    Examples
    --------
    >>> task = Task("e-1/a", "e-1", None, {"n": 1}, "m-1", 1)
    >>> task.payload["n"]
    1
    """

    task_id: str
    execution_id: str | None
    scheduled_time: str | None
    payload: Any
    message_id: str
    receive_count: int


class _BadMessageError(ValueError):
    """A record that is not a task message (the reason names no content)."""


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadMessageError(f"field {key!r} is {type(value).__name__}, not a string")
    return value


def _receive_count(record: dict[str, Any]) -> int:
    attributes = record.get("attributes")
    raw = attributes.get("ApproximateReceiveCount") if isinstance(attributes, dict) else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return max(1, int(raw))
    return 1


def _parse_record(record: dict[str, Any], message_id: str) -> Task:
    raw_body = record.get("body")
    if not isinstance(raw_body, str):
        raise _BadMessageError("the record has no string body")
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise _BadMessageError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadMessageError(f"the body is a JSON {type(body).__name__}, not an object")
    task_id = body.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise _BadMessageError("the body has no string 'task_id'")
    if "task" not in body:
        raise _BadMessageError("the body has no 'task'")
    return Task(
        task_id=task_id,
        execution_id=_optional_str(body, "execution_id"),
        scheduled_time=_optional_str(body, "scheduled_time"),
        payload=body["task"],
        message_id=message_id,
        receive_count=_receive_count(record),
    )


def _records(event: Any) -> list[tuple[str, dict[str, Any]]]:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise MalformedEventError(
            f"event field 'Records' must be a list, got {type(records).__name__}"
        )
    checked: list[tuple[str, dict[str, Any]]] = []
    for index, record in enumerate(records):
        message_id = record.get("messageId") if isinstance(record, dict) else None
        if not isinstance(message_id, str) or not message_id:
            # Without a message id the failure cannot be reported for this
            # record alone: fail the whole batch instead of dropping it.
            raise MalformedEventError(f"record {index} has no string 'messageId'")
        checked.append((message_id, record))
    return checked


def process_batch(
    event: Any,
    fn: Callable[[Task], R],
    *,
    on_result: Callable[[Task, R], object] | None = None,
) -> BatchResponse:
    """Call ``fn`` once per SQS record and report the records that failed.

    Parameters
    ----------
    event : Any
        The SQS event Lambda passes to the function (``{"Records": [...]}``).
    fn : callable
        ``fn(task)``, called once per record, in order. Raising marks the
        record as failed.
    on_result : callable or None, optional
        ``on_result(task, result)``, called after each successful ``fn``
        with its return value (``None`` included). Raising marks the record
        as failed, so the task runs again. Default: none.

    Returns
    -------
    dict
        ``{"batchItemFailures": [{"itemIdentifier": <message id>}, ...]}``
        listing every record that could not be parsed as a task message, or
        whose ``fn`` or ``on_result`` raised. An empty list means the whole
        batch succeeded.

    Raises
    ------
    MalformedEventError
        If the event has no ``Records`` list or a record has no message id;
        the whole batch then fails and is retried.

    Notes
    -----
    A failure is logged with the message id, the task id, the receive count,
    the exception's type and its message (on one line, cut to 200
    characters) and your code's traceback; never the payload or the
    environment. An exception message that quotes payload data shows it in
    the log, so raise messages that name what failed, not the data. For a
    FIFO queue (an ``eventSourceARN`` ending in
    ``.fifo``), the records after the first failure are reported as failed
    without being run, which keeps their order.

    Examples
    --------
    >>> event = {"Records": [{"messageId": "m-1",
    ...     "body": '{"task_id": "e-1/0", "task": {"n": 2}}'}]}
    >>> process_batch(event, lambda task: task.payload["n"] * 2)
    {'batchItemFailures': []}
    """
    failures: list[dict[str, str]] = []
    failed_fifo = False
    for message_id, record in _records(event):
        if failed_fifo:
            failures.append({"itemIdentifier": message_id})
            continue
        try:
            task = _parse_record(record, message_id)
        except _BadMessageError as exc:
            logger.error("message %s is not a task message: %s", message_id, exc)
            failures.append({"itemIdentifier": message_id})
            failed_fifo = _is_fifo(record)
            continue
        try:
            result = fn(task)
            if on_result is not None:
                on_result(task, result)
        except Exception as exc:
            logger.error(
                "task %s (message %s, receive %d) failed: %s",
                task.task_id,
                message_id,
                task.receive_count,
                _one_line(exc),
                exc_info=exc,  # your code's traceback; the payload itself is never logged
            )
            failures.append({"itemIdentifier": message_id})
            failed_fifo = _is_fifo(record)
    return {"batchItemFailures": failures}


#: The longest exception message a failure's log line quotes.
_MAX_ERROR_CHARS = 200


def _one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, the message cut at ``_MAX_ERROR_CHARS``.

    The traceback logged with it ends with the same message in full: this
    only puts it where a log search or an alarm's excerpt shows it.
    """
    message = " ".join(str(exc).split())
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _is_fifo(record: dict[str, Any]) -> bool:
    arn = record.get("eventSourceARN")
    return isinstance(arn, str) and arn.endswith(".fifo")


@functools.cache
def _webhook_url(secret_id: str) -> str:
    from .webhook import webhook_url_from_secret

    return webhook_url_from_secret(secret_id, client=_aws.client("secretsmanager"))


def _as_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str, ensure_ascii=False, sort_keys=True)


def _result_poster() -> Callable[[Task, Any], None] | None:
    secret_id = os.environ.get(WEBHOOK_SECRET_ARN, "")
    if not secret_id:
        logger.warning(
            "post_results is on but %s is not set; results are not posted",
            WEBHOOK_SECRET_ARN,
        )
        return None
    kind = os.environ.get(WEBHOOK_KIND, "") or None
    if kind is not None and kind not in ("slack", "discord"):
        raise RuntimeError(f"environment variable {WEBHOOK_KIND} must be slack or discord")

    def post(task: Task, result: Any) -> None:
        if result is None:
            return
        from .webhook import post_result

        post_result(_webhook_url(secret_id), _as_text(result), kind=kind)

    return post


def task_handler(fn: Callable[[Task], Any] | None = None, *, post_results: bool = False) -> Any:
    """Turn ``fn(task)`` into a Lambda handler for an SQS event source.

    Use it bare (``@task_handler``) or with options
    (``@task_handler(post_results=True)``).

    Parameters
    ----------
    fn : callable or None
        The function to run per task.
    post_results : bool, optional
        Post each result that is not ``None`` to the webhook whose URL is in
        the secret named by ``WEBHOOK_SECRET_ARN`` (read once per container);
        ``WEBHOOK_KIND`` sets the kind when the URL does not tell it. A string
        result is posted as is, anything else as JSON. A failed post fails
        the record, so the task runs again. Default: ``False``.

    Returns
    -------
    callable
        ``handler(event, context)`` returning the ``batchItemFailures``
        response of :func:`process_batch`; or, when called with options only,
        a decorator that makes one.

    Examples
    --------
    >>> @task_handler
    ... def handler(task):
    ...     return task.payload["n"] + 1
    >>> handler({"Records": [{"messageId": "m-1",
    ...     "body": '{"task_id": "e-1/0", "task": {"n": 1}}'}]}, None)
    {'batchItemFailures': []}
    """

    def decorate(func: Callable[[Task], Any]) -> Callable[[Any, Any], BatchResponse]:
        @functools.wraps(func)
        def handler(event: Any, context: Any) -> BatchResponse:
            on_result = _result_poster() if post_results else None
            return process_batch(event, func, on_result=on_result)

        return handler

    if fn is None:
        return decorate
    return decorate(fn)


__all__ = ["BatchResponse", "Task", "process_batch", "task_handler"]
