"""The watchdog: expected slots against ledger runs, over virtual time, and its handler on moto."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from scheduled_tasks_constructs.runtime import watchdog
from scheduled_tasks_constructs.runtime.caches import reset_caches
from scheduled_tasks_constructs.runtime.watchdog import (
    Findings,
    evaluate,
    expected_slots,
    new_findings,
    remember,
    slot_key,
)

UTC = timezone.utc


def at(text: str) -> datetime:
    """An instant from ISO 8601 UTC text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(slot: str, status: str = "succeeded", started_at: str | None = None) -> dict[str, Any]:
    return {
        "run_id": f"default/job#{slot}",
        "schedule": "default/job",
        "slot": slot,
        "status": status,
        "started_at": started_at or slot,
        "finished_at": None if status == "running" else slot,
        "attempts": 1,
    }


def no_findings(findings: Findings) -> bool:
    return findings.counts == {"missed": 0, "late": 0, "failed": 0}


# --------------------------------------------------------------------------- slot_key


def test_slot_key_is_utc_with_z_and_seconds() -> None:
    moment = datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert slot_key(moment) == "2026-12-02T09:00:00Z"


def test_slot_key_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="moment must be a timezone-aware datetime"):
        slot_key(datetime(2026, 12, 2, 9))


# --------------------------------------------------------------------------- calendars


def test_monthly_cron_reports_only_the_missing_month_inside_the_lookback() -> None:
    # GIVEN a monthly job watched since mid-August that ran on 1 September and 1 November
    runs = [run("2026-09-01T09:00:00Z"), run("2026-11-01T09:00:00Z")]
    kwargs = dict(runs=runs, watching_since=at("2026-08-15T00:00:00Z"), now=at("2026-12-02T12:00:00Z"))

    # WHEN it is evaluated with the default 35-day lookback, and with a longer one
    default = evaluate("cron(0 9 1 * ? *)", **kwargs)
    longer = evaluate("cron(0 9 1 * ? *)", lookback=timedelta(days=120), **kwargs)

    # THEN the default sees 1 November (ran) and 1 December (missing) only
    assert default.missed == ["2026-12-01T09:00:00Z"]
    assert default.slots_evaluated == 2
    # AND the longer window also finds 1 October, but not the slots that ran
    assert longer.missed == ["2026-10-01T09:00:00Z", "2026-12-01T09:00:00Z"]
    assert longer.late == [] and longer.failed == []


def test_weekly_cron_reports_the_one_monday_without_a_run() -> None:
    mondays = ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    runs = [run(f"{day}T06:00:00Z") for day in mondays if day != "2026-11-16"]
    findings = evaluate(
        "cron(0 6 ? * MON *)",
        runs=runs,
        watching_since=at("2026-11-01T00:00:00Z"),
        now=at("2026-12-01T00:00:00Z"),
    )
    assert findings.missed == ["2026-11-16T06:00:00Z"]
    assert findings.slots_evaluated == 5
    assert findings.late == [] and findings.failed == []


def test_berlin_0230_has_no_slot_on_the_spring_forward_day() -> None:
    # GIVEN a daily 02:30 Europe/Berlin job and no runs at all, around 2026-03-29
    findings = evaluate(
        "cron(30 2 * * ? *)",
        "Europe/Berlin",
        runs=[],
        watching_since=at("2026-03-27T00:00:00Z"),
        now=at("2026-03-31T12:00:00Z"),
    )
    # THEN 29 March (02:30 does not exist there) has no slot: CET before, CEST after
    assert findings.missed == [
        "2026-03-27T01:30:00Z",
        "2026-03-28T01:30:00Z",
        "2026-03-30T00:30:00Z",
        "2026-03-31T00:30:00Z",
    ]


def test_berlin_0230_with_every_run_present_around_spring_forward_is_clean() -> None:
    slots = ["2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"]
    findings = evaluate(
        "cron(30 2 * * ? *)",
        "Europe/Berlin",
        runs=[run(slot) for slot in slots],
        watching_since=at("2026-03-27T00:00:00Z"),
        now=at("2026-03-30T12:00:00Z"),
    )
    assert no_findings(findings)
    assert findings.slots_evaluated == 3


def test_berlin_0230_fires_once_on_the_autumn_day() -> None:
    findings = evaluate(
        "cron(30 2 * * ? *)",
        "Europe/Berlin",
        runs=[],
        watching_since=at("2026-10-24T00:00:00Z"),
        now=at("2026-10-26T12:00:00Z"),
    )
    # 25 October: 02:30 happens twice; only the first (CEST, 00:30Z) is a slot
    assert findings.missed == [
        "2026-10-24T00:30:00Z",
        "2026-10-25T00:30:00Z",
        "2026-10-26T01:30:00Z",
    ]


def test_at_schedule_before_and_after_its_time() -> None:
    expression = "at(2026-12-05T10:00:00)"  # Berlin, 09:00Z
    since = at("2026-12-01T00:00:00Z")
    before = evaluate(expression, "Europe/Berlin", runs=[], watching_since=since,
                      now=at("2026-12-05T08:00:00Z"))
    after = evaluate(expression, "Europe/Berlin", runs=[], watching_since=since,
                     now=at("2026-12-05T10:00:00Z"))
    ran = evaluate(expression, "Europe/Berlin", runs=[run("2026-12-05T09:00:00Z")],
                   watching_since=since, now=at("2026-12-05T10:00:00Z"))
    assert before.missed == [] and before.slots_evaluated == 0
    assert after.missed == ["2026-12-05T09:00:00Z"]
    assert no_findings(ran) and ran.slots_evaluated == 1


def test_at_schedule_ignores_start_and_end_as_eventbridge_does() -> None:
    slots = expected_slots(
        "at(2026-12-05T09:00:00)",
        after=at("2026-12-01T00:00:00Z"),
        until=at("2026-12-10T00:00:00Z"),
        start=at("2026-12-06T00:00:00Z"),
        end=at("2026-12-07T00:00:00Z"),
    )
    assert [slot_key(slot) for slot in slots] == ["2026-12-05T09:00:00Z"]


def test_at_schedule_whose_time_passed_before_watching_never_alarms() -> None:
    findings = evaluate(
        "at(2026-11-05T09:00:00)",
        runs=[],
        watching_since=at("2026-11-10T00:00:00Z"),
        now=at("2026-12-01T00:00:00Z"),
    )
    assert no_findings(findings)


def test_deployed_mid_period_raises_nothing_for_earlier_slots() -> None:
    # GIVEN a daily 09:00 UTC job whose watchdog first ran at noon on 1 December,
    # with a failed run on 30 November and no runs since
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[run("2026-11-30T09:00:00Z", "failed")],
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-03T12:00:00Z"),
    )
    # THEN only 2 and 3 December are missed; 1 December and the old failure are not reported
    assert findings.missed == ["2026-12-02T09:00:00Z", "2026-12-03T09:00:00Z"]
    assert findings.failed == []


def test_a_slot_exactly_at_watching_since_does_not_count() -> None:
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[],
        watching_since=at("2026-12-01T09:00:00Z"),
        now=at("2026-12-02T12:00:00Z"),
    )
    assert findings.missed == ["2026-12-02T09:00:00Z"]


def test_start_and_end_bound_a_cron_schedule() -> None:
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[],
        start=at("2026-12-02T00:00:00Z"),
        end=at("2026-12-04T09:00:00Z"),  # end is exclusive: 4 December does not fire
        watching_since=at("2026-11-25T00:00:00Z"),
        now=at("2026-12-10T00:00:00Z"),
    )
    assert findings.missed == ["2026-12-02T09:00:00Z", "2026-12-03T09:00:00Z"]


def test_rate_with_start_uses_start_as_first_fire_time() -> None:
    findings = evaluate(
        "rate(6 hours)",
        runs=[run("2026-12-01T09:00:00Z")],
        start=at("2026-12-01T03:00:00Z"),
        watching_since=at("2026-11-30T00:00:00Z"),
        now=at("2026-12-02T00:00:00Z"),
    )
    assert findings.missed == [
        "2026-12-01T03:00:00Z",
        "2026-12-01T15:00:00Z",
        "2026-12-01T21:00:00Z",
    ]


def test_rate_without_start_follows_the_grid_of_its_runs() -> None:
    # GIVEN a rate(5 minutes) schedule created at 00:00:30, whose 00:10:30 run is missing
    runs = [run("2026-12-02T00:00:30Z"), run("2026-12-02T00:05:30Z"), run("2026-12-02T00:15:30Z")]
    findings = evaluate(
        "rate(5 minutes)",
        runs=runs,
        grace=timedelta(0),
        watching_since=at("2026-12-02T00:00:00Z"),
        now=at("2026-12-02T00:18:00Z"),
    )
    assert findings.missed == ["2026-12-02T00:10:30Z"]


# --------------------------------------------------------------------------- run states


def test_a_running_run_is_late_only_past_its_deadline() -> None:
    runs = [run("2026-12-02T09:00:00Z", "running", started_at="2026-12-02T09:00:05Z")]
    kwargs = dict(runs=runs, deadline=timedelta(hours=1), watching_since=at("2026-12-01T12:00:00Z"))
    inside = evaluate("cron(0 9 * * ? *)", now=at("2026-12-02T10:00:05Z"), **kwargs)
    past = evaluate("cron(0 9 * * ? *)", now=at("2026-12-02T10:00:06Z"), **kwargs)
    assert no_findings(inside)
    assert past.late == ["2026-12-02T09:00:00Z"]
    assert past.missed == [] and past.failed == []


def test_a_running_run_without_started_at_counts_from_its_slot() -> None:
    item = run("2026-12-02T09:00:00Z", "running")
    item["started_at"] = None
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[item],
        deadline=timedelta(minutes=30),
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-02T09:31:00Z"),
    )
    assert findings.late == ["2026-12-02T09:00:00Z"]


def test_no_deadline_means_never_late() -> None:
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[run("2026-12-02T09:00:00Z", "running")],
        deadline=None,
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-20T00:00:00Z"),
    )
    assert findings.late == []


def test_failed_and_partially_failed_runs_are_reported_others_not() -> None:
    runs = [
        run("2026-12-01T09:00:00Z", "failed"),
        run("2026-12-02T09:00:00Z", "succeeded"),
        run("2026-12-03T09:00:00Z", "partially_failed"),
        run("2026-12-04T09:00:00Z", "skipped"),
        run("2026-12-05T09:00:00Z", "running", started_at="2026-12-05T09:00:01Z"),
    ]
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=runs,
        watching_since=at("2026-11-30T12:00:00Z"),
        now=at("2026-12-05T09:30:00Z"),
    )
    assert findings.failed == ["2026-12-01T09:00:00Z", "2026-12-03T09:00:00Z"]
    assert findings.missed == [] and findings.late == []


def test_a_skipped_slot_is_not_missed() -> None:
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[run("2026-12-02T09:00:00Z", "skipped")],
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-02T12:00:00Z"),
    )
    assert no_findings(findings) and findings.slots_evaluated == 1


def test_runs_may_be_objects_and_slots_may_have_milliseconds() -> None:
    @dataclass
    class Run:
        slot: str
        status: str
        started_at: str | None = None

    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[Run("2026-12-02T09:00:00.000Z", "failed")],
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-02T12:00:00Z"),
    )
    assert findings.missed == []
    assert findings.failed == ["2026-12-02T09:00:00Z"]


def test_items_without_a_slot_are_ignored() -> None:
    state_item = {"run_id": "default/job#watchdog", "watching_since": "2026-12-01T12:00:00Z"}
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[state_item],
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-02T12:00:00Z"),
    )
    assert findings.missed == ["2026-12-02T09:00:00Z"]


@pytest.mark.parametrize(
    ("now", "missed"),
    [
        ("2026-12-02T09:19:59Z", []),  # within 15 min flexible window + 5 min grace
        ("2026-12-02T09:20:00Z", ["2026-12-02T09:00:00Z"]),
    ],
)
def test_grace_and_flexible_window_delay_a_missed_slot(now: str, missed: list[str]) -> None:
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[],
        flexible_window_minutes=15,
        grace=timedelta(minutes=5),
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at(now),
    )
    assert findings.missed == missed


def test_a_run_started_late_inside_the_flexible_window_is_not_missed() -> None:
    findings = evaluate(
        "cron(0 9 * * ? *)",
        runs=[run("2026-12-02T09:00:00Z", started_at="2026-12-02T09:14:00Z")],
        flexible_window_minutes=15,
        grace=timedelta(minutes=5),
        watching_since=at("2026-12-01T12:00:00Z"),
        now=at("2026-12-02T10:00:00Z"),
    )
    assert no_findings(findings)


# --------------------------------------------------------------------------- bounds


def test_rate_1_minute_is_capped_to_the_most_recent_slots() -> None:
    now = at("2026-12-02T12:00:00Z")
    findings = evaluate(
        "rate(1 minute)",
        runs=[],
        start=at("2026-10-01T00:00:00Z"),
        grace=timedelta(0),
        watching_since=at("2026-10-01T00:00:00Z"),
        now=now,
    )
    assert findings.truncated is True
    assert findings.slots_evaluated == watchdog.MAX_SLOTS
    assert len(findings.missed) == watchdog.MAX_SLOTS
    assert findings.missed[-1] == "2026-12-02T12:00:00Z"
    assert findings.missed[0] == slot_key(now - timedelta(minutes=watchdog.MAX_SLOTS - 1))


def test_cron_every_minute_is_capped_too() -> None:
    findings = evaluate(
        "cron(* * * * ? *)",
        runs=[],
        grace=timedelta(0),
        max_slots=100,
        watching_since=at("2026-12-01T00:00:00Z"),
        now=at("2026-12-02T00:00:00Z"),
    )
    assert findings.truncated is True
    assert findings.missed[0] == "2026-12-01T22:21:00Z"
    assert findings.missed[-1] == "2026-12-02T00:00:00Z"
    assert len(findings.missed) == 100


def test_under_the_cap_nothing_is_truncated() -> None:
    findings = evaluate(
        "cron(* * * * ? *)",
        runs=[],
        grace=timedelta(0),
        max_slots=100,
        watching_since=at("2026-12-01T23:00:00Z"),
        now=at("2026-12-02T00:00:00Z"),
    )
    assert findings.truncated is False
    assert len(findings.missed) == 60


def test_expected_slots_is_empty_for_an_empty_range() -> None:
    moment = at("2026-12-02T00:00:00Z")
    assert expected_slots("cron(* * * * ? *)", after=moment, until=moment) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"now": datetime(2026, 12, 2)}, "now must be a timezone-aware datetime"),
        ({"flexible_window_minutes": -1}, "flexible_window_minutes must be a whole number of 0 or more, got -1"),
        ({"grace": timedelta(seconds=-1)}, "grace must be a timedelta of 0 or more"),
        ({"max_slots": 0}, "max_slots must be a whole number of 1 or more, got 0"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "runs": [],
        "watching_since": at("2026-12-01T00:00:00Z"),
        "now": at("2026-12-02T00:00:00Z"),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        evaluate("cron(0 9 * * ? *)", **arguments)


# --------------------------------------------------------------------------- de-duplication


def test_new_findings_drop_what_was_alerted_and_remember_prunes() -> None:
    current = Findings(
        missed=["2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z"],
        late=["2026-12-02T09:00:00Z"],
        failed=[],
    )
    alerted = {"missed": {"2026-12-01T09:00:00Z", "2026-10-01T09:00:00Z"}}
    fresh = new_findings(current, alerted)
    assert fresh.by_kind() == {
        "missed": ["2026-12-02T09:00:00Z"],
        "late": ["2026-12-02T09:00:00Z"],
        "failed": [],
    }
    state = remember(alerted, fresh, oldest="2026-11-01T00:00:00Z")
    assert state == {
        "missed": {"2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z"},
        "late": {"2026-12-02T09:00:00Z"},
        "failed": set(),
    }
    assert no_findings(new_findings(current, state))


# --------------------------------------------------------------------------- handler on moto


def metrics_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def watchdog_env(
    lambda_env: pytest.MonkeyPatch, make_table: Callable[[str], str]
) -> pytest.MonkeyPatch:
    table = make_table("run_id")
    lambda_env.setenv("LEDGER_TABLE_NAME", table)
    lambda_env.setenv("SCHEDULE_NAME", "default/job")
    lambda_env.setenv("SCHEDULE_EXPRESSION", "cron(0 9 * * ? *)")
    lambda_env.setenv("SCHEDULE_TIME_ZONE", "UTC")
    lambda_env.setenv("GRACE_SECONDS", "300")
    lambda_env.setenv("DEADLINE_SECONDS", "3600")
    lambda_env.delenv("WEBHOOK_SECRET_ARN", raising=False)
    return lambda_env


def put_run(dynamodb: Any, table: str, slot: str, status: str, schedule: str = "default/job") -> None:
    dynamodb.put_item(
        TableName=table,
        Item={
            "run_id": {"S": f"{schedule}#{slot}"},
            "schedule": {"S": schedule},
            "slot": {"S": slot},
            "status": {"S": status},
            "started_at": {"S": slot},
            "finished_at": {"S": slot} if status != "running" else {"NULL": True},
            "attempts": {"N": "1"},
        },
    )


def state_item(dynamodb: Any, table: str) -> dict[str, Any]:
    return dynamodb.get_item(
        TableName=table, Key={"run_id": {"S": "default/job#watchdog"}}, ConsistentRead=True
    )["Item"]


def test_handler_alerts_each_problem_once_and_sets_watching_since_once(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    table = os.environ["LEDGER_TABLE_NAME"]
    # GIVEN an old failed run, from before the watchdog existed, and another schedule's run
    put_run(dynamodb, table, "2026-12-01T09:00:00Z", "failed")
    put_run(dynamodb, table, "2026-12-02T09:00:00Z", "failed", schedule="default/other")

    # WHEN the watchdog runs for the first time
    first = watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))

    # THEN it starts watching now, reports nothing and publishes no metric (nothing is non-zero)
    assert first["watching_since"] == "2026-12-01T12:00:00Z"
    assert first["metrics"] == {"MissedRuns": 0, "LateRuns": 0, "FailedRuns": 0}
    assert metrics_lines(capsys.readouterr().out) == []

    # GIVEN the 2 December run failed and the 3 December run never came
    put_run(dynamodb, table, "2026-12-02T09:00:00Z", "failed")

    # WHEN the watchdog runs after 3 December 09:05
    second = watchdog.handler({}, None, now=at("2026-12-03T10:00:00Z"))

    # THEN it reports one missed and one failed slot, in the metrics too
    assert second["new"] == {
        "missed": ["2026-12-03T09:00:00Z"],
        "late": [],
        "failed": ["2026-12-02T09:00:00Z"],
    }
    (record,) = metrics_lines(capsys.readouterr().out)
    assert (record["MissedRuns"], record["FailedRuns"]) == (1, 1)
    assert "LateRuns" not in record
    assert record["Schedule"] == "default/job"
    assert record["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "MissedRuns", "Unit": "Count"},
        {"Name": "FailedRuns", "Unit": "Count"},
    ]
    # AND both slots are settled: alerted, they need no more reads
    assert state_item(dynamodb, table)["settled_through"] == {"S": "2026-12-03T09:00:00Z"}

    # WHEN it runs again, nothing having changed
    third = watchdog.handler({}, None, now=at("2026-12-03T11:00:00Z"))

    # THEN nothing is new and nothing is published
    assert third["new"] == {"missed": [], "late": [], "failed": []}
    assert third["metrics"] == {"MissedRuns": 0, "LateRuns": 0, "FailedRuns": 0}
    assert metrics_lines(capsys.readouterr().out) == []

    # AND watching_since was written once, by the first run; the alert memory is pruned to what is unsettled
    assert third["watching_since"] == "2026-12-01T12:00:00Z"
    assert state_item(dynamodb, table)["watching_since"] == {"S": "2026-12-01T12:00:00Z"}
    assert json.loads(state_item(dynamodb, table)["alerted"]["S"]) == {"missed": [], "late": [], "failed": []}


def test_handler_reports_a_late_run_once(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    table = os.environ["LEDGER_TABLE_NAME"]
    watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))
    put_run(dynamodb, table, "2026-12-02T09:00:00Z", "running")
    early = watchdog.handler({}, None, now=at("2026-12-02T09:30:00Z"))
    late = watchdog.handler({}, None, now=at("2026-12-02T10:30:00Z"))
    again = watchdog.handler({}, None, now=at("2026-12-02T11:30:00Z"))
    assert early["metrics"] == {"MissedRuns": 0, "LateRuns": 0, "FailedRuns": 0}
    assert late["metrics"] == {"MissedRuns": 0, "LateRuns": 1, "FailedRuns": 0}
    assert again["metrics"] == {"MissedRuns": 0, "LateRuns": 0, "FailedRuns": 0}
    # Only the run that found it publishes (a non-zero count).
    assert [line["LateRuns"] for line in metrics_lines(capsys.readouterr().out)] == [1]


def test_handler_reads_only_the_slots_it_still_watches_by_key(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an every-10-minutes schedule with 3 days of runs (432 slots, one missing) and
    # 2,000 runs of other schedules in the same ledger
    table = os.environ["LEDGER_TABLE_NAME"]
    watchdog_env.setenv("SCHEDULE_EXPRESSION", "cron(0/10 * * * ? *)")
    watchdog_env.setenv("GRACE_SECONDS", "0")
    watchdog.handler({}, None, now=at("2026-11-28T00:00:00Z"))
    moment = at("2026-11-28T00:10:00Z")
    missing = "2026-11-30T12:00:00Z"
    with ThreadPoolExecutor(8) as pool:
        slots = []
        while moment <= at("2026-12-01T00:00:00Z"):
            slots.append(slot_key(moment))
            moment += timedelta(minutes=10)
        list(pool.map(lambda slot: put_run(dynamodb, table, slot, "succeeded"), [x for x in slots if x != missing]))
        list(pool.map(lambda n: put_run(dynamodb, table, f"2026-11-{n % 28 + 1:02d}T00:00:{n % 60:02d}Z", "failed",
                                         schedule=f"default/other{n}"), range(2000)))
    calls = []
    counted = set()
    real = watchdog._aws.client

    def counting(service: str, **kwargs: Any) -> Any:
        client = real(service, **kwargs)  # cached: count each client's calls once
        if service == "dynamodb" and id(client) not in counted:
            counted.add(id(client))
            client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
        return client

    monkeypatch.setattr(watchdog._aws, "client", counting)
    reset_caches()

    # WHEN it checks at the end of the third day
    result = watchdog.handler({}, None, now=at("2026-12-01T00:00:00Z"))

    # THEN it found the one missing slot, reading the 432 slots by key: 5 BatchGetItem calls, no Scan
    assert result["findings"]["slots_evaluated"] == 3 * 144
    assert result["new"]["missed"] == [missing]
    assert calls.count("BatchGetItem") == 5 and "Scan" not in calls
    assert state_item(dynamodb, table)["settled_through"] == {"S": "2026-12-01T00:00:00Z"}

    # WHEN it checks 30 minutes later, three runs having come in
    calls.clear()
    for slot in ("2026-12-01T00:10:00Z", "2026-12-01T00:20:00Z", "2026-12-01T00:30:00Z"):
        put_run(dynamodb, table, slot, "succeeded")
    later = watchdog.handler({}, None, now=at("2026-12-01T00:30:00Z"))

    # THEN it read only those three slots, in one call
    assert later["findings"]["slots_evaluated"] == 3
    assert calls.count("BatchGetItem") == 1 and "Scan" not in calls


def test_a_running_run_keeps_its_slot_watched_until_it_ends_or_is_late(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any
) -> None:
    table = os.environ["LEDGER_TABLE_NAME"]
    watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))
    put_run(dynamodb, table, "2026-12-02T09:00:00Z", "running")
    put_run(dynamodb, table, "2026-12-03T09:00:00Z", "succeeded")

    watchdog.handler({}, None, now=at("2026-12-03T09:30:00Z"))
    # The 2 December run is late (started over an hour ago) and alerted: settled with the one after it.
    assert state_item(dynamodb, table)["settled_through"] == {"S": "2026-12-03T09:00:00Z"}

    put_run(dynamodb, table, "2026-12-04T09:00:00Z", "running")
    watchdog.handler({}, None, now=at("2026-12-04T09:30:00Z"))
    # Running and not late yet: still watched, so a failure at its end is seen.
    assert state_item(dynamodb, table)["settled_through"] == {"S": "2026-12-03T09:00:00Z"}
    put_run(dynamodb, table, "2026-12-04T09:00:00Z", "failed")
    ended = watchdog.handler({}, None, now=at("2026-12-04T09:45:00Z"))
    assert ended["new"]["failed"] == ["2026-12-04T09:00:00Z"]
    assert state_item(dynamodb, table)["settled_through"] == {"S": "2026-12-04T09:00:00Z"}


def test_a_rate_schedule_without_start_learns_its_grid_from_a_first_run(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any
) -> None:
    # GIVEN a rate(1 hour) schedule created at 08:17:31 (its fire times are on that grid)
    table = os.environ["LEDGER_TABLE_NAME"]
    watchdog_env.setenv("SCHEDULE_EXPRESSION", "rate(1 hour)")
    watchdog.handler({}, None, now=at("2026-12-01T08:20:00Z"))
    put_run(dynamodb, table, "2026-12-01T09:17:31Z", "succeeded")

    # WHEN the watchdog finds that first run
    found = watchdog.handler({}, None, now=at("2026-12-01T09:30:00Z"))

    # THEN it keeps its grid, and later checks read the slots of that grid by key
    assert found["new"] == {"missed": [], "late": [], "failed": []}
    assert state_item(dynamodb, table)["rate_anchor"] == {"S": "2026-12-01T09:17:31Z"}
    put_run(dynamodb, table, "2026-12-01T10:17:31Z", "succeeded")
    later = watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))
    assert later["new"]["missed"] == ["2026-12-01T11:17:31Z"]


def test_handler_names_a_missing_environment_variable(watchdog_env: pytest.MonkeyPatch) -> None:
    watchdog_env.delenv("SCHEDULE_EXPRESSION")
    with pytest.raises(RuntimeError, match="environment variable SCHEDULE_EXPRESSION is not set"):
        watchdog.handler({}, None)


def test_handler_rejects_a_naive_start(watchdog_env: pytest.MonkeyPatch) -> None:
    watchdog_env.setenv("SCHEDULE_START", "2026-12-01T00:00:00")
    with pytest.raises(RuntimeError, match="SCHEDULE_START: SCHEDULE_START must be a timezone-aware"):
        watchdog.handler({}, None)


def test_handler_posts_one_message_per_new_finding(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any, secretsmanager: Any, httpserver: HTTPServer
) -> None:
    # GIVEN a webhook URL (a local server) in a secret
    table = os.environ["LEDGER_TABLE_NAME"]
    url = httpserver.url_for("/hook")
    arn = secretsmanager.create_secret(Name=f"hook-{uuid.uuid4().hex}", SecretString=url)["ARN"]
    watchdog_env.setenv("WEBHOOK_SECRET_ARN", arn)
    watchdog_env.setenv("WEBHOOK_KIND", "slack")
    reset_caches()
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)

    watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))
    put_run(dynamodb, table, "2026-12-02T09:00:00Z", "partially_failed")

    # WHEN two problems are found, then the watchdog runs again
    first = watchdog.handler({}, None, now=at("2026-12-03T10:00:00Z"))
    second = watchdog.handler({}, None, now=at("2026-12-03T11:00:00Z"))

    # THEN each problem was posted once
    assert (first["posted"], first["post_failures"]) == (2, 0)
    assert (second["posted"], second["post_failures"]) == (0, 0)
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert bodies == [
        {"text": "Missed run: default/job did not start its 2026-12-03T09:00:00Z run"},
        {"text": "Failed run: default/job run 2026-12-02T09:00:00Z failed"},
    ]


def test_handler_counts_a_failed_post_and_still_writes_metrics(
    watchdog_env: pytest.MonkeyPatch, secretsmanager: Any, httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = httpserver.url_for("/hook")
    arn = secretsmanager.create_secret(Name=f"hook-{uuid.uuid4().hex}", SecretString=url)["ARN"]
    watchdog_env.setenv("WEBHOOK_SECRET_ARN", arn)
    watchdog_env.setenv("WEBHOOK_KIND", "slack")
    reset_caches()
    httpserver.expect_request("/hook", method="POST").respond_with_data("no", status=500)

    watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))
    result = watchdog.handler({}, None, now=at("2026-12-02T10:00:00Z"))

    assert (result["posted"], result["post_failures"]) == (0, 1)
    assert metrics_lines(capsys.readouterr().out)[-1]["MissedRuns"] == 1


def test_a_paused_schedule_misses_nothing_and_after_resume_only_later_slots_count(
    watchdog_env: pytest.MonkeyPatch, dynamodb: Any
) -> None:
    import boto3

    scheduler = boto3.client("scheduler")
    schedule = {
        "Name": "job",
        "ScheduleExpression": "cron(0 9 * * ? *)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:job", "RoleArn": "arn:aws:iam::123456789012:role/r"},
    }
    # GIVEN a daily 09:00 schedule, watched since 1 December, then paused
    watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))
    scheduler.create_schedule(**schedule, State="DISABLED")
    try:
        # WHEN the watchdog runs on 4 December, three slots having passed without a run
        paused = watchdog.handler({}, None, now=at("2026-12-04T12:00:00Z"))

        # THEN none of them is missed: the schedule was off
        assert paused["paused"] is True
        assert paused["findings"]["counts"]["missed"] == 0
        assert paused["watching_since"] == "2026-12-04T12:00:00Z"

        # WHEN it is resumed and the 5 December slot has no run either
        scheduler.update_schedule(**schedule, State="ENABLED")
        resumed = watchdog.handler({}, None, now=at("2026-12-05T12:00:00Z"))

        # THEN only that slot is missed
        assert resumed["paused"] is False
        assert resumed["new"]["missed"] == ["2026-12-05T09:00:00Z"]
    finally:
        scheduler.delete_schedule(Name="job")


def test_a_deleted_schedule_still_reports_its_missed_slots(watchdog_env: pytest.MonkeyPatch, dynamodb: Any) -> None:
    # GIVEN no schedule of that name exists (the fixtures create none)
    watchdog.handler({}, None, now=at("2026-12-01T12:00:00Z"))

    # WHEN a slot passes without a run
    later = watchdog.handler({}, None, now=at("2026-12-02T12:00:00Z"))

    # THEN it is missed: a deleted schedule runs nothing, which is what the alarm is for
    assert later["paused"] is False
    assert later["new"]["missed"] == ["2026-12-02T09:00:00Z"]
