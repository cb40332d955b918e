"""Handler of ``ScheduledLambdaToTable``: one run-ledger item per scheduled run.

The item is the run ledger's (:mod:`.ledger`): its partition key ``run_id``
is ``"<schedule>#<slot>"``, which stays the same when the Scheduler retries or
delivers a run twice, and it is written, already ``succeeded``, with one
conditional ``PutItem``; so every run leaves exactly one item however often
it is delivered, and the watchdog and ``scheduled-tasks history`` read it
as they read a fan-out's runs.

Bundled handler string: ``scheduled_tasks_constructs.runtime.record_run.handler``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import ITEM_TTL_SECONDS, TABLE_NAME, _aws
from .events import parse_schedule_input
from .ledger import SUCCEEDED, publish_run_metrics, run_id_of, schedule_of, slot_of

logger = logging.getLogger(__name__)

PARTITION_KEY = "run_id"
"""Name of the table's partition key (type ``S``)."""


@dataclass
class RecordResult:
    """What :func:`record_run` wrote.

    Parameters
    ----------
    item : dict
        The item this delivery wrote, or tried to write when it was a
        duplicate, as plain Python values (``str`` and ``int``), not DynamoDB
        attribute values.
    created : bool
        ``True`` if this call created the item; ``False`` if an item for the
        same run already existed (a retry or a duplicate delivery), in which
        case nothing was written.

    Examples
    --------
    >>> RecordResult(item={"run_id": "default/nightly#2026-11-22T10:00:00Z"}, created=True).created
    True
    """

    item: dict[str, Any]
    created: bool



def _check_ttl(ttl_seconds: int | None) -> None:
    if ttl_seconds is None:
        return
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise ValueError(
            f"ttl_seconds must be a positive integer, got {type(ttl_seconds).__name__}"
        )
    if ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be a positive integer, got {ttl_seconds}")


def _to_attribute_values(item: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        key: {"N": str(value)} if isinstance(value, int) else {"S": value}
        for key, value in item.items()
    }


def record_run(
    *,
    table_name: str,
    event: Any,
    request_id: str,
    client: Any,
    now: datetime | None = None,
    ttl_seconds: int | None = None,
) -> RecordResult:
    """Write one item for the scheduled run described by ``event``.

    Parameters
    ----------
    table_name : str
        DynamoDB table whose partition key is ``run_id`` (type ``S``): the
        run ledger.
    event : Any
        The Scheduler target input (see :mod:`.events`).
    request_id : str
        The Lambda request id. It is stored on the item, and is the run id
        when the event carries no execution id (a manual invocation).
    client : Any
        A boto3 DynamoDB client.
    now : datetime or None, optional
        Timezone-aware time of recording. Default: the current time.
    ttl_seconds : int or None, optional
        When set, the item gets ``expires_at`` (type ``N``), ``now`` plus this
        many seconds in epoch seconds, for the table's TTL. Default: no
        ``expires_at``; the item is kept.

    Returns
    -------
    RecordResult
        The item and whether this call created it.

    Raises
    ------
    MalformedEventError
        If the event has the wrong shape.
    ValueError
        If ``now`` is naive or ``ttl_seconds`` is not a positive integer.
    botocore.exceptions.ClientError
        For any DynamoDB error other than the item already existing.

    Notes
    -----
    The item holds the run ledger's ``run_id`` (``"<schedule>#<slot>"``),
    ``schedule``, ``slot``, ``status`` (``succeeded``), ``execution_id``,
    ``attempts`` (1), ``started_at`` and ``finished_at`` (ISO-8601 UTC, both
    the time of recording), and ``request_id``; when known,
    ``schedule_arn``, ``attempt_number`` (the Scheduler's, type ``N``) and
    ``expires_at``. It is written with
    ``ConditionExpression=attribute_not_exists(run_id)``: a second delivery
    of the same slot (the Scheduler retrying, or delivering twice) writes
    nothing and returns ``created=False`` instead of raising.

    Examples
    --------
    >>> import boto3  # doctest: +SKIP
    >>> result = record_run(  # doctest: +SKIP
    ...     table_name="runs",
    ...     event={"execution_id": "e-1", "scheduled_time": "2026-11-22T10:00:00Z"},
    ...     request_id="req-1",
    ...     client=boto3.client("dynamodb"),
    ...     ttl_seconds=86_400,
    ... )
    >>> result.item["run_id"], result.created  # doctest: +SKIP
    ('manual#2026-11-22T10:00:00Z', True)
    """
    _check_ttl(ttl_seconds)
    moment = _aws.utc(now)
    run = parse_schedule_input(event, fallback_id=request_id)

    recorded = _aws.iso(moment)
    item: dict[str, Any] = {
        PARTITION_KEY: run_id_of(run),
        "schedule": schedule_of(run),
        "slot": slot_of(run),
        "status": SUCCEEDED,
        "execution_id": run.execution_id,
        "attempts": 1,
        "started_at": recorded,
        "finished_at": recorded,
        "request_id": request_id,
    }
    if run.schedule_arn is not None:
        item["schedule_arn"] = run.schedule_arn
    if run.attempt_number is not None:
        item["attempt_number"] = run.attempt_number
    if ttl_seconds is not None:
        item["expires_at"] = int(moment.timestamp()) + ttl_seconds

    from botocore.exceptions import ClientError

    try:
        client.put_item(
            TableName=table_name,
            Item=_to_attribute_values(item),
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
        )
    except ClientError as exc:
        if _aws.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return RecordResult(item=item, created=False)
    return RecordResult(item=item, created=True)


def _ttl_from_env() -> int | None:
    raw = os.environ.get(ITEM_TTL_SECONDS, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise RuntimeError(f"environment variable {ITEM_TTL_SECONDS} must be a positive integer")
    return int(raw)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point: record the scheduled run in ``TABLE_NAME``.

    Parameters
    ----------
    event : Any
        The Scheduler target input.
    context : Any
        The Lambda context; its ``aws_request_id`` is used. ``None`` is
        accepted (a random id is used instead).

    Returns
    -------
    dict
        ``{"run_id": <str>, "created": <bool>}``.

    Raises
    ------
    RuntimeError
        If ``TABLE_NAME`` is not set or ``ITEM_TTL_SECONDS`` is not a positive
        integer.

    Notes
    -----
    Environment: ``TABLE_NAME`` (required), ``ITEM_TTL_SECONDS`` (optional),
    ``RUN_METRICS`` (``"on"``: a recorded run publishes its run metrics).
    The DynamoDB client is created once per container. Only the run id and
    whether the item was created are logged.
    """
    table_name = _aws.required_env(TABLE_NAME)
    ttl_seconds = _ttl_from_env()
    result = record_run(
        table_name=table_name,
        event=event,
        request_id=_aws.request_id_of(context),
        client=_aws.client("dynamodb"),
        ttl_seconds=ttl_seconds,
    )
    run_id = result.item[PARTITION_KEY]
    if result.created:
        logger.info("recorded run %s", run_id)
        publish_run_metrics(result.item)
    else:
        logger.info("run %s was already recorded; duplicate delivery ignored", run_id)
    return {"run_id": run_id, "created": result.created}


__all__ = ["PARTITION_KEY", "RecordResult", "handler", "record_run"]
