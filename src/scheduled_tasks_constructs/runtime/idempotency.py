"""Record, at most once, that a task was applied, in a DynamoDB table.

SQS delivers a message at least once, and a retried run sends its tasks
again with the same ids; :func:`claim` lets a worker apply each task's
effect once. It writes one item keyed by the task id with a conditional
``PutItem``: the first call for an id returns ``True``, every later call
``False``.

Two ways to use it:

* The write **is** the effect (the task records something in the table):
  call :func:`claim` last; when it returns ``False`` the task was already
  applied.
* The effect happens elsewhere: call :func:`claim` first, skip the work when
  it returns ``False``, and call :func:`release` if the work fails, so the
  retry can run it. If the function stops between the two (a timeout), the
  task stays claimed and is not run again; for effects that must survive
  that, use a lease-based tool such as Powertools' idempotency utility.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import _aws

DEFAULT_KEY = "task_id"
"""Default partition key name (type ``S``) of the table."""


def claim(
    table_name: str,
    task_id: str,
    *,
    client: Any,
    key: str = DEFAULT_KEY,
    ttl_seconds: int | None = None,
    attributes: dict[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    """Record ``task_id`` in the table unless it is there already.

    Parameters
    ----------
    table_name : str
        DynamoDB table whose partition key is ``key`` (type ``S``).
    task_id : str
        The task's id (:attr:`.worker.Task.task_id`).
    client : Any
        A boto3 DynamoDB client.
    key : str, optional
        Name of the partition key. Default: ``"task_id"``.
    ttl_seconds : int or None, optional
        When set, the item gets ``expires_at`` (type ``N``, epoch seconds)
        this many seconds from ``now``, for the table's TTL; keep it longer
        than the queue's retention period. Default: no expiry.
    attributes : dict of str to str, optional
        Extra string attributes to store on the item. Default: none.
    now : datetime or None, optional
        Timezone-aware time of the claim. Default: the current time.

    Returns
    -------
    bool
        ``True`` if this call recorded the task; ``False`` if it was recorded
        before (a duplicate delivery).

    Raises
    ------
    ValueError
        If ``task_id`` is empty, ``ttl_seconds`` is not a positive integer,
        ``now`` is naive, or ``attributes`` uses a reserved name.
    botocore.exceptions.ClientError
        For any DynamoDB error other than the item already existing.

    Examples
    --------
    >>> import boto3  # doctest: +SKIP
    >>> ddb = boto3.client("dynamodb")  # doctest: +SKIP
    >>> claim("applied-tasks", "e-1/daily-report", client=ddb)  # doctest: +SKIP
    True
    >>> claim("applied-tasks", "e-1/daily-report", client=ddb)  # doctest: +SKIP
    False
    """
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("task_id must be a non-empty string")
    if ttl_seconds is not None and (
        isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1
    ):
        raise ValueError(f"ttl_seconds must be a positive integer, got {ttl_seconds!r}")
    if now is None:
        moment = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime, got a naive datetime")
    else:
        moment = now.astimezone(UTC)

    item: dict[str, dict[str, str]] = {}
    for name, value in (attributes or {}).items():
        if name in (key, "claimed_at", "expires_at"):
            raise ValueError(f"attributes must not set the reserved attribute {name!r}")
        item[name] = {"S": str(value)}
    item[key] = {"S": task_id}
    item["claimed_at"] = {"S": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    if ttl_seconds is not None:
        item["expires_at"] = {"N": str(int(moment.timestamp()) + ttl_seconds)}

    from botocore.exceptions import ClientError

    try:
        client.put_item(
            TableName=table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": key},
        )
    except ClientError as exc:
        if _aws.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(table_name: str, task_id: str, *, client: Any, key: str = DEFAULT_KEY) -> None:
    """Remove the claim on ``task_id`` so that a retry can apply the task.

    Parameters
    ----------
    table_name : str
        The table passed to :func:`claim`.
    task_id : str
        The task's id.
    client : Any
        A boto3 DynamoDB client.
    key : str, optional
        Name of the partition key. Default: ``"task_id"``.

    Examples
    --------
    >>> if claim(table, task.task_id, client=ddb):  # doctest: +SKIP
    ...     try:
    ...         do_the_work(task)
    ...     except Exception:
    ...         release(table, task.task_id, client=ddb)
    ...         raise
    """
    client.delete_item(TableName=table_name, Key={key: {"S": task_id}})


__all__ = ["DEFAULT_KEY", "claim", "release"]
