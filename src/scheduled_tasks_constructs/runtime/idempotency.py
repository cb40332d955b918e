"""Run each task at most once to completion, with a lease in a DynamoDB table.

SQS delivers a message at least once, and a retried run sends its tasks
again with the same ids. :func:`claim` takes a *lease* on a task id: a
conditional ``PutItem`` writes one item keyed by the task id with
``status = IN_PROGRESS``, a random ``lease_token`` and
``expires_in_progress_at``, the time the lease ends. The write succeeds
when there is no item for the id, or when its lease has run out (the
worker that held it died or timed out); otherwise :func:`claim` returns
``None``. After the work succeeded, :meth:`Lease.complete` sets
``status = COMPLETED`` (while the lease token is still the one written);
a completed task is never claimed again. When the work fails,
:meth:`Lease.release` deletes the in-progress item so that the retry can
run the task at once.

States of a task id:

========================  ==================================================
no item                   :func:`claim` succeeds.
``IN_PROGRESS``, live     :func:`claim` returns ``None`` (the holder is
                          still running it; the redelivery is skipped).
``IN_PROGRESS``, expired  :func:`claim` succeeds (a new token; the old
                          holder can no longer complete or release).
``COMPLETED``             :func:`claim` returns ``None`` for good. An item
                          without ``status`` (written before leases) counts
                          as completed.
========================  ==================================================

The lease lasts the remaining time of the Lambda invocation
(``context.get_remaining_time_in_millis()``) when a context is given, else
``lease_seconds``, else :data:`DEFAULT_LEASE_SECONDS`. These semantics
follow the Powertools for AWS Lambda idempotency utility, on the standard
library and boto3 only.

When the write **is** the effect (the task records something in the
table), call :func:`claim` and then :meth:`Lease.complete` at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import _aws

DEFAULT_KEY = "task_id"
"""Default partition key name (type ``S``) of the table."""

DEFAULT_LEASE_SECONDS = 900
"""Lease length when neither a context nor ``lease_seconds`` is given: the
longest Lambda timeout, so a lease outlives any invocation holding it."""

IN_PROGRESS = "IN_PROGRESS"
"""``status`` of a task whose lease is held (or has run out)."""

COMPLETED = "COMPLETED"
"""``status`` of a task that ran to completion."""

_RESERVED = (
    "claimed_at",
    "expires_at",
    "status",
    "lease_token",
    "expires_in_progress_at",
    "completed_at",
)


class LeaseLostError(RuntimeError):
    """The lease ran out and another worker took it, or the item is gone.

    The message names the task id, nothing else.

    Examples
    --------
    >>> str(LeaseLostError("the lease on task e-1/a is no longer held"))
    'the lease on task e-1/a is no longer held'
    """


@dataclass(frozen=True)
class Lease:
    """A held lease on one task id, returned by :func:`claim`.

    Parameters
    ----------
    table_name : str
        The table the lease is in.
    task_id : str
        The task's id.
    token : str
        Random token written with the lease; only its holder can complete
        or release it.
    expires_at : datetime
        When the lease runs out (UTC).
    client : Any
        The boto3 DynamoDB client used for the claim.
    key : str
        Name of the partition key.
    ttl_seconds : int or None
        The claim's ``ttl_seconds``; :meth:`complete` renews ``expires_at``
        with it.

    Examples
    --------
    >>> lease = claim("applied-tasks", task.task_id, client=ddb)  # doctest: +SKIP
    >>> if lease:  # doctest: +SKIP
    ...     try:
    ...         do_the_work(task)
    ...     except Exception:
    ...         lease.release()
    ...         raise
    ...     lease.complete()
    """

    table_name: str
    task_id: str
    token: str
    expires_at: datetime
    client: Any = field(repr=False, compare=False)
    key: str = DEFAULT_KEY
    ttl_seconds: int | None = None

    def complete(self, *, now: datetime | None = None) -> None:
        """Mark the task completed, so that no later delivery runs it.

        Parameters
        ----------
        now : datetime or None, optional
            Timezone-aware time of completion. Default: the current time.

        Raises
        ------
        LeaseLostError
            If the item no longer holds this lease's token (the lease ran out
            and another worker claimed the task, or the item was deleted).
        botocore.exceptions.ClientError
            For any other DynamoDB error.
        """
        moment = _aws.utc(now)
        names = {"#pk": self.key, "#status": "status", "#token": "lease_token"}
        values: dict[str, dict[str, str]] = {
            ":completed": {"S": COMPLETED},
            ":in_progress": {"S": IN_PROGRESS},
            ":token": {"S": self.token},
            ":at": {"S": _aws.iso(moment)},
        }
        update = "SET #status = :completed, completed_at = :at REMOVE expires_in_progress_at"
        if self.ttl_seconds is not None:
            update = (
                "SET #status = :completed, completed_at = :at, expires_at = :ttl"
                " REMOVE expires_in_progress_at"
            )
            values[":ttl"] = {"N": str(int(moment.timestamp()) + self.ttl_seconds)}
        from botocore.exceptions import ClientError

        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={self.key: {"S": self.task_id}},
                UpdateExpression=update,
                ConditionExpression=(
                    "attribute_exists(#pk) AND #status = :in_progress AND #token = :token"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _aws.error_code(exc) == "ConditionalCheckFailedException":
                raise LeaseLostError(
                    f"the lease on task {self.task_id} is no longer held"
                ) from None
            raise

    def release(self) -> bool:
        """Delete the in-progress item, so that a retry can run the task at once.

        Returns
        -------
        bool
            ``True`` if the item was deleted; ``False`` if this lease no longer
            held it (nothing is changed then).
        """
        return release(
            self.table_name, self.task_id, client=self.client, key=self.key, token=self.token
        )

    def __bool__(self) -> bool:
        return True


def claim(
    table_name: str,
    task_id: str,
    *,
    client: Any,
    key: str = DEFAULT_KEY,
    ttl_seconds: int | None = None,
    attributes: dict[str, str] | None = None,
    now: datetime | None = None,
    context: Any = None,
    lease_seconds: float | None = None,
) -> Lease | None:
    """Take the lease on ``task_id`` unless it is held or the task is completed.

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
        this many seconds from ``now`` (renewed by :meth:`Lease.complete`),
        for the table's TTL; keep it longer than the queue's retention
        period. Default: no expiry.
    attributes : dict of str to str, optional
        Extra string attributes to store on the item. Default: none.
    now : datetime or None, optional
        Timezone-aware time of the claim. Default: the current time.
    context : Any, optional
        The Lambda context; the lease lasts its
        ``get_remaining_time_in_millis()``. Default: none (see
        ``lease_seconds``).
    lease_seconds : float or None, optional
        Length of the lease when no ``context`` is given. Default:
        :data:`DEFAULT_LEASE_SECONDS`.

    Returns
    -------
    Lease or None
        The lease (always true) if this call took it; ``None`` if the task is
        completed or another worker's lease on it has not run out (a
        duplicate delivery, to skip).

    Raises
    ------
    ValueError
        If ``task_id`` is empty, ``ttl_seconds`` is not a positive integer,
        ``lease_seconds`` is not positive, both ``context`` and
        ``lease_seconds`` are given, ``now`` is naive, or ``attributes`` uses
        a reserved name.
    botocore.exceptions.ClientError
        For any DynamoDB error other than the condition failing.

    Examples
    --------
    >>> import boto3  # doctest: +SKIP
    >>> ddb = boto3.client("dynamodb")  # doctest: +SKIP
    >>> lease = claim("applied-tasks", "e-1/daily-report", client=ddb)  # doctest: +SKIP
    >>> lease.complete()  # doctest: +SKIP
    >>> claim("applied-tasks", "e-1/daily-report", client=ddb) is None  # doctest: +SKIP
    True
    """
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("task_id must be a non-empty string")
    if ttl_seconds is not None and (
        isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1
    ):
        raise ValueError(f"ttl_seconds must be a positive integer, got {ttl_seconds!r}")
    if lease_seconds is not None and (
        isinstance(lease_seconds, bool)
        or not isinstance(lease_seconds, int | float)
        or not lease_seconds > 0
    ):
        raise ValueError(f"lease_seconds must be a positive number, got {lease_seconds!r}")
    if context is not None and lease_seconds is not None:
        raise ValueError("give context or lease_seconds, not both")
    moment = _aws.utc(now)
    if context is not None:
        lease_ms = max(0, int(context.get_remaining_time_in_millis()))
    elif lease_seconds is not None:
        lease_ms = int(lease_seconds * 1000)
    else:
        lease_ms = DEFAULT_LEASE_SECONDS * 1000
    now_ms = int(moment.timestamp() * 1000)
    token = uuid.uuid4().hex

    item: dict[str, dict[str, str]] = {}
    for name, value in (attributes or {}).items():
        if name == key or name in _RESERVED:
            raise ValueError(f"attributes must not set the reserved attribute {name!r}")
        item[name] = {"S": str(value)}
    item[key] = {"S": task_id}
    item["claimed_at"] = {"S": _aws.iso(moment)}
    item["status"] = {"S": IN_PROGRESS}
    item["lease_token"] = {"S": token}
    item["expires_in_progress_at"] = {"N": str(now_ms + lease_ms)}
    if ttl_seconds is not None:
        item["expires_at"] = {"N": str(int(moment.timestamp()) + ttl_seconds)}

    from botocore.exceptions import ClientError

    try:
        client.put_item(
            TableName=table_name,
            Item=item,
            ConditionExpression=(
                "attribute_not_exists(#pk)"
                " OR (#status = :in_progress AND #lease_end < :now)"
            ),
            ExpressionAttributeNames={
                "#pk": key,
                "#status": "status",
                "#lease_end": "expires_in_progress_at",
            },
            ExpressionAttributeValues={
                ":in_progress": {"S": IN_PROGRESS},
                ":now": {"N": str(now_ms)},
            },
        )
    except ClientError as exc:
        if _aws.error_code(exc) == "ConditionalCheckFailedException":
            return None
        raise
    return Lease(
        table_name=table_name,
        task_id=task_id,
        token=token,
        expires_at=moment + timedelta(milliseconds=lease_ms),
        client=client,
        key=key,
        ttl_seconds=ttl_seconds,
    )


def release(
    table_name: str,
    task_id: str,
    *,
    client: Any,
    key: str = DEFAULT_KEY,
    token: str | None = None,
) -> bool:
    """Delete the in-progress item of ``task_id`` so that a retry can run the task.

    A completed task is never deleted.

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
    token : str or None, optional
        Delete only while the item holds this lease token
        (:attr:`Lease.token`; :meth:`Lease.release` passes it). Default: any
        in-progress item.

    Returns
    -------
    bool
        ``True`` if the item was deleted; ``False`` if there was no
        in-progress item (with ``token``: none holding that token).

    Examples
    --------
    >>> lease = claim(table, task.task_id, client=ddb)  # doctest: +SKIP
    >>> if lease:  # doctest: +SKIP
    ...     try:
    ...         do_the_work(task)
    ...     except Exception:
    ...         release(table, task.task_id, client=ddb, token=lease.token)
    ...         raise
    ...     lease.complete()
    """
    condition = "#status = :in_progress"
    names = {"#status": "status"}
    values = {":in_progress": {"S": IN_PROGRESS}}
    if token is not None:
        condition += " AND #token = :token"
        names["#token"] = "lease_token"
        values[":token"] = {"S": token}
    from botocore.exceptions import ClientError

    try:
        client.delete_item(
            TableName=table_name,
            Key={key: {"S": task_id}},
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if _aws.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True



__all__ = [
    "COMPLETED",
    "DEFAULT_KEY",
    "DEFAULT_LEASE_SECONDS",
    "IN_PROGRESS",
    "Lease",
    "LeaseLostError",
    "claim",
    "release",
]
