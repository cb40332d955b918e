"""Schedule arithmetic: EventBridge Scheduler rate, cron and at expressions.

Expected fire times were worked out by hand from calendars (2026 starts on a
Thursday; the first days of its months fall on Thu, Sun, Sun, Wed, Fri, Mon,
Wed, Sat, Tue, Thu, Sun, Tue) and from the 2026 daylight-saving dates of the
zones used: America/New_York 03-08 02:00 -> 03:00 and 11-01 02:00 -> 01:00;
Europe/Berlin 03-29 02:00 -> 03:00 and 10-25 03:00 -> 02:00;
Australia/Lord_Howe (30-minute shift) 04-05 02:00 -> 01:30 and
10-04 02:00 -> 02:30; Asia/Taipei has no daylight saving time.
"""

from __future__ import annotations

import ast
import calendar
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

try:
    from scheduled_tasks_constructs import schedule_expressions
except ImportError:  # the package is not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from scheduled_tasks_constructs import schedule_expressions

from scheduled_tasks_constructs.schedule_expressions import (
    DayOfMonthRule,
    DayOfWeekRule,
    ScheduleExpressionError,
    next_fire_times,
    parse_expression,
    validate_expression,
    validate_time_zone,
)

UTC = timezone.utc
NEW_YEAR_2026 = "2026-01-01T00:00:00+00:00"


def utc(text: str) -> datetime:
    """An aware datetime from ISO text; a missing offset means UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moments: list[datetime]) -> list[str]:
    return [moment.isoformat() for moment in moments]


# --------------------------------------------------------------------------- counting helpers
# Built on next_fire_times only, so that the hand-counted figures below check it.

_CHUNK = 10_000
_ONE_MINUTE = timedelta(minutes=1)


def fires_between(
    expression: str,
    *,
    begin: datetime,
    end: datetime,
    time_zone: str = "UTC",
    start: datetime | None = None,
    created_at: datetime | None = None,
) -> int:
    """Count the fire times ``t`` with ``begin <= t < end``.

    A rate expression without ``start`` or ``created_at`` is anchored at
    ``begin`` (so it fires at ``begin``).
    """
    if start is None and created_at is None:
        created_at = begin
    total = 0
    after = begin - timedelta(microseconds=1)
    while True:
        fires = next_fire_times(expression, after=after, count=_CHUNK, time_zone=time_zone,
                                start=start, end=end, created_at=created_at)
        total += sum(1 for fire in fires if begin <= fire < end)
        if len(fires) < _CHUNK:
            return total
        after = fires[-1]


def min_interval(expression: str, *, time_zone: str = "UTC", after: datetime) -> timedelta | None:
    """The smallest gap, in real (UTC) time, between consecutive fire times.

    A rate expression's interval; None for an at expression. For a cron
    expression, measured over the four years (one leap-year cycle) from the
    day of the first fire time after ``after`` to the same day 1461 days
    later, both included; None with fewer than two fire times in them.
    """
    parsed = parse_expression(expression)
    if parsed.kind == "at":
        return None
    if parsed.kind == "rate":
        return parsed.interval
    first = next_fire_times(expression, after=after, count=1, time_zone=time_zone)
    if not first:
        return None
    last_day = first[0].date() + timedelta(days=1461 + 1)
    end = datetime(last_day.year, last_day.month, last_day.day, tzinfo=ZoneInfo(time_zone))
    previous = first[0].astimezone(UTC)
    best: timedelta | None = None
    while True:
        fires = next_fire_times(expression, after=previous, count=_CHUNK, time_zone=time_zone, end=end)
        for fire in fires:
            fire = fire.astimezone(UTC)  # aware datetimes of one zone subtract as wall-clock times
            gap = fire - previous
            previous = fire
            if best is None or gap < best:
                best = gap
            if best == _ONE_MINUTE:
                return best
        if len(fires) < _CHUNK:
            return best


# --------------------------------------------------------------------------- fire-time table

# (expression, time zone, after, count, expected fire times with their offsets)
FIRE_TIME_CASES = [
    # plain values, every day
    ("cron(0 10 * * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-01T10:00:00+00:00", "2026-01-02T10:00:00+00:00", "2026-01-03T10:00:00+00:00"]),
    ("cron(15 12 * * ? *)", "UTC", "2026-01-01T12:15:00+00:00", 2,
     ["2026-01-02T12:15:00+00:00", "2026-01-03T12:15:00+00:00"]),
    # day ranges by name: Thu 1, Fri 2, then Mon 5
    ("cron(0 18 ? * MON-FRI *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-01T18:00:00+00:00", "2026-01-02T18:00:00+00:00", "2026-01-05T18:00:00+00:00"]),
    ("cron(0 8 1 * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-01T08:00:00+00:00", "2026-02-01T08:00:00+00:00", "2026-03-01T08:00:00+00:00"]),
    # steps: strictly after midnight
    ("cron(0/15 * * * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00", "2026-01-01T00:45:00+00:00"]),
    ("cron(*/20 * * * ? *)", "UTC", "2026-01-01T00:59:59+00:00", 2,
     ["2026-01-01T01:00:00+00:00", "2026-01-01T01:20:00+00:00"]),
    # over the weekend: Fri 2 23:55 -> Mon 5
    ("cron(0/10 * ? * MON-FRI *)", "UTC", "2026-01-02T23:55:00+00:00", 3,
     ["2026-01-05T00:00:00+00:00", "2026-01-05T00:10:00+00:00", "2026-01-05T00:20:00+00:00"]),
    ("cron(0/5 8-17 ? * MON-FRI *)", "UTC", "2026-01-01T17:52:00+00:00", 3,
     ["2026-01-01T17:55:00+00:00", "2026-01-02T08:00:00+00:00", "2026-01-02T08:05:00+00:00"]),
    # lists of minutes and a stepped hour
    ("cron(5,35 */6 * * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-01T00:05:00+00:00", "2026-01-01T00:35:00+00:00", "2026-01-01T06:05:00+00:00"]),
    # range with a step in day-of-month: 1, 4, 7, 10
    ("cron(0 0 1-10/3 * ? *)", "UTC", NEW_YEAR_2026, 4,
     ["2026-01-04T00:00:00+00:00", "2026-01-07T00:00:00+00:00",
      "2026-01-10T00:00:00+00:00", "2026-02-01T00:00:00+00:00"]),
    # month names with a step: JAN, MAR
    ("cron(0 0 1 JAN-MAR/2 ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-03-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00", "2027-03-01T00:00:00+00:00"]),
    ("cron(0 6 ? JAN,JUL MON *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-05T06:00:00+00:00", "2026-01-12T06:00:00+00:00", "2026-01-19T06:00:00+00:00"]),
    # names are case-insensitive: Sat 3, Sun 4, Sat 10
    ("cron(30 6 ? * sat,sun *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-03T06:30:00+00:00", "2026-01-04T06:30:00+00:00", "2026-01-10T06:30:00+00:00"]),
    # day 31 only in months that have it
    ("cron(0 9 31 * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-31T09:00:00+00:00", "2026-03-31T09:00:00+00:00", "2026-05-31T09:00:00+00:00"]),
    # L: last day of the month
    ("cron(0 0 L * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00", "2026-03-31T00:00:00+00:00"]),
    # LW: Sat 31 Jan -> Fri 30; Sat 28 Feb -> Fri 27; Tue 31 Mar
    ("cron(0 0 LW * ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00", "2026-03-31T00:00:00+00:00"]),
    # 1W: Sat 1 Aug -> Mon 3 (never back into July); Tue 1 Sep; Thu 1 Oct
    ("cron(0 9 1W * ? 2026)", "UTC", "2026-07-15T00:00:00+00:00", 3,
     ["2026-08-03T09:00:00+00:00", "2026-09-01T09:00:00+00:00", "2026-10-01T09:00:00+00:00"]),
    # 1W: Sun 1 Feb -> Mon 2
    ("cron(0 9 1W * ? *)", "UTC", "2026-01-15T00:00:00+00:00", 1,
     ["2026-02-02T09:00:00+00:00"]),
    # 31W: Sun 31 May -> Fri 29 (never into June); no 31 in June; Fri 31 Jul; Mon 31 Aug
    ("cron(0 9 31W * ? *)", "UTC", "2026-04-15T00:00:00+00:00", 3,
     ["2026-05-29T09:00:00+00:00", "2026-07-31T09:00:00+00:00", "2026-08-31T09:00:00+00:00"]),
    # 31W: Sat 31 Oct -> Fri 30
    ("cron(0 9 31W * ? *)", "UTC", "2026-10-01T00:00:00+00:00", 1,
     ["2026-10-30T09:00:00+00:00"]),
    # 15W: Sun 15 Feb -> Mon 16; Sun 15 Mar -> Mon 16; Wed 15 Apr
    ("cron(0 9 15W * ? *)", "UTC", "2026-02-01T00:00:00+00:00", 3,
     ["2026-02-16T09:00:00+00:00", "2026-03-16T09:00:00+00:00", "2026-04-15T09:00:00+00:00"]),
    # 15W: Sat 15 Aug -> Fri 14
    ("cron(0 9 15W * ? *)", "UTC", "2026-07-16T00:00:00+00:00", 1,
     ["2026-08-14T09:00:00+00:00"]),
    # 5L: last Thursday
    ("cron(0 12 ? * 5L *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-29T12:00:00+00:00", "2026-02-26T12:00:00+00:00", "2026-03-26T12:00:00+00:00"]),
    # L alone in day-of-week: Saturday
    ("cron(0 12 ? * L *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-03T12:00:00+00:00", "2026-01-10T12:00:00+00:00", "2026-01-17T12:00:00+00:00"]),
    # 3#2: second Tuesday
    ("cron(0 12 ? * 3#2 *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-13T12:00:00+00:00", "2026-02-10T12:00:00+00:00", "2026-03-10T12:00:00+00:00"]),
    # 2#1: first Monday
    ("cron(0 9 ? * MON#1 *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-05T09:00:00+00:00", "2026-02-02T09:00:00+00:00", "2026-03-02T09:00:00+00:00"]),
    # 6#5: fifth Friday, only in months that have one
    ("cron(0 12 ? * 6#5 *)", "UTC", NEW_YEAR_2026, 3,
     ["2026-01-30T12:00:00+00:00", "2026-05-29T12:00:00+00:00", "2026-07-31T12:00:00+00:00"]),
    # the User Guide's example: last Friday, 2022-2023 (2022 starts on a Saturday)
    ("cron(15 10 ? * 6L 2022-2023)", "UTC", "2022-01-01T00:00:00+00:00", 3,
     ["2022-01-28T10:15:00+00:00", "2022-02-25T10:15:00+00:00", "2022-03-25T10:15:00+00:00"]),
    # ... and its year bound: one more (Fri 29 Dec 2023), then none
    ("cron(15 10 ? * 6L 2022-2023)", "UTC", "2023-11-30T00:00:00+00:00", 5,
     ["2023-12-29T10:15:00+00:00"]),
    # Feb 29
    ("cron(0 0 29 2 ? *)", "UTC", NEW_YEAR_2026, 3,
     ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00"]),
    ("cron(0 0 29 2 ? 2025-2030)", "UTC", NEW_YEAR_2026, 5, ["2028-02-29T00:00:00+00:00"]),
    # a fifth Sunday in February needs a leap year whose Feb 29 is a Sunday (2032)
    ("cron(0 12 ? FEB 1#5 *)", "UTC", NEW_YEAR_2026, 1, ["2032-02-29T12:00:00+00:00"]),
    # year steps: 2027, 2029, ...; 1 Jan 2027 is a Friday
    ("cron(0 12 ? * MON 2027/2)", "UTC", NEW_YEAR_2026, 2,
     ["2027-01-04T12:00:00+00:00", "2027-01-11T12:00:00+00:00"]),
    # the last possible minute, then nothing
    ("cron(59 23 31 12 ? 2199)", "UTC", NEW_YEAR_2026, 5, ["2199-12-31T23:59:00+00:00"]),
    ("cron(0 0 1 1 ? 1970-2025)", "UTC", NEW_YEAR_2026, 5, []),
    ("cron(0 0 30 2 ? *)", "UTC", NEW_YEAR_2026, 5, []),
    # time zones without daylight saving time
    ("cron(0 9 * * ? *)", "Asia/Taipei", "2026-03-07T00:00:00+00:00", 3,
     ["2026-03-07T09:00:00+08:00", "2026-03-08T09:00:00+08:00", "2026-03-09T09:00:00+08:00"]),
    ("cron(0 9 * * ? *)", "Asia/Taipei", "2026-10-31T12:00:00+00:00", 2,
     ["2026-11-01T09:00:00+08:00", "2026-11-02T09:00:00+08:00"]),
    # New York, spring forward: 02:30 on 2026-03-08 does not exist and is skipped
    ("cron(30 2 * * ? *)", "America/New_York", "2026-03-07T12:00:00+00:00", 3,
     ["2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00", "2026-03-11T02:30:00-04:00"]),
    # ... the minutes around the gap
    ("cron(0/30 * * * ? *)", "America/New_York", "2026-03-08T06:15:00+00:00", 3,
     ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]),
    # New York, fall back: 01:30 on 2026-11-01 happens twice and fires once, the first time
    ("cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00+00:00", 3,
     ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"]),
    # ... every half hour: the repeated 01:00 and 01:30 (EST) do not fire again
    ("cron(0/30 * * * ? *)", "America/New_York", "2026-11-01T04:45:00+00:00", 6,
     ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00",
      "2026-11-01T02:30:00-05:00", "2026-11-01T03:00:00-05:00", "2026-11-01T03:30:00-05:00"]),
    # ... strictly after the first 01:30: the second 01:30 is not a fire time
    ("cron(30 1 * * ? *)", "America/New_York", "2026-11-01T05:30:00+00:00", 1,
     ["2026-11-02T01:30:00-05:00"]),
    # Berlin, spring forward 2026-03-29 and fall back 2026-10-25
    ("cron(30 2 * * ? *)", "Europe/Berlin", "2026-03-28T12:00:00+00:00", 2,
     ["2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]),
    ("cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-24T12:00:00+00:00", 2,
     ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    ("cron(0 * * * ? *)", "Europe/Berlin", "2026-10-24T23:30:00+00:00", 3,
     ["2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00"]),
    # Lord Howe Island shifts by 30 minutes: 01:45 repeats on 2026-04-05 ...
    ("cron(45 1 * * ? *)", "Australia/Lord_Howe", "2026-04-04T00:00:00+00:00", 3,
     ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30", "2026-04-07T01:45:00+10:30"]),
    # ... and 02:00-02:29 does not exist on 2026-10-04, while 02:45 does
    ("cron(15 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T00:00:00+00:00", 2,
     ["2026-10-05T02:15:00+11:00", "2026-10-06T02:15:00+11:00"]),
    ("cron(45 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T00:00:00+00:00", 2,
     ["2026-10-04T02:45:00+11:00", "2026-10-05T02:45:00+11:00"]),
    # one-time schedules
    ("at(2026-11-22T10:00:00)", "UTC", NEW_YEAR_2026, 5, ["2026-11-22T10:00:00+00:00"]),
    ("at(2026-11-22T10:00:00)", "Asia/Taipei", NEW_YEAR_2026, 5, ["2026-11-22T10:00:00+08:00"]),
    ("at(2026-11-22T10:00:30)", "UTC", "2026-11-22T10:00:00+00:00", 1,
     ["2026-11-22T10:00:30+00:00"]),
    ("at(2026-11-22T10:00:00)", "UTC", "2026-11-22T10:00:00+00:00", 1, []),
    # an at time in the New York gap moves forward by the gap; a repeated one fires first time
    ("at(2026-03-08T02:30:00)", "America/New_York", NEW_YEAR_2026, 1,
     ["2026-03-08T03:30:00-04:00"]),
    ("at(2026-11-01T01:30:00)", "America/New_York", NEW_YEAR_2026, 1,
     ["2026-11-01T01:30:00-04:00"]),
    # rate without an anchor: the query instant is the creation instant
    ("rate(1 hour)", "UTC", "2026-01-01T10:00:30+00:00", 2,
     ["2026-01-01T11:00:30+00:00", "2026-01-01T12:00:30+00:00"]),
    ("rate(15 minutes)", "Europe/Berlin", "2026-01-01T10:00:00+00:00", 2,
     ["2026-01-01T11:15:00+01:00", "2026-01-01T11:30:00+01:00"]),
]


@pytest.mark.parametrize(
    ("expression", "time_zone", "after", "count", "expected"),
    FIRE_TIME_CASES,
    ids=[f"{case[0]}@{case[1]}>{case[2][:16]}" for case in FIRE_TIME_CASES],
)
def test_next_fire_times_table(expression, time_zone, after, count, expected):
    fires = next_fire_times(expression, after=utc(after), count=count, time_zone=time_zone)

    assert iso(fires) == expected
    assert all(fire.tzinfo == ZoneInfo(time_zone) for fire in fires)


def test_the_table_has_at_least_thirty_expressions():
    assert len({case[0] for case in FIRE_TIME_CASES}) >= 30


# --------------------------------------------------------------------------- rate anchors, bounds


def test_rate_fires_first_at_its_start_date_then_every_interval():
    # GIVEN a start date after the query instant
    start = utc("2026-01-01T09:00:00")

    fires = next_fire_times("rate(5 minutes)", after=utc(NEW_YEAR_2026), count=3, start=start)

    assert iso(fires) == [
        "2026-01-01T09:00:00+00:00",
        "2026-01-01T09:05:00+00:00",
        "2026-01-01T09:10:00+00:00",
    ]


def test_rate_keeps_the_grid_of_its_start_date_after_the_query_instant():
    fires = next_fire_times(
        "rate(5 minutes)",
        after=utc("2026-01-01T09:07:00"),
        count=2,
        start=utc("2026-01-01T09:00:00"),
    )

    assert iso(fires) == ["2026-01-01T09:10:00+00:00", "2026-01-01T09:15:00+00:00"]


def test_rate_without_start_date_fires_at_creation_then_every_interval():
    created = utc("2026-01-01T08:00:00")

    fires = next_fire_times(
        "rate(90 minutes)", after=utc("2026-01-01T07:00:00"), count=3, created_at=created
    )

    assert iso(fires) == [
        "2026-01-01T08:00:00+00:00",
        "2026-01-01T09:30:00+00:00",
        "2026-01-01T11:00:00+00:00",
    ]


def test_start_date_wins_over_creation_instant_for_a_rate():
    fires = next_fire_times(
        "rate(1 hour)",
        after=utc(NEW_YEAR_2026),
        count=1,
        start=utc("2026-01-02T00:10:00"),
        created_at=utc("2026-01-01T00:00:00"),
    )

    assert iso(fires) == ["2026-01-02T00:10:00+00:00"]


def test_rate_in_days_is_24_hours_across_daylight_saving_time():
    # GIVEN a daily rate created at 07:00 EST on the day before New York springs forward
    created = utc("2026-03-07T12:00:00")

    fires = next_fire_times(
        "rate(1 day)", after=created, count=2, time_zone="America/New_York", created_at=created
    )

    # THEN the wall-clock time moves to 08:00 EDT: a day is 24 hours on the clock
    assert iso(fires) == ["2026-03-08T08:00:00-04:00", "2026-03-09T08:00:00-04:00"]


def test_rate_stops_before_the_end_date():
    fires = next_fire_times(
        "rate(2 hours)",
        after=utc("2025-12-31T00:00:00"),
        count=10,
        start=utc("2026-01-01T00:00:00"),
        end=utc("2026-01-01T06:00:00"),
    )

    assert iso(fires) == [
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T02:00:00+00:00",
        "2026-01-01T04:00:00+00:00",
    ]


def test_cron_start_date_is_included_and_end_date_excluded():
    fires = next_fire_times(
        "cron(0 * * * ? *)",
        after=utc(NEW_YEAR_2026),
        count=10,
        start=utc("2026-01-01T05:00:00"),
        end=utc("2026-01-01T08:00:00"),
    )

    assert iso(fires) == [
        "2026-01-01T05:00:00+00:00",
        "2026-01-01T06:00:00+00:00",
        "2026-01-01T07:00:00+00:00",
    ]


def test_cron_start_date_before_the_query_instant_changes_nothing():
    fires = next_fire_times(
        "cron(0 * * * ? *)", after=utc("2026-01-01T05:00:00"), count=1, start=utc(NEW_YEAR_2026)
    )

    assert iso(fires) == ["2026-01-01T06:00:00+00:00"]


def test_at_ignores_start_and_end_dates_like_eventbridge_scheduler():
    fires = next_fire_times(
        "at(2026-06-01T00:00:00)",
        after=utc(NEW_YEAR_2026),
        count=1,
        start=utc("2026-07-01T00:00:00"),
        end=utc("2026-05-01T00:00:00"),
    )

    assert iso(fires) == ["2026-06-01T00:00:00+00:00"]


def test_after_may_be_given_in_any_zone():
    after = datetime(2026, 3, 8, 1, 15, tzinfo=ZoneInfo("America/New_York"))  # 06:15 UTC

    fires = next_fire_times("cron(0/30 * * * ? *)", after=after, count=1, time_zone="Asia/Taipei")

    assert iso(fires) == ["2026-03-08T14:30:00+08:00"]


def test_count_zero_returns_nothing():
    assert next_fire_times("cron(* * * * ? *)", after=utc(NEW_YEAR_2026), count=0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"after": datetime(2026, 1, 1)}, "after must be a timezone-aware datetime, got "
         "datetime.datetime(2026, 1, 1, 0, 0)"),
        ({"after": utc(NEW_YEAR_2026), "count": -1},
         "count must be a whole number of 0 or more, got -1"),
        ({"after": utc(NEW_YEAR_2026), "time_zone": "Mars/Base"},
         "time zone must be an IANA time zone name such as 'UTC' or 'America/New_York', "
         "got 'Mars/Base'"),
        ({"after": utc(NEW_YEAR_2026), "end": datetime(2026, 2, 1)},
         "end must be a timezone-aware datetime, got datetime.datetime(2026, 2, 1, 0, 0)"),
    ],
)
def test_next_fire_times_rejects_bad_arguments(kwargs, message):
    arguments = {"count": 1, **kwargs}

    with pytest.raises(ValueError) as raised:
        next_fire_times("cron(0 12 * * ? *)", **arguments)

    assert str(raised.value) == message


def test_next_fire_times_raises_on_an_invalid_expression():
    with pytest.raises(ScheduleExpressionError) as raised:
        next_fire_times("cron(0 12 * * * *)", after=utc(NEW_YEAR_2026), count=1)

    assert raised.value.problems == [
        "cron day-of-month and day-of-week: exactly one must be '?', got '*' and '*'"
    ]


# --------------------------------------------------------------------------- fires_between


@pytest.mark.parametrize(
    ("expression", "time_zone", "begin", "end", "expected"),
    [
        # 22 weekdays in March 2026
        ("cron(0 9 ? * MON-FRI *)", "UTC", "2026-03-01T00:00:00", "2026-04-01T00:00:00", 22),
        ("cron(* * * * ? *)", "UTC", "2026-01-01T00:00:00", "2026-01-02T00:00:00", 1440),
        # begin included, end excluded
        ("cron(0 * * * ? *)", "UTC", "2026-01-01T05:00:00", "2026-01-01T08:00:00", 3),
        # New York's 23-hour day has 1380 wall-clock minutes ...
        ("cron(* * * * ? *)", "America/New_York", "2026-03-08T00:00:00-05:00",
         "2026-03-09T00:00:00-04:00", 1380),
        # ... and its 25-hour day still fires each wall-clock minute once
        ("cron(* * * * ? *)", "America/New_York", "2026-11-01T00:00:00-04:00",
         "2026-11-02T00:00:00-05:00", 1440),
        ("cron(30 2 * * ? *)", "America/New_York", "2026-03-01T00:00:00-05:00",
         "2026-04-01T00:00:00-04:00", 30),
        # a whole (non-leap) year of minutes, less the hour skipped in spring
        ("cron(* * * * ? *)", "Europe/Berlin", "2026-01-01T00:00:00+01:00",
         "2027-01-01T00:00:00+01:00", 525_600 - 60),
        ("rate(1 hour)", "UTC", "2026-03-01T00:00:00", "2026-03-02T00:00:00", 24),
        ("at(2026-11-22T10:00:00)", "UTC", "2026-11-22T10:00:00", "2026-11-22T10:01:00", 1),
        ("at(2026-11-22T10:00:00)", "UTC", "2026-11-22T09:00:00", "2026-11-22T10:00:00", 0),
        ("cron(0 12 * * ? *)", "UTC", "2026-01-02T00:00:00", "2026-01-01T00:00:00", 0),
    ],
)
def test_fires_between(expression, time_zone, begin, end, expected):
    count = fires_between(expression, begin=utc(begin), end=utc(end), time_zone=time_zone)

    assert count == expected


def test_fires_between_rate_counts_on_the_grid_of_its_start_date():
    # fires at 00:00, 01:30, 03:00, 04:30; the window [01:00, 04:30) holds two of them
    count = fires_between(
        "rate(90 minutes)",
        begin=utc("2026-01-01T01:00:00"),
        end=utc("2026-01-01T04:30:00"),
        start=utc("2026-01-01T00:00:00"),
    )

    assert count == 2


def test_fires_between_agrees_with_next_fire_times():
    begin, end = utc("2026-10-20T00:00:00"), utc("2026-11-10T00:00:00")
    expression = "cron(0/20 0-3 ? * SUN,MON *)"

    listed = next_fire_times(expression, after=begin - timedelta(microseconds=1), count=10_000,
                             end=end, time_zone="America/New_York")

    count = fires_between(expression, begin=begin, end=end, time_zone="America/New_York")

    assert count == len(listed)


# --------------------------------------------------------------------------- min_interval


@pytest.mark.parametrize(
    ("expression", "time_zone", "expected"),
    [
        ("rate(7 days)", "UTC", timedelta(days=7)),
        ("rate(1 minute)", "UTC", timedelta(minutes=1)),
        ("at(2026-11-22T10:00:00)", "UTC", None),
        ("cron(* * * * ? *)", "UTC", timedelta(minutes=1)),
        ("cron(0 9,17 ? * MON-FRI *)", "UTC", timedelta(hours=8)),
        ("cron(0/15 * * * ? *)", "America/New_York", timedelta(minutes=15)),
        ("cron(0 12 ? * 2#1 *)", "UTC", timedelta(days=28)),
        # 01:30 and 03:30 are 2 hours apart on the clock, 1 hour apart on spring-forward day
        ("cron(30 1,3 * * ? *)", "UTC", timedelta(hours=2)),
        ("cron(30 1,3 * * ? *)", "America/New_York", timedelta(hours=1)),
        ("cron(0 0 29 2 ? *)", "UTC", timedelta(days=1461)),
        ("cron(0 0 1 1 ? 2030)", "UTC", None),
        ("cron(0 0 30 2 ? *)", "UTC", None),
    ],
)
def test_min_interval(expression, time_zone, expected):
    assert min_interval(expression, time_zone=time_zone, after=utc(NEW_YEAR_2026)) == expected


# --------------------------------------------------------------------------- parsing


def test_parse_expression_returns_the_fields():
    parsed = parse_expression("cron(0/20 8-9 ? JAN,mar MON-WED 2026-2030/2)")

    assert parsed.kind == "cron"
    assert parsed.minutes == (0, 20, 40)
    assert parsed.hours == (8, 9)
    assert parsed.day_of_month == DayOfMonthRule("any")
    assert parsed.months == (1, 3)
    assert parsed.day_of_week == DayOfWeekRule("days", (2, 3, 4))
    assert parsed.years == (2026, 2028, 2030)
    assert parsed.interval is None


@pytest.mark.parametrize(
    ("expression", "value", "unit", "interval"),
    [
        ("rate(1 minute)", 1, "minutes", timedelta(minutes=1)),
        ("rate(1 minutes)", 1, "minutes", timedelta(minutes=1)),
        ("rate(12 hours)", 12, "hours", timedelta(hours=12)),
        ("rate(1 day)", 1, "days", timedelta(days=1)),
        ("rate(1 days)", 1, "days", timedelta(days=1)),
    ],
)
def test_parse_rate(expression, value, unit, interval):
    parsed = parse_expression(expression)

    assert (parsed.kind, parsed.rate_value, parsed.rate_unit, parsed.interval) == (
        "rate", value, unit, interval)


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("L", DayOfMonthRule("last")),
        ("LW", DayOfMonthRule("last_weekday")),
        ("15W", DayOfMonthRule("nearest_weekday", (15,))),
        ("1,15", DayOfMonthRule("days", (1, 15))),
    ],
)
def test_parse_day_of_month_forms(field, rule):
    assert parse_expression(f"cron(0 0 {field} * ? *)").day_of_month == rule


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("L", DayOfWeekRule("days", (7,))),
        ("5L", DayOfWeekRule("last", (5,))),
        ("FRIL", DayOfWeekRule("last", (6,))),
        ("3#2", DayOfWeekRule("nth", (3,), 2)),
        ("*", DayOfWeekRule("days", (1, 2, 3, 4, 5, 6, 7))),
    ],
)
def test_parse_day_of_week_forms(field, rule):
    assert parse_expression(f"cron(0 0 ? * {field} *)").day_of_week == rule


def test_parse_at_keeps_the_wall_clock_time():
    assert parse_expression("at(2026-11-22T10:00:30)").at == datetime(2026, 11, 22, 10, 0, 30)


SHAPES = (
    "rate(value unit), cron(minutes hours day-of-month month day-of-week year) "
    "or at(yyyy-mm-ddThh:mm:ss)"
)

INVALID_CASES = [
    ("every 5 minutes", [f"schedule expression must be {SHAPES}, got 'every 5 minutes'"]),
    ("CRON(0 12 * * ? *)", [f"schedule expression must be {SHAPES}, got 'CRON(0 12 * * ? *)'"]),
    ("rate(0 minutes)", ["rate value must be a positive whole number, got '0'"]),
    ("rate(1.5 hours)", ["rate value must be a positive whole number, got '1.5'"]),
    ("rate(5 minute)", ["rate unit must be plural when the value is not 1 ('minutes'), "
                        "got '5 minute'"]),
    ("rate(5 weeks)", ["rate unit must be minutes, hours or days (minute, hour or day when the "
                       "value is 1), got 'weeks'"]),
    ("rate(5)", ["rate expression must be rate(value unit) such as rate(5 minutes), "
                 "got 'rate(5)'"]),
    ("cron(0 12 * * ?)", ["cron expression must have 6 fields (minutes hours day-of-month month "
                          "day-of-week year), got 5 in 'cron(0 12 * * ?)'"]),
    ("cron(0 12 1 * MON *)", ["cron day-of-month and day-of-week: exactly one must be '?', "
                              "got '1' and 'MON'"]),
    ("cron(0 12 ? * ? *)", ["cron day-of-month and day-of-week: exactly one must be '?', "
                            "got '?' and '?'"]),
    ("cron(60 12 * * ? *)", ["cron minutes: values must be in 0-59, got '60'"]),
    ("cron(0 24 * * ? *)", ["cron hours: values must be in 0-23, got '24'"]),
    ("cron(0 12 0 * ? *)", ["cron day-of-month: values must be in 1-31, got '0'"]),
    ("cron(0 12 * 13 ? *)", ["cron month: values must be in 1-12 or JAN-DEC, got '13'"]),
    ("cron(0 12 * JAN-FOO ? *)", ["cron month: values must be in 1-12 or JAN-DEC, got 'FOO'"]),
    ("cron(0 12 ? * 0 *)", ["cron day-of-week: values must be in 1-7 or SUN-SAT, got '0'"]),
    ("cron(0 12 * * ? 1969)", ["cron year: values must be in 1970-2199, got '1969'"]),
    ("cron(0 12 * * ? 2026-2200)", ["cron year: values must be in 1970-2199, got '2200'"]),
    ("cron(*/60 * * * ? *)", ["cron minutes: the step after '/' must be a whole number from 1 "
                              "to 59, got '*/60'"]),
    ("cron(0 0/0 * * ? *)", ["cron hours: the step after '/' must be a whole number from 1 "
                             "to 23, got '0/0'"]),
    ("cron(0 12 ? * MON/2 *)", ["cron day-of-week: '/' is not allowed here (allowed wildcards: "
                                ", - * ? L #), got 'MON/2'"]),
    ("cron(0 12 ? * 3#1,6#3 *)", ["cron day-of-week: '#' must stand alone as day#n, with the day "
                                  "in 1-7 or SUN-SAT and n in 1-5, such as 3#2, got '3#1,6#3'"]),
    ("cron(0 12 ? * 3#6 *)", ["cron day-of-week: '#' must stand alone as day#n, with the day "
                              "in 1-7 or SUN-SAT and n in 1-5, such as 3#2, got '3#6'"]),
    ("cron(0 12 ? * 2L,3 *)", ["cron day-of-week: 'L' must stand alone, as L (Saturday) or a day "
                               "followed by L such as 5L or FRIL, got '2L,3'"]),
    ("cron(0 12 1,L * ? *)", ["cron day-of-month: 'L' and 'W' must stand alone, as L, LW or a "
                              "day followed by W such as 15W, got '1,L'"]),
    ("cron(0 12 L-3 * ? *)", ["cron day-of-month: 'L' and 'W' must stand alone, as L, LW or a "
                              "day followed by W such as 15W, got 'L-3'"]),
    ("cron(0 12 32W * ? *)", ["cron day-of-month: the day before 'W' must be in 1-31, got '32W'"]),
    ("cron(0 22-2 * * ? *)", ["cron hours: a range must go from low to high (ranges do not wrap "
                              "around), got '22-2'"]),
    ("cron(? 12 * * ? *)", ["cron minutes: '?' is only allowed in day-of-month and day-of-week, "
                            "got '?'"]),
    ("cron(0 12 1,,2 * ? *)", ["cron day-of-month: a list item is empty, got '1,,2'"]),
    ("cron(0 12 * * ? 5L)", ["cron year: values must be in 1970-2199, got '5L'"]),
    ("at(2026-11-22 10:00:00)", ["at expression must be at(yyyy-mm-ddThh:mm:ss) such as "
                                 "at(2026-11-22T10:00:00), got 'at(2026-11-22 10:00:00)'"]),
    ("at(2026-02-29T10:00:00)", ["at date and time must exist on the calendar (month 1-12, a day "
                                 "of that month, hour 0-23, minute and second 0-59), "
                                 "got '2026-02-29T10:00:00'"]),
    # every problem at once
    ("cron(60 24 * * MON 2200)", [
        "cron minutes: values must be in 0-59, got '60'",
        "cron hours: values must be in 0-23, got '24'",
        "cron year: values must be in 1970-2199, got '2200'",
        "cron day-of-month and day-of-week: exactly one must be '?', got '*' and 'MON'",
    ]),
    ("rate(0 weeks)", [
        "rate value must be a positive whole number, got '0'",
        "rate unit must be minutes, hours or days (minute, hour or day when the value is 1), "
        "got 'weeks'",
    ]),
]


@pytest.mark.parametrize(
    ("expression", "problems"), INVALID_CASES, ids=[case[0] for case in INVALID_CASES]
)
def test_invalid_expressions_name_the_problem(expression, problems):
    assert validate_expression(expression) == problems

    with pytest.raises(ScheduleExpressionError) as raised:
        parse_expression(expression)

    assert raised.value.problems == problems
    assert str(raised.value) == "; ".join(problems)
    assert isinstance(raised.value, ValueError)


def test_there_are_at_least_fifteen_invalid_expressions():
    assert len(INVALID_CASES) >= 15


def test_validate_expression_rejects_a_non_string():
    problems = validate_expression(5)  # type: ignore[arg-type]

    assert problems == ["schedule expression must be a string, got int"]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(10 minutes)",
        "rate(1 days)",
        "cron(0 12 * * ? *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(15 10 ? * 6L 2022-2023)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 ? * L *)",
        "cron(0 0 ? * 7#5 *)",
        "cron(0  0  1  *  ?  *)",
        "at(2030-01-01T00:00:00)",
    ],
)
def test_valid_expressions_have_no_problems(expression):
    assert validate_expression(expression) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("UTC", None),
        ("America/New_York", None),
        ("Australia/Lord_Howe", None),
        ("Mars/Base", "time zone must be an IANA time zone name such as 'UTC' or "
                      "'America/New_York', got 'Mars/Base'"),
        ("", "time zone must be an IANA time zone name such as 'UTC' or 'America/New_York', "
             "got ''"),
    ],
)
def test_validate_time_zone(name, expected):
    assert validate_time_zone(name) == expected


# --------------------------------------------------------------------------- against an oracle


def _oracle_day_matches(day_of_month: str, day_of_week: str, day: date) -> bool:
    """Independent day matching, from the definitions rather than from the module's arithmetic."""
    length = calendar.monthrange(day.year, day.month)[1]
    aws_weekday = day.isoweekday() % 7 + 1  # Sunday 1 ... Saturday 7
    if day_of_week == "?":
        spec = day_of_month
        if spec == "L":
            return day.day == length
        if spec.endswith("W"):
            wanted = length if spec == "LW" else int(spec[:-1])
            if wanted > length:
                return False
            weekdays = [
                d for d in range(1, length + 1) if date(day.year, day.month, d).isoweekday() <= 5
            ]
            return day.day == min(weekdays, key=lambda d: abs(d - wanted))
        return day.day == int(spec)
    spec = day_of_week
    if "#" in spec:
        weekday, nth = (int(part) for part in spec.split("#"))
        return aws_weekday == weekday and (day.day - 1) // 7 + 1 == nth
    if spec.endswith("L"):
        return aws_weekday == int(spec[:-1]) and day.day + 7 > length
    return aws_weekday == int(spec)


@pytest.mark.parametrize(
    ("day_of_month", "day_of_week"),
    [("1W", "?"), ("15W", "?"), ("30W", "?"), ("31W", "?"), ("LW", "?"), ("L", "?"),
     ("?", "2#5"), ("?", "7#1"), ("?", "1L"), ("?", "6L")],
)
def test_day_rules_agree_with_their_definitions_over_eight_years(day_of_month, day_of_week):
    expression = f"cron(0 12 {day_of_month} * {day_of_week} 2026-2033)"

    fires = next_fire_times(expression, after=utc("2025-12-31T23:59:00"), count=500)

    expected = []
    current = date(2026, 1, 1)
    while current.year <= 2033:
        if _oracle_day_matches(day_of_month, day_of_week, current):
            expected.append(current)
        current += timedelta(days=1)
    assert [fire.date() for fire in fires] == expected


@pytest.mark.parametrize(
    ("time_zone", "begin"),
    [
        ("America/New_York", "2026-03-07T12:00:00"),
        ("America/New_York", "2026-10-31T12:00:00"),
        ("Europe/Berlin", "2026-03-28T12:00:00"),
        ("Europe/Berlin", "2026-10-24T12:00:00"),
        ("Australia/Lord_Howe", "2026-04-04T00:00:00"),
        ("Australia/Lord_Howe", "2026-10-03T00:00:00"),
    ],
)
def test_fire_times_around_daylight_saving_changes_agree_with_a_minute_by_minute_walk(
    time_zone, begin
):
    # The walk steps through real (UTC) minutes: a wall-clock time in a gap never shows up,
    # and a repeated one is taken only the first time (fold 0), as the AWS guide describes.
    expression = "cron(0/15 0-4 * * ? *)"
    zone = ZoneInfo(time_zone)
    start, stop = utc(begin), utc(begin) + timedelta(days=2)
    expected = []
    moment = start + timedelta(minutes=1)
    while moment < stop:
        local = moment.astimezone(zone)
        if local.fold == 0 and local.minute % 15 == 0 and local.hour <= 4:
            expected.append(local)
        moment += timedelta(minutes=1)

    fires = next_fire_times(expression, after=start, count=1000, end=stop, time_zone=time_zone)

    assert iso(fires) == iso(expected)


# --------------------------------------------------------------------------- speed


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 0 29 2 ? *)",
        "cron(0 12 ? FEB 1#5 *)",
        "cron(0 0 30 2 ? *)",
        "cron(0 0 31 4,6,9,11 ? *)",
        "cron(* * * * ? 2199)",
        "cron(59 23 L 12 ? 2190-2199)",
        "cron(0 9 ? * 6#5 *)",
    ],
)
def test_sparse_and_impossible_schedules_are_fast(expression):
    began = time.perf_counter()

    next_fire_times(expression, after=utc(NEW_YEAR_2026), count=5, time_zone="Europe/Berlin")

    assert time.perf_counter() - began < 0.25


def test_module_imports_only_the_standard_library():
    tree = ast.parse(Path(schedule_expressions.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}

    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names)
