"""Arithmetic of the cost model on small, hand-computed cases."""

from __future__ import annotations

import inspect
import math
from dataclasses import replace

import pytest

from scheduled_tasks_constructs import cost
from scheduled_tasks_constructs.cost import (
    DEFAULT_PRICES,
    CostEstimate,
    Settings,
    UnitPrices,
    Workload,
    compare,
    estimate_monthly_cost,
    settings_differences,
)

GB = 1024**3

# A small fan-out: 10 runs of 25 tasks of 0.2 s; x86_64, 256 MB everywhere.
FANOUT = Settings(
    name="small fan-out",
    architecture="x86_64",
    function_memory_mb=256,
    fanout=True,
    send_batch_size=10,
    send_concurrency=4,
    worker_memory_mb=256,
    worker_batch_size=10,
    worker_environments_per_run=5,
)
FANOUT_WORKLOAD = Workload(runs_per_month=10, tasks_per_run=25, seconds_per_task=0.2)


def lines(estimate: CostEstimate) -> dict[str, tuple[float, float]]:
    return {line.key: (line.quantity, line.dollars) for line in estimate.lines}


def test_recording_function_with_on_demand_table():
    # GIVEN 1,000 warm runs a month, each writing one item, arm64 at 128 MB
    settings = Settings(name="recorder", table_billing="on_demand")
    workload = Workload(runs_per_month=1_000, tasks_per_run=0, seconds_per_task=0.0, runs_start_cold=False)

    # WHEN estimated
    estimate = estimate_monthly_cost(settings, workload)

    # THEN every line is what the unit prices give by hand
    got = lines(estimate)
    assert list(got) == [
        "schedule", "function.requests", "function.duration", "dynamodb.writes", "logs.ingestion"
    ]
    assert got["schedule"] == (1_000, pytest.approx(0.001))
    assert got["function.requests"] == (1_000, pytest.approx(0.0002))
    # 1,000 runs x (5 ms overhead + one 10 ms PutItem) x 0.125 GB = 1.875 GB-s
    assert got["function.duration"][0] == pytest.approx(1.875)
    assert got["function.duration"][1] == pytest.approx(1.875 * 0.0000133334)
    assert got["dynamodb.writes"] == (1_000, pytest.approx(0.000625))
    assert got["logs.ingestion"][0] == pytest.approx(400_000 / GB)
    assert got["logs.ingestion"][1] == pytest.approx(400_000 / GB * 0.50)
    assert estimate.total == pytest.approx(
        0.001 + 0.0002 + 1.875 * 0.0000133334 + 0.000625 + 400_000 / GB * 0.50
    )
    assert estimate.requests == 3_000  # invocations, Lambda requests, write units
    assert estimate.gb_seconds == pytest.approx(1.875)


def test_small_fanout_by_hand():
    estimate = estimate_monthly_cost(FANOUT, FANOUT_WORKLOAD)
    got = lines(estimate)
    x86 = 0.0000166667
    # 25 tasks -> 3 SendMessageBatch calls (10, 10, 5) and 3 worker batches a run.
    assert got["sqs.send"] == (30, pytest.approx(30 * 0.40e-6))
    assert got["sqs.receive"] == (30, pytest.approx(30 * 0.40e-6))
    assert got["sqs.delete"] == (30, pytest.approx(30 * 0.40e-6))
    # 5 pollers, one 20 s long poll each, 730 hours: 657,000 empty receives.
    assert got["sqs.idle_receive"] == (657_000, pytest.approx(0.2628))
    assert got["worker.requests"] == (30, pytest.approx(30 * 0.20e-6))
    # 10 runs x (3 x 5 ms + 25 x 0.2 s) x 0.25 GB
    assert got["worker.duration"][0] == pytest.approx(10 * (3 * 0.005 + 25 * 0.2) * 0.25)
    assert got["worker.duration"][1] == pytest.approx(10 * 5.015 * 0.25 * x86)
    # min(5 environments, 3 batches) cold starts of 0.3 s a run
    assert got["worker.init"][0] == pytest.approx(10 * 3 * 0.3 * 0.25)
    # producer: 5 ms + ceil(3 calls / 4 at a time) x 10 ms
    assert got["function.duration"][0] == pytest.approx(10 * (0.005 + 0.010) * 0.25)
    assert got["function.init"][0] == pytest.approx(10 * 0.3 * 0.25)
    assert got["logs.ingestion"][0] == pytest.approx((10 + 30) * 400 / GB)
    assert estimate.gb_seconds == pytest.approx(12.5375 + 2.25 + 0.0375 + 0.75)


def test_one_send_per_task_and_batch_size_one():
    seedlike = replace(FANOUT, send_batch_size=1, send_concurrency=1, worker_batch_size=1,
                       worker_environments_per_run=1)
    got = lines(estimate_monthly_cost(seedlike, FANOUT_WORKLOAD))
    assert got["sqs.send"][0] == 250
    assert got["sqs.receive"][0] == 250
    assert got["sqs.delete"][0] == 250
    assert got["worker.requests"][0] == 250
    # 25 sequential sends of 10 ms each, plus the overhead
    assert got["function.duration"][0] == pytest.approx(10 * (0.005 + 25 * 0.010) * 0.25)
    # batch size 1: an overhead per task
    assert got["worker.duration"][0] == pytest.approx(10 * (25 * 0.005 + 25 * 0.2) * 0.25)
    assert got["worker.init"][0] == pytest.approx(10 * 1 * 0.3 * 0.25)


def test_requests_are_billed_per_64_kb_chunk():
    workload = replace(FANOUT_WORKLOAD, bytes_per_task=10_000)
    got = lines(estimate_monthly_cost(FANOUT, workload))
    # Two full batches of 100,000 bytes (2 chunks each) and one of 50,000 (1 chunk).
    assert got["sqs.send"][0] == 10 * 5
    assert got["sqs.receive"][0] == 10 * 5
    assert got["sqs.delete"][0] == 10 * 3  # deletes carry no payload


def test_fifo_queue_price():
    got = lines(estimate_monthly_cost(replace(FANOUT, queue_type="fifo"), FANOUT_WORKLOAD))
    assert got["sqs.send"][1] == pytest.approx(30 * 0.50e-6)
    assert got["sqs.idle_receive"][1] == pytest.approx(657_000 * 0.50e-6)


def test_provisioned_table_is_billed_all_month():
    settings = Settings(name="t", table_billing="provisioned", table_read_capacity=5, table_write_capacity=5)
    got = lines(estimate_monthly_cost(settings, Workload(runs_per_month=0, tasks_per_run=0, seconds_per_task=0)))
    assert got["dynamodb.capacity"] == (7_300, pytest.approx(5 * 730 * 0.00065 + 5 * 730 * 0.00013))
    assert got["dynamodb.capacity"][1] == pytest.approx(2.847)


def test_scheduled_rule_events_are_free_and_scheduler_invocations_are_not():
    w = Workload(runs_per_month=21_600, tasks_per_run=0, seconds_per_task=0)
    rule = estimate_monthly_cost(Settings(name="r", schedule_source="rule"), w)
    sched = estimate_monthly_cost(Settings(name="s", schedule_source="scheduler"), w)
    assert rule.line("schedule").dollars == 0.0
    assert sched.line("schedule").dollars == pytest.approx(0.0216)


def test_direct_function_does_its_tasks_itself():
    w = Workload(runs_per_month=100, tasks_per_run=4, seconds_per_task=0.5, runs_start_cold=False)
    got = lines(estimate_monthly_cost(Settings(name="d", function_memory_mb=512), w))
    assert got["function.duration"][0] == pytest.approx(100 * (0.005 + 4 * 0.5) * 0.5)
    assert "sqs.send" not in got and "worker.requests" not in got


def test_alarms_line():
    w = Workload(runs_per_month=0, tasks_per_run=0, seconds_per_task=0)
    estimate = estimate_monthly_cost(Settings(name="a", alarms=3), w)
    assert estimate.line("cloudwatch.alarms").dollars == pytest.approx(0.30)


def test_custom_prices_are_used():
    prices = UnitPrices(lambda_request_per_million=1.0)
    w = Workload(runs_per_month=1_000_000, tasks_per_run=0, seconds_per_task=0)
    estimate = estimate_monthly_cost(Settings(name="p"), w, prices)
    assert estimate.line("function.requests").dollars == pytest.approx(1.0)
    assert estimate.prices is prices


def test_compare_and_settings_differences():
    a = estimate_monthly_cost(replace(FANOUT, send_batch_size=1), FANOUT_WORKLOAD)
    b = estimate_monthly_cost(FANOUT, FANOUT_WORKLOAD)
    diffs = compare(a, b)
    assert diffs[0].key == "sqs.send"
    assert diffs[0].saving == pytest.approx((250 - 30) * 0.40e-6)
    assert sum(d.saving for d in diffs) == pytest.approx(a.total - b.total)
    assert settings_differences(replace(FANOUT, send_batch_size=1), FANOUT) == [("send_batch_size", 1, 10)]


def test_line_lookup_names_the_keys_it_has():
    estimate = estimate_monthly_cost(FANOUT, FANOUT_WORKLOAD)
    with pytest.raises(KeyError, match="no line 'dynamodb.writes'; lines: schedule, "):
        estimate.line("dynamodb.writes")
    assert estimate.dollars("dynamodb.writes") == 0.0


def test_invalid_workload_reports_every_problem():
    with pytest.raises(ValueError) as info:
        Workload(runs_per_month=-1, tasks_per_run=10, seconds_per_task=-0.5)
    assert str(info.value) == (
        "Workload: runs_per_month must be a non-negative number, got -1; "
        "seconds_per_task must be a non-negative number, got -0.5"
    )


def test_invalid_settings_report_every_problem():
    with pytest.raises(ValueError) as info:
        Settings(name="x", architecture="sparc", worker_memory_mb=64, send_batch_size=11)
    assert str(info.value) == (
        "Settings: architecture must be 'arm64' or 'x86_64', got 'sparc'; "
        "worker_memory_mb must be an integer between 128 and 10240, got 64; "
        "send_batch_size must be between 1 and 10, got 11"
    )


def test_prices_lookups_reject_unknown_values():
    with pytest.raises(ValueError, match="architecture must be 'arm64' or 'x86_64', got 'sparc'"):
        DEFAULT_PRICES.gb_second("sparc")
    with pytest.raises(ValueError, match="queue_type must be 'standard' or 'fifo', got 'fair'"):
        DEFAULT_PRICES.sqs_request("fair")


def test_seed_presets_follow_the_seeds():
    assert cost.SEED_TASK_SCHEDULER.send_batch_size == 1
    assert cost.SEED_TASK_SCHEDULER.worker_batch_size == 1
    assert cost.SEED_TASK_SCHEDULER.architecture == "x86_64"
    assert cost.SEED_TASK_SCHEDULER.queue_type == "fifo"
    assert cost.SEED_SCHEDULED_LAMBDA.schedule_source == "rule"
    assert cost.SEED_SCHEDULED_LAMBDA.table_billing == "provisioned"


def test_library_presets_match_the_library_defaults():
    # The cost model does not import aws_cdk; this keeps its copies of the
    # library's defaults from drifting.
    from scheduled_tasks_constructs import _defaults
    from scheduled_tasks_constructs.runtime import fanout, sharding

    assert cost.LIBRARY_ARCHITECTURE == _defaults.FUNCTION_ARCHITECTURE.name
    assert cost.LIBRARY_RECORD_FUNCTION_MEMORY_MB == _defaults.RECORD_FUNCTION_MEMORY_MB
    assert cost.LIBRARY_PRODUCER_MEMORY_MB == _defaults.PRODUCER_MEMORY_MB
    assert cost.LIBRARY_WORKER_MEMORY_MB == _defaults.WORKER_MEMORY_MB
    assert cost.LIBRARY_WORKER_BATCH_SIZE == _defaults.BATCH_SIZE
    assert cost.LIBRARY_SEND_BATCH_SIZE == fanout.MAX_BATCH_ENTRIES
    assert cost.LIBRARY_SEND_CONCURRENCY == inspect.signature(fanout.send_tasks).parameters["concurrency"].default
    assert cost.LIBRARY_PRODUCER_SHARD_SIZE == _defaults.PRODUCER_SHARD_SIZE == sharding.DEFAULT_SHARD_SIZE
    assert cost._MAX_SHARDS == sharding.MAX_SHARDS and cost._SHARD_CHECKPOINT_TASKS == fanout.DEFAULT_PROGRESS_EVERY
    for tasks, size in ((25, 100), (250_000, 100_000), (1_000_000, 50_000), (10_000_000, 1_000), (100, 100)):
        ranges = sharding.shard_ranges(tasks, size)
        assert cost.shard_sizes(tasks, size) == ([stop - start for start, stop in ranges] if len(ranges) > 1 else [])
    assert cost.LIBRARY_WATCHDOG_MEMORY_MB == _defaults.WATCHDOG_MEMORY_MB
    assert cost.LIBRARY_WATCHDOG_INTERVAL_MINUTES == _defaults.WATCHDOG_INTERVAL.to_minutes()
    assert cost.LIBRARY_LEDGER_RETENTION_DAYS == _defaults.LEDGER_RETENTION.to_days()
    # The ledger's write counts below assume the overlap lock is taken and released.
    assert cost.LIBRARY_OVERLAP == _defaults.OVERLAP


def test_watchdog_constants_match_the_runtime():
    from scheduled_tasks_constructs.runtime import ledger, watchdog

    assert cost.WATCHDOG_METRICS == tuple(watchdog.METRIC_NAMES[kind] for kind in watchdog.KINDS)
    assert cost.WATCHDOG_MAX_SLOTS == watchdog.MAX_SLOTS
    assert cost.WATCHDOG_LOOKBACK_DAYS == watchdog.DEFAULT_LOOKBACK.days
    # what a finished run publishes with RUN_METRICS=on: a recorder's run, a fan-out's run
    recorded = {"status": "succeeded", "started_at": "2026-12-01T09:00:00Z", "finished_at": "2026-12-01T09:00:00Z"}
    assert tuple(ledger.run_metrics(recorded)) == cost.RUN_METRICS
    fanned = {**recorded, "tasks_sent": 3, "tasks_succeeded": 3}
    assert tuple(ledger.run_metrics(fanned)) == cost.RUN_METRICS + cost.TASK_METRICS


def test_presets_carry_the_ledger_and_the_watchdog_and_seeds_neither():
    for preset in (cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, cost.SCHEDULED_TASK_FANOUT_DEFAULTS):
        assert preset.ledger is True
        assert preset.watchdog_interval_minutes == 15
        assert preset.watchdog_memory_mb == 256
        assert preset.dashboard is False
    assert cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS.table_writes_per_run == 1
    assert cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS.ledger_retention_days is None  # item_ttl: none
    assert cost.SCHEDULED_TASK_FANOUT_DEFAULTS.ledger_retention_days == 90
    for seed in (cost.SEED_SCHEDULED_LAMBDA, cost.SEED_TASK_SCHEDULER):
        assert seed.ledger is False
        assert seed.watchdog_interval_minutes is None
        assert seed.dashboard is False


def test_library_presets_count_the_alarms_the_constructs_create():
    from aws_cdk import App, Duration, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_scheduler as scheduler

    from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout

    stack = Stack(App(), "Stack")
    every_hour = scheduler.ScheduleExpression.rate(Duration.hours(1))
    table = ScheduledLambdaToTable(stack, "Table", schedule=every_hour)
    fanout = ScheduledTaskFanout(
        stack,
        "Fanout",
        schedule=every_hour,
        tasks=[{"name": "a"}],
        worker_code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        worker_handler="index.handler",
    )
    assert len(table.alarms) == cost.LIBRARY_TABLE_ALARMS
    assert len(fanout.alarms) == cost.LIBRARY_FANOUT_ALARMS


def test_without_the_watchdog_the_constructs_keep_only_their_own_alarms():
    from aws_cdk import App, Duration, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_scheduler as scheduler

    from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout

    stack = Stack(App(), "Stack")
    every_hour = scheduler.ScheduleExpression.rate(Duration.hours(1))
    table = ScheduledLambdaToTable(stack, "Table", schedule=every_hour, watchdog=False)
    fanout = ScheduledTaskFanout(
        stack,
        "Fanout",
        schedule=every_hour,
        tasks=[{"name": "a"}],
        worker_code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        worker_handler="index.handler",
        watchdog=False,
    )
    assert len(table.alarms) == cost.LIBRARY_TABLE_ALARMS - cost.LIBRARY_WATCHDOG_ALARMS
    assert len(fanout.alarms) == cost.LIBRARY_FANOUT_ALARMS - cost.LIBRARY_WATCHDOG_ALARMS


# --------------------------------------------------------------------------- ledger and watchdog

#: rate(1 minute): 730 hours x 60 = 43,800 runs a month; environments stay warm.
EVERY_MINUTE = Workload(runs_per_month=43_800, tasks_per_run=0, seconds_per_task=0.0, runs_start_cold=False)
#: A recorder that keeps the ledger in its on-demand table, watched every 15 minutes.
WATCHED = Settings(name="watched", table_billing="on_demand", ledger=True, watchdog_interval_minutes=15)
ARM = 0.0000133334


def test_new_unit_prices():
    assert DEFAULT_PRICES.dynamodb_read_request_per_million == 0.125
    assert DEFAULT_PRICES.custom_metric_per_month == 0.30
    assert DEFAULT_PRICES.dashboard_per_month == 3.00


def test_watchdog_lines_by_hand_at_the_most_frequent_schedule():
    # GIVEN a rate(1 minute) recorder and its watchdog every 15 minutes
    estimate = estimate_monthly_cost(WATCHED, EVERY_MINUTE)
    got = lines(estimate)

    # THEN the watchdog's lines sit after the table's and before the logs
    assert list(got) == [
        "schedule", "function.requests", "function.duration", "dynamodb.writes",
        "watchdog.schedule", "watchdog.requests", "watchdog.duration", "watchdog.init",
        "watchdog.reads", "watchdog.writes", "cloudwatch.metrics", "logs.ingestion",
    ]
    checks = 730 * 60 / 15
    assert checks == 2_920
    runs_per_check = 43_800 / 2_920
    assert runs_per_check == 15
    assert got["watchdog.schedule"] == (2_920, pytest.approx(2_920 * 1.00e-6))
    assert got["watchdog.requests"] == (2_920, pytest.approx(2_920 * 0.20e-6))
    # 5 ms overhead + 4 calls of 10 ms (GetSchedule, GetItem, BatchGetItem,
    # UpdateItem) + 16 slots of 0.1 ms, at 0.25 GB
    seconds = 0.005 + 4 * 0.010 + 16 * 0.0001
    assert got["watchdog.duration"][0] == pytest.approx(2_920 * seconds * 0.25)
    assert got["watchdog.duration"][1] == pytest.approx(2_920 * seconds * 0.25 * ARM)
    # checks 15 minutes apart: every one starts cold (0.3 s at 0.25 GB)
    assert got["watchdog.init"][0] == pytest.approx(2_920 * 0.3 * 0.25)
    # GetItem of the state (1 unit) + BatchGetItem of 15 + 1 slots at 0.5 unit each
    assert got["watchdog.reads"] == (2_920 * (1 + 0.5 * 16), pytest.approx(26_280 * 0.125e-6))
    # the UpdateItem of its state (the PutItem that creates it is on the first check only)
    assert got["watchdog.writes"] == (2_920, pytest.approx(2_920 * 0.625e-6))
    # a healthy month publishes no metric
    assert got["cloudwatch.metrics"] == (0, 0.0)
    # the watchdog's invocations log too
    assert got["logs.ingestion"][0] == pytest.approx((43_800 + 2_920) * 400 / GB)
    # the table is the ledger: one conditional PutItem a run, no line of its own
    assert got["dynamodb.writes"][0] == 43_800
    assert estimate.requests == 43_800 * 3 + 2_920 * (1 + 1 + 1) + 26_280


def test_watchdog_none_removes_its_lines():
    with_watchdog = estimate_monthly_cost(WATCHED, EVERY_MINUTE)
    without = estimate_monthly_cost(replace(WATCHED, watchdog_interval_minutes=None), EVERY_MINUTE)
    keys = [line.key for line in without.lines]
    assert keys == ["schedule", "function.requests", "function.duration", "dynamodb.writes", "logs.ingestion"]
    added = [line for line in with_watchdog.lines if line.key.startswith(("watchdog.", "cloudwatch.metrics"))]
    logs = with_watchdog.dollars("logs.ingestion") - without.dollars("logs.ingestion")
    assert logs == pytest.approx(2_920 * 400 / GB * 0.50)
    assert with_watchdog.total - without.total == pytest.approx(sum(l.dollars for l in added) + logs)


def test_watchdog_interval_sets_the_checks_and_the_cold_starts():
    hourly = Workload(runs_per_month=730, tasks_per_run=0, seconds_per_task=0.0)
    every_5 = lines(estimate_monthly_cost(replace(WATCHED, watchdog_interval_minutes=5), hourly))
    every_60 = lines(estimate_monthly_cost(replace(WATCHED, watchdog_interval_minutes=60), hourly))
    assert every_5["watchdog.requests"][0] == 8_760
    assert "watchdog.init" not in every_5  # 5 minutes apart: environments stay warm
    # one run every 12 checks: 1/12 + 1 slots a check
    assert every_5["watchdog.reads"][0] == pytest.approx(8_760 * (1 + 0.5 * (1 / 12 + 1)))
    assert every_60["watchdog.requests"][0] == 730
    assert every_60["watchdog.init"][0] == pytest.approx(730 * 0.3 * 0.25)
    assert every_60["watchdog.reads"][0] == pytest.approx(730 * (1 + 0.5 * 2))
    # a longer reclaim time keeps the 60-minute watchdog warm as well
    warm = lines(estimate_monthly_cost(replace(WATCHED, watchdog_interval_minutes=60),
                                       replace(hourly, idle_reclaim_minutes=90)))
    assert "watchdog.init" not in warm


def test_watchdog_on_a_provisioned_table_reads_and_writes_its_capacity():
    settings = replace(WATCHED, table_billing="provisioned")
    got = lines(estimate_monthly_cost(settings, EVERY_MINUTE))
    assert "dynamodb.capacity" in got and "watchdog.requests" in got
    assert "watchdog.reads" not in got and "watchdog.writes" not in got


def test_watchdog_schedule_is_a_scheduler_schedule_even_next_to_a_rule():
    got = lines(estimate_monthly_cost(replace(WATCHED, schedule_source="rule"), EVERY_MINUTE))
    assert got["schedule"][1] == 0.0
    assert got["watchdog.schedule"][1] == pytest.approx(2_920e-6)


def test_findings_cost_a_metric_hour_each():
    workload = replace(EVERY_MINUTE, findings_per_month=10)
    got = lines(estimate_monthly_cost(WATCHED, workload))
    assert got["cloudwatch.metrics"][0] == pytest.approx(10 / 730)
    assert got["cloudwatch.metrics"][1] == pytest.approx(10 * 0.30 / 730)
    # never more than the three metrics all month
    flood = lines(estimate_monthly_cost(WATCHED, replace(EVERY_MINUTE, findings_per_month=1e6)))
    assert flood["cloudwatch.metrics"] == (3, pytest.approx(0.90))


def test_a_watchdog_that_publishes_zeros_bills_its_metrics_all_month():
    zeros = replace(WATCHED, watchdog_publishes_zeros=True)
    assert lines(estimate_monthly_cost(zeros, EVERY_MINUTE))["cloudwatch.metrics"] == (3, pytest.approx(0.90))
    # a daily check publishes in 730 / 24 hours of the month
    daily = lines(estimate_monthly_cost(replace(zeros, watchdog_interval_minutes=1_440), EVERY_MINUTE))
    assert daily["watchdog.requests"][0] == pytest.approx(730 / 24)
    assert daily["cloudwatch.metrics"][0] == pytest.approx(3 * (730 / 24) / 730)


def test_a_scanning_watchdog_reads_the_whole_ledger():
    # GIVEN the rate(1 minute) recorder, items never expiring, a year of them
    scan = replace(WATCHED, watchdog_ledger_read="scan", watchdog_aws_calls=5)
    got = lines(estimate_monthly_cost(scan, EVERY_MINUTE))
    items = 43_800 * 12 + 1  # the runs and the watchdog's state item
    ledger_bytes = items * 300
    assert got["watchdog.reads"][0] == pytest.approx(2_920 * (1 + 0.5 * math.ceil(ledger_bytes / 4_096)))
    pages = math.ceil(ledger_bytes / 1_048_576)
    assert pages == 151
    # 35 days of rate(1 minute) is 50,400 slots: the cap of 10,000 evaluated
    seconds = 0.005 + (5 + pages - 1) * 0.010 + 10_000 * 0.0001
    assert got["watchdog.duration"][0] == pytest.approx(2_920 * seconds * 0.25)

    # AND a fan-out's ledger keeps 90 days: the age of the ledger stops mattering
    fanout = replace(FANOUT, ledger=True, watchdog_interval_minutes=15, watchdog_ledger_read="scan",
                     ledger_retention_days=90)
    hourly = Workload(runs_per_month=730, tasks_per_run=25, seconds_per_task=0.2)
    one = lines(estimate_monthly_cost(fanout, hourly))
    two = lines(estimate_monthly_cost(fanout, replace(hourly, ledger_age_months=24)))
    units = math.ceil((730 * (90 * 24 / 730) + 1) * 300 / 4_096)
    assert one["watchdog.reads"][0] == pytest.approx(2_920 * (1 + 0.5 * units))
    assert one["watchdog.reads"] == two["watchdog.reads"]


def test_fanout_ledger_writes_by_hand():
    # GIVEN the small fan-out (10 runs of 25 tasks: 3 batches a run) keeping a ledger
    settings = replace(FANOUT, ledger=True)
    got = lines(estimate_monthly_cost(settings, FANOUT_WORKLOAD))
    without = lines(estimate_monthly_cost(FANOUT, FANOUT_WORKLOAD))

    # THEN a run writes lock + claim + sent count, 3 batch updates, finish + lock release
    assert list(got)[-3:] == ["worker.init", "ledger.writes", "logs.ingestion"]
    assert got["ledger.writes"] == (10 * (3 + 3 + 2), pytest.approx(80 * 0.625e-6))
    # and each write is a 10 ms call: 3 in the producer, 3 + 2 in the workers
    assert got["function.duration"][0] == pytest.approx(10 * (0.005 + (1 + 3) * 0.010) * 0.25)
    assert got["worker.duration"][0] - without["worker.duration"][0] == pytest.approx(10 * 5 * 0.010 * 0.25)


def test_fanout_ledger_under_overlap_allow():
    # overlap="allow" takes no lock: claim + sent count, the batches, the finish
    settings = replace(FANOUT, ledger=True, ledger_producer_writes=2, ledger_finish_writes=1)
    got = lines(estimate_monthly_cost(settings, FANOUT_WORKLOAD))
    assert got["ledger.writes"][0] == 10 * (2 + 3 + 1)


def test_a_fanout_run_without_tasks_is_finished_by_the_producer():
    settings = replace(FANOUT, ledger=True)
    got = lines(estimate_monthly_cost(settings, replace(FANOUT_WORKLOAD, tasks_per_run=0)))
    assert got["ledger.writes"][0] == 10 * (3 + 2)
    assert got["worker.requests"][0] == 0
    assert got["function.duration"][0] == pytest.approx(10 * (0.005 + 5 * 0.010) * 0.25)


def test_ledger_items_over_1_kb_take_more_write_units():
    settings = replace(FANOUT, ledger=True)
    got = lines(estimate_monthly_cost(settings, replace(FANOUT_WORKLOAD, item_bytes=1_500)))
    assert got["ledger.writes"][0] == 10 * 8 * 2


def test_fanout_preset_with_watchdog_and_dashboard():
    # GIVEN hourly fan-out runs, half the hours of the month (365 runs)
    workload = Workload(runs_per_month=365, tasks_per_run=25, seconds_per_task=0.2)
    settings = replace(cost.SCHEDULED_TASK_FANOUT_DEFAULTS, dashboard=True)
    got = lines(estimate_monthly_cost(settings, workload))
    keys = list(got)
    assert keys.index("ledger.writes") < keys.index("watchdog.schedule") < keys.index("cloudwatch.metrics")
    assert keys[-4:] == ["cloudwatch.metrics", "cloudwatch.dashboard", "logs.ingestion", "cloudwatch.alarms"]
    # RunSucceeded, RunDuration and the 4 task counts, each published in half the hours
    assert got["cloudwatch.metrics"] == (3, pytest.approx(0.90))
    assert got["cloudwatch.dashboard"] == (1, pytest.approx(3.00))
    assert got["cloudwatch.alarms"] == (8, pytest.approx(0.80))
    # the fan-out's ledger: 365 runs x (3 + 3 batches + 2)
    assert got["ledger.writes"][0] == 365 * 8


def test_dashboard_adds_three_dollars_and_the_run_metrics():
    plain = estimate_monthly_cost(WATCHED, EVERY_MINUTE)
    dashboard = estimate_monthly_cost(replace(WATCHED, dashboard=True), EVERY_MINUTE)
    # RunSucceeded and RunDuration, published in every hour: 2 metric-months
    assert dashboard.line("cloudwatch.metrics").quantity == 2
    assert dashboard.line("cloudwatch.dashboard").dollars == pytest.approx(3.00)
    assert dashboard.total - plain.total == pytest.approx(3.00 + 2 * 0.30)
    # without a watchdog, a dashboard alone still brings both lines
    alone = lines(estimate_monthly_cost(Settings(name="d", dashboard=True), EVERY_MINUTE))
    assert alone["cloudwatch.metrics"] == (2, pytest.approx(0.60))
    assert "watchdog.requests" not in alone


class _CountingClient:
    """A DynamoDB client that records which calls it makes."""

    WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")
    READS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")

    def __init__(self, client: object) -> None:
        self._client = client
        self.writes: list[str] = []
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._client, name)
        if name not in self.WRITES + self.READS:
            return attribute

        def call(**kwargs: object) -> object:
            (self.writes if name in self.WRITES else self.reads).append(name)
            return attribute(**kwargs)

        return call


@pytest.mark.parametrize("overlap", ["skip", "allow"])
def test_the_ledger_write_counts_are_what_the_runtime_writes(monkeypatch, overlap):
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    from scheduled_tasks_constructs.runtime import ledger
    from scheduled_tasks_constructs.runtime.events import RunContext
    from scheduled_tasks_constructs.runtime.record_run import record_run

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    settings = cost.SCHEDULED_TASK_FANOUT_DEFAULTS
    if overlap == "allow":
        settings = replace(settings, ledger_producer_writes=2, ledger_finish_writes=1)
    arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"
    with moto.mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        raw.create_table(
            TableName="ledger",
            KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        config = ledger.LedgerConfig(table_name="ledger", overlap=overlap, max_receive_count=3)
        run = RunContext("e-1", scheduled_time="2026-12-02T09:00:00Z", schedule_arn=arn)

        # WHEN a producer sends 25 tasks and three worker batches (10, 10, 5) work them off
        producer = _CountingClient(raw)
        start = ledger.start_run(producer, config, run, request_id="req-1")
        assert start.outcome == "started"
        assert ledger.finish_sending(producer, config, start.run_id, sent=25) is None
        workers = _CountingClient(raw)
        finished = []
        for succeeded in (10, 10, 5):
            finished += ledger.record_batch(workers, config, {start.run_id: ledger.BatchCounts(succeeded=succeeded)})

        # THEN the run finished once, with the writes the cost model counts, and no read
        assert [item["status"] for item in finished] == ["succeeded"]
        assert len(producer.writes) == settings.ledger_producer_writes
        assert len(workers.writes) == 3 * settings.ledger_batch_writes + settings.ledger_finish_writes
        assert producer.reads == workers.reads == []

        # AND the bundled ScheduledLambdaToTable handler writes its run once
        recorder = _CountingClient(raw)
        result = record_run(table_name="ledger", event={"execution_id": "e-2", "scheduled_time": "2026-12-02T10:00:00Z",
                                                        "schedule_arn": arn}, request_id="req-2", client=recorder)
        assert result.created
        assert recorder.writes == ["put_item"] * cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS.table_writes_per_run
        assert recorder.reads == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ledger": True, "watchdog_interval_minutes": 3},
         "watchdog_interval_minutes must be None or a whole number of minutes between 5 and 1440, got 3"),
        ({"ledger": True, "watchdog_interval_minutes": 2_000},
         "watchdog_interval_minutes must be None or a whole number of minutes between 5 and 1440, got 2000"),
        ({"ledger": True, "watchdog_interval_minutes": 15.0},
         "watchdog_interval_minutes must be None or a whole number of minutes between 5 and 1440, got 15.0"),
        ({"ledger": True, "watchdog_interval_minutes": True},
         "watchdog_interval_minutes must be None or a whole number of minutes between 5 and 1440, got True"),
        ({"watchdog_interval_minutes": 15},
         "watchdog_interval_minutes needs a run ledger to watch, got it with ledger=False"),
        ({"ledger": True, "table_billing": None},
         "ledger: without a fan-out the table is the ledger, got ledger=True with table_billing=None"),
        ({"ledger": "yes"}, "ledger must be True or False, got 'yes'"),
        ({"dashboard": 1}, "dashboard must be True or False, got 1"),
        ({"watchdog_publishes_zeros": None}, "watchdog_publishes_zeros must be True or False, got None"),
        ({"ledger_producer_writes": -1}, "ledger_producer_writes must be a non-negative integer, got -1"),
        ({"ledger_batch_writes": 1.5}, "ledger_batch_writes must be a non-negative integer, got 1.5"),
        ({"ledger_finish_writes": None}, "ledger_finish_writes must be a non-negative integer, got None"),
        ({"ledger_retention_days": 0}, "ledger_retention_days must be None or a positive number, got 0"),
        ({"ledger_retention_days": "90"}, "ledger_retention_days must be None or a positive number, got '90'"),
        ({"watchdog_memory_mb": 64}, "watchdog_memory_mb must be an integer between 128 and 10240, got 64"),
        ({"watchdog_aws_calls": -3}, "watchdog_aws_calls must be a non-negative integer, got -3"),
        ({"watchdog_state_reads": 0.5}, "watchdog_state_reads must be a non-negative integer, got 0.5"),
        ({"watchdog_state_writes": -1}, "watchdog_state_writes must be a non-negative integer, got -1"),
        ({"watchdog_ledger_read": "query"}, "watchdog_ledger_read must be 'batch_get' or 'scan', got 'query'"),
        ({"run_metrics": -1}, "run_metrics must be a non-negative integer, got -1"),
        ({"task_metrics": True}, "task_metrics must be a non-negative integer, got True"),
    ],
)
def test_invalid_ledger_watchdog_and_dashboard_settings_are_named(changes, message):
    base = {"name": "x", "table_billing": "on_demand"}
    with pytest.raises(ValueError) as info:
        Settings(**{**base, **changes})
    assert str(info.value) == f"Settings: {message}"


def test_a_fanout_ledger_needs_no_table():
    settings = replace(FANOUT, ledger=True, watchdog_interval_minutes=15)
    assert settings.table_billing is None
    assert "ledger.writes" in lines(estimate_monthly_cost(settings, FANOUT_WORKLOAD))


@pytest.mark.parametrize(
    "field", ["findings_per_month", "idle_reclaim_minutes", "watchdog_seconds_per_slot", "ledger_age_months"]
)
def test_invalid_new_workload_fields_are_named(field):
    with pytest.raises(ValueError) as info:
        Workload(runs_per_month=1, tasks_per_run=0, seconds_per_task=0, **{field: -1})
    assert str(info.value) == f"Workload: {field} must be a non-negative number, got -1"


def test_the_watchdog_calls_are_what_a_check_makes(monkeypatch, capsys):
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    from datetime import datetime, timezone

    from scheduled_tasks_constructs.runtime import _aws, watchdog

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "LEDGER_TABLE_NAME": "ledger", "SCHEDULE_NAME": "default/job",
        "SCHEDULE_EXPRESSION": "cron(0/15 * * * ? *)", "SCHEDULE_TIME_ZONE": "UTC",
        "GRACE_SECONDS": "300", "DEADLINE_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "WEBHOOK_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)

    class Scheduler:
        calls = 0

        def get_schedule(self, **kwargs: object) -> dict:
            Scheduler.calls += 1
            return {"State": "ENABLED"}

    with moto.mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        raw.create_table(
            TableName="ledger",
            KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb = _CountingClient(raw)
        monkeypatch.setattr(_aws, "client", lambda service, **_: dynamodb if service == "dynamodb" else Scheduler())

        def at(text: str) -> datetime:
            return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

        # GIVEN a watchdog that has checked once, and the two runs since
        watchdog.handler({}, None, now=at("2026-12-02T09:06:00"))
        for slot in ("2026-12-02T09:15:00Z", "2026-12-02T09:30:00Z"):
            raw.put_item(TableName="ledger", Item={
                "run_id": {"S": f"default/job#{slot}"}, "schedule": {"S": "default/job"}, "slot": {"S": slot},
                "status": {"S": "succeeded"}, "started_at": {"S": slot}, "finished_at": {"S": slot},
            })
        dynamodb.writes.clear()
        dynamodb.reads.clear()
        Scheduler.calls = 0

        # WHEN it checks again, 30 minutes later
        result = watchdog.handler({}, None, now=at("2026-12-02T09:36:00"))

    # THEN a healthy check makes the calls the cost model counts, and publishes no metric
    settings = cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS
    assert result["metrics"] == {"MissedRuns": 0, "LateRuns": 0, "FailedRuns": 0}
    assert dynamodb.writes == ["update_item"]
    assert len(dynamodb.writes) == settings.watchdog_state_writes
    assert dynamodb.reads == ["get_item", "batch_get_item"]  # the state, then the window
    assert dynamodb.reads.count("get_item") == settings.watchdog_state_reads
    assert len(dynamodb.writes) + len(dynamodb.reads) + Scheduler.calls == settings.watchdog_aws_calls
    assert not [line for line in capsys.readouterr().out.splitlines() if '"CloudWatchMetrics"' in line]


def test_a_sharded_run_bills_its_shards_by_hand():
    # 25,000 tasks in shards of 10,000: shards of 10,000, 10,000 and 5,000.
    sharded = replace(FANOUT, ledger=True, producer_shard_size=10_000)
    workload = Workload(runs_per_month=10, tasks_per_run=25_000, seconds_per_task=0.2)
    got = lines(estimate_monthly_cost(sharded, workload))
    one = lines(estimate_monthly_cost(replace(sharded, producer_shard_size=None), workload))
    # The planner and three shards are four invocations a run, each cold.
    assert got["function.requests"][0] == 10 * 4
    assert got["function.init"][0] == pytest.approx(10 * 4 * 0.3 * 0.25)
    # Work: the planner hands on 3 shards 4 at a time (Invoke + mark); each shard sends
    # ceil(1,000 / 4) or ceil(500 / 4) rounds of calls; the ledger calls of the planner
    # (lock + claim, the plan) and of the shards (claim, checkpoints 0 each, completion; the end).
    rounds = 1 * 2 + 250 + 250 + 125
    ledger_calls = 2 + 1 + 3 * 2 + 0 + 1
    assert got["function.duration"][0] == pytest.approx(10 * (4 * 0.005 + (rounds + ledger_calls) * 0.010) * 0.25)
    # Ledger writes: 2 + plan 1 + 3 x (mark, claim, completion) + end 1, then the workers' 2,500 batches + 2.
    assert got["ledger.writes"][0] == 10 * (2 + 1 + 9 + 1 + 2_500 + 2)
    # Sending and working off cost the same as with one producer.
    for key in ("sqs.send", "sqs.receive", "worker.duration"):
        assert got[key] == one[key]


def test_a_run_within_one_shard_is_billed_as_one_producer():
    workload = Workload(runs_per_month=10, tasks_per_run=25, seconds_per_task=0.2)
    assert lines(estimate_monthly_cost(replace(FANOUT, producer_shard_size=100), workload)) == lines(
        estimate_monthly_cost(FANOUT, workload)
    )


def test_a_bad_shard_size_is_named():
    with pytest.raises(ValueError, match="producer_shard_size must be None or a positive integer, got 0"):
        replace(FANOUT, producer_shard_size=0)
