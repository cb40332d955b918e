"""What a local run reports: per construct, per app, and one progress line per run.

:class:`ConstructReport` and :class:`RunReport` are what
:func:`~scheduled_tasks_constructs.local.runner.run_app` returns (and what
``scheduled-tasks run --json`` prints); :class:`ProgressLine` is the line a
terminal shows while a task queue drains; :func:`iso_z` and :func:`plural`
write instants and counts the way the progress lines do.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

__all__ = ["ConstructReport", "ProgressLine", "RunReport", "format_report", "iso_z", "plural", "shown_path"]

#: How many fire times and error kinds a text report shows of each construct.
_SHOWN = 3


def iso_z(moment: datetime) -> str:
    """Write an instant as the Scheduler writes ``scheduled_time``.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> iso_z(datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    '2026-11-23T01:00:00Z'
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(count: int, noun: str) -> str:
    """A count and its noun, the noun in the plural unless the count is 1.

    Examples
    --------
    >>> plural(1, "task"), plural(3, "task"), plural(0, "batch"), plural(2, "delivery")
    ('1 task', '3 tasks', '0 batches', '2 deliveries')
    """
    if count == 1:
        return f"1 {noun}"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}{'es' if noun.endswith(('s', 'sh', 'ch', 'x')) else 's'}"


@dataclass
class ConstructReport:
    """What one construct did, read back from the endpoint.

    Task fields are None for a ScheduledLambdaToTable. ``tasks_sent`` counts
    the messages on the task queue when the producer returned (what it sent),
    ``tasks_succeeded`` those the worker finished (deleted after a successful
    batch), ``tasks_filtered`` those the mapping's filters dropped,
    ``tasks_dead_lettered`` those in the queue's dead-letter queue (None when
    its redrive policy names none), ``tasks_left_in_queue`` what is still on
    the queue at the end. ``runs_dead_lettered`` counts the failed runs in the
    scheduled function's on-failure destination (None when it has none).
    ``errors`` counts failed invocations by function and error.

    Examples
    --------
    >>> report = ConstructReport("App/Nightly", "ScheduledLambdaToTable", "rate(1 day)", "UTC", runs_requested=1)
    >>> report.ok, report.to_dict()["runs_requested"]
    (True, 1)
    """

    path: str
    construct: str
    schedule: str
    time_zone: str
    runs_requested: int
    runs_planned: int = 0
    batch_size: Optional[int] = None
    max_receive_count: Optional[int] = None
    concurrency: Optional[int] = None
    runs: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    invocations: int = 0
    fire_times: List[str] = field(default_factory=list)
    tasks_sent: Optional[int] = None
    tasks_succeeded: Optional[int] = None
    tasks_filtered: Optional[int] = None
    tasks_retried: Optional[int] = None
    tasks_dead_lettered: Optional[int] = None
    tasks_left_in_queue: Optional[int] = None
    task_deliveries: Optional[int] = None
    worker_invocations: Optional[int] = None
    table_items: Optional[int] = None
    runs_dead_lettered: Optional[int] = None
    results_posted: Optional[int] = None
    cold_starts: int = 0
    seconds: float = 0.0
    resources: Dict[str, Optional[str]] = field(default_factory=dict)
    errors: Dict[str, Dict[str, int]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    #: The runs in the construct's run ledger after the local run, oldest first
    #: (``local.history.rows_as_json``); None when it keeps no ledger.
    ledger: Optional[List[Dict[str, Any]]] = None

    @property
    def ok(self) -> bool:
        """Every planned run fired and succeeded, and no task was lost, left or dead-lettered."""
        return (
            self.runs == self.runs_planned
            and self.runs_failed == 0
            and not self.tasks_dead_lettered
            and not self.tasks_left_in_queue
            and not self.notes_fail
        )

    @property
    def notes_fail(self) -> bool:
        """Whether a note says the counts do not add up."""
        return any(note.startswith("count mismatch") for note in self.notes)

    def to_dict(self) -> Dict[str, Any]:
        """The report as JSON-ready data (``ok`` included)."""
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass
class RunReport:
    """What a whole app run did.

    Examples
    --------
    >>> report = RunReport(app="cdk.out", endpoint="http://127.0.0.1:5000", embedded=True, real_time=False, constructs=[])
    >>> report.to_dict()["time"], report.ok
    ('virtual', True)
    """

    app: str
    endpoint: str
    embedded: bool
    real_time: bool
    constructs: List[ConstructReport]
    seconds: float = 0.0
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every construct is ok and the run was not cut short."""
        return all(c.ok for c in self.constructs) and not self.notes

    def to_dict(self) -> Dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "app": self.app,
            "endpoint": self.endpoint,
            "embedded_endpoint": self.embedded,
            "time": "real" if self.real_time else "virtual",
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "constructs": [c.to_dict() for c in self.constructs],
        }


class ProgressLine:
    """One progress line per run on stderr (a terminal only), rewritten at most four times a second.

    Parameters
    ----------
    enabled : bool
        Whether to write anything.
    label : str
        What the line starts with (the construct and its run).
    total : int
        Tasks the run sent.

    Examples
    --------
    >>> line = ProgressLine(False, "App/Fanout: run 1/1", 10)
    >>> line.update(10, final=True)  # disabled: writes nothing
    """

    def __init__(self, enabled: bool, label: str, total: int) -> None:
        self.enabled = enabled
        self.label = label
        self.total = total
        self.started = time.monotonic()
        self._shown = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        """Show ``done`` of the total, the rate and the time left; ``final`` ends the line."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self._shown < 0.25:
            return
        self._shown = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 and self.total > done else 0.0
        line = f"{self.label}: {done}/{self.total} tasks, {rate:,.0f}/s, ETA {eta:,.0f} s"
        sys.stderr.write("\r" + line[:160].ljust(80) + ("\n" if final else ""))
        sys.stderr.flush()


def shown_path(path: Any) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        relative = os.path.relpath(str(path))
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _count(value: Optional[int]) -> str:
    return "-" if value is None else str(value)


def format_report(report: Any) -> str:
    """Write a run's report as text, one block per construct.

    Parameters
    ----------
    report : RunReport
        The report of :func:`~scheduled_tasks_constructs.local.runner.run_app`.

    Returns
    -------
    str
        The text (no trailing newline).
    """
    where = "embedded moto server" if report.embedded else "local endpoint"
    mode = "real time" if report.real_time else "virtual time"
    state = "OK" if report.ok else "FAILED"
    lines = [
        f"Local run of {shown_path(report.app)}: {state} in {report.seconds:.2f} s "
        f"({where} {report.endpoint}, {mode})"
    ]
    for note in report.notes:
        lines.append(f"  note: {note}")
    for c in report.constructs:
        lines.append("")
        lines.append(f"{c.path}  ({c.construct})")
        rows = [("schedule", f"{c.schedule}, {c.time_zone}")]
        runs = f"{c.runs_succeeded} of {c.runs_planned} succeeded"
        if c.runs_failed:
            runs += f", {c.runs_failed} failed"
        if c.runs < c.runs_planned:
            runs += f", {c.runs_planned - c.runs} did not fire"
        rows.append(("runs", f"{runs} ({plural(c.invocations, 'invocation')})"))
        if c.fire_times:
            times = ", ".join(c.fire_times[:_SHOWN])
            if len(c.fire_times) > _SHOWN:
                times += f", ... ({len(c.fire_times)} in all)"
            rows.append(("fire times", times))
        if c.tasks_sent is not None:
            rows.append(("tasks sent", f"{c.tasks_sent} (on the task queue when the producer returned)"))
            rows.append(
                (
                    "succeeded",
                    f"{_count(c.tasks_succeeded)} (batch size {c.batch_size}, {plural(c.worker_invocations, 'worker invocation')}, "
                    f"up to {c.concurrency} at a time)",
                )
            )
            if c.tasks_filtered:
                rows.append(("filtered out", f"{c.tasks_filtered} (deleted: no filter of the mapping matched)"))
            rows.append(("retried", f"{_count(c.tasks_retried)} ({plural(c.task_deliveries, 'delivery')})"))
            if c.tasks_dead_lettered is None:
                rows.append(("dead-letter queue", "none (the task queue has no redrive policy)"))
            else:
                rows.append(("dead-letter queue", f"{c.tasks_dead_lettered} (max receive count {c.max_receive_count})"))
            if c.tasks_left_in_queue:
                rows.append(("left in queue", str(c.tasks_left_in_queue)))
        if c.table_items is not None:
            rows.append(("table items", str(c.table_items)))
        rows.append(
            ("failed runs queue", "none (no on-failure destination)" if c.runs_dead_lettered is None else str(c.runs_dead_lettered))
        )
        if c.results_posted is not None:
            rows.append(("results posted", str(c.results_posted)))
        for role, errors in c.errors.items():
            for text, count in list(errors.items())[:_SHOWN]:
                rows.append((f"{role} error", f"{count} x {text}"))
            if len(errors) > _SHOWN:
                rows.append((f"{role} error", f"... {len(errors) - _SHOWN} more kinds (--json lists all)"))
        if c.ledger is not None:
            rows.append(("run ledger", _ledger_summary(c.ledger)))
            rows += [("", _ledger_line(run)) for run in c.ledger[-_SHOWN:]]
        rows.append(("time", f"{c.seconds:.2f} s ({plural(c.cold_starts, 'cold start')})"))
        lines += [f"  {name:<18} {value}" for name, value in rows]
        for note in c.notes:
            lines.append(f"  note: {note}")
    return "\n".join(lines)


def _ledger_summary(runs: List[Dict[str, Any]]) -> str:
    if not runs:
        return "no runs"
    statuses: Dict[str, int] = {}
    for run in runs:
        statuses[str(run.get("status"))] = statuses.get(str(run.get("status")), 0) + 1
    text = f"{plural(len(runs), 'run')}: " + ", ".join(f"{count} {status}" for status, count in statuses.items())
    return text + (f" (the last {_SHOWN}:)" if len(runs) > _SHOWN else ":")


def _ledger_line(run: Dict[str, Any]) -> str:
    line = f"  {run.get('slot')}  {run.get('status')}"
    if run.get("tasks_sent") is not None:
        line += (
            f"  {run.get('tasks_sent')} sent, {run.get('tasks_succeeded') or 0} succeeded, "
            f"{run.get('tasks_failed') or 0} failed attempts, {run.get('tasks_dead_lettered') or 0} dead-lettered"
        )
    if run.get("attempts") not in (None, 1):
        line += f"  ({run.get('attempts')} attempts)"
    return line
