"""Watchdog: compares a schedule's fire times with its run ledger and reports problems.

The run ledger holds one item per scheduled slot (``run_id`` is
``"<schedule>#<slot>"``). The watchdog computes the slots the schedule should
have started, with the library's schedule arithmetic (EventBridge's cron,
rate and at rules, daylight-saving time included), and reports three kinds
of finding, each as a list of slot strings:

``missed``
    A slot with no run item by ``slot + flexible window + grace``. A run item
    with status ``skipped`` is a run, not a missed slot.
``late``
    A run still ``running`` past ``started_at + deadline``.
``failed``
    A run that finished with status ``failed`` or ``partially_failed``.

Slots count only after ``watching_since`` (the watchdog's first run) and from
the schedule's start date, so deploying a watchdog on an old schedule raises
no alarm for the past. Only a bounded window is looked at: the last
:data:`DEFAULT_LOOKBACK` (35 days), and at most :data:`MAX_SLOTS` (10,000) of
its most recent slots, so that ``rate(1 minute)`` stays cheap (its 35 days
have 50,400 slots; the cap keeps the last 6.9 days of them). Within it, the
handler reads only the slots it still watches: a run's key is
``"<schedule>#<slot>"``, so :func:`read_runs` asks for those keys
(``BatchGetItem``), and :func:`settled_through` moves a pointer past every
slot that needs no more watching. A check of ``rate(1 minute)`` every 15
minutes reads about 16 items, whether the ledger holds a day of runs or
three months of several schedules'.

The pure part (:func:`slot_key`, :func:`expected_slots`, :func:`evaluate`,
:func:`new_findings`, :func:`remember`) calls no AWS. :func:`handler` wires it
to the ledger table, the metrics and the webhook.

Bundled handler string: ``scheduled_tasks_constructs.runtime.watchdog.handler``.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import schedule_expressions
from . import (
    DEADLINE_SECONDS,
    FLEXIBLE_WINDOW_MINUTES,
    GRACE_SECONDS,
    LEDGER_TABLE_NAME,
    SCHEDULE_END,
    SCHEDULE_EXPRESSION,
    SCHEDULE_NAME,
    SCHEDULE_START,
    SCHEDULE_TIME_ZONE,
    WEBHOOK_KIND,
    WEBHOOK_SECRET_ARN,
    _aws,
)
from .metrics import emit

logger = logging.getLogger(__name__)

_UTC = timezone.utc

DEFAULT_LOOKBACK = timedelta(days=35)
"""How far back the watchdog looks for slots and runs (a month of daily runs, plus slack)."""

MAX_SLOTS = 10_000
"""The most slots one evaluation considers; the most recent ones are kept."""

DEFAULT_GRACE_SECONDS = 300
"""Grace after a slot's flexible window before a slot without a run is missed (``GRACE_SECONDS``)."""

DEFAULT_DEADLINE_SECONDS = 3600
"""Seconds a run may stay ``running`` before it is late (``DEADLINE_SECONDS``)."""

KINDS = ("missed", "late", "failed")
"""The kinds of finding, in report order."""

METRIC_NAMES = {"missed": "MissedRuns", "late": "LateRuns", "failed": "FailedRuns"}
"""The metric each kind of finding is counted in."""

FAILED_STATUSES = frozenset({"failed", "partially_failed"})
"""Run statuses reported as ``failed``."""

WATCHDOG_SUFFIX = "#watchdog"
"""The watchdog's own state item has ``run_id`` ``"<schedule>#watchdog"``."""

SETTLED_STATUSES = frozenset({"succeeded", "skipped"})
"""Run statuses that need no more watching (a failed run needs its alert first)."""

_BATCH_GET_KEYS = 100  # the most keys one BatchGetItem may ask for
_BATCH_GET_TRIES = 8

_BATCH = 2_000  # fire times asked of next_fire_times per call


# --------------------------------------------------------------------------- slots


def slot_key(moment: datetime) -> str:
    """The slot string the Scheduler writes for a fire time: ISO 8601 UTC, seconds, ``Z``.

    Parameters
    ----------
    moment : datetime
        A timezone-aware instant; fractions of a second are dropped.

    Returns
    -------
    str
        Such as ``"2026-12-02T09:00:00Z"``.

    Raises
    ------
    ValueError
        If ``moment`` is naive.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> slot_key(datetime(2026, 7, 1, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    '2026-07-01T00:30:00Z'
    """
    _check_aware("moment", moment)
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(name: str, value: Any) -> datetime | None:
    """An ISO 8601 string (or aware datetime) as an aware datetime; None for None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{name} must be an ISO 8601 date and time such as '2026-12-02T09:00:00Z', "
                f"got {value!r}"
            ) from None
    else:
        raise ValueError(f"{name} must be an ISO 8601 string, got {type(value).__name__}")
    _check_aware(name, moment)
    return moment


def _check_aware(name: str, value: Any) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _normal_slot(value: Any) -> str | None:
    """A run's slot in :func:`slot_key` form (a slot with milliseconds matches too)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = _parse_instant("slot", value)
    except ValueError:
        return value
    return slot_key(moment) if moment is not None else None


def expected_slots(
    expression: str,
    time_zone: str = "UTC",
    *,
    after: datetime,
    until: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    created_at: datetime | None = None,
    max_slots: int = MAX_SLOTS,
) -> list[datetime]:
    """The nominal fire times of a schedule in ``(after, until]``, in UTC.

    The arithmetic is :func:`..schedule_expressions.next_fire_times`: a cron
    wall-clock time inside a spring-forward gap has no slot, a repeated one
    (autumn) has one slot, at its first occurrence; an ``at`` expression has
    its single time, whatever ``start`` and ``end`` say.

    Parameters
    ----------
    expression : str
        A ``rate(...)``, ``cron(...)`` or ``at(...)`` expression.
    time_zone : str, default "UTC"
        IANA time zone of the schedule.
    after, until : datetime
        Timezone-aware bounds; slots are strictly after ``after`` and at or
        before ``until``.
    start, end : datetime or None, default None
        The schedule's start and end dates: slots ``t`` with
        ``start <= t < end``. For a rate expression ``start`` is also the
        first fire time.
    created_at : datetime or None, default None
        For a rate expression without ``start``: an instant on its grid (its
        creation, or any earlier slot). Without it the grid starts at
        ``after``, whose first slot is ``after + interval``.
    max_slots : int, default MAX_SLOTS
        Keep only the last ``max_slots`` slots of the range.

    Returns
    -------
    list of datetime
        UTC datetimes, in order, at most ``max_slots``.

    Raises
    ------
    ScheduleExpressionError
        If the expression is not valid.
    ValueError
        For an unknown time zone, a naive datetime or a ``max_slots`` below 1.

    Examples
    --------
    >>> after = datetime(2026, 3, 27, tzinfo=timezone.utc)
    >>> until = datetime(2026, 3, 31, tzinfo=timezone.utc)
    >>> [slot_key(t) for t in expected_slots(
    ...     "cron(30 2 * * ? *)", "Europe/Berlin", after=after, until=until)]
    ['2026-03-27T01:30:00Z', '2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z']
    """
    return _slots(expression, time_zone, after, until, start, end, created_at, max_slots)[0]


def _slots(
    expression: str,
    time_zone: str,
    after: datetime,
    until: datetime,
    start: datetime | None,
    end: datetime | None,
    created_at: datetime | None,
    max_slots: int,
) -> tuple[list[datetime], bool]:
    """:func:`expected_slots` and whether slots were dropped by ``max_slots``."""
    _check_aware("after", after)
    _check_aware("until", until)
    if isinstance(max_slots, bool) or not isinstance(max_slots, int) or max_slots < 1:
        raise ValueError(f"max_slots must be a whole number of 1 or more, got {max_slots!r}")
    parsed = schedule_expressions.parse_expression(expression)
    if until <= after:
        schedule_expressions.next_fire_times(expression, after=after, count=0, time_zone=time_zone)
        return [], False
    truncated = False
    if parsed.kind == "rate":
        interval = parsed.interval
        assert interval is not None
        anchor = start or created_at or after
        if anchor > until:
            return [], False
        # Jump to the last max_slots grid points before until instead of listing them all.
        last_step = (until - anchor) // interval
        first_step = 0 if anchor > after else (after - anchor) // interval + 1
        if last_step - first_step + 1 > max_slots:
            truncated = True
            first_step = last_step - max_slots + 1
        lower = anchor + first_step * interval - timedelta(microseconds=1)
        fires = schedule_expressions.next_fire_times(
            expression,
            after=lower,
            count=max(0, last_step - first_step + 1),
            time_zone=time_zone,
            start=start,
            end=end,
            created_at=anchor,
        )
        fires = [fire for fire in fires if after < fire <= until]
        return [fire.astimezone(_UTC) for fire in fires], truncated
    kept: deque[datetime] = deque(maxlen=max_slots)
    cursor = after
    seen = 0
    while True:
        batch = schedule_expressions.next_fire_times(
            expression, after=cursor, count=_BATCH, time_zone=time_zone, start=start, end=end
        )
        inside = [fire for fire in batch if fire <= until]
        seen += len(inside)
        kept.extend(fire.astimezone(_UTC) for fire in inside)
        if len(inside) < len(batch) or len(batch) < _BATCH or parsed.kind == "at":
            break
        cursor = batch[-1]
    return list(kept), seen > len(kept) or truncated


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Findings:
    """What one evaluation found: slot strings per kind, each list sorted.

    Parameters
    ----------
    missed : list of str
        Slots with no run item by slot + flexible window + grace.
    late : list of str
        Slots whose run is still ``running`` past its deadline.
    failed : list of str
        Slots whose run finished ``failed`` or ``partially_failed``.
    window_start : str or None, default None
        Slots strictly after this instant were looked at.
    window_end : str or None, default None
        Slots due at or before this instant were checked for a run.
    slots_evaluated : int, default 0
        How many expected slots were compared with the runs.
    truncated : bool, default False
        True when older slots of the window were dropped by the slot cap.

    Examples
    --------
    >>> findings = Findings(missed=["2026-12-01T09:00:00Z"], late=[], failed=[])
    >>> findings.counts
    {'missed': 1, 'late': 0, 'failed': 0}
    """

    missed: list[str]
    late: list[str]
    failed: list[str]
    window_start: str | None = None
    window_end: str | None = None
    slots_evaluated: int = 0
    truncated: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """The number of slots of each kind, ``{"missed": n, "late": n, "failed": n}``."""
        return {kind: len(getattr(self, kind)) for kind in KINDS}

    def by_kind(self) -> dict[str, list[str]]:
        """The slot lists, ``{"missed": [...], "late": [...], "failed": [...]}``."""
        return {kind: list(getattr(self, kind)) for kind in KINDS}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field and the counts."""
        return {
            **self.by_kind(),
            "counts": self.counts,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "slots_evaluated": self.slots_evaluated,
            "truncated": self.truncated,
        }


def _field(run: Any, name: str) -> Any:
    if isinstance(run, Mapping):
        return run.get(name)
    return getattr(run, name, None)


def _timedelta(name: str, value: Any) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValueError(f"{name} must be a timedelta of 0 or more, got {value!r}")
    return value


def evaluate(
    expression: str,
    time_zone: str = "UTC",
    *,
    runs: Iterable[Any],
    now: datetime,
    watching_since: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    flexible_window_minutes: int = 0,
    grace: timedelta = timedelta(seconds=DEFAULT_GRACE_SECONDS),
    deadline: timedelta | None = timedelta(seconds=DEFAULT_DEADLINE_SECONDS),
    lookback: timedelta = DEFAULT_LOOKBACK,
    max_slots: int = MAX_SLOTS,
    created_at: datetime | None = None,
) -> Findings:
    """Compare the slots a schedule should have started with its ledger runs.

    Parameters
    ----------
    expression : str
        The schedule expression.
    time_zone : str, default "UTC"
        IANA time zone of the schedule.
    runs : iterable
        Ledger runs, as dicts or objects with ``slot``, ``status`` and
        ``started_at`` (other fields are ignored). Items without a slot (the
        watchdog's own state item) are ignored.
    now : datetime
        Timezone-aware time of the evaluation.
    watching_since : datetime
        Timezone-aware instant from which slots count (the first watchdog
        run): slots at or before it raise nothing, nor do runs of such slots.
    start, end : datetime or None, default None
        The schedule's start and end dates (see :func:`expected_slots`).
    flexible_window_minutes : int, default 0
        The schedule's flexible time window: a run may start that late.
    grace : timedelta, default 5 minutes
        Extra wait after the flexible window before a slot without a run is
        missed.
    deadline : timedelta or None, default 1 hour
        A run still ``running`` after ``started_at + deadline`` (the slot when
        ``started_at`` is not set) is late. None: runs are never late.
    lookback : timedelta, default DEFAULT_LOOKBACK
        Only slots after ``now - lookback`` are looked at.
    max_slots : int, default MAX_SLOTS
        Only the most recent ``max_slots`` expected slots are checked for a
        run.
    created_at : datetime or None, default None
        For a rate expression without ``start``: an instant on its grid.
        Default: the latest run's slot, else ``watching_since``.

    Returns
    -------
    Findings
        The missed, late and failed slots.

    Raises
    ------
    ScheduleExpressionError
        If the expression is not valid.
    ValueError
        For a naive datetime, an unknown time zone, or a negative duration.

    Examples
    --------
    >>> since = datetime(2026, 11, 1, tzinfo=timezone.utc)
    >>> runs = [{"slot": "2026-11-02T09:00:00Z", "status": "succeeded"},
    ...         {"slot": "2026-11-04T09:00:00Z", "status": "failed"}]
    >>> findings = evaluate("cron(0 9 * * ? *)", runs=runs, watching_since=since,
    ...                     now=datetime(2026, 11, 4, 12, tzinfo=timezone.utc))
    >>> findings.missed, findings.failed
    (['2026-11-01T09:00:00Z', '2026-11-03T09:00:00Z'], ['2026-11-04T09:00:00Z'])
    """
    _check_aware("now", now)
    _check_aware("watching_since", watching_since)
    grace = _timedelta("grace", grace)
    lookback = _timedelta("lookback", lookback)
    if deadline is not None:
        deadline = _timedelta("deadline", deadline)
    if (
        isinstance(flexible_window_minutes, bool)
        or not isinstance(flexible_window_minutes, int)
        or flexible_window_minutes < 0
    ):
        raise ValueError(
            "flexible_window_minutes must be a whole number of 0 or more, "
            f"got {flexible_window_minutes!r}"
        )
    now = now.astimezone(_UTC)
    after = max(watching_since.astimezone(_UTC), now - lookback)
    due_by = now - timedelta(minutes=flexible_window_minutes) - grace
    lower_key = slot_key(after)

    by_slot: dict[str, Any] = {}
    for run in runs:
        key = _normal_slot(_field(run, "slot"))
        if key is not None:
            by_slot[key] = run

    parsed = schedule_expressions.parse_expression(expression)
    if parsed.kind == "rate" and start is None and created_at is None:
        grid = sorted(
            moment
            for moment in (_parse_instant_or_none(key) for key in by_slot)
            if moment is not None
        )
        created_at = grid[0] if grid else watching_since
    slots, truncated = _slots(
        expression, time_zone, after, due_by, start, end, created_at, max_slots
    )
    missed = sorted({slot_key(slot) for slot in slots} - by_slot.keys())

    late: list[str] = []
    failed: list[str] = []
    for key, run in by_slot.items():
        if key <= lower_key or key > slot_key(now):
            continue
        status = _field(run, "status")
        if status in FAILED_STATUSES:
            failed.append(key)
        elif status == "running" and deadline is not None:
            began = _parse_instant_or_none(_field(run, "started_at")) or _parse_instant_or_none(key)
            if began is not None and now > began + deadline:
                late.append(key)
    return Findings(
        missed=missed,
        late=sorted(late),
        failed=sorted(failed),
        window_start=lower_key,
        window_end=slot_key(due_by) if due_by > after else lower_key,
        slots_evaluated=len(slots),
        truncated=truncated,
    )


def _parse_instant_or_none(value: Any) -> datetime | None:
    try:
        return _parse_instant("instant", value)
    except ValueError:
        return None


# --------------------------------------------------------------------------- de-duplication


AlertState = dict[str, set[str]]
"""Slots already alerted, per kind of finding: ``{"missed": {...}, "late": {...}, "failed": {...}}``."""


def new_findings(findings: Findings, alerted: Mapping[str, Iterable[str]] | None) -> Findings:
    """The findings not alerted yet.

    Parameters
    ----------
    findings : Findings
        The current findings.
    alerted : Mapping[str, iterable of str] or None
        Slots already alerted per kind (a missing kind: none).

    Returns
    -------
    Findings
        ``findings`` without the slots in ``alerted`` (window fields kept).

    Examples
    --------
    >>> current = Findings(missed=["2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z"], late=[], failed=[])
    >>> new_findings(current, {"missed": {"2026-12-01T09:00:00Z"}}).missed
    ['2026-12-02T09:00:00Z']
    """
    alerted = alerted or {}
    fresh = {
        kind: [slot for slot in getattr(findings, kind) if slot not in set(alerted.get(kind, ()))]
        for kind in KINDS
    }
    return Findings(
        **fresh,
        window_start=findings.window_start,
        window_end=findings.window_end,
        slots_evaluated=findings.slots_evaluated,
        truncated=findings.truncated,
    )


def remember(
    alerted: Mapping[str, Iterable[str]] | None, findings: Findings, *, oldest: str | None
) -> AlertState:
    """The alert state after alerting ``findings``, without slots at or before ``oldest``.

    Parameters
    ----------
    alerted : Mapping[str, iterable of str] or None
        Slots already alerted per kind.
    findings : Findings
        The findings alerted now.
    oldest : str or None
        A slot string (usually the window start): older slots can no longer be
        found, so they are dropped. None keeps everything.

    Returns
    -------
    AlertState
        A new dict with a set for every kind.

    Examples
    --------
    >>> state = remember({"missed": {"2026-10-01T09:00:00Z"}},
    ...                  Findings(missed=["2026-12-01T09:00:00Z"], late=[], failed=[]),
    ...                  oldest="2026-11-01T00:00:00Z")
    >>> state["missed"], state["late"]
    ({'2026-12-01T09:00:00Z'}, set())
    """
    alerted = alerted or {}
    state: AlertState = {}
    for kind in KINDS:
        slots = set(alerted.get(kind, ())) | set(getattr(findings, kind))
        state[kind] = {slot for slot in slots if oldest is None or slot > oldest}
    return state


def describe(schedule: str, kind: str, slot: str) -> str:
    """The webhook text of one finding.

    Parameters
    ----------
    schedule : str
        ``"<group>/<name>"``.
    kind : {"missed", "late", "failed"}
        The kind of finding.
    slot : str
        The slot string.

    Returns
    -------
    str
        One line.

    Examples
    --------
    >>> describe("default/nightly", "missed", "2026-12-02T09:00:00Z")
    'Missed run: default/nightly did not start its 2026-12-02T09:00:00Z run'
    """
    texts = {
        "missed": f"Missed run: {schedule} did not start its {slot} run",
        "late": f"Late run: {schedule} run {slot} is still running past its deadline",
        "failed": f"Failed run: {schedule} run {slot} failed",
    }
    if kind not in texts:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return texts[kind]


# --------------------------------------------------------------------------- handler


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise RuntimeError(f"environment variable {name} must be a whole number of 0 or more")
    return int(raw)


def _env_instant(name: str) -> datetime | None:
    raw = os.environ.get(name, "").strip()
    try:
        return _parse_instant(name, raw)
    except ValueError as exc:
        raise RuntimeError(f"environment variable {name}: {exc}") from None


def scan_runs(client: Any, table_name: str, schedule: str, since: str) -> list[dict[str, Any]]:
    """Every ledger run of ``schedule`` with ``slot >= since``, as plain values.

    Parameters
    ----------
    client : Any
        A boto3 DynamoDB client.
    table_name : str
        The ledger table.
    schedule : str
        ``"<group>/<name>"``.
    since : str
        A slot string.

    Returns
    -------
    list of dict
        The items (all pages of the Scan).
    """
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": "#schedule = :s AND #slot >= :since",
        "ExpressionAttributeNames": {"#schedule": "schedule", "#slot": "slot"},
        "ExpressionAttributeValues": {":s": {"S": schedule}, ":since": {"S": since}},
    }
    items: list[dict[str, Any]] = []
    while True:
        page = client.scan(**kwargs)
        items.extend({k: _aws.plain(v) for k, v in item.items()} for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run_id(schedule: str, slot: str) -> str:
    """The ledger key of ``schedule``'s run of ``slot``: ``"<schedule>#<slot>"``."""
    return f"{schedule}#{slot}"


def read_runs(client: Any, table_name: str, schedule: str, slots: Iterable[str]) -> list[dict[str, Any]]:
    """The ledger runs of ``schedule`` for ``slots``, read by key (``BatchGetItem``), as plain values.

    A run's key is known from its slot, so the watchdog reads the few slots it
    still watches instead of scanning a ledger that holds months of runs (and
    other schedules' runs when it is shared). Eventually consistent reads: a
    run written a moment ago is seen on the next check at the latest.

    Parameters
    ----------
    client : Any
        A boto3 DynamoDB client.
    table_name : str
        The ledger table.
    schedule : str
        ``"<group>/<name>"``.
    slots : iterable of str
        Slot strings (:func:`slot_key`).

    Returns
    -------
    list of dict
        The runs found, in no particular order (slots without a run have none).

    Raises
    ------
    RuntimeError
        When DynamoDB keeps leaving keys unprocessed (throttling) after
        several tries.
    """
    import time

    keys = [{"run_id": {"S": run_id(schedule, slot)}} for slot in dict.fromkeys(slots)]
    found: list[dict[str, Any]] = []
    for first in range(0, len(keys), _BATCH_GET_KEYS):
        request: dict[str, Any] = {
            table_name: {
                "Keys": keys[first : first + _BATCH_GET_KEYS],
                "ProjectionExpression": "run_id, #slot, #status, started_at, finished_at",
                "ExpressionAttributeNames": {"#slot": "slot", "#status": "status"},
            }
        }
        for attempt in range(_BATCH_GET_TRIES):
            page = client.batch_get_item(RequestItems=request)
            found.extend(_aws.plain_item(item) for item in page.get("Responses", {}).get(table_name, []))
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(2.0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"DynamoDB left keys of {table_name} unprocessed {_BATCH_GET_TRIES} times; try again")
    return found


def settled_through(
    slots: Iterable[str], runs_by_slot: Mapping[str, Any], alerted: Mapping[str, Iterable[str]], *, due_by: str
) -> str | None:
    """The last slot of the leading run of ``slots`` that needs no more watching, or None.

    A slot is settled when its run ``succeeded`` or was ``skipped``; when its
    run failed, or is late, and that was alerted (a late run is not watched
    for its end: its alert is out, and the run's own summary tells how it
    ended); and when it was due by ``due_by`` without a run and was alerted
    missed. The walk stops at the first slot that is not settled, so every
    slot at or before the result is settled.

    Examples
    --------
    >>> runs = {"2026-12-01T09:00:00Z": {"status": "succeeded"}, "2026-12-02T09:00:00Z": {"status": "running"}}
    >>> settled_through(["2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z"], runs, {}, due_by="2026-12-03T00:00:00Z")
    '2026-12-01T09:00:00Z'
    """
    done = {kind: set(alerted.get(kind, ())) for kind in KINDS}
    last = None
    for slot in sorted(slots):
        run = runs_by_slot.get(slot)
        status = _field(run, "status") if run is not None else None
        if run is None:
            settled = slot <= due_by and slot in done["missed"]
        elif status in SETTLED_STATUSES:
            settled = True
        elif status in FAILED_STATUSES:
            settled = slot in done["failed"]
        else:
            settled = slot in done["late"]
        if not settled:
            break
        last = slot
    return last


def _load_state(client: Any, table_name: str, state_id: str, now: datetime) -> dict[str, Any]:
    """The watchdog's state item; written (``watching_since = now``) when it does not exist.

    Read first, written only when missing: a conditional write that fails is
    still billed, and the item exists on every check but the first.
    """
    from botocore.exceptions import ClientError

    key = {"run_id": {"S": state_id}}
    item = client.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        fresh = {
            "run_id": {"S": state_id},
            "watching_since": {"S": slot_key(now)},
            "alerted": {"S": json.dumps({kind: [] for kind in KINDS})},
            "version": {"N": "0"},
        }
        try:
            client.put_item(TableName=table_name, Item=fresh, ConditionExpression="attribute_not_exists(run_id)")
            item = fresh
        except ClientError as exc:
            if _aws.error_code(exc) != "ConditionalCheckFailedException":
                raise
            # Another check created it a moment ago: read what it wrote.
            item = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    return {name: _aws.plain(value) for name, value in item.items()}


def _save_state(
    client: Any,
    table_name: str,
    state_id: str,
    version: int,
    state: AlertState,
    now: datetime,
    *,
    watching_since: datetime,
    settled: str | None = None,
    rate_anchor: str | None = None,
) -> bool:
    """Write the alert state if nobody else did since ``version``; False when someone did."""
    from botocore.exceptions import ClientError

    expression = "SET alerted = :a, version = :next, checked_at = :now, watching_since = :since"
    values = {
        ":a": {"S": json.dumps({kind: sorted(state[kind]) for kind in KINDS})},
        ":next": {"N": str(version + 1)},
        ":v": {"N": str(version)},
        ":now": {"S": slot_key(now)},
        ":since": {"S": slot_key(watching_since)},
    }
    if settled is not None:
        expression += ", settled_through = :settled"
        values[":settled"] = {"S": settled}
    if rate_anchor is not None:
        expression += ", rate_anchor = :anchor"
        values[":anchor"] = {"S": rate_anchor}
    try:
        client.update_item(
            TableName=table_name,
            Key={"run_id": {"S": state_id}},
            UpdateExpression=expression,
            ConditionExpression="version = :v",
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if _aws.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False
    return True


def schedule_state(schedule: str) -> str:
    """The deployed schedule's state: ``"ENABLED"``, ``"DISABLED"``, or ``"NOT_FOUND"``.

    Parameters
    ----------
    schedule : str
        ``"<group>/<name>"``.

    Returns
    -------
    str
        What ``scheduler:GetSchedule`` says; ``"NOT_FOUND"`` when the schedule
        does not exist (it was deleted: its slots are then missed, as they are).

    Raises
    ------
    botocore.exceptions.ClientError
        For any other error (``AccessDeniedException`` among them).
    """
    from botocore.exceptions import ClientError

    group, _, name = schedule.partition("/")
    try:
        found = _aws.client("scheduler").get_schedule(GroupName=group, Name=name)
    except ClientError as exc:
        if _aws.error_code(exc) == "ResourceNotFoundException":
            return "NOT_FOUND"
        raise
    return str(found.get("State", "ENABLED"))


def handler(event: Any, context: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Lambda entry point: evaluate one schedule, write metrics, post new findings.

    Parameters
    ----------
    event : Any
        Ignored (the watchdog runs on its own schedule).
    context : Any
        The Lambda context (unused).
    now : datetime or None, optional
        Time of the evaluation, for tests. Default: the current time.

    Returns
    -------
    dict
        ``schedule``, ``paused`` (whether the schedule is disabled),
        ``watching_since``, ``findings`` (the current ones among the slots
        still watched, see :meth:`Findings.as_dict`), ``new`` (slot lists of the findings alerted
        by this run), ``metrics`` (the values written) and ``posted`` /
        ``post_failures`` (webhook messages).

    Raises
    ------
    RuntimeError
        If a required environment variable is missing or one is malformed.

    Notes
    -----
    Environment: ``LEDGER_TABLE_NAME``, ``SCHEDULE_NAME`` (``"<group>/<name>"``),
    ``SCHEDULE_EXPRESSION`` (required); ``SCHEDULE_TIME_ZONE`` (default UTC),
    ``SCHEDULE_START`` / ``SCHEDULE_END`` (ISO 8601), ``FLEXIBLE_WINDOW_MINUTES``
    (default 0), ``GRACE_SECONDS`` (default 300), ``DEADLINE_SECONDS``
    (default 3600), ``WEBHOOK_SECRET_ARN`` and ``WEBHOOK_KIND`` (optional).

    The state item ``"<schedule>#watchdog"`` holds ``settled_through`` (the
    last slot of the leading run of settled slots, :func:`settled_through`:
    the next check reads the slots after it), ``rate_anchor`` (for a rate
    schedule without a start: a run's slot, which fixes the grid of its fire
    times; until the first run is found, each check looks for one with a
    ``Scan``), ``watching_since`` (written
    by a conditional put on the first run, and moved to the time of any run
    that finds the schedule disabled: a paused schedule misses nothing, and
    after a resume only later slots count), ``alerted`` (JSON: the
    slots already alerted per kind, pruned to the lookback window) and a
    ``version`` for optimistic locking: two overlapping runs never alert the
    same slot twice.

    The metrics ``MissedRuns``, ``LateRuns`` and ``FailedRuns`` count the NEW
    findings of this run and are published only when not 0 (a custom
    metric bills for the hours it is published in, so a month without
    findings publishes none; the alarms treat no data as OK), so an alarm on
    ``MissedRuns >= 1`` fires once per newly missed slot and returns to OK on
    the next run, instead of staying in alarm for the 35 days a missed slot
    stays in the window. The state is saved before anything is posted: a
    webhook message is sent at most once (a failed post is logged, not
    retried); the metrics are the reliable signal.
    """
    table_name = _aws.required_env(LEDGER_TABLE_NAME)
    schedule = _aws.required_env(SCHEDULE_NAME)
    expression = _aws.required_env(SCHEDULE_EXPRESSION)
    time_zone = os.environ.get(SCHEDULE_TIME_ZONE, "").strip() or "UTC"
    start = _env_instant(SCHEDULE_START)
    end = _env_instant(SCHEDULE_END)
    flexible = _env_int(FLEXIBLE_WINDOW_MINUTES, 0)
    grace = timedelta(seconds=_env_int(GRACE_SECONDS, DEFAULT_GRACE_SECONDS))
    deadline = timedelta(seconds=_env_int(DEADLINE_SECONDS, DEFAULT_DEADLINE_SECONDS))
    secret_id = os.environ.get(WEBHOOK_SECRET_ARN, "").strip() or None
    moment = _aws.utc(now)
    client = _aws.client("dynamodb")
    state_id = schedule + WATCHDOG_SUFFIX

    # A paused (disabled) schedule fires nothing, so nothing it skips is missed:
    # the watchdog then watches from now on, and after a resume only later slots count.
    paused = schedule_state(schedule) == "DISABLED"
    needs_anchor = schedule_expressions.parse_expression(expression).kind == "rate" and start is None
    for _ in range(5):
        state = _load_state(client, table_name, state_id, moment)
        watching_since = _parse_instant("watching_since", state["watching_since"])
        assert watching_since is not None
        if paused:
            watching_since = max(watching_since, moment)
        # Slots at or before settled_through need no more reads: the watchdog reads only
        # the slots it still watches, by key, however many runs the ledger holds.
        settled = _parse_instant_or_none(state.get("settled_through"))
        watch_from = max(watching_since, settled) if settled is not None else watching_since
        lower = max(watch_from, moment - DEFAULT_LOOKBACK)
        anchor = _parse_instant_or_none(state.get("rate_anchor")) if needs_anchor else None
        if needs_anchor and anchor is None:
            # A rate schedule without a start fires on the grid of its creation time,
            # known here from a run: until one is found, look for it (a Scan).
            runs = scan_runs(client, table_name, schedule, slot_key(lower))
            on_grid = sorted(m for m in (_parse_instant_or_none(_field(r, "slot")) for r in runs) if m is not None)
            anchor = on_grid[0] if on_grid else None
            watched = expected_slots(
                expression, time_zone, after=lower, until=moment, start=start, end=end,
                created_at=anchor or watch_from,
            )
        else:
            watched = expected_slots(
                expression, time_zone, after=lower, until=moment, start=start, end=end, created_at=anchor
            )
            runs = read_runs(client, table_name, schedule, (slot_key(slot) for slot in watched))
        findings = evaluate(
            expression,
            time_zone,
            runs=runs,
            now=moment,
            watching_since=watch_from,
            start=start,
            end=end,
            flexible_window_minutes=flexible,
            grace=grace,
            deadline=deadline,
            created_at=anchor,
        )
        alerted = {kind: set(slots) for kind, slots in json.loads(state["alerted"]).items()}
        fresh = new_findings(findings, alerted)
        updated = remember(alerted, fresh, oldest=findings.window_start)
        by_slot = {key: run for run in runs if (key := _normal_slot(_field(run, "slot"))) is not None}
        now_settled = settled_through(
            (slot_key(slot) for slot in watched), by_slot, updated, due_by=findings.window_end or slot_key(lower)
        )
        if _save_state(
            client,
            table_name,
            state_id,
            int(state["version"]),
            updated,
            moment,
            watching_since=watching_since,
            settled=now_settled,
            rate_anchor=slot_key(anchor) if anchor is not None else None,
        ):
            break
    else:
        raise RuntimeError(f"the watchdog state {state_id} kept changing; try again")

    # Only non-zero counts are written: a month without findings publishes no metric
    # (custom metrics bill by the hours they are published in); the alarms treat no data as OK.
    values = {METRIC_NAMES[kind]: count for kind, count in fresh.counts.items()}
    published = {name: (value, "Count") for name, value in values.items() if value}
    if published:
        emit(published, schedule=schedule)

    posted = failures = 0
    if secret_id is not None:
        from .webhook import WebhookError, _post_to_secret_url, _shared_url_cache

        kind_setting = os.environ.get(WEBHOOK_KIND) or None
        for kind, slots in fresh.by_kind().items():
            for slot in slots:
                try:
                    _post_to_secret_url(
                        _shared_url_cache(), secret_id, describe(schedule, kind, slot), kind=kind_setting
                    )
                    posted += 1
                except (WebhookError, ValueError) as exc:
                    failures += 1
                    logger.warning("webhook post for %s %s failed: %s", kind, slot, exc)
    return {
        "schedule": schedule,
        "paused": paused,
        "watching_since": slot_key(watching_since),
        "findings": findings.as_dict(),
        "new": fresh.by_kind(),
        "metrics": values,
        "posted": posted,
        "post_failures": failures,
    }


__all__ = [
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_GRACE_SECONDS",
    "DEFAULT_LOOKBACK",
    "FAILED_STATUSES",
    "KINDS",
    "MAX_SLOTS",
    "METRIC_NAMES",
    "SETTLED_STATUSES",
    "WATCHDOG_SUFFIX",
    "AlertState",
    "Findings",
    "describe",
    "evaluate",
    "expected_slots",
    "handler",
    "new_findings",
    "remember",
    "read_runs",
    "run_id",
    "scan_runs",
    "schedule_state",
    "settled_through",
    "slot_key",
]
