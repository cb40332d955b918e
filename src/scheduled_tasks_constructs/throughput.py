"""How long a fan-out run takes: the send (one producer or shards) and the drain by the SQS event source.

A model, not a measurement: it turns the settings of a ``ScheduledTaskFanout``
into the wall time of a run, from a few documented service behaviours and
the per-call costs the benchmarks measure (``benchmarks/bench_shards.py``).

Send. A producer invocation sends ``ceil(tasks / 10)`` ``SendMessageBatch``
calls, ``concurrency`` at a time. Each of its threads spends a call's round
trip and the call's CPU (``cpu_seconds_per_call / vcpu``, where ``vcpu =
min(memory_mb, 1769) / 1769`` is Lambda's CPU share: a whole vCPU at 1,769
MB), and the CPU of all the calls is spent one call at a time (Python's
lock): a call every ``max((latency + cpu) / (concurrency x efficiency), cpu)``
seconds, where ``efficiency`` (:data:`DEFAULT_THREAD_EFFICIENCY`) is what the
threads lose handing that lock to one another, as measured. The bound,
perfect overlap and no CPU, is ``calls x latency / concurrency``. A sharded run
(:func:`scheduled_tasks_constructs.runtime.sharding.sharded_producer`) is
planned first, then its shards send in parallel, each as one invocation: the
run takes the planning, the hand-off of the shards (``concurrency`` at a
time) and its largest shard.

Drain. Lambda's SQS event source (standard queue) starts with 5 concurrent
batches once messages are there, adds up to 300 a minute while messages
remain (modelled as 5 more every second), and goes up to 1,000, or
``max_concurrency`` when set. Each of those pollers takes a batch of
``batch_size`` messages (a full one at once while the queue holds one; a
partial batch waits up to ``max_batching_window`` at the end) and invokes the
worker, which spends ``batch_size x seconds_per_task`` plus
``batch_overhead_seconds`` (receive, invoke, delete, the ledger update). The
account's concurrency (1,000 by default in a region, shared by every function)
and reserved concurrency can cap it lower; give ``max_concurrency`` then.

The drain starts when the first messages are on the queue and cannot get
ahead of the send: the model steps through time in ``step_seconds``, adding
what the send has put on the queue and working off what the pollers can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from .cost import LAMBDA_FULL_VCPU_MEMORY_MB, shard_sizes

SQS_EVENT_SOURCE_INITIAL_BATCHES = 5
"""Concurrent batches Lambda's SQS event source starts with."""

SQS_EVENT_SOURCE_BATCHES_PER_MINUTE = 300
"""Concurrent batches the SQS event source adds per minute while messages remain."""

SQS_EVENT_SOURCE_MAX_BATCHES = 1_000
"""Most concurrent batches of one SQS event source mapping (standard queue)."""

DEFAULT_CPU_SECONDS_PER_CALL = 0.0017
"""CPU of one ``SendMessageBatch`` call of 10 through ``send_tasks``, on a whole vCPU (1.705 ms, ``benchmarks/bench_shards.py``)."""

DEFAULT_THREAD_EFFICIENCY = 0.85
"""Share of perfect overlap the sending threads reach: a 50,000-task shard took a median 16.9 s
on a whole core in ``benchmarks/bench_shards.py``, against 14.6 s with perfect overlap."""

DEFAULT_BATCH_OVERHEAD_SECONDS = 0.03
"""A worker batch's time besides its tasks: the poller's receive and delete, the invoke, the ledger update."""


@dataclass(frozen=True)
class SendEstimate:
    """The modelled send of one run.

    Parameters
    ----------
    seconds : float
        Wall time from the scheduled invocation until the last task is on
        the queue.
    bound_seconds : float
        ``calls x latency / (shards x concurrency)``: perfect batching and
        concurrency, no CPU.
    shards : int
        Shard invocations (0: the scheduled invocation sent every task).
    requests : int
        ``SendMessageBatch`` calls plus the shards' Lambda ``Invoke`` calls.
    cpu_bound : bool
        Whether the CPU share, not the round trips, sets the pace.
    """

    seconds: float
    bound_seconds: float
    shards: int
    requests: int
    cpu_bound: bool


@dataclass(frozen=True)
class DrainEstimate:
    """The modelled run of a fan-out: its send, then the worker working it off.

    Parameters
    ----------
    seconds : float
        Wall time from the scheduled invocation until the last task is worked.
    send : SendEstimate
        The send.
    peak_concurrency : int
        Most worker invocations at once.
    worker_invocations : int
        Worker invocations (batches).
    seconds_to_full_concurrency : float or None
        When the event source reached its cap, or None if the run was over
        first.
    """

    seconds: float
    send: SendEstimate
    peak_concurrency: int
    worker_invocations: int
    seconds_to_full_concurrency: Optional[float]


def _positive(name: str, value: float, *, zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (value == 0 and not zero):
        what = "a number of at least 0" if zero else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def estimate_send(
    tasks: int,
    *,
    shard_size: Optional[int] = None,
    concurrency: int = 4,
    latency_seconds: float = 0.010,
    cpu_seconds_per_call: float = DEFAULT_CPU_SECONDS_PER_CALL,
    memory_mb: int = 256,
    invoke_seconds: float = 0.030,
    planning_seconds: float = 0.1,
    efficiency: float = DEFAULT_THREAD_EFFICIENCY,
) -> SendEstimate:
    """Model the send of a run of ``tasks``.

    Parameters
    ----------
    tasks : int
        Tasks of the run.
    shard_size : int or None, optional
        The producer's shard size (``producer_shard_size``); None for one
        invocation. Default: None.
    concurrency : int, optional
        Calls in flight per invocation. Default: 4.
    latency_seconds : float, optional
        Round trip of one call. Default: 0.010.
    cpu_seconds_per_call : float, optional
        CPU of one call on a whole vCPU. Default:
        :data:`DEFAULT_CPU_SECONDS_PER_CALL`.
    memory_mb : int, optional
        The producer's memory (its CPU share). Default: 256.
    invoke_seconds : float, optional
        Until a shard's asynchronous invocation has started. Default: 0.030.
    planning_seconds : float, optional
        The planner's ledger calls and its ``count``. Default: 0.1.
    efficiency : float, optional
        Share of perfect overlap the threads reach (0 to 1). Default:
        :data:`DEFAULT_THREAD_EFFICIENCY`.

    Examples
    --------
    >>> one = estimate_send(1_000_000, memory_mb=1769)
    >>> round(one.seconds), one.shards, one.cpu_bound
    (344, 0, False)
    >>> sharded = estimate_send(1_000_000, shard_size=50_000, memory_mb=1769)
    >>> round(sharded.seconds, 1), sharded.shards, round(sharded.bound_seconds, 1)
    (17.5, 20, 12.5)
    >>> round(estimate_send(1_000_000, shard_size=50_000).seconds, 1)  # 256 MB: its CPU share sets the pace
    59.0
    """
    if isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 0:
        raise ValueError(f"tasks must be a whole number of at least 0, got {tasks!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    _positive("latency_seconds", latency_seconds, zero=True)
    _positive("cpu_seconds_per_call", cpu_seconds_per_call, zero=True)
    _positive("memory_mb", memory_mb)
    _positive("invoke_seconds", invoke_seconds, zero=True)
    _positive("planning_seconds", planning_seconds, zero=True)
    if isinstance(efficiency, bool) or not isinstance(efficiency, (int, float)) or not 0 < efficiency <= 1:
        raise ValueError(f"efficiency must be a number above 0 and at most 1, got {efficiency!r}")
    vcpu = min(memory_mb, LAMBDA_FULL_VCPU_MEMORY_MB) / LAMBDA_FULL_VCPU_MEMORY_MB
    sizes = shard_sizes(tasks, shard_size) or [tasks]
    shards = len(sizes) if len(sizes) > 1 else 0

    def one(size: int) -> tuple[float, bool]:
        calls = math.ceil(size / 10)
        cpu = cpu_seconds_per_call / vcpu
        overlapped = (latency_seconds + cpu) / (concurrency * efficiency)
        return calls * max(overlapped, cpu), cpu > overlapped

    calls = math.ceil(tasks / 10) if not shards else sum(math.ceil(size / 10) for size in sizes)
    if not shards:
        seconds, cpu_bound = one(tasks)
        return SendEstimate(seconds, calls * latency_seconds / concurrency, 0, calls, cpu_bound)
    slowest, cpu_bound = max(one(size) for size in sizes)
    hand_off = math.ceil(shards / concurrency) * invoke_seconds
    bound = calls * latency_seconds / (shards * concurrency)
    return SendEstimate(planning_seconds + hand_off + slowest, bound, shards, calls + shards, cpu_bound)


def event_source_concurrency(seconds: float, *, max_concurrency: Optional[int] = None) -> int:
    """Concurrent batches of the SQS event source ``seconds`` after messages arrived (messages remaining).

    Examples
    --------
    >>> event_source_concurrency(0), event_source_concurrency(60), event_source_concurrency(600)
    (5, 305, 1000)
    >>> event_source_concurrency(600, max_concurrency=50)
    50
    """
    cap = SQS_EVENT_SOURCE_MAX_BATCHES if max_concurrency is None else min(max_concurrency, SQS_EVENT_SOURCE_MAX_BATCHES)
    grown = SQS_EVENT_SOURCE_INITIAL_BATCHES + int(seconds * SQS_EVENT_SOURCE_BATCHES_PER_MINUTE / 60)
    return max(1, min(cap, grown))


def estimate_run(
    tasks: int,
    *,
    seconds_per_task: float,
    batch_size: int = 10,
    max_batching_window_seconds: float = 0.0,
    max_concurrency: Optional[int] = None,
    batch_overhead_seconds: float = DEFAULT_BATCH_OVERHEAD_SECONDS,
    send: Optional[SendEstimate] = None,
    step_seconds: float = 0.5,
) -> DrainEstimate:
    """Model a whole fan-out run: the send, and the worker draining the queue as the event source scales.

    Parameters
    ----------
    tasks : int
        Tasks of the run.
    seconds_per_task : float
        Wall time of one task in the worker.
    batch_size, max_batching_window_seconds, max_concurrency : optional
        The construct's ``batch_size`` (default 10), ``max_batching_window``
        in seconds (default 0) and ``max_concurrency`` (default none: the
        event source's 1,000).
    batch_overhead_seconds : float, optional
        A batch's time besides its tasks. Default:
        :data:`DEFAULT_BATCH_OVERHEAD_SECONDS`.
    send : SendEstimate or None, optional
        The send (:func:`estimate_send`); its tasks arrive evenly over its
        seconds. Default: ``estimate_send(tasks)``.
    step_seconds : float, optional
        The model's time step. Default: 0.5.

    Examples
    --------
    A million tasks of 0.1 s with the defaults, sent in shards of 50,000:

    >>> run = estimate_run(1_000_000, seconds_per_task=0.1, send=estimate_send(1_000_000, shard_size=50_000))
    >>> round(run.seconds), run.peak_concurrency, run.worker_invocations, run.seconds_to_full_concurrency
    (203, 1000, 100000, 199.0)
    """
    if isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 0:
        raise ValueError(f"tasks must be a whole number of at least 0, got {tasks!r}")
    _positive("seconds_per_task", seconds_per_task, zero=True)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 10_000:
        raise ValueError(f"batch_size must be a whole number between 1 and 10000, got {batch_size!r}")
    _positive("max_batching_window_seconds", max_batching_window_seconds, zero=True)
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or not 2 <= max_concurrency <= 1_000
    ):
        raise ValueError(f"max_concurrency must be None or a whole number between 2 and 1000, got {max_concurrency!r}")
    _positive("batch_overhead_seconds", batch_overhead_seconds, zero=True)
    _positive("step_seconds", step_seconds)
    send = send if send is not None else estimate_send(tasks)
    invocations = math.ceil(tasks / batch_size)
    if tasks == 0:
        return DrainEstimate(send.seconds, send, 0, 0, None)
    rate_in = tasks / send.seconds if send.seconds > 0 else math.inf
    batch_seconds = batch_overhead_seconds + batch_size * seconds_per_task
    sent = queued = worked = 0.0
    now = 0.0
    first: Optional[float] = None
    peak, full_at = 0, None
    cap = SQS_EVENT_SOURCE_MAX_BATCHES if max_concurrency is None else max_concurrency
    while worked < tasks - 1e-9:
        arriving = min(tasks - sent, rate_in * step_seconds)
        sent += arriving
        queued += arriving
        if first is None and queued > 0:
            first = now
        pollers = event_source_concurrency(now - first, max_concurrency=max_concurrency) if first is not None else 0
        if pollers == cap and full_at is None and queued >= pollers * batch_size:
            full_at = round(now - (first or 0.0), 3)
        # A poller works one batch per batch_seconds; a partial batch at the end also waits out the window.
        capacity = pollers * batch_size * step_seconds / batch_seconds
        busy = min(pollers, math.ceil(queued / batch_size)) if queued > 0 else 0
        peak = max(peak, busy)
        done = min(queued, capacity)
        if sent >= tasks and queued <= pollers * batch_size and queued > 0:
            done = queued  # the last batches: each takes one batch time, after the window
            now += max(step_seconds, batch_seconds + max_batching_window_seconds) - step_seconds
        queued -= done
        worked += done
        now += step_seconds
    return DrainEstimate(round(now, 3), send, peak, invocations, full_at)


__all__ = [
    "DEFAULT_BATCH_OVERHEAD_SECONDS",
    "DEFAULT_CPU_SECONDS_PER_CALL",
    "DEFAULT_THREAD_EFFICIENCY",
    "DrainEstimate",
    "LAMBDA_FULL_VCPU_MEMORY_MB",
    "SQS_EVENT_SOURCE_BATCHES_PER_MINUTE",
    "SQS_EVENT_SOURCE_INITIAL_BATCHES",
    "SQS_EVENT_SOURCE_MAX_BATCHES",
    "SendEstimate",
    "estimate_run",
    "estimate_send",
    "event_source_concurrency",
]
