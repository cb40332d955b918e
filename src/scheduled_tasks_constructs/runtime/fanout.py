"""Producer-side helper: send the tasks of one scheduled run to an SQS queue.

Every task becomes one message in the format of :mod:`.messages`: a JSON
body with the task, its id and its run, and the message attribute
``task_id``. Task ids are
deterministic (``<execution id>/<task name or index>``), so when the
Scheduler retries a run and some tasks are sent twice, consumers can
recognise the duplicates (see :mod:`.idempotency`).

:func:`send_tasks` validates every task of a list before it sends
anything (an iterator's tasks are read, checked and sent as they come, so a
million are never in memory at once), packs the messages into
``SendMessageBatch`` calls of up to 10 entries, spreads the calls over a
small thread pool and retries only the entries that a response lists as
failed. Whole calls that fail on throttling, a server
error or the network are retried by botocore (the clients this library
creates use its ``standard`` retry mode), never by this module.
Bundled handlers use it through :mod:`.producer`; your own producer of
dynamic tasks can call it directly, or build on :mod:`.sharding` to send a
large run in shards.
"""

from __future__ import annotations

import logging
import re
import time
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import _aws, messages
from .events import RunContext

logger = logging.getLogger(__name__)

MAX_BATCH_ENTRIES = 10
"""Most entries SQS accepts in one ``SendMessageBatch`` call."""

DEFAULT_MAX_MESSAGE_BYTES = 1_048_576
"""Default size limit of one message, and of one batch, in bytes (1 MiB).

It is the SQS maximum and the default of a new queue. Pass a lower limit for
a queue whose ``MaximumMessageSize`` was set lower (older queues may have
256 KiB)."""

DEFAULT_CONCURRENCY = 4
"""SendMessageBatch calls in flight at once.

botocore spends 1.6-2 ms of CPU on each call and the threads share one GIL:
with a 10 ms round trip, four calls in flight keep each thread within 1.5x of
the round-trip bound. More threads still send somewhat faster on a full vCPU,
but CPU-bound (each call then waits for the GIL); at Lambda's smaller memory
sizes the CPU share, not this number, sets the pace
(``benchmarks/bench_fanout.py`` measures both)."""

DEFAULT_PROGRESS_EVERY = 10_000
"""Tasks between two progress reports of :func:`send_tasks` (a shard's checkpoints)."""

_MAX_IDS_IN_MESSAGE = 20


class TaskTooLargeError(ValueError):
    """A task's message is larger than the queue accepts.

    Parameters
    ----------
    task_id : str
        Id of the task.
    size : int
        Size of its message in bytes (body plus the ``task_id`` attribute).
    limit : int
        The limit in bytes.

    Examples
    --------
    >>> error = TaskTooLargeError("e-1/big", 1_100_000, 1_048_576)
    >>> str(error).split(" (")[0]
    "task 'e-1/big' is 1100000 bytes, over the limit of 1048576 bytes"
    """

    def __init__(self, task_id: str, size: int, limit: int) -> None:
        super().__init__(
            f"task {task_id!r} is {size} bytes, over the limit of {limit} bytes "
            "(message body plus the task_id attribute)"
        )
        self.task_id = task_id
        self.size = size
        self.limit = limit


class EnqueueError(RuntimeError):
    """Some tasks could not be sent to the queue.

    Parameters
    ----------
    task_ids : list of str
        Ids of the tasks that were not sent, in input order.
    sent : int
        How many tasks of the same call were sent.
    reasons : dict of str to str
        Last error code for each task id that was not sent.

    Notes
    -----
    The message names at most 20 ids; ``task_ids`` holds all of them. The
    tasks that were sent stay on the queue, so a retried run sends them
    again with the same ids.

    Examples
    --------
    >>> err = EnqueueError(["e-1/a"], sent=9, reasons={"e-1/a": "InternalError"})
    >>> err.task_ids
    ['e-1/a']
    """

    def __init__(self, task_ids: list[str], *, sent: int, reasons: dict[str, str]) -> None:
        shown = ", ".join(task_ids[:_MAX_IDS_IN_MESSAGE])
        more = len(task_ids) - _MAX_IDS_IN_MESSAGE
        if more > 0:
            shown += f" and {more} more"
        codes = ", ".join(sorted(set(reasons.values())))
        super().__init__(
            f"could not enqueue {len(task_ids)} of {len(task_ids) + sent} tasks ({codes}): {shown}"
        )
        self.task_ids = task_ids
        self.sent = sent
        self.reasons = reasons


@dataclass
class SendReport:
    """Outcome of :func:`send_tasks`.

    Parameters
    ----------
    sent : int
        Number of tasks sent.
    requests : int
        Number of ``SendMessageBatch`` calls made, retries included.
    retried_entries : int
        Number of entries sent again after a failure.
    task_ids : list of str
        Ids of the tasks, in input order.

    Examples
    --------
    >>> SendReport(sent=0, requests=0, retried_entries=0, task_ids=[]).sent
    0
    """

    sent: int
    requests: int
    retried_entries: int
    task_ids: list[str] = field(default_factory=list)


def task_id_for(execution_id: str, index: int, task: Any) -> str:
    """Return the deterministic id of one task of a run.

    Parameters
    ----------
    execution_id : str
        Execution id of the run.
    index : int
        Position of the task in the run's task list.
    task : Any
        The task.

    Returns
    -------
    str
        ``"<execution_id>/<name>"`` when ``task`` is a dict with a string
        ``"name"``, else ``"<execution_id>/<index>"``.

    Examples
    --------
    >>> task_id_for("e-1", 0, {"name": "daily-report"})
    'e-1/daily-report'
    >>> task_id_for("e-1", 3, {"url": "https://example.com"})
    'e-1/3'
    """
    if isinstance(task, dict) and isinstance(task.get("name"), str):
        return f"{execution_id}/{task['name']}"
    return f"{execution_id}/{index}"


#: Characters SQS rejects in message attributes and bodies: control characters
#: other than tab, line feed and carriage return; surrogates; U+FFFE and U+FFFF.
_INVALID_SQS_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _is_valid_attribute_text(text: str) -> bool:
    return _INVALID_SQS_TEXT.search(text) is None


def _check_limit(max_message_bytes: int) -> None:
    if isinstance(max_message_bytes, bool) or not isinstance(max_message_bytes, int):
        raise ValueError(
            f"max_message_bytes must be an integer, got {type(max_message_bytes).__name__}"
        )
    if not 1_024 <= max_message_bytes <= 1_048_576:
        raise ValueError(
            f"max_message_bytes must be between 1024 and 1048576, got {max_message_bytes}"
        )


def _check_task(index: int, task_id: str, seen: dict[str, int]) -> None:
    if task_id in seen:
        raise ValueError(
            f"tasks {seen[task_id]} and {index} have the same id {task_id!r}; "
            "task names must be unique within a run"
        )
    seen[task_id] = index
    if not _is_valid_attribute_text(task_id):
        raise ValueError(
            f"task {index} has an id with characters SQS does not accept "
            "(control characters or unpaired surrogates in its name)"
        )


def _encode(
    index: int, task: Any, run: RunContext, run_id: str | None, max_message_bytes: int, seen: dict[str, int]
) -> tuple[str, str, int]:
    """Task id, body and size of the task at position ``index`` of its run, checked."""
    task_id = task_id_for(run.execution_id, index, task)
    _check_task(index, task_id, seen)
    try:
        body = messages.encode_task(
            task_id,
            task,
            execution_id=run.execution_id,
            scheduled_time=run.scheduled_time,
            run_id=run_id,
        )
    except TypeError as exc:
        raise TypeError(f"task {task_id!r} (index {index}) is not JSON-serialisable: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"task {task_id!r} (index {index}) is not valid JSON: {exc}") from None
    size = messages.message_size(task_id, body)
    if size > max_message_bytes:
        raise TaskTooLargeError(task_id, size, max_message_bytes)
    return task_id, body, size


def build_messages(
    tasks: Sequence[Any],
    run: RunContext,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    run_id: str | None = None,
) -> list[tuple[str, str]]:
    """Turn the tasks of one run into ``(task_id, body)`` pairs.

    Every task is checked before any pair is returned, so a caller that
    sends only after this succeeds never sends part of an invalid run.

    Parameters
    ----------
    tasks : Sequence
        The run's tasks: JSON-serialisable values (usually dicts; a dict with
        a string ``"name"`` gets that name in its id).
    run : RunContext
        The run the tasks belong to.
    max_message_bytes : int, optional
        Size limit of one message (body plus the ``task_id`` attribute).
        Between 1,024 and 1,048,576; set it to the queue's
        ``MaximumMessageSize`` when that is lower than 1 MiB. Default:
        :data:`DEFAULT_MAX_MESSAGE_BYTES`.
    run_id : str or None, optional
        The run's key in the run ledger (:func:`.ledger.run_id_of`), carried
        in every message so that the workers count each task against its run.
        Default: none (no ledger).

    Returns
    -------
    list of (str, str)
        Task id and message body per task, in input order. Bodies are
        compact JSON with sorted keys and ASCII escapes, so the same task
        always gives the same body.

    Raises
    ------
    TypeError
        If ``tasks`` is not a list or tuple, or a task holds a value JSON
        cannot represent (the message names the task id and the type).
    ValueError
        If two tasks have the same id, a task name holds characters SQS does
        not accept, or a task holds NaN, an infinity or a circular reference.
    TaskTooLargeError
        If a message would be larger than ``max_message_bytes``.

    Examples
    --------
    >>> run = RunContext(execution_id="e-1", scheduled_time="2026-11-22T10:00:00Z")
    >>> [(task_id, body)] = build_messages([{"name": "a", "n": 1}], run)
    >>> task_id
    'e-1/a'
    >>> print(body)
    {"execution_id":"e-1","scheduled_time":"2026-11-22T10:00:00Z","task":{"n":1,"name":"a"},"task_id":"e-1/a"}
    """
    _check_limit(max_message_bytes)
    if not isinstance(tasks, (list, tuple)):
        raise TypeError(f"tasks must be a list, got {type(tasks).__name__}")
    seen: dict[str, int] = {}
    built: list[tuple[str, str]] = []
    for index, task in enumerate(tasks):
        task_id, body, _ = _encode(index, task, run, run_id, max_message_bytes, seen)
        built.append((task_id, body))
    return built


@dataclass
class _Entry:
    entry_id: str
    task_id: str
    body: str
    size: int

    def request_entry(self) -> dict[str, Any]:
        return {
            "Id": self.entry_id,
            "MessageBody": self.body,
            "MessageAttributes": messages.message_attributes(self.task_id),
        }


@dataclass
class _BatchOutcome:
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    retried_entries: int = 0
    cause: BaseException | None = None
    #: (position in the call, task id) of each failed entry, to report them in input order.
    failed_order: list[tuple[int, str]] = field(default_factory=list)


def _send_batch(
    batch: list[_Entry],
    *,
    queue_url: str,
    client: Any,
    max_attempts: int,
    backoff_seconds: float,
) -> _BatchOutcome:
    outcome = _BatchOutcome()
    pending = {entry.entry_id: entry for entry in batch}
    reasons: dict[str, str] = {}
    for attempt in range(1, max_attempts + 1):
        if attempt > 1:
            time.sleep(backoff_seconds * 2 ** (attempt - 2))
            outcome.retried_entries += len(pending)
        outcome.requests += 1
        try:
            response = client.send_message_batch(
                QueueUrl=queue_url,
                Entries=[entry.request_entry() for entry in pending.values()],
            )
        except Exception as exc:
            # The client has already retried the whole call as far as its
            # retry mode allows: every entry still pending fails with it.
            reason = _aws.error_code(exc) or type(exc).__name__
            for entry_id in pending:
                reasons[entry_id] = reason
            outcome.cause = exc
            break
        for success in response.get("Successful", []):
            entry = pending.pop(success.get("Id"), None)
            if entry is not None:
                outcome.sent.append(entry.task_id)
        for failure in response.get("Failed", []):
            entry_id = failure.get("Id")
            if entry_id not in pending:
                continue
            reasons[entry_id] = str(failure.get("Code") or "Failed")
            if failure.get("SenderFault"):
                # The entry itself is at fault; sending it again cannot help.
                entry = pending.pop(entry_id)
                outcome.failed[entry.task_id] = reasons[entry_id]
        for entry_id in pending:
            reasons.setdefault(entry_id, "NoResult")
        if not pending:
            break
    for entry_id, entry in pending.items():
        outcome.failed[entry.task_id] = reasons.get(entry_id, "Failed")
    positions = {entry.task_id: int(entry.entry_id[1:]) for entry in batch}
    outcome.failed_order = [(positions[task_id], task_id) for task_id in outcome.failed]
    return outcome


class _Stream:
    """Batches pulled by the sending threads, and the run of leading tasks all sent.

    The threads take batches one at a time (building a message happens under
    the lock, so a lazy task iterator is read by one thread at a time); each
    finished batch moves :attr:`sent_prefix` on when every batch before it
    was sent whole, and ``on_progress(prefix, sent)`` hears of it every
    ``progress_every`` tasks. With ``on_progress`` (a caller that resumes from
    the prefix), the first batch with failed entries stops the pulling: what
    is sent after the prefix would be sent again by the retry.
    """

    def __init__(
        self,
        batches: Iterator[list[_Entry]],
        on_progress: Callable[[int, int], None] | None,
        progress_every: int,
    ) -> None:
        self._batches = batches
        self._lock = threading.Lock()
        self._next_seq = 0
        self._done: dict[int, int] = {}  # seq -> tasks of a batch sent whole
        self._frontier = 0
        self.sent_prefix = 0
        self.sent = 0
        self._reported = 0
        self._on_progress = on_progress
        self._progress_every = progress_every
        self._halted = False
        self.error: BaseException | None = None
        # What the batches did, added up as they finish (a batch's outcome is not kept).
        self.requests = 0
        self.retried = 0
        self.failed: dict[str, str] = {}
        self.failed_order: dict[str, int] = {}
        self.cause: BaseException | None = None

    def pull(self) -> tuple[int, list[_Entry]] | None:
        with self._lock:
            if self.error is not None or self._halted:
                return None
            try:
                batch = next(self._batches)
            except StopIteration:
                return None
            except BaseException as exc:  # a task failed its checks, or the task source raised
                self.error = exc
                return None
            seq, self._next_seq = self._next_seq, self._next_seq + 1
            return seq, batch

    def fail(self, exc: BaseException) -> None:
        """A call raised what :func:`_send_batch` does not catch: stop pulling."""
        with self._lock:
            self.error = self.error or exc

    def finish(self, seq: int, batch: list[_Entry], outcome: _BatchOutcome) -> None:
        with self._lock:
            self.sent += len(outcome.sent)
            self.requests += outcome.requests
            self.retried += outcome.retried_entries
            self.failed.update(outcome.failed)
            self.failed_order.update((task_id, position) for position, task_id in outcome.failed_order)
            self.cause = self.cause or outcome.cause
            if outcome.failed:
                self._halted = self._on_progress is not None
            else:
                self._done[seq] = len(batch)
            while self._frontier in self._done:
                self.sent_prefix += self._done.pop(self._frontier)
                self._frontier += 1
            if self._on_progress is not None and self.sent_prefix - self._reported >= self._progress_every:
                self._reported = self.sent_prefix
                # Under the lock, so that reports arrive in order.
                self._on_progress(self.sent_prefix, self.sent)

    def report_last(self) -> None:
        """Report the final counts (after the last batch, or before an error is raised)."""
        if self._on_progress is not None:
            self._reported = self.sent_prefix
            self._on_progress(self.sent_prefix, self.sent)


def _batches_of(entries: Iterator[_Entry], max_batch_bytes: int) -> Iterator[list[_Entry]]:
    """Up to 10 entries per batch, within ``max_batch_bytes``, in order, lazily."""
    current: list[_Entry] = []
    current_bytes = 0
    for entry in entries:
        if current and (
            len(current) == MAX_BATCH_ENTRIES or current_bytes + entry.size > max_batch_bytes
        ):
            yield current
            current, current_bytes = [], 0
        current.append(entry)
        current_bytes += entry.size
    if current:
        yield current


def _check_options(concurrency: Any, max_attempts: Any, backoff_seconds: Any, start: Any) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be a positive integer, got {max_attempts!r}")
    if not isinstance(backoff_seconds, (int, float)) or backoff_seconds < 0:
        raise ValueError(f"backoff_seconds must be a number of at least 0, got {backoff_seconds!r}")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ValueError(f"start must be a whole number of at least 0, got {start!r}")


def send_tasks(
    queue_url: str,
    tasks: Sequence[Any] | Iterator[Any],
    *,
    run: RunContext,
    client: Any,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_attempts: int = 5,
    backoff_seconds: float = 0.05,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    run_id: str | None = None,
    start: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
    progress_every: int = DEFAULT_PROGRESS_EVERY,
) -> SendReport:
    """Send the tasks of one run to an SQS queue, one message per task.

    Parameters
    ----------
    queue_url : str
        URL of the queue.
    tasks : Sequence or Iterator
        The run's tasks (see :func:`build_messages`): a list or tuple, checked
        whole before anything is sent; or an iterator (a generator, say),
        read lazily as the messages go out, so that a million tasks are
        never in memory at once.
    run : RunContext
        The run the tasks belong to; its execution id prefixes every task id.
    client : Any
        A boto3 SQS client (clients are safe to share between threads). Its
        retry mode is the only retry of whole calls: give it botocore's
        ``standard`` mode (as the bundled producer's client has) or another
        of your choice.
    concurrency : int, optional
        Most ``SendMessageBatch`` calls in flight at once. Default: 4
        (:data:`DEFAULT_CONCURRENCY`).
    max_attempts : int, optional
        Attempts per entry that a response lists under ``Failed``, the first
        included. Default: 5.
    backoff_seconds : float, optional
        Wait before the first retry of a batch's failed entries; it doubles
        on every further retry. Default: 0.05.
    max_message_bytes : int, optional
        Size limit of one message and of one batch (see
        :func:`build_messages`). Default: :data:`DEFAULT_MAX_MESSAGE_BYTES`.
    run_id : str or None, optional
        The run's ledger key, carried in every message (see
        :func:`build_messages`). Default: none.
    start : int, optional
        Position in the run of the first of ``tasks``: a task without a name
        gets the id ``"<execution id>/<start + its position here>"``, so a
        shard that sends positions 200,000 to 299,999 gives them the ids the
        whole run would. Default: 0.
    on_progress : callable or None, optional
        ``on_progress(prefix, sent)``: ``prefix`` is the number of leading
        tasks all sent (in order), a checkpoint from which a retry may
        resume; ``sent`` counts every task sent so far (the prefix and those
        after it whose batch finished first). Called each time the prefix has
        grown by ``progress_every``, once more at the end, and once before an
        error is raised, from the sending threads, one call at a time. With
        it, the first batch with failed entries stops the sending (a retry
        resumes at the prefix; see :func:`.sharding.sharded_producer`).
        Default: none.
    progress_every : int, optional
        Tasks between two ``on_progress`` calls. Default:
        :data:`DEFAULT_PROGRESS_EVERY`.

    Returns
    -------
    SendReport
        How many tasks were sent, in how many calls, and their ids (for a
        list or tuple; an iterator's ids are not kept, so ``task_ids`` is
        empty).

    Raises
    ------
    TaskTooLargeError, TypeError, ValueError
        If a task is invalid (see :func:`build_messages`). For a list or
        tuple nothing is sent; for an iterator the tasks before it may have
        been sent (a retry sends them again under the same ids).
    EnqueueError
        If some entries were still failing after ``max_attempts``, failed in
        a way a retry cannot fix (``SenderFault`` entries), or were in a call
        that failed as a whole (a missing queue, no permission, or throttling
        and server errors the client's own retries did not overcome; the
        error is the ``__cause__``). The other tasks were sent.

    Notes
    -----
    Only the entries listed under ``Failed`` in a response are retried, never
    a whole batch again, so an entry is not duplicated by a retry. A call
    that raises is not retried here: the client's retry mode has already
    retried it, and a second loop on top would multiply the attempts and
    the wait. An iterator's task ids are checked for duplicates within the
    call (a set of ids: about 100 bytes a task).

    Examples
    --------
    >>> import boto3  # doctest: +SKIP
    >>> run = RunContext(execution_id="e-1")
    >>> report = send_tasks(  # doctest: +SKIP
    ...     queue_url, [{"name": f"page-{i}"} for i in range(25)],
    ...     run=run, client=boto3.client("sqs"),
    ... )
    >>> report.sent, report.requests  # doctest: +SKIP
    (25, 3)
    >>> report = send_tasks(  # doctest: +SKIP
    ...     queue_url, ({"n": n} for n in range(1_000_000)), run=run, client=boto3.client("sqs"),
    ... )
    """
    _check_options(concurrency, max_attempts, backoff_seconds, start)
    _check_limit(max_message_bytes)
    if isinstance(progress_every, bool) or not isinstance(progress_every, int) or progress_every < 1:
        raise ValueError(f"progress_every must be a positive integer, got {progress_every!r}")
    task_ids: list[str] = []
    entries: Iterator[_Entry]
    if isinstance(tasks, (list, tuple)):
        seen: dict[str, int] = {}
        built = [_encode(start + i, task, run, run_id, max_message_bytes, seen) for i, task in enumerate(tasks)]
        task_ids = [task_id for task_id, _, _ in built]
        entries = iter(
            [_Entry(f"t{i}", task_id, body, size) for i, (task_id, body, size) in enumerate(built)]
        )
    elif isinstance(tasks, Iterator) and not isinstance(tasks, (str, bytes)):
        entries = _lazy_entries(tasks, run, run_id, max_message_bytes, start)
    else:
        raise TypeError(f"tasks must be a list or an iterator, got {type(tasks).__name__}")

    def send(batch: list[_Entry]) -> _BatchOutcome:
        return _send_batch(
            batch,
            queue_url=queue_url,
            client=client,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
        )

    stream = _Stream(_batches_of(entries, max_message_bytes), on_progress, progress_every)

    def work() -> None:
        while (item := stream.pull()) is not None:
            seq, batch = item
            try:
                outcome = send(batch)
            except BaseException as exc:
                stream.fail(exc)
                return
            stream.finish(seq, batch, outcome)

    if concurrency == 1:
        work()
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(work) for _ in range(concurrency)]:
                future.result()

    sent, requests, retried = stream.sent, stream.requests, stream.retried
    if stream.error is not None:
        logger.error(
            "run %s: stopped after sending %d tasks: %s", run.execution_id, sent, type(stream.error).__name__
        )
        stream.report_last()
        raise stream.error
    failed, order, cause = stream.failed, stream.failed_order, stream.cause
    if failed:
        failed_ids = sorted(failed, key=lambda task_id: order.get(task_id, 0))
        stream.report_last()
        logger.error(
            "enqueue failed for %d of %d tasks of run %s",
            len(failed_ids),
            sent + len(failed_ids),
            run.execution_id,
        )
        raise EnqueueError(
            failed_ids,
            sent=sent,
            reasons={task_id: failed[task_id] for task_id in failed_ids},
        ) from cause
    stream.report_last()
    return SendReport(sent=sent, requests=requests, retried_entries=retried, task_ids=task_ids)


def _lazy_entries(
    tasks: Iterator[Any], run: RunContext, run_id: str | None, max_message_bytes: int, start: int
) -> Iterator[_Entry]:
    seen: dict[str, int] = {}
    for offset, task in enumerate(tasks):
        task_id, body, size = _encode(start + offset, task, run, run_id, max_message_bytes, seen)
        yield _Entry(f"t{offset}", task_id, body, size)


__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_PROGRESS_EVERY",
    "MAX_BATCH_ENTRIES",
    "EnqueueError",
    "SendReport",
    "TaskTooLargeError",
    "build_messages",
    "send_tasks",
    "task_id_for",
]
