"""Schedule warnings: the schedules that do not run the way a cron user expects.

Expected dates were worked out from the daylight-saving rules of the zones
used: Europe/Berlin changes on the last Sunday of March (02:00 -> 03:00) and
of October (03:00 -> 02:00), so 2026-03-29, 2026-10-25 and 2027-03-28;
America/New_York on the second Sunday of March (02:00 -> 03:00) and the first
Sunday of November (02:00 -> 01:00), so 2026-03-08 and 2026-11-01.
"""

from __future__ import annotations

import ast
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduled_tasks_constructs import schedule_warnings as module
from scheduled_tasks_constructs.schedule_expressions import ScheduleExpressionError
from scheduled_tasks_constructs.schedule_warnings import schedule_warnings

NEW_YEAR_2026 = datetime(2026, 1, 1, tzinfo=UTC)
APRIL_2026 = datetime(2026, 4, 1, tzinfo=UTC)

BERLIN_0230_GAP_2026 = (
    "schedule: cron(30 2 * * ? *) in Europe/Berlin falls in a daylight-saving gap on "
    "2026-03-29 (02:30 does not exist); EventBridge Scheduler skips that run"
)
BERLIN_0230_GAP_2027 = (
    "schedule: cron(30 2 * * ? *) in Europe/Berlin falls in a daylight-saving gap on "
    "2027-03-28 (02:30 does not exist); EventBridge Scheduler skips that run"
)
BERLIN_0230_FOLD_2026 = (
    "schedule: cron(30 2 * * ? *) in Europe/Berlin falls in a daylight-saving fold on "
    "2026-10-25 (02:30 happens twice); EventBridge Scheduler runs it once, at "
    "2026-10-25T02:30:00+02:00 (the first occurrence, before the clocks go back)"
)


# --------------------------------------------------------------------------- daylight saving


def test_daily_0230_in_berlin_warns_of_the_spring_gap_then_the_autumn_fold():
    # GIVEN a daily 02:30 schedule in Europe/Berlin, checked on New Year's Day 2026
    # WHEN it is checked
    warnings = schedule_warnings("cron(30 2 * * ? *)", time_zone="Europe/Berlin", now=NEW_YEAR_2026)

    # THEN the gap of 2026-03-29 and the fold of 2026-10-25 are named, in date order
    assert warnings == [BERLIN_0230_GAP_2026, BERLIN_0230_FOLD_2026]


def test_the_gap_named_is_the_first_one_after_now():
    # GIVEN the same schedule, checked after the 2026 spring change
    # WHEN it is checked
    warnings = schedule_warnings("cron(30 2 * * ? *)", time_zone="Europe/Berlin", now=APRIL_2026)

    # THEN the autumn fold comes first, then the gap of the next spring
    assert warnings == [BERLIN_0230_FOLD_2026, BERLIN_0230_GAP_2027]


def test_the_window_starts_at_start_when_start_is_after_now():
    # GIVEN a start date after the 2026 spring change and now before it
    start = datetime(2026, 4, 1, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings(
        "cron(30 2 * * ? *)", time_zone="Europe/Berlin", start=start, now=NEW_YEAR_2026
    )

    # THEN the 2026 gap, before the start, is not named
    assert warnings == [BERLIN_0230_FOLD_2026, BERLIN_0230_GAP_2027]


def test_the_window_ends_at_end():
    # GIVEN an end date between the spring gap and the autumn fold
    end = datetime(2026, 6, 1, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings(
        "cron(30 2 * * ? *)", time_zone="Europe/Berlin", end=end, now=NEW_YEAR_2026
    )

    # THEN only the gap is named
    assert warnings == [BERLIN_0230_GAP_2026]


def test_the_window_is_366_days():
    # GIVEN now just after the 2026 autumn change: the next fold is 2027-10-31, 371 days on
    now = datetime(2026, 10, 26, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings("cron(30 2 * * ? *)", time_zone="Europe/Berlin", now=now)

    # THEN only the 2027 spring gap is in the window
    assert warnings == [BERLIN_0230_GAP_2027]


def test_0900_in_berlin_has_no_warning():
    # GIVEN a daily 09:00 schedule in Europe/Berlin, away from both changes
    # WHEN it is checked; THEN nothing surprises
    assert schedule_warnings("cron(0 9 * * ? *)", time_zone="Europe/Berlin", now=NEW_YEAR_2026) == []


def test_a_utc_cron_has_no_warning():
    # GIVEN a daily 02:30 schedule in UTC, which has no daylight saving time
    # WHEN it is checked; THEN nothing surprises
    assert schedule_warnings("cron(30 2 * * ? *)", now=NEW_YEAR_2026) == []


def test_0215_in_new_york_falls_in_the_march_gap():
    # GIVEN a daily 02:15 schedule in America/New_York (01:00-01:59 repeats in November, not 02:15)
    # WHEN it is checked
    warnings = schedule_warnings(
        "cron(15 2 * * ? *)", time_zone="America/New_York", now=NEW_YEAR_2026
    )

    # THEN the gap of 2026-03-08 is named, and no fold
    assert warnings == [
        (
            "schedule: cron(15 2 * * ? *) in America/New_York falls in a daylight-saving gap on "
            "2026-03-08 (02:15 does not exist); EventBridge Scheduler skips that run"
        ),
    ]


def test_several_times_in_the_gap_and_the_fold_are_listed():
    # GIVEN a schedule every 15 minutes in America/New_York
    # WHEN it is checked
    warnings = schedule_warnings(
        "cron(0/15 * * * ? *)", time_zone="America/New_York", now=NEW_YEAR_2026
    )

    # THEN the four skipped times and the four repeated ones are listed
    assert warnings == [
        (
            "schedule: cron(0/15 * * * ? *) in America/New_York falls in a daylight-saving gap on "
            "2026-03-08 (02:00, 02:15, 02:30 and 02:45 do not exist); "
            "EventBridge Scheduler skips those runs"
        ),
        (
            "schedule: cron(0/15 * * * ? *) in America/New_York falls in a daylight-saving fold on "
            "2026-11-01 (01:00, 01:15, 01:30 and 01:45 happen twice); EventBridge Scheduler runs "
            "each of them once, at its first occurrence (UTC-04:00, before the clocks go back)"
        ),
    ]


def test_many_times_in_the_gap_are_counted():
    # GIVEN a schedule every minute in Europe/Berlin
    # WHEN it is checked
    warnings = schedule_warnings("cron(* * * * ? *)", time_zone="Europe/Berlin", now=NEW_YEAR_2026)

    # THEN the sixty minutes of each changed hour are counted
    assert [warning.split("(", 2)[2] for warning in warnings] == [
        "60 times from 02:00 to 02:59 do not exist); EventBridge Scheduler skips those runs",
        (
            "60 times from 02:00 to 02:59 happen twice); EventBridge Scheduler runs each of them "
            "once, at its first occurrence (UTC+02:00, before the clocks go back)"
        ),
    ]


def test_a_cron_that_skips_the_change_days_has_no_warning():
    # GIVEN 02:30 on Mondays only: both changes in Europe/Berlin are on a Sunday
    # WHEN it is checked; THEN nothing surprises
    assert schedule_warnings("cron(30 2 ? * MON *)", time_zone="Europe/Berlin", now=NEW_YEAR_2026) == []


def test_the_checks_are_fast_for_a_schedule_every_minute():
    # GIVEN a schedule every minute, which fires half a million times a year
    began = time.perf_counter()

    # WHEN it is checked
    schedule_warnings("cron(* * * * ? *)", time_zone="America/New_York", now=NEW_YEAR_2026)

    # THEN only the change days were looked at
    assert time.perf_counter() - began < 0.25


# --------------------------------------------------------------------------- at, rate


def test_an_at_time_before_now_never_fires():
    # GIVEN a one-time schedule in the past
    # WHEN it is checked
    warnings = schedule_warnings(
        "at(2025-12-01T10:00:00)", time_zone="Europe/Berlin", now=NEW_YEAR_2026
    )

    # THEN it is said never to fire
    assert warnings == [
        (
            "schedule: at(2025-12-01T10:00:00) in Europe/Berlin is before now "
            "(2026-01-01T00:00:00+00:00); EventBridge Scheduler never fires it"
        ),
    ]


def test_an_at_time_is_read_in_its_time_zone():
    # GIVEN 00:30 on New Year's Day in Europe/Berlin, which is 23:30 UTC the day before
    # WHEN it is checked at midnight UTC; THEN it is already past
    assert len(schedule_warnings("at(2026-01-01T00:30:00)", time_zone="Europe/Berlin", now=NEW_YEAR_2026)) == 1
    # AND in UTC it is still to come
    assert schedule_warnings("at(2026-01-01T00:30:00)", now=NEW_YEAR_2026) == []


def test_an_at_time_in_the_future_has_no_warning_and_ignores_start_and_end():
    # GIVEN a one-time schedule in the future, with an end before its start
    # WHEN it is checked
    warnings = schedule_warnings(
        "at(2026-12-01T10:00:00)",
        start=datetime(2026, 6, 1, tzinfo=UTC),
        end=datetime(2026, 5, 1, tzinfo=UTC),
        now=NEW_YEAR_2026,
    )

    # THEN nothing surprises: EventBridge Scheduler ignores start and end for at
    assert warnings == []


def test_a_rate_schedule_has_no_warning():
    # GIVEN a schedule every minute in a zone with daylight saving time
    # WHEN it is checked; THEN nothing surprises: a rate is a fixed duration
    assert schedule_warnings("rate(1 minute)", time_zone="Europe/Berlin", now=NEW_YEAR_2026) == []
    assert schedule_warnings("rate(5 minutes)", now=NEW_YEAR_2026) == []


# --------------------------------------------------------------------------- start and end


def test_end_before_the_first_fire_time_never_fires():
    # GIVEN a daily 09:00 Berlin schedule (08:00 UTC in winter) that ends at 07:00 UTC
    end = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings("cron(0 9 * * ? *)", time_zone="Europe/Berlin", end=end, now=NEW_YEAR_2026)

    # THEN it is said never to fire, with its first fire time
    assert warnings == [
        (
            "end: 2026-01-01T07:00:00+00:00 is not after the first fire time of cron(0 9 * * ? *) "
            "in Europe/Berlin (2026-01-01T09:00:00+01:00); the schedule never fires"
        ),
    ]


def test_end_at_the_first_fire_time_never_fires_and_just_after_it_fires():
    # GIVEN the same schedule, ending exactly at its first fire time, then a minute later
    at_first = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    after_first = datetime(2026, 1, 1, 8, 1, tzinfo=UTC)

    # WHEN each is checked; THEN only the first never fires (a fire time must be before end)
    assert len(schedule_warnings("cron(0 9 * * ? *)", time_zone="Europe/Berlin", end=at_first, now=NEW_YEAR_2026)) == 1
    assert schedule_warnings("cron(0 9 * * ? *)", time_zone="Europe/Berlin", end=after_first, now=NEW_YEAR_2026) == []


def test_end_already_past_never_fires():
    # GIVEN a schedule whose start and end are both before now
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2025, 6, 1, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings("cron(0 9 * * ? *)", start=start, end=end, now=NEW_YEAR_2026)

    # THEN the first fire time after now is named
    assert warnings == [
        (
            "end: 2025-06-01T00:00:00+00:00 is not after the first fire time of cron(0 9 * * ? *) "
            "in UTC (2026-01-01T09:00:00+00:00); the schedule never fires"
        ),
    ]


def test_a_rate_schedule_with_end_before_its_start_never_fires():
    # GIVEN a rate schedule whose end is before its start
    start = datetime(2026, 2, 1, tzinfo=UTC)
    end = datetime(2026, 1, 15, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings("rate(5 minutes)", start=start, end=end, now=NEW_YEAR_2026)

    # THEN it is said never to fire
    assert warnings == [
        (
            "end: 2026-01-15T00:00:00+00:00 is not after start 2026-02-01T00:00:00+00:00; "
            "the schedule never fires"
        ),
    ]


def test_end_equal_to_start_never_fires_and_hides_the_daylight_saving_warnings():
    # GIVEN a Berlin 02:30 schedule whose end equals its start
    start = datetime(2026, 2, 1, tzinfo=UTC)

    # WHEN it is checked
    warnings = schedule_warnings(
        "cron(30 2 * * ? *)", time_zone="Europe/Berlin", start=start, end=start, now=NEW_YEAR_2026
    )

    # THEN only the never-fires warning is given
    assert warnings == [
        (
            "end: 2026-02-01T00:00:00+00:00 is not after start 2026-02-01T00:00:00+00:00; "
            "the schedule never fires"
        ),
    ]


def test_a_rate_schedule_without_start_fires_at_now():
    # GIVEN a rate schedule without start, ending a second after now
    end = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)

    # WHEN it is checked; THEN it fires once, at now: nothing surprises
    assert schedule_warnings("rate(5 minutes)", end=end, now=NEW_YEAR_2026) == []


# --------------------------------------------------------------------------- bad input


def test_an_invalid_expression_raises_as_the_schedule_arithmetic_does():
    # GIVEN an invalid expression; WHEN it is checked; THEN ScheduleExpressionError names the problem
    with pytest.raises(ScheduleExpressionError, match="cron minutes: values must be in 0-59"):
        schedule_warnings("cron(60 2 * * ? *)", now=NEW_YEAR_2026)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time_zone": "Mars/Base"}, "time zone must be an IANA time zone name"),
        ({"now": datetime(2026, 1, 1)}, "now must be a timezone-aware datetime"),
        ({"start": datetime(2026, 1, 1)}, "start must be a timezone-aware datetime"),
        ({"end": datetime(2026, 1, 1)}, "end must be a timezone-aware datetime"),
    ],
)
def test_bad_time_zone_or_naive_datetimes_raise(kwargs, message):
    # GIVEN an unknown time zone or a naive datetime; WHEN checked; THEN ValueError names it
    with pytest.raises(ValueError, match=message):
        schedule_warnings("cron(0 9 * * ? *)", **{"now": NEW_YEAR_2026, **kwargs})


def test_module_imports_only_the_standard_library_and_the_schedule_arithmetic():
    # GIVEN the module's source; WHEN its imports are read
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    absolute = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    absolute |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    relative = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level
        for alias in node.names
    }

    # THEN they are the standard library, plus the schedule arithmetic
    assert {name.split(".")[0] for name in absolute if name} <= set(sys.stdlib_module_names)
    assert relative == {(None, "schedule_expressions")}


def test_the_docstring_examples_hold():
    # GIVEN the examples in the module's docstrings; WHEN they are run; THEN each one holds
    import doctest

    results = doctest.testmod(module)

    assert (results.failed, results.attempted > 0) == (0, True)
