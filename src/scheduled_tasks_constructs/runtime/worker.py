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
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from . import WEBHOOK_KIND, WEBHOOK_SECRET_ARN
from .events import MalformedEventError
from .messages import MessageFormatError, decode_task
from .webhook import (
    WebhookError,
    _post_to_secret_url,
    _read_secret_url,
    _SecretUrlCache,
)

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
    run_id : str or None
        The run's key in the run ledger, when the producer keeps one.

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
    run_id: str | None = None


def _receive_count(record: dict[str, Any]) -> int:
    attributes = record.get("attributes")
    raw = attributes.get("ApproximateReceiveCount") if isinstance(attributes, dict) else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return max(1, int(raw))
    return 1


def _parse_record(record: dict[str, Any], message_id: str) -> Task:
    message = decode_task(record.get("body"))
    return Task(
        task_id=message.task_id,
        execution_id=message.execution_id,
        scheduled_time=message.scheduled_time,
        payload=message.payload,
        message_id=message_id,
        receive_count=_receive_count(record),
        run_id=message.run_id,
    )


def _run_of(record: dict[str, Any]) -> tuple[str | None, str]:
    """The run id and task id of a record that is not run (``(None, "")`` if unreadable)."""
    try:
        message = decode_task(record.get("body"))
    except MessageFormatError:
        return None, ""
    return message.run_id, message.task_id


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
    context: Any = None,
    log_error_messages: bool = True,
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
        with its return value (``None`` included), to report the result.
        The task's outcome does not depend on it: when it raises, the error
        is logged with the task id and the record still succeeds, so the
        work is not run again. Default: none.
    context : Any, optional
        The Lambda context. Before each record, when its
        ``get_remaining_time_in_millis()`` is below the safety margin
        (:data:`DEADLINE_MARGIN_FRACTION` of the time remaining when the
        batch started, at least :data:`MIN_DEADLINE_MARGIN_MS`), that record
        and all later ones are reported as failed without being run, so
        only they are retried, not the tasks already done. The first record
        of a batch always runs, so that every invocation makes progress
        whatever the function's timeout. A context without that method is
        ignored. Default: none (no deadline).
    log_error_messages : bool, optional
        Whether a failure's log line quotes the exception's message and
        comes with its traceback. With ``False``, only the exception's type
        is logged (for ``fn`` and ``on_result`` alike), with no traceback,
        for code whose exception messages may quote payload data. Default:
        ``True``.

    Returns
    -------
    dict
        ``{"batchItemFailures": [{"itemIdentifier": <message id>}, ...]}``
        listing every record that could not be parsed as a task message,
        whose ``fn`` raised, or that was deferred for lack of time. An empty
        list means the whole batch succeeded.

    Raises
    ------
    MalformedEventError
        If the event has no ``Records`` list or a record has no message id;
        the whole batch then fails and is retried.

    Notes
    -----
    A failure is logged with the message id, the task id, the receive count
    and the exception's type; never the payload or the environment. Unless
    ``log_error_messages`` is ``False``, the line also quotes the
    exception's message (on one line, cut to 200 characters) and comes with
    your code's traceback, so an exception message that quotes payload data
    shows it in the log: raise messages that name what failed, not the data,
    or turn the messages off. For a FIFO queue (an ``eventSourceARN`` ending in
    ``.fifo``), the records after the first failure are reported as failed
    without being run, which keeps their order.

    A deferred record counts as a delivery: SQS adds one to its receive
    count, so a batch that regularly runs out of time moves its last tasks
    towards the dead-letter queue. Keep the batch size small enough for the
    function's timeout.

    Examples
    --------
    >>> event = {"Records": [{"messageId": "m-1",
    ...     "body": '{"task_id": "e-1/0", "task": {"n": 2}}'}]}
    >>> process_batch(event, lambda task: task.payload["n"] * 2)
    {'batchItemFailures': []}
    """
    failures: list[dict[str, str]] = []
    failed_fifo = False
    records = _records(event)
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    margin_ms = 0
    if callable(remaining_ms):
        margin_ms = max(
            MIN_DEADLINE_MARGIN_MS, int(remaining_ms() * DEADLINE_MARGIN_FRACTION)
        )
    unreported = 0
    # (run id, task id, succeeded, receive count, error) per record, for the run ledger.
    outcomes: list[tuple[str | None, str, bool, int, str | None]] = []

    def not_run(record: dict[str, Any], why: str) -> None:
        run_id, task_id = _run_of(record)
        outcomes.append((run_id, task_id, False, _receive_count(record), why))

    for index, (message_id, record) in enumerate(records):
        if failed_fifo:
            failures.append({"itemIdentifier": message_id})
            not_run(record, "not run: an earlier message of its FIFO group failed")
            continue
        if callable(remaining_ms) and index > 0:
            left_ms = remaining_ms()
            if left_ms < margin_ms:
                deferred = records[index:]
                failures.extend({"itemIdentifier": m} for m, _ in deferred)
                for _, late in deferred:
                    not_run(late, "not run: the batch ran out of time")
                logger.warning(
                    "deferred %d of %d tasks to a retry: %d ms left, below the %d ms margin",
                    len(deferred),
                    len(records),
                    left_ms,
                    margin_ms,
                )
                break
        try:
            task = _parse_record(record, message_id)
        except MessageFormatError as exc:
            logger.error("message %s is not a task message: %s", message_id, exc)
            failures.append({"itemIdentifier": message_id})
            failed_fifo = _is_fifo(record)
            continue
        try:
            result = fn(task)
        except Exception as exc:
            logger.error(
                "task %s (message %s, receive %d) failed: %s",
                task.task_id,
                message_id,
                task.receive_count,
                _describe_error(exc, log_error_messages),
                # Your code's traceback; the payload itself is never logged.
                exc_info=exc if log_error_messages else None,
            )
            failures.append({"itemIdentifier": message_id})
            failed_fifo = _is_fifo(record)
            outcomes.append(
                (task.run_id, task.task_id, False, task.receive_count, _describe_error(exc, log_error_messages))
            )
            continue
        outcomes.append((task.run_id, task.task_id, True, task.receive_count, None))
        if on_result is not None:
            try:
                on_result(task, result)
            except Exception as exc:
                # The work succeeded: the record must not fail (and run again).
                unreported += 1
                logger.error(
                    "task %s (message %s) succeeded but its result was not reported: %s",
                    task.task_id,
                    message_id,
                    _describe_error(exc, log_error_messages),
                )
    if unreported:
        logger.error(
            "%d of %d results in the batch were not reported", unreported, len(records)
        )
    _record_in_ledger(outcomes)
    return {"batchItemFailures": failures}


def _record_in_ledger(outcomes: list[tuple[str | None, str, bool, int, str | None]]) -> None:
    """Add the batch's outcomes to the run ledger, when the function keeps one.

    A ledger that cannot be written (after the client's own retries) is
    logged, not raised: failing the batch would run its tasks again.
    """
    from . import ledger

    config = ledger.LedgerConfig.from_env()
    if config is None:
        return
    counts = ledger.counts_for(outcomes, config.max_receive_count)
    if not counts:
        return
    from . import _aws

    try:
        finished = ledger.record_batch(_aws.client("dynamodb"), config, counts)
    except Exception as exc:
        logger.error("the batch's outcomes were not added to the run ledger: %s", _one_line(exc))
        return
    for item in finished:
        logger.info("run %s finished: %s", item.get("run_id"), item.get("status"))
        ledger.post_summary(item)


MIN_DEADLINE_MARGIN_MS = 1_000
"""Least time, in milliseconds, :func:`process_batch` keeps in hand: with less
left, it stops starting tasks."""

DEADLINE_MARGIN_FRACTION = 0.1
"""Share of the time remaining when a batch starts (about the function's
timeout) that :func:`process_batch` keeps in hand, when more than
:data:`MIN_DEADLINE_MARGIN_MS`."""


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


def _describe_error(exc: BaseException, with_message: bool) -> str:
    return _one_line(exc) if with_message else type(exc).__name__


def _is_fifo(record: dict[str, Any]) -> bool:
    arn = record.get("eventSourceARN")
    return isinstance(arn, str) and arn.endswith(".fifo")


#: Webhook URLs of this container, each read again after ``WEBHOOK_URL_MAX_AGE_SECONDS``.
_webhook_urls = _SecretUrlCache(_read_secret_url)


def _as_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str, ensure_ascii=False, sort_keys=True)


def _result_poster() -> Callable[[Task, Any], None] | None:
    from .ledger import webhook_mode

    if webhook_mode() == "summary":
        # The construct posts one summary per run instead (webhook_messages="summary").
        return None
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
        text = _as_text(result)
        for delay in (*_POST_RETRY_DELAYS, None):
            try:
                _post_to_secret_url(_webhook_urls, secret_id, text, kind=kind)
                return
            except WebhookError as exc:
                retryable = exc.status is None or exc.status == 429 or exc.status >= 500
                if delay is None or not retryable:
                    raise
                logger.warning(
                    "posting the result of task %s failed, retrying: %s", task.task_id, exc
                )
                time.sleep(delay)

    return post


#: Seconds to wait before each retry of a failed post (network error, 429 or 5xx).
_POST_RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0)


def task_handler(
    fn: Callable[[Task], Any] | None = None,
    *,
    post_results: bool = False,
    log_error_messages: bool = True,
) -> Any:
    """Turn ``fn(task)`` into a Lambda handler for an SQS event source.

    Use it bare (``@task_handler``) or with options
    (``@task_handler(post_results=True)``).

    Parameters
    ----------
    fn : callable or None
        The function to run per task.
    post_results : bool, optional
        Post each result that is not ``None`` to the webhook whose URL is in
        the secret named by ``WEBHOOK_SECRET_ARN``; ``WEBHOOK_KIND`` sets the
        kind when the URL does not tell it. A warm container reads the secret
        again when its copy of the URL is older than
        ``webhook.WEBHOOK_URL_MAX_AGE_SECONDS``, and at once when the webhook
        rejects the URL (HTTP 401, 403, 404 or 410), then posts once more if
        the secret now holds another URL. A string
        result is posted as is, anything else as JSON. A post that fails on a
        network error, HTTP 429 or 5xx is tried twice more; a post that still
        fails is logged as an error with the task id (never the URL) and the
        record still succeeds, so the task does not run again. When
        ``WEBHOOK_MESSAGES`` is ``summary`` (the construct's
        ``webhook_messages``), nothing is posted per task: the run's summary
        is posted when it finishes. Default: ``False``.
    log_error_messages : bool, optional
        Passed to :func:`process_batch`: with ``False``, a failure is logged
        with the exception's type only, without its message or traceback.
        Default: ``True``.

    Returns
    -------
    callable
        ``handler(event, context)`` returning the ``batchItemFailures``
        response of :func:`process_batch`, which gets the Lambda context (so
        a batch stops before the function's deadline); or, when called with
        options only,
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
            return process_batch(
                event,
                func,
                on_result=on_result,
                context=context,
                log_error_messages=log_error_messages,
            )

        return handler

    if fn is None:
        return decorate
    return decorate(fn)


__all__ = [
    "DEADLINE_MARGIN_FRACTION",
    "MIN_DEADLINE_MARGIN_MS",
    "BatchResponse",
    "Task",
    "process_batch",
    "task_handler",
]
