"""The run ledger: one DynamoDB item per scheduled slot, updated atomically.

Every run of a schedule lands on the item keyed ``run_id = "<schedule>#<slot>"``:
``schedule`` is ``"<group>/<name>"`` (from the schedule's ARN in the target
input) and ``slot`` the Scheduler's ``scheduled_time`` (``"2026-12-02T09:00:00Z"``).
A Scheduler retry, a duplicate delivery and Lambda's own retries of the same
run carry the same slot, so they land on the same item. A run started by hand
(no schedule input) is ``"manual#manual-<request id>"``.

A run item holds:

``status``
    ``running``, then exactly once one of ``succeeded``, ``partially_failed``,
    ``failed``; or ``skipped`` (the previous run was still running).
``execution_id``, ``attempts``, ``started_at``, ``finished_at``
    The Scheduler's execution id, how many deliveries started work (an
    ``ADD``), and ISO-8601 UTC times.
``tasks_sent``, ``tasks_succeeded``, ``tasks_failed``, ``tasks_dead_lettered``
    A fan-out's counts: ``tasks_sent`` is set once, when the producer is done;
    the workers ``ADD`` one update per batch: deliveries that succeeded, that
    failed and will be retried, and that failed for the last time (the queue
    then moves them to its dead-letter queue).
``failures``
    The first dead-lettered tasks, ``{task_id, error}``: each batch adds up
    to :data:`MAX_FAILURES_KEPT` while the list holds fewer, so it keeps at
    least that many when as many were dead-lettered, and fewer than twice.

No update reads, modifies and writes: each is one ``UpdateItem`` with
``ADD`` or a condition. A run is finished when the producer is done and every
sent task has succeeded or been dead-lettered; the update that sees so
changes ``status`` on the condition that it is still ``running``, so exactly
one caller (the last worker, or the producer when the workers were faster)
finishes it and posts its summary.

Overlap: with ``overlap="skip"`` a run first takes the schedule's lock item
(``"<schedule>#lock"``) until it finishes or ``lock_seconds`` pass; a slot
that finds it held by another run is recorded as ``skipped`` and does no
work.

Counts are per delivery: exact when every task is delivered once or its
repeats are told apart (the producer's retries resend tasks with the same
ids, and a standard queue may deliver a message twice); use
:mod:`.idempotency` in the task function so that a repeat does no work.
A sharded run (:mod:`.sharding`) keeps them exact across a shard's failed
attempts: the attempt that fails records how many tasks it sent past its
checkpoint (``tasks_resent``, the deliveries the retry adds), and a run is
finished when ``tasks_sent + tasks_resent`` deliveries are accounted for.
Its plan is the map ``shards`` (``start``, ``stop``, ``sent``, ``resent``,
``done``, ``dispatched``, ``attempts`` and the live claim of each shard),
with ``shard_count``, ``shards_done`` and ``tasks_planned``.

Environment: ``LEDGER_TABLE_NAME`` (the table), ``MAX_ATTEMPTS`` (deliveries
of one run Lambda makes: a run is ``failed`` when the last one fails),
``MAX_RECEIVE_COUNT`` (the queue's redrive count, for the workers),
``OVERLAP`` and ``LOCK_SECONDS``, ``LEDGER_TTL_SECONDS``; ``RUN_METRICS``
(``"on"``: the call that finishes a run publishes its run metrics,
:func:`publish_run_metrics`).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import (
    LEDGER_TABLE_NAME,
    LEDGER_TTL_SECONDS,
    LOCK_SECONDS,
    MAX_ATTEMPTS,
    MAX_RECEIVE_COUNT,
    OVERLAP,
    RUN_METRICS,
    WEBHOOK_KIND,
    WEBHOOK_MESSAGE_MODES,
    WEBHOOK_MESSAGES,
    WEBHOOK_SECRET_ARN,
    _aws,
)
from .events import RunContext, parse_schedule_input

logger = logging.getLogger(__name__)

PARTITION_KEY = "run_id"
"""The ledger table's partition key (type ``S``)."""

RUNNING = "running"
"""Status: the run is working."""
SUCCEEDED = "succeeded"
"""Status: every task (or the run's code) succeeded."""
PARTIALLY_FAILED = "partially_failed"
"""Status: some tasks were dead-lettered, some succeeded."""
FAILED = "failed"
"""Status: the run's code failed on its last attempt, or every task was dead-lettered."""
SKIPPED = "skipped"
"""Status: the previous run was still running (``overlap="skip"``); no work was done."""

STATUSES = (RUNNING, SUCCEEDED, PARTIALLY_FAILED, FAILED, SKIPPED)
"""Every status a run item can have."""

FINAL_STATUSES = frozenset({SUCCEEDED, PARTIALLY_FAILED, FAILED, SKIPPED})
"""Statuses a run does not leave."""

OVERLAP_POLICIES = ("skip", "allow")
"""What a slot does while the previous run is still running."""

MAX_FAILURES_KEPT = 5
"""Dead-lettered tasks a run item lists under ``failures``."""

MANUAL_SCHEDULE = "manual"
"""The schedule of a run started without the Scheduler's input."""

LOCK_SUFFIX = "#lock"
"""The overlap lock's item is ``"<schedule>#lock"``."""

_MAX_ERROR_CHARS = 300


# --------------------------------------------------------------------------- keys


def schedule_of(run: RunContext) -> str:
    """``"<group>/<name>"`` of the schedule that started ``run``.

    Examples
    --------
    >>> schedule_of(RunContext("e-1", schedule_arn="arn:aws:scheduler:eu-west-1:1:schedule/default/nightly"))
    'default/nightly'
    >>> schedule_of(RunContext("req-1"))
    'manual'
    """
    arn = run.schedule_arn
    if not arn:
        return MANUAL_SCHEDULE
    resource = arn.split(":", 5)[-1]
    resource = resource.removeprefix("schedule/")
    return resource or MANUAL_SCHEDULE


def slot_of(run: RunContext) -> str:
    """The slot of ``run``: its scheduled time, or ``"manual-<execution id>"``.

    Examples
    --------
    >>> slot_of(RunContext("e-1", scheduled_time="2026-12-02T09:00:00Z"))
    '2026-12-02T09:00:00Z'
    >>> slot_of(RunContext("req-1"))
    'manual-req-1'
    """
    return run.scheduled_time or f"manual-{run.execution_id}"


def run_id_of(run: RunContext) -> str:
    """The ledger key of ``run``: ``"<schedule>#<slot>"``.

    Examples
    --------
    >>> run_id_of(RunContext("e-1", "2026-12-02T09:00:00Z", "arn:aws:scheduler:us-east-1:1:schedule/g/n"))
    'g/n#2026-12-02T09:00:00Z'
    """
    return f"{schedule_of(run)}#{slot_of(run)}"


def final_status(*, sent: int, succeeded: int, dead_lettered: int) -> str:
    """The status of a finished fan-out run from its counts.

    Examples
    --------
    >>> final_status(sent=3, succeeded=3, dead_lettered=0)
    'succeeded'
    >>> final_status(sent=3, succeeded=1, dead_lettered=2)
    'partially_failed'
    >>> final_status(sent=2, succeeded=0, dead_lettered=2)
    'failed'
    """
    if dead_lettered <= 0:
        return SUCCEEDED
    if succeeded <= 0:
        return FAILED
    return PARTIALLY_FAILED


def one_line_error(exc: BaseException) -> str:
    """``Type: message`` on one line, cut to a few hundred characters."""
    message = " ".join(str(exc).split())
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class LedgerConfig:
    """Where and how a function keeps the ledger (read from its environment).

    Parameters
    ----------
    table_name : str
        The ledger table.
    overlap : str
        ``"skip"`` or ``"allow"``.
    lock_seconds : int
        Longest a run holds the overlap lock, and how long a producer's claim
        on a run lasts before a retry may take it over.
    max_attempts : int
        Deliveries Lambda makes of one run; the last one failing fails the run.
    max_receive_count : int or None
        Receives of a task message before it is dead-lettered (``None``: the
        queue has no redrive policy, so nothing is dead-lettered).
    ttl_seconds : int or None
        Lifetime of a run item (``expires_at``), or ``None``.
    """

    table_name: str
    overlap: str = "skip"
    lock_seconds: int = 3600
    max_attempts: int = 3
    max_receive_count: int | None = None
    ttl_seconds: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LedgerConfig | None:
        """The configuration in ``environ`` (default: ``os.environ``); ``None`` without a table.

        Raises
        ------
        RuntimeError
            If a variable is set to something it cannot be.
        """
        env = os.environ if environ is None else environ
        table = env.get(LEDGER_TABLE_NAME, "").strip()
        if not table:
            return None
        overlap = env.get(OVERLAP, "").strip() or "skip"
        if overlap not in OVERLAP_POLICIES:
            raise RuntimeError(f"environment variable {OVERLAP} must be skip or allow, got {overlap!r}")
        return cls(
            table_name=table,
            overlap=overlap,
            lock_seconds=_env_int(env, LOCK_SECONDS, 3600, least=1),
            max_attempts=_env_int(env, MAX_ATTEMPTS, 3, least=1),
            max_receive_count=_env_int(env, MAX_RECEIVE_COUNT, None, least=1),
            ttl_seconds=_env_int(env, LEDGER_TTL_SECONDS, None, least=1),
        )


def _env_int(env: Mapping[str, str], name: str, default: Any, *, least: int) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < least:
        raise RuntimeError(f"environment variable {name} must be a whole number of at least {least}, got {raw!r}")
    return int(raw)


# --------------------------------------------------------------------------- starting a run


@dataclass(frozen=True)
class RunStart:
    """What :func:`start_run` found.

    Parameters
    ----------
    run_id : str
        The run's ledger key.
    outcome : str
        ``"started"`` (the first delivery), ``"retry"`` (a later delivery of
        a run that did not finish: do the work again), ``"duplicate"``
        (another delivery is doing the work, or the run has finished: do
        nothing) or ``"skipped"`` (the previous run still holds the lock: the
        slot is recorded as skipped; do nothing).
    item : dict
        The run item after the update, as plain values.
    """

    run_id: str
    outcome: str
    item: dict[str, Any] = field(default_factory=dict)

    @property
    def should_work(self) -> bool:
        """Whether this delivery does the run's work."""
        return self.outcome in ("started", "retry")


def _conditional_failed(exc: BaseException) -> bool:
    return _aws.error_code(exc) == "ConditionalCheckFailedException"


def _get(client: Any, table: str, run_id: str) -> dict[str, Any]:
    item = client.get_item(TableName=table, Key={PARTITION_KEY: {"S": run_id}}, ConsistentRead=True)
    return _aws.plain_item(item.get("Item", {}))


def _lock_clock(run: RunContext, now: datetime) -> datetime:
    """The time the overlap lock is taken and tested at: the run's slot, or ``now`` for a manual run.

    A run's lock lasts ``lock_seconds`` from its slot, so whether the next
    slot is skipped depends on the two slots, not on when Scheduler
    delivered them (a flexible window, a retry) or on the clock of the
    machine (a local run or a backfill over past or future slots).
    """
    if run.scheduled_time:
        try:
            slot = datetime.fromisoformat(run.scheduled_time.replace("Z", "+00:00"))
        except ValueError:
            return now
        if slot.tzinfo is not None:
            return slot
    return now


def _take_lock(client: Any, config: LedgerConfig, schedule: str, run_id: str, now: datetime) -> str | None:
    """Take the schedule's overlap lock for ``run_id``; the holder's run id when another run has it."""
    from botocore.exceptions import ClientError

    lock_id = schedule + LOCK_SUFFIX
    until = now + timedelta(seconds=config.lock_seconds)
    try:
        client.update_item(
            TableName=config.table_name,
            Key={PARTITION_KEY: {"S": lock_id}},
            UpdateExpression="SET holder = :me, lock_until = :until",
            ConditionExpression="attribute_not_exists(holder) OR holder = :me OR lock_until <= :now",
            ExpressionAttributeValues={
                ":me": {"S": run_id},
                ":until": {"S": _aws.iso(until)},
                ":now": {"S": _aws.iso(now)},
            },
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return str(_get(client, config.table_name, lock_id).get("holder", "another run"))
    return None


def release_lock(client: Any, table: str, run_id: str) -> bool:
    """Give up the overlap lock ``run_id`` holds; ``False`` if it holds none."""
    from botocore.exceptions import ClientError

    schedule = run_id.rsplit("#", 1)[0]
    try:
        client.delete_item(
            TableName=table,
            Key={PARTITION_KEY: {"S": schedule + LOCK_SUFFIX}},
            ConditionExpression="holder = :me",
            ExpressionAttributeValues={":me": {"S": run_id}},
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return False
    return True


def _expiry(config: LedgerConfig, now: datetime) -> dict[str, Any]:
    if config.ttl_seconds is None:
        return {}
    return {":exp": {"N": str(int(now.timestamp()) + config.ttl_seconds)}}


def start_run(
    client: Any,
    config: LedgerConfig,
    run: RunContext,
    *,
    request_id: str,
    now: datetime | None = None,
) -> RunStart:
    """Record that a delivery of ``run`` starts, and say whether it should do the work.

    Parameters
    ----------
    client : Any
        A boto3 DynamoDB client.
    config : LedgerConfig
        The ledger's table and policies.
    run : RunContext
        The run, from the Scheduler's input.
    request_id : str
        The Lambda request id: it holds the run's claim until it finishes
        or ``lock_seconds`` pass.
    now : datetime or None, optional
        The current time (default: now).

    Returns
    -------
    RunStart
        The outcome and the item.

    Notes
    -----
    One conditional ``UpdateItem`` claims the run: it succeeds when the
    item is new, or when the run is still ``running`` (or ``failed``: a
    later delivery of a failed slot, a Scheduler redelivery or a re-run,
    runs it again), its tasks are not all sent, and no other delivery holds
    a live claim. Otherwise the delivery is a duplicate. With
    ``overlap="skip"``, the schedule's lock is taken first; a duplicate of
    a slot that has finished gives it back at once.
    """
    from botocore.exceptions import ClientError

    moment = _aws.utc(now)
    schedule, slot, run_id = schedule_of(run), slot_of(run), run_id_of(run)
    table = config.table_name
    took_lock = False
    if config.overlap == "skip" and schedule != MANUAL_SCHEDULE:
        holder = _take_lock(client, config, schedule, run_id, _lock_clock(run, moment))
        if holder is not None:
            return _record_skip(client, config, run, holder, moment)
        took_lock = True
    values: dict[str, Any] = {
        ":schedule": {"S": schedule},
        ":slot": {"S": slot},
        ":execution": {"S": run.execution_id},
        ":now": {"S": _aws.iso(moment)},
        ":running": {"S": RUNNING},
        ":failed": {"S": FAILED},
        ":claim": {"S": _aws.iso(moment + timedelta(seconds=config.lock_seconds))},
        ":request": {"S": request_id},
        ":one": {"N": "1"},
        **_expiry(config, moment),
    }
    expression = (
        "SET #schedule = :schedule, slot = :slot, execution_id = if_not_exists(execution_id, :execution), "
        "started_at = if_not_exists(started_at, :now), #status = :running, "
        "claim_until = :claim, claimed_by = :request"
        + (", expires_at = :exp" if ":exp" in values else "")
        + " REMOVE #error ADD attempts :one"
    )
    try:
        response = client.update_item(
            TableName=table,
            Key={PARTITION_KEY: {"S": run_id}},
            UpdateExpression=expression,
            ConditionExpression=(
                "attribute_not_exists(#status) OR ((#status = :running OR #status = :failed) "
                "AND attribute_not_exists(sending_done) "
                "AND (attribute_not_exists(claim_until) OR claim_until < :now OR claimed_by = :request))"
            ),
            ExpressionAttributeNames={"#schedule": "schedule", "#status": "status", "#error": "error"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        existing = _get(client, table, run_id)
        if took_lock and existing.get("status") in FINAL_STATUSES:
            # A late duplicate of a finished slot re-took the lock above: give it back, or the
            # next slot would be skipped for a run that is over.
            release_lock(client, table, run_id)
        return RunStart(run_id, "duplicate", existing)
    item = _aws.plain_item(response.get("Attributes", {}))
    return RunStart(run_id, "started" if item.get("attempts") == 1 else "retry", item)


def _record_skip(client: Any, config: LedgerConfig, run: RunContext, holder: str, now: datetime) -> RunStart:
    from botocore.exceptions import ClientError

    run_id = run_id_of(run)
    values = {
        ":schedule": {"S": schedule_of(run)},
        ":slot": {"S": slot_of(run)},
        ":execution": {"S": run.execution_id},
        ":now": {"S": _aws.iso(now)},
        ":skipped": {"S": SKIPPED},
        ":holder": {"S": holder},
        ":one": {"N": "1"},
        **_expiry(config, now),
    }
    try:
        response = client.update_item(
            TableName=config.table_name,
            Key={PARTITION_KEY: {"S": run_id}},
            UpdateExpression=(
                "SET #schedule = :schedule, slot = :slot, execution_id = :execution, started_at = :now, "
                "finished_at = :now, #status = :skipped, skipped_because = :holder"
                + (", expires_at = :exp" if ":exp" in values else "")
                + " ADD attempts :one"
            ),
            ConditionExpression="attribute_not_exists(#status)",
            ExpressionAttributeNames={"#schedule": "schedule", "#status": "status"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return RunStart(run_id, "duplicate", _get(client, config.table_name, run_id))
    logger.warning("run %s skipped: %s is still running", run_id, holder)
    skipped = _aws.plain_item(response.get("Attributes", {}))
    publish_run_metrics(skipped)
    return RunStart(run_id, "skipped", skipped)


# --------------------------------------------------------------------------- finishing a run


_STATUS_METRICS = {
    SUCCEEDED: "RunSucceeded",
    PARTIALLY_FAILED: "RunPartiallyFailed",
    FAILED: "RunFailed",
    SKIPPED: "RunSkipped",
}
_TASK_METRICS = (
    ("tasks_sent", "TasksSent"),
    ("tasks_succeeded", "TasksSucceeded"),
    ("tasks_failed", "TasksFailed"),
    ("tasks_dead_lettered", "TasksDeadLettered"),
)


def run_metrics(item: Mapping[str, Any]) -> dict[str, tuple[float, str]]:
    """The run metrics of a finished run item: its status (1), its duration and, for a fan-out, its counts.

    Examples
    --------
    >>> run_metrics({"status": "succeeded", "started_at": "2026-12-01T09:00:00Z",
    ...              "finished_at": "2026-12-01T09:00:42Z", "tasks_sent": 3, "tasks_succeeded": 3})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'RunSucceeded': (1, 'Count'), 'RunDuration': (42.0, 'Seconds'), 'TasksSent': (3, 'Count'),
     'TasksSucceeded': (3, 'Count'), 'TasksFailed': (0, 'Count'), 'TasksDeadLettered': (0, 'Count')}
    """
    metrics: dict[str, tuple[float, str]] = {}
    name = _STATUS_METRICS.get(str(item.get("status")))
    if name is None:
        return metrics
    metrics[name] = (1, "Count")
    try:
        began = datetime.fromisoformat(str(item["started_at"]).replace("Z", "+00:00"))
        ended = datetime.fromisoformat(str(item["finished_at"]).replace("Z", "+00:00"))
        metrics["RunDuration"] = (max(0.0, (ended - began).total_seconds()), "Seconds")
    except (KeyError, ValueError):
        pass
    if "tasks_sent" in item:
        for field_name, metric in _TASK_METRICS:
            metrics[metric] = (int(item.get(field_name, 0)), "Count")
    return metrics


def publish_run_metrics(item: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> bool:
    """Publish the run metrics of a finished run when ``RUN_METRICS`` is ``"on"``; whether it did.

    The constructs set ``RUN_METRICS`` with ``dashboard=True`` only: each
    metric is a custom metric, billed for the hours it is published in.
    """
    env = os.environ if environ is None else environ
    if env.get(RUN_METRICS, "").strip().lower() != "on":
        return False
    metrics = run_metrics(item)
    if not metrics:
        return False
    from .metrics import emit

    emit(metrics, schedule=str(item.get("schedule") or MANUAL_SCHEDULE))
    return True


def _finish(
    client: Any,
    table: str,
    run_id: str,
    status: str,
    now: datetime,
    *,
    release: bool,
    error: str | None = None,
) -> dict[str, Any] | None:
    """Move a ``running`` run to ``status``; its item, or ``None`` if it was not running."""
    from botocore.exceptions import ClientError

    values = {":final": {"S": status}, ":now": {"S": _aws.iso(now)}, ":running": {"S": RUNNING}}
    names = {"#status": "status"}
    expression = "SET #status = :final, finished_at = :now"
    if error is not None:
        values[":error"] = {"S": error}
        names["#error"] = "error"
        expression += ", #error = :error"
    try:
        response = client.update_item(
            TableName=table,
            Key={PARTITION_KEY: {"S": run_id}},
            UpdateExpression=expression + " REMOVE claim_until, claimed_by",
            ConditionExpression="#status = :running",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return None
    if release:
        release_lock(client, table, run_id)
    finished = _aws.plain_item(response.get("Attributes", {}))
    publish_run_metrics(finished)
    return finished


def finish_run(
    client: Any,
    config: LedgerConfig,
    run_id: str,
    *,
    error: BaseException | None = None,
    attempts: int,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Record how a run without tasks (a ``ScheduledLambdaToTable`` run) ended.

    Parameters
    ----------
    client : Any
        A boto3 DynamoDB client.
    config : LedgerConfig
        The ledger.
    run_id : str
        The run.
    error : BaseException or None
        What the run's code raised, or ``None`` when it succeeded.
    attempts : int
        The run's deliveries so far (``RunStart.item["attempts"]``). A
        failure before the last delivery keeps the run ``running`` (Lambda
        retries it) with its ``error`` recorded and its claim given up.
    now : datetime or None, optional
        The current time.

    Returns
    -------
    dict or None
        The finished item, or ``None`` if this call did not finish the run.
    """
    moment = _aws.utc(now)
    if error is None:
        return _finish(client, config.table_name, run_id, SUCCEEDED, moment, release=config.overlap == "skip")
    text = one_line_error(error)
    if attempts >= config.max_attempts:
        return _finish(
            client, config.table_name, run_id, FAILED, moment, release=config.overlap == "skip", error=text
        )
    give_up_claim(client, config.table_name, run_id, error=text)
    return None


def give_up_claim(client: Any, table: str, run_id: str, *, error: str | None = None) -> None:
    """Let the next delivery of a run take it over at once (its work failed here)."""
    expression = "REMOVE claim_until, claimed_by"
    values: dict[str, Any] = {}
    if error is not None:
        expression = "SET #error = :error " + expression
        values[":error"] = {"S": error}
    kwargs: dict[str, Any] = {}
    if values:
        kwargs = {"ExpressionAttributeNames": {"#error": "error"}, "ExpressionAttributeValues": values}
    client.update_item(TableName=table, Key={PARTITION_KEY: {"S": run_id}}, UpdateExpression=expression, **kwargs)


def _finished_by_counts(
    client: Any, config: LedgerConfig, item: Mapping[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Finish a fan-out run whose counts say it is done; its item if this call finished it."""
    if item.get("status") != RUNNING or not item.get("sending_done"):
        return None
    sent = int(item.get("tasks_sent", 0)) + int(item.get("tasks_resent", 0))
    succeeded = int(item.get("tasks_succeeded", 0))
    dead = int(item.get("tasks_dead_lettered", 0))
    if succeeded + dead < sent:
        return None
    status = final_status(sent=sent, succeeded=succeeded, dead_lettered=dead)
    return _finish(
        client, config.table_name, str(item[PARTITION_KEY]), status, now, release=config.overlap == "skip"
    )


def finish_sending(
    client: Any, config: LedgerConfig, run_id: str, *, sent: int, now: datetime | None = None
) -> dict[str, Any] | None:
    """Record that the producer sent all ``sent`` tasks of a run.

    Returns
    -------
    dict or None
        The finished item when the workers had already worked every task off
        (or there were none), so that this call finished the run; else ``None``.
    """
    moment = _aws.utc(now)
    response = client.update_item(
        TableName=config.table_name,
        Key={PARTITION_KEY: {"S": run_id}},
        UpdateExpression="SET tasks_sent = :sent, sending_done = :true REMOVE claim_until, claimed_by",
        ExpressionAttributeValues={":sent": {"N": str(sent)}, ":true": {"BOOL": True}},
        ReturnValues="ALL_NEW",
    )
    return _finished_by_counts(client, config, _aws.plain_item(response["Attributes"]), moment)


def fail_sending(
    client: Any, config: LedgerConfig, run_id: str, error: BaseException, *, attempts: int, now: datetime | None = None
) -> dict[str, Any] | None:
    """Record that a producer delivery failed; the run fails when it was the last delivery.

    Returns
    -------
    dict or None
        The failed item when this was the last delivery, else ``None``.
    """
    return finish_run(client, config, run_id, error=error, attempts=attempts, now=now)


# --------------------------------------------------------------------------- shards


@dataclass(frozen=True)
class ShardState:
    """One shard of a sharded run, as its run item holds it (``shards.<index>``).

    Parameters
    ----------
    index : int
        The shard's number, from 0.
    start, stop : int
        The positions in the run of its tasks: ``start`` to ``stop - 1``.
    sent : int
        Leading tasks of the shard known to be sent (its checkpoint): a retry
        resumes at ``start + sent``.
    resent : int
        Tasks its failed attempts sent past their checkpoint (sent twice).
    done : bool
        Whether the shard has sent all its tasks and added them to
        ``tasks_sent``.
    dispatched : bool
        Whether the producer that planned the run has handed it on.
    attempts : int
        Invocations that claimed the shard.
    """

    index: int
    start: int
    stop: int
    sent: int = 0
    resent: int = 0
    done: bool = False
    dispatched: bool = False
    attempts: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any], index: int) -> ShardState:
        """The state of shard ``index`` in a run item (plain values)."""
        raw = (item.get("shards") or {}).get(str(index))
        if not isinstance(raw, Mapping):
            raise KeyError(f"run {item.get(PARTITION_KEY)} has no shard {index}")
        return cls(
            index=index,
            start=int(raw["start"]),
            stop=int(raw["stop"]),
            sent=int(raw.get("sent", 0)),
            resent=int(raw.get("resent", 0)),
            done=bool(raw.get("done", False)),
            dispatched=bool(raw.get("dispatched", False)),
            attempts=int(raw.get("attempts", 0)),
        )


def shards_of(item: Mapping[str, Any]) -> list[ShardState]:
    """Every shard of a sharded run item, in order (none for a run sent by one producer)."""
    return [ShardState.from_item(item, index) for index in range(int(item.get("shard_count", 0)))]


def plan_shards(
    client: Any, config: LedgerConfig, run_id: str, ranges: Sequence[tuple[int, int]], *, request_id: str
) -> list[ShardState]:
    """Record a run's shards (once: a retried planner gets the plan already recorded).

    Parameters
    ----------
    client : Any
        A boto3 DynamoDB client.
    config : LedgerConfig
        The ledger.
    run_id : str
        The run, claimed by ``request_id`` (:func:`start_run`).
    ranges : sequence of (int, int)
        ``(start, stop)`` of each shard, in order.
    request_id : str
        The planner's request id; the plan is written only while it holds
        the run's claim.

    Returns
    -------
    list of ShardState
        The shards as recorded: this plan, or the one an earlier delivery of
        the run recorded (the same, when the task count did not change).
    """
    plan = {
        str(index): {
            "M": {
                "start": {"N": str(start)},
                "stop": {"N": str(stop)},
                "sent": {"N": "0"},
                "resent": {"N": "0"},
                "done": {"BOOL": False},
                "dispatched": {"BOOL": False},
                "attempts": {"N": "0"},
            }
        }
        for index, (start, stop) in enumerate(ranges)
    }
    response = client.update_item(
        TableName=config.table_name,
        Key={PARTITION_KEY: {"S": run_id}},
        UpdateExpression=(
            "SET shards = if_not_exists(shards, :plan), shard_count = if_not_exists(shard_count, :count), "
            "tasks_planned = if_not_exists(tasks_planned, :planned)"
        ),
        ConditionExpression="claimed_by = :request",
        ExpressionAttributeValues={
            ":plan": {"M": plan},
            ":count": {"N": str(len(ranges))},
            ":planned": {"N": str(sum(stop - start for start, stop in ranges))},
            ":request": {"S": request_id},
        },
        ReturnValues="ALL_NEW",
    )
    return shards_of(_aws.plain_item(response["Attributes"]))


def mark_dispatched(client: Any, config: LedgerConfig, run_id: str, index: int) -> None:
    """Record that shard ``index`` was handed on (a retried planner does not hand it on again)."""
    client.update_item(
        TableName=config.table_name,
        Key={PARTITION_KEY: {"S": run_id}},
        UpdateExpression="SET shards.#k.dispatched = :true",
        ExpressionAttributeNames={"#k": str(index)},
        ExpressionAttributeValues={":true": {"BOOL": True}},
    )


@dataclass(frozen=True)
class ShardStart:
    """What :func:`claim_shard` found.

    Parameters
    ----------
    outcome : str
        ``"claimed"`` (this invocation sends the shard, from ``shard.sent``
        on), ``"done"`` (the shard was sent already) or ``"busy"`` (another
        invocation of the same shard holds a live claim).
    shard : ShardState
        The shard after the claim.
    item : dict
        The run item.
    """

    outcome: str
    shard: ShardState
    item: dict[str, Any] = field(default_factory=dict)


def claim_shard(
    client: Any,
    config: LedgerConfig,
    run_id: str,
    index: int,
    *,
    request_id: str,
    seconds: float,
    now: datetime | None = None,
) -> ShardStart:
    """Claim shard ``index`` of a run for ``seconds`` (the invocation's remaining time).

    One conditional ``UpdateItem``: it succeeds when the shard is not done
    and no other invocation holds a live claim on it, and counts an attempt.
    A shard whose invocation died (a timeout, out of memory) is claimed again
    once its claim runs out, which is when that invocation's time was up.
    """
    from botocore.exceptions import ClientError

    moment = _aws.utc(now)
    try:
        response = client.update_item(
            TableName=config.table_name,
            Key={PARTITION_KEY: {"S": run_id}},
            UpdateExpression=(
                "SET shards.#k.claimed_by = :request, shards.#k.claim_until = :until, "
                "shards.#k.attempts = shards.#k.attempts + :one"
            ),
            ConditionExpression=(
                "shards.#k.done = :false AND (attribute_not_exists(shards.#k.claim_until) "
                "OR shards.#k.claim_until < :now OR shards.#k.claimed_by = :request)"
            ),
            ExpressionAttributeNames={"#k": str(index)},
            ExpressionAttributeValues={
                ":request": {"S": request_id},
                ":until": {"S": _aws.iso(moment + timedelta(seconds=max(1.0, seconds)))},
                ":now": {"S": _aws.iso(moment)},
                ":one": {"N": "1"},
                ":false": {"BOOL": False},
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        item = _get(client, config.table_name, run_id)
        shard = ShardState.from_item(item, index)
        return ShardStart("done" if shard.done else "busy", shard, item)
    item = _aws.plain_item(response["Attributes"])
    return ShardStart("claimed", ShardState.from_item(item, index), item)


def _update_shard(
    client: Any, config: LedgerConfig, run_id: str, index: int, expression: str, values: dict[str, Any], **names: str
) -> bool:
    """One ``UpdateItem`` of shard ``index``, on the condition that ``:request`` holds its claim and it is not done.

    Returns ``False`` when the condition failed (the claim was lost, or the shard is done).
    """
    from botocore.exceptions import ClientError

    try:
        client.update_item(
            TableName=config.table_name,
            Key={PARTITION_KEY: {"S": run_id}},
            UpdateExpression=expression,
            ConditionExpression="shards.#k.claimed_by = :request AND shards.#k.done = :false",
            ExpressionAttributeNames={"#k": str(index), **names},
            ExpressionAttributeValues={**values, ":false": {"BOOL": False}},
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return False
    return True


def checkpoint_shard(
    client: Any, config: LedgerConfig, run_id: str, index: int, *, sent: int, request_id: str
) -> bool:
    """Record that the first ``sent`` tasks of a shard are on the queue; ``False`` if the claim was lost."""
    return _update_shard(
        client, config, run_id, index, "SET shards.#k.sent = :sent",
        {":sent": {"N": str(sent)}, ":request": {"S": request_id}},
    )


def complete_shard(
    client: Any,
    config: LedgerConfig,
    run_id: str,
    index: int,
    *,
    sent: int,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Record that a shard sent all its ``sent`` tasks; finish the run's sending when it was the last.

    The update that marks the shard done also ``ADD``s ``sent`` to the run's
    ``tasks_sent`` and 1 to ``shards_done``, on the condition that the shard
    was not done: a shard is counted once however often it is delivered.
    The call that sees every shard done records that sending is over (as
    :func:`finish_sending` does for one producer), which finishes the run
    when the workers are already through.

    Returns
    -------
    dict or None
        The finished item when this call finished the run, else ``None``.
    """
    from botocore.exceptions import ClientError

    moment = _aws.utc(now)
    try:
        response = client.update_item(
            TableName=config.table_name,
            Key={PARTITION_KEY: {"S": run_id}},
            UpdateExpression=(
                "SET shards.#k.done = :true, shards.#k.sent = :sent "
                "REMOVE shards.#k.claimed_by, shards.#k.claim_until "
                "ADD tasks_sent :sent, shards_done :one"
            ),
            ConditionExpression="shards.#k.done = :false",
            ExpressionAttributeNames={"#k": str(index)},
            ExpressionAttributeValues={
                ":true": {"BOOL": True},
                ":false": {"BOOL": False},
                ":sent": {"N": str(sent)},
                ":one": {"N": "1"},
            },
            ReturnValues="ALL_NEW",
        )
        item = _aws.plain_item(response["Attributes"])
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        item = _get(client, config.table_name, run_id)
    return finish_sharded_sending(client, config, item, now=moment)


def finish_sharded_sending(
    client: Any, config: LedgerConfig, item: Mapping[str, Any], *, now: datetime | None = None
) -> dict[str, Any] | None:
    """When every shard of a run item is done, record that sending is over (once); the finished item if the run finished."""
    from botocore.exceptions import ClientError

    count = int(item.get("shard_count", 0))
    if count == 0 or int(item.get("shards_done", 0)) < count or item.get("sending_done"):
        return None
    moment = _aws.utc(now)
    try:
        response = client.update_item(
            TableName=config.table_name,
            Key={PARTITION_KEY: {"S": str(item[PARTITION_KEY])}},
            UpdateExpression="SET sending_done = :true REMOVE claim_until, claimed_by",
            ConditionExpression="shards_done >= shard_count AND attribute_not_exists(sending_done)",
            ExpressionAttributeValues={":true": {"BOOL": True}},
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
        return None
    return _finished_by_counts(client, config, _aws.plain_item(response["Attributes"]), moment)


def fail_shard(
    client: Any,
    config: LedgerConfig,
    run_id: str,
    index: int,
    error: BaseException,
    *,
    sent: int,
    resent: int,
    attempts: int,
    request_id: str,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Record that an attempt at a shard failed: its checkpoint, its extra sends, and its claim given up.

    Before the last of ``config.max_attempts`` the claim is given up, so that
    Lambda's retry of the shard takes it over at once. On the last, the run is
    ``failed`` (its tasks cannot all be sent); the other shards go on, and
    their tasks are still worked.

    Parameters
    ----------
    sent : int
        Leading tasks of the shard all sent (the checkpoint the retry
        resumes at).
    resent : int
        Tasks this attempt sent after that checkpoint: the retry sends them
        again, so they are added to the run's ``tasks_resent``.
    attempts : int
        The shard's attempts so far, this one included.

    Returns
    -------
    dict or None
        The failed item when this call failed the run, else ``None``.
    """
    text = one_line_error(error)
    _update_shard(
        client, config, run_id, index,
        "SET shards.#k.#error = :error, shards.#k.sent = :sent, shards.#k.resent = shards.#k.resent + :resent "
        "REMOVE shards.#k.claimed_by, shards.#k.claim_until ADD tasks_resent :resent",
        {":error": {"S": text}, ":request": {"S": request_id}, ":sent": {"N": str(sent)}, ":resent": {"N": str(resent)}},
        **{"#error": "error"},
    )
    if attempts >= config.max_attempts:
        return _finish(
            client, config.table_name, run_id, FAILED, _aws.utc(now), release=config.overlap == "skip", error=text
        )
    return None


def yield_shard(client: Any, config: LedgerConfig, run_id: str, index: int, *, sent: int, request_id: str) -> bool:
    """Record a shard's checkpoint and give up its claim: it goes on in a new invocation.

    The shard's attempts start again from 0 there: the new invocation is not
    a retry, and it has Lambda's retries of its own. ``False`` if the claim
    was lost.
    """
    return _update_shard(
        client, config, run_id, index,
        "SET shards.#k.sent = :sent, shards.#k.attempts = :zero REMOVE shards.#k.claimed_by, shards.#k.claim_until",
        {":sent": {"N": str(sent)}, ":zero": {"N": "0"}, ":request": {"S": request_id}},
    )


# --------------------------------------------------------------------------- workers


@dataclass
class BatchCounts:
    """One worker batch's outcomes for one run.

    Parameters
    ----------
    succeeded : int
        Deliveries whose task succeeded.
    failed : int
        Deliveries that failed and will be delivered again.
    dead_lettered : int
        Deliveries that failed for the last time.
    failures : list of (str, str)
        ``(task_id, error)`` of the dead-lettered ones.
    """

    succeeded: int = 0
    failed: int = 0
    dead_lettered: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def record_batch(
    client: Any, config: LedgerConfig, counts: Mapping[str, BatchCounts], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Add one batch's outcomes to each run's counts, and finish the runs they complete.

    One ``UpdateItem`` per run in the batch (usually one): ``ADD`` the
    counts, append the dead-lettered tasks to ``failures`` while it has
    fewer than :data:`MAX_FAILURES_KEPT`, then, when the counts say the run is
    done, the conditional update that finishes it.

    Returns
    -------
    list of dict
        The items of the runs this call finished (for their summaries).
    """
    from botocore.exceptions import ClientError

    moment = _aws.utc(now)
    finished: list[dict[str, Any]] = []
    for run_id, batch in counts.items():
        values: dict[str, Any] = {
            ":s": {"N": str(batch.succeeded)},
            ":f": {"N": str(batch.failed)},
            ":d": {"N": str(batch.dead_lettered)},
        }
        add = "ADD tasks_succeeded :s, tasks_failed :f, tasks_dead_lettered :d"
        key = {PARTITION_KEY: {"S": run_id}}
        new_failures = [
            {"M": {"task_id": {"S": task_id}, "error": {"S": error}}}
            for task_id, error in batch.failures[:MAX_FAILURES_KEPT]
        ]
        response = None
        if new_failures:
            try:
                response = client.update_item(
                    TableName=config.table_name,
                    Key=key,
                    UpdateExpression="SET failures = list_append(if_not_exists(failures, :empty), :new) " + add,
                    ConditionExpression="attribute_exists(#status) AND (attribute_not_exists(failures) OR size(failures) < :cap)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        **values,
                        ":empty": {"L": []},
                        ":new": {"L": new_failures},
                        ":cap": {"N": str(MAX_FAILURES_KEPT)},
                    },
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        if response is None:
            try:
                response = client.update_item(
                    TableName=config.table_name,
                    Key=key,
                    UpdateExpression=add,
                    ConditionExpression="attribute_exists(#status)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
                logger.warning("run %s is not in the ledger; its tasks' outcomes are not counted", run_id)
                continue
        done = _finished_by_counts(client, config, _aws.plain_item(response["Attributes"]), moment)
        if done is not None:
            finished.append(done)
    return finished


def summary_text(item: Mapping[str, Any]) -> str:
    """The one message a finished run posts: slot, status, duration, counts, first failures.

    Examples
    --------
    >>> print(summary_text({"schedule": "default/nightly", "slot": "2026-12-02T02:00:00Z",
    ...     "status": "partially_failed", "started_at": "2026-12-02T02:00:01Z",
    ...     "finished_at": "2026-12-02T02:01:31Z", "tasks_sent": 3, "tasks_succeeded": 2,
    ...     "tasks_failed": 4, "tasks_dead_lettered": 1,
    ...     "failures": [{"task_id": "e-1/b", "error": "ValueError: no such customer"}]}))
    default/nightly 2026-12-02T02:00:00Z: partially_failed in 1 min 30 s
    tasks: 3 sent, 2 succeeded, 1 dead-lettered (4 failed attempts)
      e-1/b: ValueError: no such customer
    """
    lines = [f"{item.get('schedule', '?')} {item.get('slot', '?')}: {item.get('status', '?')}{_duration_text(item)}"]
    if "tasks_sent" in item:
        counts = (
            f"tasks: {int(item.get('tasks_sent', 0))} sent, {int(item.get('tasks_succeeded', 0))} succeeded, "
            f"{int(item.get('tasks_dead_lettered', 0))} dead-lettered"
        )
        retried = int(item.get("tasks_failed", 0))
        if retried:
            counts += f" ({retried} failed attempt{'s' if retried != 1 else ''})"
        lines.append(counts)
    for failure in item.get("failures", []) or []:
        lines.append(f"  {failure.get('task_id', '?')}: {failure.get('error', '?')}")
    if item.get("error"):
        lines.append(f"  error: {item['error']}")
    return "\n".join(lines)


def _duration_text(item: Mapping[str, Any]) -> str:
    try:
        start = datetime.fromisoformat(str(item["started_at"]))
        end = datetime.fromisoformat(str(item["finished_at"]))
    except (KeyError, ValueError):
        return ""
    seconds = (end - start).total_seconds()
    if seconds < 60:
        return f" in {seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f" in {minutes} min {rest} s"


def track_run(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Keep the run ledger around a scheduled function's handler of your own.

    The decorated ``handler(event, context)`` starts the run in the ledger
    named by ``LEDGER_TABLE_NAME`` (which ``ScheduledLambdaToTable`` sets on
    a function built from your code), calls ``fn`` only when this delivery
    should do the work (not for a duplicate delivery, nor a slot skipped
    under ``overlap="skip"``), and records how it ended: ``succeeded``, or
    its error (``failed`` on Lambda's last attempt, ``MAX_ATTEMPTS``; before
    that, the run stays ``running`` for the retry). Without
    ``LEDGER_TABLE_NAME`` it calls ``fn`` and nothing else.

    Returns
    -------
    callable
        The handler. A delivery that does no work returns
        ``{"run_id": ..., "outcome": "duplicate" | "skipped"}``.

    Examples
    --------
    >>> @track_run
    ... def handler(event, context):
    ...     return "refreshed"
    >>> handler({}, None)  # no LEDGER_TABLE_NAME here: fn alone
    'refreshed'
    """

    @functools.wraps(fn)
    def handler(event: Any, context: Any) -> Any:
        config = LedgerConfig.from_env()
        if config is None:
            return fn(event, context)
        request_id = _aws.request_id_of(context)
        run = parse_schedule_input(event, fallback_id=request_id)
        client = _aws.client("dynamodb")
        start = start_run(client, config, run, request_id=request_id)
        if not start.should_work:
            logger.info("run %s: %s delivery, not run", start.run_id, start.outcome)
            return {"run_id": start.run_id, "outcome": start.outcome}
        attempts = int(start.item.get("attempts", 1))
        try:
            result = fn(event, context)
        except Exception as exc:
            finish_run(client, config, start.run_id, error=exc, attempts=attempts)
            raise
        finish_run(client, config, start.run_id, error=None, attempts=attempts)
        return result

    return handler


def webhook_mode(environ: Mapping[str, str] | None = None) -> str:
    """What the webhook gets, from ``WEBHOOK_MESSAGES``: ``summary``, ``per_task`` or ``both``.

    Unset, it is ``per_task`` (what a worker posts without this library's
    constructs; the constructs set it).
    """
    env = os.environ if environ is None else environ
    mode = env.get(WEBHOOK_MESSAGES, "").strip() or "per_task"
    if mode not in WEBHOOK_MESSAGE_MODES:
        raise RuntimeError(
            f"environment variable {WEBHOOK_MESSAGES} must be one of {', '.join(WEBHOOK_MESSAGE_MODES)}, got {mode!r}"
        )
    return mode


def post_summary(item: Mapping[str, Any]) -> bool:
    """Post a finished run's :func:`summary_text` to the webhook, when the function has one.

    It posts when ``WEBHOOK_SECRET_ARN`` is set and ``WEBHOOK_MESSAGES`` is
    ``summary`` or ``both``. A post that fails is logged (never the URL) and
    not raised: the run has finished whatever the chat says.

    Returns
    -------
    bool
        Whether a summary was posted.
    """
    secret_id = os.environ.get(WEBHOOK_SECRET_ARN, "").strip()
    if not secret_id or webhook_mode() not in ("summary", "both"):
        return False
    from .webhook import WebhookError, _post_to_secret_url, _shared_url_cache

    kind = os.environ.get(WEBHOOK_KIND, "").strip() or None
    try:
        _post_to_secret_url(_shared_url_cache(), secret_id, summary_text(item), kind=kind)
    except (WebhookError, OSError) as exc:
        logger.error("the summary of run %s was not posted: %s", item.get(PARTITION_KEY), exc)
        return False
    return True




def counts_for(records: Sequence[tuple[str | None, str, bool, int, str | None]], max_receive_count: int | None) -> dict[str, BatchCounts]:
    """Group one batch's outcomes by run.

    Parameters
    ----------
    records : sequence of (run_id, task_id, succeeded, receive_count, error)
        One entry per delivered task message; ``run_id`` ``None`` (a message
        from a producer without a ledger) is left out.
    max_receive_count : int or None
        The queue's redrive count: a failure at that receive is final.

    Returns
    -------
    dict
        ``{run_id: BatchCounts}``.

    Examples
    --------
    >>> counts = counts_for([("r", "t1", True, 1, None), ("r", "t2", False, 3, "E: x"),
    ...     ("r", "t3", False, 1, "E: y"), (None, "t4", True, 1, None)], 3)
    >>> c = counts["r"]; (c.succeeded, c.failed, c.dead_lettered, c.failures)
    (1, 1, 1, [('t2', 'E: x')])
    """
    grouped: dict[str, BatchCounts] = {}
    for run_id, task_id, succeeded, receive_count, error in records:
        if run_id is None:
            continue
        batch = grouped.setdefault(run_id, BatchCounts())
        if succeeded:
            batch.succeeded += 1
        elif max_receive_count is not None and receive_count >= max_receive_count:
            batch.dead_lettered += 1
            batch.failures.append((task_id, error or "failed"))
        else:
            batch.failed += 1
    return grouped


__all__ = [
    "FAILED",
    "FINAL_STATUSES",
    "MAX_FAILURES_KEPT",
    "OVERLAP_POLICIES",
    "PARTIALLY_FAILED",
    "PARTITION_KEY",
    "RUNNING",
    "SKIPPED",
    "STATUSES",
    "SUCCEEDED",
    "BatchCounts",
    "LedgerConfig",
    "RunStart",
    "ShardStart",
    "ShardState",
    "checkpoint_shard",
    "claim_shard",
    "complete_shard",
    "fail_shard",
    "finish_sharded_sending",
    "mark_dispatched",
    "plan_shards",
    "shards_of",
    "yield_shard",
    "counts_for",
    "fail_sending",
    "final_status",
    "finish_run",
    "finish_sending",
    "give_up_claim",
    "post_summary",
    "publish_run_metrics",
    "record_batch",
    "release_lock",
    "run_id_of",
    "run_metrics",
    "schedule_of",
    "slot_of",
    "start_run",
    "summary_text",
    "track_run",
    "webhook_mode",
]
