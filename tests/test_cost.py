"""Arithmetic of the cost model on small, hand-computed cases."""

from __future__ import annotations

import inspect
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
    # producer: 5 ms + ceil(3 calls / 8 at a time) x 10 ms
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
    from scheduled_tasks_constructs.runtime import fanout

    assert cost.LIBRARY_ARCHITECTURE == _defaults.FUNCTION_ARCHITECTURE.name
    assert cost.LIBRARY_RECORD_FUNCTION_MEMORY_MB == _defaults.RECORD_FUNCTION_MEMORY_MB
    assert cost.LIBRARY_PRODUCER_MEMORY_MB == _defaults.PRODUCER_MEMORY_MB
    assert cost.LIBRARY_WORKER_MEMORY_MB == _defaults.WORKER_MEMORY_MB
    assert cost.LIBRARY_WORKER_BATCH_SIZE == _defaults.BATCH_SIZE
    assert cost.LIBRARY_SEND_BATCH_SIZE == fanout.MAX_BATCH_ENTRIES
    assert cost.LIBRARY_SEND_CONCURRENCY == inspect.signature(fanout.send_tasks).parameters["concurrency"].default


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
