"""Warnings about schedules that do not run the way a cron user expects.

A schedule can be valid and still surprise its author. This module names the
surprises that :mod:`.schedule_expressions` can foresee, one sentence each,
without calling AWS:

* a cron wall-clock time inside a daylight-saving **gap** (the clocks jump
  over it in spring): EventBridge Scheduler skips that run;
* a cron wall-clock time inside a daylight-saving **fold** (the clocks go
  back over it in autumn, so it happens twice): EventBridge Scheduler runs it
  once, at its first occurrence, still on summer time;
* an ``at(...)`` time that is already past: the schedule never fires;
* an ``end`` date that is not after the ``start`` date, or not after the first
  fire time: the schedule never fires.

All the arithmetic (parsing, fire times, time zones and daylight-saving rules)
is that of :mod:`.schedule_expressions`; the rules it follows are in its
docstring. The daylight-saving checks look only at the days on which the
schedule's time zone changes its UTC offset, within 366 days, so they take the
same time for ``cron(* * * * ? *)`` as for ``cron(0 9 * * ? *)``. Rate
schedules are fixed durations and have no daylight-saving surprise. Like the
rest of the schedule arithmetic, this module uses the standard library only.

Examples
--------
>>> from datetime import datetime, timezone
>>> now = datetime(2026, 4, 1, tzinfo=timezone.utc)
>>> for warning in schedule_warnings(
...         "cron(30 2 * * ? *)", time_zone="Europe/Berlin", now=now):
...     print(warning)  # doctest: +NORMALIZE_WHITESPACE
schedule: cron(30 2 * * ? *) in Europe/Berlin falls in a daylight-saving fold on 2026-10-25
(02:30 happens twice); EventBridge Scheduler runs it once, at 2026-10-25T02:30:00+02:00
(the first occurrence, before the clocks go back)
schedule: cron(30 2 * * ? *) in Europe/Berlin falls in a daylight-saving gap on 2027-03-28
(02:30 does not exist); EventBridge Scheduler skips that run
>>> schedule_warnings("cron(0 9 * * ? *)", time_zone="Europe/Berlin", now=now)
[]
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import schedule_expressions

__all__ = ["WINDOW", "schedule_warnings"]

WINDOW = timedelta(days=366)
"""How far ahead of ``max(now, start)`` the daylight-saving checks look."""

_LISTED_TIMES = 4
"""Up to this many wall-clock times are listed one by one in a warning."""

_EPSILON = timedelta(microseconds=1)


def schedule_warnings(
    expression: str,
    *,
    time_zone: str = "UTC",
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime,
) -> list[str]:
    """Return a warning for each way a schedule will surprise a cron user.

    Each warning is one sentence that begins with the prop it is about
    (``schedule:``, ``end:``). The checks:

    1. ``end`` is not after ``start``: the schedule never fires.
    2. ``end`` is not after the first fire time at or after
       ``max(now, start)``: the schedule never fires (a fire time ``t`` is
       kept when ``start <= t < end``).
    3. An ``at`` time is before ``now``: the schedule never fires.
    4. A cron wall-clock time falls in a daylight-saving gap of ``time_zone``
       on a day the cron selects, at least once between ``max(now, start)``
       and :data:`WINDOW` later (or ``end``, when that is sooner): the first
       such day is named, and EventBridge Scheduler skips that run.
    5. Likewise for a daylight-saving fold: the first such day is named, and
       EventBridge Scheduler runs the time once, at its first occurrence.
       The gap and fold warnings come in the order of their days.

    When the schedule never fires (checks 1 to 3), that is the only warning:
    the daylight-saving checks are not made. ``start`` and ``end`` are ignored for an ``at`` expression,
    as EventBridge Scheduler ignores them.

    Parameters
    ----------
    expression : str
        A ``rate(...)``, ``cron(...)`` or ``at(...)`` expression.
    time_zone : str, default "UTC"
        IANA name of the schedule's time zone; cron and at expressions are
        read in it.
    start : datetime or None, default None
        Timezone-aware start date of the schedule.
    end : datetime or None, default None
        Timezone-aware end date of the schedule.
    now : datetime
        Timezone-aware instant the schedule is created or checked at; a rate
        schedule without ``start`` first fires at it.

    Returns
    -------
    list of str
        The warnings; an empty list when nothing surprises.

    Raises
    ------
    ScheduleExpressionError
        When the expression is not valid (raised by
        :func:`.schedule_expressions.parse_expression`).
    ValueError
        When the time zone is unknown or a datetime is naive.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    >>> print(*schedule_warnings("at(2026-05-01T10:00:00)", now=now))
    ... # doctest: +NORMALIZE_WHITESPACE
    schedule: at(2026-05-01T10:00:00) in UTC is before now (2026-06-01T00:00:00+00:00);
    EventBridge Scheduler never fires it
    >>> schedule_warnings("rate(1 minute)", time_zone="Europe/Berlin", now=now)
    []
    """
    parsed = schedule_expressions.parse_expression(expression)
    zone = schedule_expressions._zone(time_zone)
    schedule_expressions._aware("now", now)
    schedule_expressions._aware("start", start)
    schedule_expressions._aware("end", end)
    if parsed.kind == "at":
        fires = schedule_expressions.next_fire_times(
            expression, after=now - _EPSILON, count=1, time_zone=time_zone
        )
        if fires:
            return []
        return [
            (
                f"schedule: {expression} in {time_zone} is before now ({now.isoformat()}); "
                "EventBridge Scheduler never fires it"
            )
        ]
    if start is not None and end is not None and end <= start:
        return [
            (
                f"end: {end.isoformat()} is not after start {start.isoformat()}; "
                "the schedule never fires"
            )
        ]
    base = now if start is None or start < now else start
    if end is not None:
        first = schedule_expressions.next_fire_times(
            expression,
            after=base - _EPSILON,
            count=1,
            time_zone=time_zone,
            start=start,
            created_at=now,
        )
        if first and end <= first[0]:
            return [
                (
                    f"end: {end.isoformat()} is not after the first fire time of {expression} "
                    f"in {time_zone} ({first[0].isoformat()}); the schedule never fires"
                )
            ]
    if parsed.kind != "cron":
        return []
    limit = base + WINDOW if end is None else min(base + WINDOW, end)
    return _daylight_saving_warnings(parsed, zone, time_zone, base, limit)


def _transition_days(zone: ZoneInfo, base: datetime, limit: datetime) -> list[date]:
    """The local days from ``base`` to ``limit`` on which ``zone`` changes its UTC offset."""
    day = base.astimezone(zone).date()
    last = (limit - _EPSILON).astimezone(zone).date()
    days = []
    while day <= last:
        if schedule_expressions._steady_offset(day, zone) is None:
            days.append(day)
        day += timedelta(days=1)
    return days


def _times(walls: list[datetime], verb_one: str, verb_many: str) -> str:
    """``02:30 does not exist``, ``01:00 and 01:30 happen twice``, ``60 times from ...``."""
    labels = [wall.strftime("%H:%M") for wall in walls]
    if len(labels) == 1:
        return f"{labels[0]} {verb_one}"
    if len(labels) <= _LISTED_TIMES:
        return f"{', '.join(labels[:-1])} and {labels[-1]} {verb_many}"
    return f"{len(labels)} times from {labels[0]} to {labels[-1]} {verb_many}"


def _daylight_saving_warnings(
    parsed: schedule_expressions.ParsedSchedule,
    zone: ZoneInfo,
    time_zone: str,
    base: datetime,
    limit: datetime,
) -> list[str]:
    """The gap and fold warnings of a cron schedule for fire times in ``[base, limit)``."""
    minutes = schedule_expressions._minutes_of_day(parsed.minutes, parsed.hours)
    gap: tuple[date, list[datetime]] | None = None
    fold: tuple[date, list[datetime], list[datetime]] | None = None
    for day in _transition_days(zone, base, limit):
        if gap is not None and fold is not None:
            break
        if next(schedule_expressions._dates(parsed, day), None) != day:
            continue  # the cron does not select this day
        midnight = datetime(day.year, day.month, day.day)
        missing: list[datetime] = []
        repeated: list[datetime] = []
        firsts: list[datetime] = []
        for minute in minutes:
            wall = midnight + timedelta(minutes=minute)
            earlier = wall.replace(tzinfo=zone, fold=0)
            later = wall.replace(tzinfo=zone, fold=1)
            if earlier.utcoffset() == later.utcoffset():
                continue
            instant = schedule_expressions._resolve(wall, zone)
            if not base <= (earlier if instant is None else instant) < limit:
                continue
            if instant is None:
                missing.append(wall)
            else:
                repeated.append(wall)
                firsts.append(instant)
        if gap is None and missing:
            gap = (day, missing)
        if fold is None and repeated:
            fold = (day, repeated, firsts)
    dated: list[tuple[date, str]] = []
    prefix = f"schedule: {parsed.expression} in {time_zone}"
    if gap is not None:
        day, missing = gap
        runs = "that run" if len(missing) == 1 else "those runs"
        dated.append((day, (
            f"{prefix} falls in a daylight-saving gap on {day.isoformat()} "
            f"({_times(missing, 'does not exist', 'do not exist')}); "
            f"EventBridge Scheduler skips {runs}"
        )))
    if fold is not None:
        day, repeated, firsts = fold
        if len(firsts) == 1:
            runs = (
                f"runs it once, at {firsts[0].isoformat()} "
                "(the first occurrence, before the clocks go back)"
            )
        else:
            runs = (
                "runs each of them once, at its first occurrence "
                f"(UTC{firsts[0].isoformat()[-6:]}, before the clocks go back)"
            )
        dated.append((day, (
            f"{prefix} falls in a daylight-saving fold on {day.isoformat()} "
            f"({_times(repeated, 'happens twice', 'happen twice')}); "
            f"EventBridge Scheduler {runs}"
        )))
    return [text for _, text in sorted(dated)]
