"""Handler of ``ScheduledLambdaToTable``: one DynamoDB item per scheduled run.

The item's partition key is the Scheduler execution id, which stays the same
when the Scheduler retries or delivers a run twice, and the item is written
with a conditional ``PutItem``; so every run leaves exactly one item however
often it is delivered.

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
    >>> RecordResult(item={"run_id": "e-1"}, created=True).created
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
        DynamoDB table whose partition key is ``run_id`` (type ``S``).
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
    The item holds ``run_id``, ``request_id``, ``recorded_at`` (ISO-8601 UTC)
    and, when known, ``execution_id``, ``scheduled_time``, ``schedule_arn``,
    ``attempt_number`` (type ``N``) and ``expires_at``. It is written with
    ``ConditionExpression=attribute_not_exists(run_id)``: a second delivery
    of the same run (the Scheduler retrying, or delivering twice) writes
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
    ('e-1', True)
    """
    _check_ttl(ttl_seconds)
    moment = _aws.utc(now)
    run = parse_schedule_input(event, fallback_id=request_id)

    item: dict[str, Any] = {PARTITION_KEY: run.execution_id, "request_id": request_id}
    if run.execution_id != request_id:
        item["execution_id"] = run.execution_id
    if run.scheduled_time is not None:
        item["scheduled_time"] = run.scheduled_time
    if run.schedule_arn is not None:
        item["schedule_arn"] = run.schedule_arn
    if run.attempt_number is not None:
        item["attempt_number"] = run.attempt_number
    item["recorded_at"] = _aws.iso(moment)
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
    Environment: ``TABLE_NAME`` (required), ``ITEM_TTL_SECONDS`` (optional).
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
    else:
        logger.info("run %s was already recorded; duplicate delivery ignored", run_id)
    return {"run_id": run_id, "created": result.created}


__all__ = ["PARTITION_KEY", "RecordResult", "handler", "record_run"]
