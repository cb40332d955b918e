"""What the runner does differently per construct kind, one strategy per kind.

The construct metadata names each construct's kind (``"construct"``);
:func:`kind_for` returns its :class:`ConstructKind` from a registry keyed by
that name, and refuses a kind the runner does not know. A
``ScheduledLambdaToTable`` run is its scheduled function alone; a
``ScheduledTaskFanout`` run also works the task queue off through its event
source mapping (:mod:`.event_source_mapping`) and reports task counts.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Tuple

from .event_source_mapping import SqsEventSource
from .planning import RunnerError
from .reporting import plural

__all__ = ["ConstructKind", "FanoutKind", "TableKind", "known_kinds", "kind_for"]


class ConstructKind:
    """How one kind of construct runs, around what every construct does (the scheduled function).

    A strategy is stateless: what it plans and counts lives on the construct
    run it is given (``run``: its ``planner``, ``app``, ``report``,
    ``record_error`` and ``event_source``).

    Examples
    --------
    >>> kind_for("ScheduledLambdaToTable", where="App/Nightly").name
    'ScheduledLambdaToTable'
    """

    #: The kind as the construct metadata names it.
    name: ClassVar[str] = ""

    def plan(self, run: Any) -> None:
        """Plan what this kind runs besides the scheduled function (nothing runs yet)."""

    def before_run(self, run: Any) -> Any:
        """Note what a run's outcome is measured against, just before it fires."""
        return None

    def after_run(self, run: Any, label: str, ok: bool, before: Any) -> str:
        """Finish a run whose scheduled function ended (``ok`` when it succeeded); its progress line."""
        return f"{label}: {'ok' if ok else 'FAILED'}"

    def finish(self, run: Any) -> None:
        """Read this kind's counts back into the construct's report."""


class TableKind(ConstructKind):
    """``ScheduledLambdaToTable``: the scheduled function records each run; nothing follows it."""

    name = "ScheduledLambdaToTable"


class FanoutKind(ConstructKind):
    """``ScheduledTaskFanout``: the producer sends tasks, the event source mapping feeds them to the worker."""

    name = "ScheduledTaskFanout"

    def plan(self, run: Any) -> None:
        """Plan the event source mapping and the worker, and start the task counts at 0."""
        mapping = run.planner.mapping()
        worker = run.app.pool(mapping.worker, max(1, mapping.concurrency))
        report = run.report
        run.event_source = SqsEventSource(
            mapping, worker, app=run.app, path=run.entry.path, record_error=run.record_error, notes=report.notes
        )
        report.batch_size = mapping.batch_size
        report.max_receive_count = mapping.max_receive_count
        report.concurrency = mapping.concurrency
        report.resources["queue"] = mapping.queue_url
        report.resources["dead_letter_queue"] = mapping.dead_letter_url
        for name in ("tasks_sent", "tasks_succeeded", "tasks_filtered", "tasks_retried", "task_deliveries", "worker_invocations"):
            setattr(report, name, 0)
        report.tasks_left_in_queue = 0
        report.tasks_dead_lettered = 0 if mapping.dead_letter_url else None
        if mapping.dead_letter_url is None:
            report.notes.append("the task queue has no redrive policy: a task that keeps failing stays on it until it expires")

    def before_run(self, run: Any) -> int:
        """The messages on the task queue before the producer runs."""
        source: SqsEventSource = run.event_source
        return source.queue_count(source.plan.queue_url)

    def after_run(self, run: Any, label: str, ok: bool, before: Any) -> str:
        """Count what the producer sent, drain the queue, and say what the run did."""
        source: SqsEventSource = run.event_source
        plan = source.plan
        sent = max(0, source.queue_count(plan.queue_url) - int(before))
        source.counts["sent"] += sent
        before_dead = source.queue_count(plan.dead_letter_url)
        before_done = source.done
        batches = source.counts["worker_invocations"]
        source.drain(label, sent)
        done = source.done - before_done
        dead = source.queue_count(plan.dead_letter_url) - before_dead
        state = "ok" if ok else "FAILED"
        line = (
            f"{label}: {state}, {plural(sent, 'task')} sent, "
            f"{plural(source.counts['worker_invocations'] - batches, 'batch')}, {done} succeeded"
        )
        if dead:
            line += f", {dead} to the dead-letter queue"
        return line

    def finish(self, run: Any) -> None:
        """The task counts, read back from the task queue and its dead-letter queue."""
        run.event_source.report_into(run.report)


_KINDS: Dict[str, ConstructKind] = {kind.name: kind for kind in (TableKind(), FanoutKind())}


def known_kinds() -> Tuple[str, ...]:
    """The construct kinds the runner runs, as the metadata names them.

    Examples
    --------
    >>> known_kinds()
    ('ScheduledLambdaToTable', 'ScheduledTaskFanout')
    """
    return tuple(sorted(_KINDS))


def kind_for(construct: str, *, where: str) -> ConstructKind:
    """The strategy of the construct kind ``construct`` (the metadata's ``"construct"``).

    Parameters
    ----------
    construct : str
        The kind, such as ``"ScheduledTaskFanout"``.
    where : str
        The construct's path, for the error message.

    Returns
    -------
    ConstructKind
        Its strategy.

    Raises
    ------
    RunnerError
        When the runner does not know the kind.

    Examples
    --------
    >>> kind_for("ScheduledTaskFanout", where="App/Fanout").name
    'ScheduledTaskFanout'
    """
    kind = _KINDS.get(construct)
    if kind is None:
        raise RunnerError(f"{where}: construct kind must be one of {', '.join(known_kinds())}, got {construct!r}")
    return kind
