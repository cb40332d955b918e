"""Bundled "send tasks" handler of ``ScheduledTaskFanout`` (static tasks).

The schedule's input carries the tasks; the handler sends one SQS message per
task to ``QUEUE_URL`` with :func:`.fanout.send_tasks`. With a run ledger
(``LEDGER_TABLE_NAME``), it first claims the run's slot (:func:`.ledger.start_run`:
a duplicate delivery or a slot skipped under ``overlap="skip"`` sends
nothing), carries the run's ledger key in every message, and records the
count it sent when done, or its error when it failed.

Bundled handler string: ``scheduled_tasks_constructs.runtime.producer.handler``.
"""

from __future__ import annotations

import logging
from typing import Any

from . import QUEUE_URL, _aws, ledger
from .events import MalformedEventError, parse_schedule_input
from .fanout import send_tasks

logger = logging.getLogger(__name__)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point: send the run's tasks to ``QUEUE_URL``.

    Parameters
    ----------
    event : Any
        The Scheduler target input; ``event["tasks"]`` must be a list.
    context : Any
        The Lambda context; its ``aws_request_id`` is the execution id when
        the event has none. ``None`` is accepted.

    Returns
    -------
    dict
        ``{"execution_id": <str>, "sent": <int>, "requests": <int>}``, with
        ``"run_id"`` and ``"outcome"`` (see :class:`.ledger.RunStart`) when
        there is a ledger; a delivery that does no work sends 0.

    Raises
    ------
    MalformedEventError
        If the event is not a JSON object or ``tasks`` is missing or not a
        list.
    RuntimeError
        If ``QUEUE_URL`` is not set.
    TaskTooLargeError, TypeError, ValueError
        If a task is invalid; nothing is sent.
    EnqueueError
        If some tasks could not be sent; the Scheduler then retries the run
        with the same execution id, so task ids stay the same.

    Notes
    -----
    The SQS client is created once per container. Only the execution id and
    counts are logged, never the tasks.
    """
    queue_url = _aws.required_env(QUEUE_URL)
    request_id = _aws.request_id_of(context)
    run = parse_schedule_input(event, fallback_id=request_id)
    tasks = event.get("tasks") if isinstance(event, dict) else None
    if not isinstance(tasks, list):
        raise MalformedEventError(f"event field 'tasks' must be a list, got {type(tasks).__name__}")
    # The entries are built and checked by build_messages; botocore's own
    # validation of them would only add CPU to every call.
    sqs = _aws.client("sqs", parameter_validation=False)
    config = ledger.LedgerConfig.from_env()
    if config is None:
        report = send_tasks(queue_url, tasks, run=run, client=sqs)
        _log(run.execution_id, report)
        return {"execution_id": run.execution_id, "sent": report.sent, "requests": report.requests}
    dynamodb = _aws.client("dynamodb")
    start = ledger.start_run(dynamodb, config, run, request_id=request_id)
    if not start.should_work:
        logger.info("run %s: %s delivery, nothing sent (status %s)", start.run_id, start.outcome, start.item.get("status"))
        return {"execution_id": run.execution_id, "run_id": start.run_id, "outcome": start.outcome, "sent": 0, "requests": 0}
    try:
        report = send_tasks(queue_url, tasks, run=run, client=sqs, run_id=start.run_id)
    except Exception as exc:
        failed = ledger.fail_sending(dynamodb, config, start.run_id, exc, attempts=int(start.item.get("attempts", 1)))
        if failed is not None:
            ledger.post_summary(failed)
        raise
    _log(run.execution_id, report)
    finished = ledger.finish_sending(dynamodb, config, start.run_id, sent=report.sent)
    if finished is not None:
        ledger.post_summary(finished)
    return {
        "execution_id": run.execution_id,
        "run_id": start.run_id,
        "outcome": start.outcome,
        "sent": report.sent,
        "requests": report.requests,
    }


def _log(execution_id: str, report: Any) -> None:
    logger.info(
        "run %s: sent %d tasks in %d requests (%d entries retried)",
        execution_id,
        report.sent,
        report.requests,
        report.retried_entries,
    )


__all__ = ["handler"]
