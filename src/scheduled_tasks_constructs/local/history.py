"""Read a run ledger table back and show its history.

The run ledger holds one item per scheduled run, keyed by ``run_id``
(``"<schedule>#<slot>"``): its status, attempts, start and finish times and,
for a fan-out, how many tasks were sent, succeeded, failed and were
dead-lettered, with the failures. The same table holds items that are not
runs (``"<schedule>#watchdog"``, ``"<schedule>#lock"``); they have no
``slot`` and are ignored here.

Nothing here imports ``aws_cdk`` or ``boto3``: :func:`read_runs` is given a
DynamoDB client (``boto3.client("dynamodb", ...)``) and uses its low-level
``scan``; the formatting functions are pure.

Functions
---------
read_runs
    The runs of a ledger table, newest first.
format_history
    A fixed-width table of runs, with their failures.
format_chart
    A terminal bar chart of run durations, oldest first.
rows_as_json
    Runs as JSON-ready dictionaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["RunRow", "format_chart", "format_history", "read_runs", "rows_as_json"]

NO_RUNS = "no runs recorded yet"
"""What :func:`format_history` and :func:`format_chart` print for no runs."""

BAR_CHARACTERS = {
    "succeeded": "#",
    "failed": "!",
    "partially_failed": "!",
    "running": "~",
    "skipped": ".",
}
"""The bar character of each status in :func:`format_chart` (``"?"`` for others)."""

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RunRow:
    """One scheduled run, as the run ledger records it.

    Parameters
    ----------
    run_id : str
        ``"<schedule>#<slot>"``.
    schedule : str
        ``"<group>/<name>"``.
    slot : str
        The fire time the run is for, ``"2026-12-02T09:00:00Z"``, or
        ``"manual-<id>"`` for a run started by hand.
    status : str
        ``running``, ``succeeded``, ``partially_failed``, ``failed`` or
        ``skipped``.
    execution_id : str or None
        The execution that ran it.
    attempts : int or None
        How many times it was attempted.
    started_at : str or None
        ISO-8601 UTC, ``"2026-12-02T09:00:01.250Z"`` or without a fraction.
    finished_at : str or None
        As ``started_at``; None while the run is running.
    tasks_sent, tasks_succeeded, tasks_failed, tasks_dead_lettered : int or None
        A fan-out's task counts; None when the item has none.
    failures : tuple of (str, str)
        ``(task_id, error)`` per failed task the item lists.
    error : str or None
        Why the run failed, when the item says.
    skipped_because : str or None
        Why the run was skipped, when it was.
    """

    run_id: str
    schedule: str
    slot: str
    status: str
    execution_id: str | None = None
    attempts: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    tasks_sent: int | None = None
    tasks_succeeded: int | None = None
    tasks_failed: int | None = None
    tasks_dead_lettered: int | None = None
    failures: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    skipped_because: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from ``started_at`` to ``finished_at``.

        Returns
        -------
        float or None
            None when the run has not finished (or either time is not an
            ISO-8601 time).
        """
        started, finished = _parse_time(self.started_at), _parse_time(self.finished_at)
        if started is None or finished is None:
            return None
        return (finished - started).total_seconds()


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def read_runs(client: Any, table_name: str, *, schedule: str | None = None, limit: int = 20) -> list[RunRow]:
    """Read the runs of a run ledger table, newest first.

    Scans the whole table (every page), keeps the items that have both
    ``schedule`` and ``slot`` (runs; watchdog and lock items have no slot)
    and orders them by start time, newest first (by slot when an item has
    no start time).

    Parameters
    ----------
    client : botocore.client.DynamoDB
        A low-level DynamoDB client, ``boto3.client("dynamodb", ...)``.
    table_name : str
        The run ledger table.
    schedule : str, optional
        Only the runs of this schedule, ``"<group>/<name>"``.
    limit : int, default 20
        At most this many runs (the newest ones).

    Returns
    -------
    list of RunRow
        Newest first; at most ``limit``.

    Raises
    ------
    ValueError
        When ``limit`` is less than 1.
    TypeError
        When ``limit`` is not an int.
    """
    _check_positive("limit", limit)
    request: dict[str, Any] = {
        "TableName": table_name,
        "ConsistentRead": True,
        "FilterExpression": "attribute_exists(#schedule) AND attribute_exists(#slot)",
        "ExpressionAttributeNames": {"#schedule": "schedule", "#slot": "slot"},
    }
    if schedule is not None:
        request["FilterExpression"] += " AND #schedule = :schedule"
        request["ExpressionAttributeValues"] = {":schedule": {"S": schedule}}
    rows: list[RunRow] = []
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            row = _row_from_item(item)
            if row is not None and (schedule is None or row.schedule == schedule):
                rows.append(row)
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            break
        request["ExclusiveStartKey"] = last_key
    return sorted(rows, key=_order_key, reverse=True)[:limit]


def format_history(rows: Sequence[RunRow]) -> str:
    """Format runs as a fixed-width text table.

    One line per run, in the order given: slot, status, duration, attempts
    and a fan-out's sent, succeeded, failed and dead-lettered counts (``-``
    when absent). Under a run, indented, its failures (``"  <task_id>:
    <error>"``), then its ``error`` and ``skipped_because`` when it has them.

    Parameters
    ----------
    rows : sequence of RunRow
        The runs, e.g. from :func:`read_runs` (newest first).

    Returns
    -------
    str
        The table, without a trailing newline; ``"no runs recorded yet"``
        when there are no runs.
    """
    if not rows:
        return NO_RUNS
    header = ("slot", "status", "duration", "attempts", "sent", "succeeded", "failed", "dead-lettered")
    right = (False, False, True, True, True, True, True, True)
    cells = [
        (
            row.slot,
            row.status,
            _format_duration(row.duration_seconds),
            _count(row.attempts),
            _count(row.tasks_sent),
            _count(row.tasks_succeeded),
            _count(row.tasks_failed),
            _count(row.tasks_dead_lettered),
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in [header, *cells]) for column in range(len(header))]

    def line_of(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if is_right else value.ljust(width)
            for value, width, is_right in zip(values, widths, right)
        )
        return "  ".join(padded).rstrip()

    lines = [line_of(header), line_of(["-" * width for width in widths])]
    for row, values in zip(rows, cells):
        lines.append(line_of(values))
        lines.extend(f"  {task_id}: {_one_line(error)}" for task_id, error in row.failures)
        if row.error:
            lines.append(f"  error: {_one_line(row.error)}")
        if row.skipped_because:
            lines.append(f"  skipped because: {_one_line(row.skipped_because)}")
    return "\n".join(lines)


def format_chart(rows: Sequence[RunRow], *, width: int = 40) -> str:
    """Chart run durations in the terminal, one line per run, oldest first.

    Each line is the slot, a bar as long as the run's duration relative to
    the longest run's (which gets ``width`` characters) and the status. The
    bar is ``#`` for a succeeded run, ``!`` for a failed or partially failed
    one, ``~`` for a running one and ``.`` for a skipped one (``?`` for any
    other status). A run without a duration (still running, say) and a run
    whose bar would be shorter than one character get one character, so
    that every status shows.

    Parameters
    ----------
    rows : sequence of RunRow
        The runs, in any order.
    width : int, default 40
        The longest bar's length.

    Returns
    -------
    str
        The chart, without a trailing newline; ``"no runs recorded yet"``
        when there are no runs.

    Raises
    ------
    ValueError
        When ``width`` is less than 1.
    TypeError
        When ``width`` is not an int.
    """
    _check_positive("width", width)
    if not rows:
        return NO_RUNS
    ordered = sorted(rows, key=_order_key)
    durations = [row.duration_seconds for row in ordered]
    longest = max((max(duration, 0.0) for duration in durations if duration is not None), default=0.0)
    slot_width = max(len(row.slot) for row in ordered)
    lines = []
    for row, duration in zip(ordered, durations):
        length = 1
        if duration is not None and longest > 0:
            length = max(1, round(max(duration, 0.0) / longest * width))
        bar = BAR_CHARACTERS.get(row.status, "?") * length
        lines.append(f"{row.slot.ljust(slot_width)}  {bar.ljust(width)}  {row.status}")
    return "\n".join(lines)


def rows_as_json(rows: Iterable[RunRow]) -> list[dict[str, Any]]:
    """Runs as JSON-ready dictionaries.

    Parameters
    ----------
    rows : iterable of RunRow
        The runs.

    Returns
    -------
    list of dict
        Per run, in the order given, every field of :class:`RunRow`
        (``failures`` as a list of ``{"task_id", "error"}``), then
        ``duration_seconds`` (None when not finished).
    """
    return [
        {
            "run_id": row.run_id,
            "schedule": row.schedule,
            "slot": row.slot,
            "status": row.status,
            "execution_id": row.execution_id,
            "attempts": row.attempts,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
            "tasks_sent": row.tasks_sent,
            "tasks_succeeded": row.tasks_succeeded,
            "tasks_failed": row.tasks_failed,
            "tasks_dead_lettered": row.tasks_dead_lettered,
            "failures": [{"task_id": task_id, "error": error} for task_id, error in row.failures],
            "error": row.error,
            "skipped_because": row.skipped_because,
            "duration_seconds": row.duration_seconds,
        }
        for row in rows
    ]


def _row_from_item(item: Mapping[str, Any]) -> RunRow | None:
    """A run of a low-level DynamoDB item, or None when the item is not a run."""
    schedule, slot = _string(item, "schedule"), _string(item, "slot")
    if schedule is None or slot is None:
        return None
    failures = []
    for entry in item.get("failures", {}).get("L", []):
        fields = entry.get("M") if isinstance(entry, Mapping) else None
        if isinstance(fields, Mapping):
            failures.append((_string(fields, "task_id") or "?", _string(fields, "error") or ""))
    return RunRow(
        run_id=_string(item, "run_id") or f"{schedule}#{slot}",
        schedule=schedule,
        slot=slot,
        status=_string(item, "status") or "unknown",
        execution_id=_string(item, "execution_id"),
        attempts=_number(item, "attempts"),
        started_at=_string(item, "started_at"),
        finished_at=_string(item, "finished_at"),
        tasks_sent=_number(item, "tasks_sent"),
        tasks_succeeded=_number(item, "tasks_succeeded"),
        tasks_failed=_number(item, "tasks_failed"),
        tasks_dead_lettered=_number(item, "tasks_dead_lettered"),
        failures=tuple(failures),
        error=_string(item, "error"),
        skipped_because=_string(item, "skipped_because"),
    )


def _string(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    if isinstance(value, Mapping) and isinstance(value.get("S"), str):
        return value["S"]
    return None


def _number(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    if not isinstance(value, Mapping) or not isinstance(value.get("N"), str):
        return None
    try:
        return int(Decimal(value["N"]))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def _parse_time(text: str | None) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; a naive one is UTC), or None."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _order_key(row: RunRow) -> tuple[bool, datetime, str]:
    """Oldest first: by start time, else by slot time; runs with neither first."""
    moment = _parse_time(row.started_at) or _parse_time(row.slot)
    return (moment is not None, moment or _EARLIEST, row.run_id)


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    total = round(seconds)
    if total < 3600:
        minutes, rest = divmod(total, 60)
        return f"{minutes} min {rest} s"
    hours, rest = divmod(total, 3600)
    return f"{hours} h {rest // 60} min"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
