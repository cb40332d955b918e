"""The run-time model: the send (one producer or shards) and the SQS event source's drain."""

from __future__ import annotations

import doctest

import pytest

from scheduled_tasks_constructs import throughput
from scheduled_tasks_constructs.throughput import estimate_run, estimate_send, event_source_concurrency


def test_the_docstring_examples_hold():
    results = doctest.testmod(throughput)
    assert (results.failed, results.attempted > 0) == (0, True)


def test_the_event_source_starts_at_5_adds_300_a_minute_and_stops_at_its_cap():
    assert [event_source_concurrency(t) for t in (0, 1, 30, 60, 120, 199, 200, 3600)] == [5, 10, 155, 305, 605, 1000, 1000, 1000]
    assert event_source_concurrency(3600, max_concurrency=200) == 200


def test_shards_divide_the_send_by_their_count_until_the_cpu_share_sets_the_pace():
    one = estimate_send(1_000_000, memory_mb=1769)
    sharded = estimate_send(1_000_000, shard_size=50_000, memory_mb=1769)
    per_call = (0.010 + 0.0017) / (4 * 0.85)  # a round trip and the CPU, 4 threads at 85% overlap
    assert one.seconds == pytest.approx(100_000 * per_call) and one.bound_seconds == 250.0
    assert sharded.shards == 20 and sharded.requests == 100_000 + 20
    assert sharded.bound_seconds == pytest.approx(12.5)
    # planning, the hand-off of 20 shards 4 at a time, and one shard of 5,000 calls
    assert sharded.seconds == pytest.approx(0.1 + 5 * 0.03 + 5_000 * per_call)
    small = estimate_send(1_000_000, shard_size=50_000, memory_mb=256)
    assert small.cpu_bound and small.seconds == pytest.approx(0.1 + 0.15 + 5_000 * 0.0017 / (256 / 1769))
    # perfect overlap is the bound plus the CPU each thread spends
    ideal = estimate_send(100_000, memory_mb=1769, cpu_seconds_per_call=0.0, efficiency=1.0)
    assert ideal.seconds == ideal.bound_seconds == pytest.approx(25.0)


def test_a_larger_run_than_1000_shards_gets_larger_shards():
    assert estimate_send(10_000_000, shard_size=1_000).shards == 1_000


def test_the_drain_cannot_get_ahead_of_the_send():
    slow_send = estimate_send(100_000, memory_mb=256)  # about 117 s, CPU-bound
    run = estimate_run(100_000, seconds_per_task=0.001, send=slow_send)
    assert slow_send.seconds < run.seconds < slow_send.seconds + 5


def test_max_concurrency_caps_the_drain_and_sets_its_rate():
    send = estimate_send(100_000, shard_size=10_000, memory_mb=1769)
    capped = estimate_run(100_000, seconds_per_task=0.1, max_concurrency=10, send=send)
    # 10 pollers x 10 tasks per 1.03 s batch: about 97 tasks a second
    assert capped.peak_concurrency == 10
    assert capped.seconds == pytest.approx(100_000 / (10 * 10 / 1.03), rel=0.02)


def test_the_batching_window_is_waited_out_at_the_end():
    send = estimate_send(95, memory_mb=1769)
    without = estimate_run(95, seconds_per_task=0.0, send=send)
    window = estimate_run(95, seconds_per_task=0.0, batch_size=100, max_batching_window_seconds=5, send=send)
    assert window.seconds - without.seconds == pytest.approx(5, abs=0.6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: estimate_send(-1), "tasks must be a whole number of at least 0, got -1"),
        (lambda: estimate_send(10, concurrency=0), "concurrency must be a positive integer, got 0"),
        (lambda: estimate_send(10, memory_mb=0), "memory_mb must be a positive number, got 0"),
        (lambda: estimate_send(10, efficiency=1.5), "efficiency must be a number above 0 and at most 1, got 1.5"),
        (lambda: estimate_run(10, seconds_per_task=-1), "seconds_per_task must be a number of at least 0, got -1"),
        (lambda: estimate_run(10, seconds_per_task=0.1, batch_size=0), "batch_size must be a whole number between 1 and 10000, got 0"),
        (lambda: estimate_run(10, seconds_per_task=0.1, max_concurrency=1), "max_concurrency must be None or a whole number between 2 and 1000, got 1"),
    ],
)
def test_bad_inputs_are_named(call, message):
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message


def test_a_larger_batch_takes_fewer_invocations_and_spreads_the_overhead_over_more_tasks():
    send = estimate_send(100_000, shard_size=10_000, memory_mb=1769)
    small = estimate_run(100_000, seconds_per_task=0.01, batch_size=10, max_concurrency=20, send=send)
    large = estimate_run(100_000, seconds_per_task=0.01, batch_size=100, max_batching_window_seconds=1, max_concurrency=20, send=send)
    assert (small.worker_invocations, large.worker_invocations) == (10_000, 1_000)
    # 20 pollers: 10 tasks per 0.13 s batch, against 100 tasks per 1.03 s batch; plus the ramp from 5
    # to 20 pollers (3 s, half of it lost) and, for the large batch, the last one's window (1 s)
    assert small.seconds == pytest.approx(100_000 / (20 * 10 / 0.13) + 1.5, abs=1.0)
    assert large.seconds == pytest.approx(100_000 / (20 * 100 / 1.03) + 1.5 + 1 + 1.03, abs=1.0)
    assert large.seconds < small.seconds
