"""A producer that sends a large run in shards, each in a Lambda invocation of its own.

One producer invocation sends a run's tasks :data:`.fanout.DEFAULT_CONCURRENCY`
calls at a time; a run of a million tasks would take it minutes and most of
its CPU. :func:`sharded_producer` makes a handler that sends a small run
itself and splits a large one into shards of ``shard_size`` positions: it
records the plan in the run ledger and hands each shard to a new
asynchronous invocation of the same function (:func:`invoke_self`), which
sends its positions with :func:`.fanout.send_tasks`, so the run goes out
``shards x concurrency`` calls at a time.

Why asynchronous self-invocation rather than a queue of shards: it needs no
other resource (the producer's role is granted ``lambda:InvokeFunction`` on
itself), a shard starts within tens of milliseconds, Lambda's asynchronous
retries and on-failure destination already apply to the producer (the same
ones as the scheduled run), and a shard is one invocation whatever its
size, so there is no visibility timeout to tune against it.

The tasks are asked for by position, lazily: ``count(event, run)`` says how
many the run has, ``tasks(event, run, start, stop)`` yields those at
``start`` to ``stop - 1``, the same on every call (a database page range,
an object listing by prefix, a range of numbers). A task without a
``"name"`` gets its position as its id, so every shard gives the ids the
whole run would, and a retried shard sends its tasks under the same ids.

Exactness, with the run ledger (``LEDGER_TABLE_NAME``, which
``ScheduledTaskFanout`` always sets):

- a shard claims its part before it sends (one conditional update); a
  second delivery of a shard already claimed or done sends nothing;
- it checkpoints the leading tasks it has sent every
  :data:`.fanout.DEFAULT_PROGRESS_EVERY`; an attempt that fails records its
  exact checkpoint and how many tasks it sent past it (``tasks_resent``:
  the retry sends them again under the same ids, and the run's counts
  expect those deliveries too), stops at the first failed batch, and gives
  up its claim so that Lambda's retry resumes at once;
- a shard near the end of its invocation's time stops taking tasks,
  checkpoints and hands the rest to a new invocation of itself, so no
  shard size runs into Lambda's 15 minutes;
- the update that marks a shard done adds its count to ``tasks_sent``
  once; the one that sees every shard done ends the run's sending, which
  finishes the run when the workers are through.

What is not exact: an attempt that dies without running its ``except``
(out of memory, the runtime killed) leaves only its last checkpoint; its
retry resumes there once the dead attempt's claim has run out (its
invocation's time), and up to ``DEFAULT_PROGRESS_EVERY + 10 x concurrency``
tasks are delivered twice without ``tasks_resent`` knowing (use
:mod:`.idempotency` in the task function). A shard that fails its last
attempt fails the run.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import QUEUE_URL, SHARD_SIZE, _aws, ledger
from .events import MalformedEventError, RunContext, parse_schedule_input
from .fanout import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_MESSAGE_BYTES,
    SendReport,
    _check_limit,
    _check_options,
    send_tasks,
)

logger = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 50_000
"""Most tasks one producer invocation sends (``SHARD_SIZE`` when unset).

A million tasks are 20 shards. A shard of 50,000 tasks is 5,000
``SendMessageBatch`` calls: about 17 s at :data:`.fanout.DEFAULT_CONCURRENCY`
on a 10 ms round trip with a whole vCPU, and about a minute at the
producer's default 256 MB, where its CPU share sets the pace
(``benchmarks/bench_shards.py``); well inside Lambda's 15 minutes either way."""

MAX_SHARDS = 1_000
"""Most shards of one run: a larger run gets larger shards (``ceil(N / 1000)`` tasks each)."""

SHARD_EVENT_KEY = "fanout_shard"
"""Key of the shard's part (``index``, ``start``, ``stop``, ``run_id``) in a shard's event."""

TaskCount = Callable[[Any, RunContext], int]
"""``count(event, run)``: how many tasks the run has."""

TaskRange = Callable[[Any, RunContext, int, int], Iterable[Any]]
"""``tasks(event, run, start, stop)``: the tasks at positions ``start`` to ``stop - 1`` (best a generator)."""

#: Fraction of an invocation's remaining time after which a shard stops taking tasks (at most 60 s before the end).
_RESERVE_FRACTION = 0.2
_RESERVE_MAX_SECONDS = 60.0


def shard_ranges(total: int, shard_size: int) -> list[tuple[int, int]]:
    """The ``(start, stop)`` positions of each shard of a run of ``total`` tasks.

    Shards of ``shard_size`` (the last one shorter), or of
    ``ceil(total / MAX_SHARDS)`` when that is larger; one shard (or none, for
    no tasks) means the run is sent by one invocation.

    Examples
    --------
    >>> shard_ranges(250_000, 100_000)
    [(0, 100000), (100000, 200000), (200000, 250000)]
    >>> shard_ranges(0, 100)
    []
    >>> len(shard_ranges(10_000_000, 1_000))
    1000
    """
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"the task count must be a whole number of at least 0, got {total!r}")
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    size = max(shard_size, -(-total // MAX_SHARDS))
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def shard_size_from_env(environ: Mapping[str, str] | None = None) -> int:
    """``SHARD_SIZE`` from the environment (default: :data:`DEFAULT_SHARD_SIZE`).

    Examples
    --------
    >>> shard_size_from_env({"SHARD_SIZE": "20000"})
    20000
    >>> shard_size_from_env({})
    50000
    """
    env = os.environ if environ is None else environ
    raw = env.get(SHARD_SIZE, "").strip()
    if not raw:
        return DEFAULT_SHARD_SIZE
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise RuntimeError(f"environment variable {SHARD_SIZE} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def invoke_self(payload: Mapping[str, Any]) -> None:
    """Hand a shard to a new invocation of this function: an asynchronous ``Invoke`` of itself.

    The function is ``AWS_LAMBDA_FUNCTION_NAME`` (Lambda sets it); the role
    needs ``lambda:InvokeFunction`` on the function, which
    ``ScheduledTaskFanout`` grants a producer of your own. Lambda retries a
    failed shard as it retries the scheduled run (the function's
    asynchronous invocation settings) and sends it to the run dead-letter
    queue after the last attempt.
    """
    name = _aws.required_env("AWS_LAMBDA_FUNCTION_NAME")
    _aws.client("lambda").invoke(
        FunctionName=name,
        InvocationType="Event",
        Payload=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
    )


def _as_tasks(source: Any) -> Sequence[Any] | Iterator[Any]:
    if isinstance(source, (list, tuple)):
        return source
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable):
        raise TypeError(f"tasks(...) must give a list or an iterable of tasks, got {type(source).__name__}")
    return iter(source)


def _count_of(count: TaskCount, event: Any, run: RunContext) -> int:
    total = count(event, run)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"count(...) must give a whole number of at least 0, got {total!r}")
    return total


def _log(execution_id: str, report: SendReport, what: str = "") -> None:
    logger.info(
        "run %s%s: sent %d tasks in %d requests (%d entries retried)",
        execution_id,
        what,
        report.sent,
        report.requests,
        report.retried_entries,
    )


class _Clock:
    """When a shard stops taking tasks: a share of its invocation's remaining time before the end."""

    def __init__(self, context: Any) -> None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self.seconds: float | None = None
        if callable(remaining):
            try:
                self.seconds = max(0.0, float(remaining()) / 1000)
            except (TypeError, ValueError):
                self.seconds = None
        self._started = time.monotonic()
        reserve = min(_RESERVE_MAX_SECONDS, (self.seconds or 0.0) * _RESERVE_FRACTION)
        self._stop_at = None if self.seconds is None else self._started + self.seconds - reserve

    def claim_seconds(self, default: float) -> float:
        """How long a claim should last: the invocation's remaining time (it cannot outlive it)."""
        return default if self.seconds is None else max(1.0, self.seconds)

    def out_of_time(self) -> bool:
        return self._stop_at is not None and time.monotonic() >= self._stop_at


def _until(clock: _Clock, tasks: Sequence[Any] | Iterator[Any]) -> Iterator[Any]:
    for task in tasks:
        if clock.out_of_time():
            return
        yield task


def sharded_producer(
    count: TaskCount,
    tasks: TaskRange,
    *,
    shard_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    dispatch: Callable[[Mapping[str, Any]], None] | None = None,
) -> Callable[[Any, Any], dict[str, Any]]:
    """A producer handler that sends a run's tasks itself, or splits them into shards.

    Parameters
    ----------
    count : callable
        ``count(event, run)``: how many tasks the run has (a whole number).
        Called once per run, after the run ledger has given this delivery
        the run.
    tasks : callable
        ``tasks(event, run, start, stop)``: the tasks at positions ``start``
        to ``stop - 1``, the same every time it is asked. Give a generator,
        so that a shard never holds its tasks in memory at once.
    shard_size : int or None, optional
        Most tasks one invocation sends. Default: ``SHARD_SIZE`` from the
        environment (which ``ScheduledTaskFanout`` sets from
        ``producer_shard_size``), else :data:`DEFAULT_SHARD_SIZE`.
    concurrency : int, optional
        ``SendMessageBatch`` calls in flight in each invocation. Default:
        :data:`.fanout.DEFAULT_CONCURRENCY`.
    max_message_bytes : int, optional
        See :func:`.fanout.send_tasks`.
    dispatch : callable or None, optional
        ``dispatch(event)`` hands one shard's event on. Default:
        :func:`invoke_self`.

    Returns
    -------
    callable
        ``handler(event, context)``, the function's handler. A run of up to
        ``shard_size`` tasks is sent by the invocation the schedule made, as
        the bundled producer sends one. A larger run is planned as
        :func:`shard_ranges` and each shard handed to an invocation of its
        own; see the module's notes for what stays exact.

    Examples
    --------
    >>> def count(event, run):
    ...     return 1_000_000
    >>> def tasks(event, run, start, stop):
    ...     return ({"item": n} for n in range(start, stop))
    >>> handler = sharded_producer(count, tasks)
    """
    if shard_size is not None and (isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1):
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    _check_options(concurrency, 1, 0, 0)
    _check_limit(max_message_bytes)
    if not callable(count) or not callable(tasks):
        raise TypeError("count and tasks must be callables: count(event, run) and tasks(event, run, start, stop)")
    hand_on = dispatch or invoke_self

    def handler(event: Any, context: Any) -> dict[str, Any]:
        queue_url = _aws.required_env(QUEUE_URL)
        request_id = _aws.request_id_of(context)
        run = parse_schedule_input(event, fallback_id=request_id)
        spec = event.get(SHARD_EVENT_KEY) if isinstance(event, dict) else None
        config = ledger.LedgerConfig.from_env()
        # The entries are built and checked by send_tasks; botocore's own
        # validation of them would only add CPU to every call.
        sqs = _aws.client("sqs", parameter_validation=False, max_pool_connections=concurrency)
        send = functools.partial(
            send_tasks, queue_url, run=run, client=sqs, concurrency=concurrency, max_message_bytes=max_message_bytes
        )
        shards = _Shards(event, context, run, config, send, tasks, request_id, hand_on, concurrency)
        if spec is not None:
            return shards.run_shard(spec)
        size = shard_size if shard_size is not None else shard_size_from_env()
        return shards.plan(count, size)

    return handler


class _Shards:
    """One invocation of a sharded producer: the planner of a run, or one shard of it."""

    def __init__(
        self,
        event: Any,
        context: Any,
        run: RunContext,
        config: ledger.LedgerConfig | None,
        send: Callable[..., SendReport],
        tasks: TaskRange,
        request_id: str,
        hand_on: Callable[[Mapping[str, Any]], None],
        concurrency: int,
    ) -> None:
        self.event, self.run, self.config = event, run, config
        self.send, self.tasks, self.request_id = send, tasks, request_id
        self.hand_on, self.concurrency = hand_on, concurrency
        self.clock = _Clock(context)
        self.dynamodb = _aws.client("dynamodb") if config is not None else None

    # ------------------------------------------------------------------ planner

    def plan(self, count: TaskCount, size: int) -> dict[str, Any]:
        run, config, dynamodb = self.run, self.config, self.dynamodb
        if config is None or dynamodb is None:
            ranges = shard_ranges(_count_of(count, self.event, run), size)
            if len(ranges) <= 1:
                report = self.send(_as_tasks(self.tasks(self.event, run, 0, ranges[0][1] if ranges else 0)))
                _log(run.execution_id, report)
                return {"execution_id": run.execution_id, "sent": report.sent, "requests": report.requests}
            handed = self._dispatch(None, [ledger.ShardState(i, a, b) for i, (a, b) in enumerate(ranges)])
            return {"execution_id": run.execution_id, "sent": 0, "requests": 0, "shards": len(ranges), "dispatched": handed}
        start = ledger.start_run(dynamodb, config, run, request_id=self.request_id)
        result = {"execution_id": run.execution_id, "run_id": start.run_id, "outcome": start.outcome}
        if not start.should_work:
            logger.info(
                "run %s: %s delivery, nothing sent (status %s)", start.run_id, start.outcome, start.item.get("status")
            )
            return {**result, "sent": 0, "requests": 0}
        try:
            planned = ledger.shards_of(start.item)
            if not planned:
                ranges = shard_ranges(_count_of(count, self.event, run), size)
                if len(ranges) <= 1:
                    stop = ranges[0][1] if ranges else 0
                    report = self.send(_as_tasks(self.tasks(self.event, run, 0, stop)), run_id=start.run_id)
                    _log(run.execution_id, report)
                    finished = ledger.finish_sending(dynamodb, config, start.run_id, sent=report.sent)
                    if finished is not None:
                        ledger.post_summary(finished)
                    return {**result, "sent": report.sent, "requests": report.requests}
                planned = ledger.plan_shards(dynamodb, config, start.run_id, ranges, request_id=self.request_id)
            handed = self._dispatch(start.run_id, planned)
        except Exception as exc:
            failed = ledger.fail_sending(dynamodb, config, start.run_id, exc, attempts=int(start.item.get("attempts", 1)))
            if failed is not None:
                ledger.post_summary(failed)
            raise
        logger.info("run %s: %d tasks in %d shards, %d handed on", start.run_id, planned[-1].stop, len(planned), handed)
        return {**result, "sent": 0, "requests": 0, "shards": len(planned), "dispatched": handed}

    def _event_for(self, run_id: str | None, shard: ledger.ShardState) -> dict[str, Any]:
        base = {key: value for key, value in (self.event or {}).items() if key != SHARD_EVENT_KEY}
        base["execution_id"] = self.run.execution_id
        base[SHARD_EVENT_KEY] = {"index": shard.index, "start": shard.start, "stop": shard.stop, "run_id": run_id}
        return base

    def _dispatch(self, run_id: str | None, shards: list[ledger.ShardState]) -> int:
        """Hand every shard not yet handed on (nor done) to its own invocation; how many were."""
        todo = [shard for shard in shards if not shard.done and not shard.dispatched]

        def one(shard: ledger.ShardState) -> None:
            self.hand_on(self._event_for(run_id, shard))
            if self.config is not None and self.dynamodb is not None and run_id is not None:
                ledger.mark_dispatched(self.dynamodb, self.config, run_id, shard.index)

        if len(todo) <= 1 or self.concurrency == 1:
            for shard in todo:
                one(shard)
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(todo))) as pool:
                for future in [pool.submit(one, shard) for shard in todo]:
                    future.result()
        return len(todo)

    # ------------------------------------------------------------------ one shard

    def run_shard(self, spec: Any) -> dict[str, Any]:
        index, start, stop, run_id = _shard_spec(spec)
        run, config, dynamodb = self.run, self.config, self.dynamodb
        result: dict[str, Any] = {"execution_id": run.execution_id, "run_id": run_id, "shard": index}
        if config is None or dynamodb is None or run_id is None:
            report = self.send(_as_tasks(self.tasks(self.event, run, start, stop)), start=start, run_id=run_id)
            _log(run.execution_id, report, f" shard {index}")
            return {**result, "outcome": "sent", "sent": report.sent, "requests": report.requests}
        claim = ledger.claim_shard(
            dynamodb, config, run_id, index, request_id=self.request_id,
            seconds=self.clock.claim_seconds(float(config.lock_seconds)),
        )
        if claim.outcome != "claimed":
            if claim.outcome == "done":
                # The invocation that finished the shard may have died before it ended the sending.
                finished = ledger.finish_sharded_sending(dynamodb, config, claim.item)
                if finished is not None:
                    ledger.post_summary(finished)
            logger.info("run %s shard %d: %s, nothing sent", run_id, index, claim.outcome)
            return {**result, "outcome": claim.outcome, "sent": 0, "requests": 0}
        already = claim.shard.sent
        resume = start + already
        progress = [0, 0]  # leading tasks all sent, every task sent (of this attempt)

        def checkpoint(prefix: int, sent: int) -> None:
            progress[0], progress[1] = prefix, sent
            if prefix and resume + prefix < stop:
                ledger.checkpoint_shard(dynamodb, config, run_id, index, sent=already + prefix, request_id=self.request_id)

        source = _until(self.clock, _as_tasks(self.tasks(self.event, run, resume, stop)))
        try:
            report = self.send(source, start=resume, run_id=run_id, on_progress=checkpoint)
        except Exception as exc:
            failed = ledger.fail_shard(
                dynamodb, config, run_id, index, exc,
                sent=already + progress[0], resent=progress[1] - progress[0],
                attempts=claim.shard.attempts, request_id=self.request_id,
            )
            if failed is not None:
                ledger.post_summary(failed)
            raise
        reached = resume + report.sent
        what = f" shard {index}" + (f" (resumed at {resume})" if already else "")
        _log(run.execution_id, report, what)
        out = {**result, "resumed_at": resume, "sent": report.sent, "requests": report.requests}
        if reached < stop:
            if report.sent == 0:
                raise RuntimeError(
                    f"shard {index} of run {run_id} sent nothing before its invocation's time ran short; "
                    "give the producer a longer timeout"
                )
            # Out of time: the rest goes on in a new invocation, from this checkpoint.
            ledger.yield_shard(dynamodb, config, run_id, index, sent=already + report.sent, request_id=self.request_id)
            self.hand_on(self._event_for(run_id, ledger.ShardState(index, start, stop)))
            logger.info("run %s shard %d: continued at %d in a new invocation", run_id, index, reached)
            return {**out, "outcome": "continued"}
        finished = ledger.complete_shard(dynamodb, config, run_id, index, sent=already + report.sent)
        if finished is not None:
            ledger.post_summary(finished)
        return {**out, "outcome": "resumed" if already else "claimed"}


def _shard_spec(spec: Any) -> tuple[int, int, int, str | None]:
    if not isinstance(spec, dict):
        raise MalformedEventError(f"event field {SHARD_EVENT_KEY!r} must be an object, got {type(spec).__name__}")
    values = []
    for key in ("index", "start", "stop"):
        value = spec.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MalformedEventError(f"event field {SHARD_EVENT_KEY}.{key} must be a whole number, got {value!r}")
        values.append(value)
    run_id = spec.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise MalformedEventError(f"event field {SHARD_EVENT_KEY}.run_id must be a string, got {type(run_id).__name__}")
    index, start, stop = values
    if stop < start:
        raise MalformedEventError(f"event field {SHARD_EVENT_KEY}: stop {stop} is before start {start}")
    return index, start, stop, run_id


__all__ = [
    "DEFAULT_SHARD_SIZE",
    "MAX_SHARDS",
    "SHARD_EVENT_KEY",
    "TaskCount",
    "TaskRange",
    "invoke_self",
    "shard_ranges",
    "shard_size_from_env",
    "sharded_producer",
]
