"""Bundled "send tasks" handler of ``ScheduledTaskFanout`` (static tasks).

The schedule's input carries the tasks; the handler sends one SQS message per
task to ``QUEUE_URL`` with :func:`.fanout.send_tasks`.

Bundled handler string: ``scheduled_tasks_constructs.runtime.producer.handler``.
"""

from __future__ import annotations

import logging
from typing import Any

from . import QUEUE_URL, _aws
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
        ``{"execution_id": <str>, "sent": <int>, "requests": <int>}``.

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
    run = parse_schedule_input(event, fallback_id=_aws.request_id_of(context))
    tasks = event.get("tasks") if isinstance(event, dict) else None
    if not isinstance(tasks, list):
        raise MalformedEventError(f"event field 'tasks' must be a list, got {type(tasks).__name__}")
    # The entries are built and checked by build_messages; botocore's own
    # validation of them would only add CPU to every call.
    sqs = _aws.client("sqs", parameter_validation=False)
    report = send_tasks(queue_url, tasks, run=run, client=sqs)
    logger.info(
        "run %s: sent %d tasks in %d requests (%d entries retried)",
        run.execution_id,
        report.sent,
        report.requests,
        report.retried_entries,
    )
    return {"execution_id": run.execution_id, "sent": report.sent, "requests": report.requests}


__all__ = ["handler"]
