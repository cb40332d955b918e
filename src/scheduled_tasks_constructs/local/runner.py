"""Run the scheduled constructs of a synthesized app against a local AWS endpoint.

The runner reads the cloud assembly only (:mod:`.assembly`): the constructs'
published metadata says which schedule, functions, queue and table belong to
a construct; everything else comes from the templates. For every construct,
:func:`run_app`

1. reads its ``AWS::Scheduler::Schedule`` (expression, time zone, state,
   start and end, target and input) and computes the next fire times;
2. builds each function it runs from the template (:mod:`.lambda_local`): its
   asset folder, its layers, its environment resolved to local resources
   (:mod:`.resources`, created from their template properties on first use),
   its memory and timeout; each function runs in processes of its own;
3. per fire time, invokes the scheduled function with the Scheduler's input
   (its placeholders filled in) as an asynchronous invocation: retried as its
   ``AWS::Lambda::EventInvokeConfig`` says, then sent to its on-failure
   destination (or its dead-letter queue), when it has one;
4. for a fan-out, works the task queue off as its
   ``AWS::Lambda::EventSourceMapping`` says: batch size, filters, partial
   batch responses, at most its maximum concurrency (and the function's
   reserved concurrency) batches at a time; a message that no filter matches
   is deleted, a failed one is visible again at once (the runner does not
   wait out visibility timeouts), and the queue's own redrive policy (or
   none) decides when it moves to a dead-letter queue;
5. reads the results back from the endpoint.

Every loop is bounded, and the whole run has a wall-clock limit.

This module orchestrates; each step has a module of its own:
:mod:`.planning` (steps 1 and 2), :mod:`.scheduler` (step 3),
:mod:`.event_source_mapping` (step 4), :mod:`.construct_kinds` (what differs
per construct kind) and :mod:`.reporting` (step 5, and the progress lines).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .assembly import AssemblyError, CloudAssembly, ConstructEntry
from .construct_kinds import ConstructKind, kind_for
from .endpoint import WebhookSink
from .event_source_mapping import (
    SqsEventSource,
    failed_message_ids,
    queue_count,
    sqs_record,
)
from .lambda_local import FunctionImage, FunctionPool, Invocation, runtime_base
from .planning import ConstructPlanner, RunnerError, ScheduleSpec, read_schedule
from .reporting import ConstructReport, RunReport, iso_z, plural
from .resources import ACCOUNT, LocalResources, load_external_resources
from .scheduler import ScheduledTarget, fill_placeholders, plan_fire_times

__all__ = [
    "ACCOUNT",
    "DEFAULT_CONCURRENCY",
    "ConstructReport",
    "RunOptions",
    "RunReport",
    "RunnerError",
    "ScheduleSpec",
    "failed_message_ids",
    "fill_placeholders",
    "read_schedule",
    "iso_z",
    "run_app",
    "sqs_record",
]

_SHOWN_ERROR_LINES = 3
#: Local processes of one function at most, whatever its mapping allows.
DEFAULT_CONCURRENCY = 4


@dataclass
class RunOptions:
    """How to run.

    Parameters
    ----------
    runs : int
        Runs of each schedule. Default: 3.
    real_time : bool
        Wait for each fire time instead of running at once. Default: False.
    after : datetime or None
        Virtual time only: the instant the fire times follow. Default: now.
    region : str
        Region of the local resources. Default: ``"us-east-1"``.
    timeout_seconds : float
        Wall-clock limit of the whole run. Default: 600.
    verbose : bool
        Show what the functions log. Default: False.
    concurrency : int
        Most worker invocations at a time per event source mapping (also
        bounded by the mapping's maximum concurrency and the function's
        reserved concurrency). Default: 4.
    external_resources : str or None
        A JSON file describing resources the app imports
        (:func:`~scheduled_tasks_constructs.local.resources.load_external_resources`).
        Default: none.
    slots : list of datetime or None
        Fire exactly these times (``trigger``, ``backfill``), in this order,
        instead of the next ``runs``; a disabled schedule fires them too, as
        a manual run does. Default: None.
    resume_suffix : str or None
        The run suffix of an earlier run on the same endpoint whose
        resources (run ledger, table, queues, schedule) this run uses as they
        are, creating only what is missing. Default: None (a new run, with
        resources of its own).
    progress_bar : bool or None
        A progress line per run on stderr: None shows it when stderr is a
        terminal. Default: None.
    now : callable
        Current time (timezone-aware); for tests.
    sleep : callable
        ``sleep(seconds)``; for tests.
    """

    runs: int = 3
    real_time: bool = False
    after: Optional[datetime] = None
    region: str = "us-east-1"
    timeout_seconds: float = 600.0
    verbose: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    external_resources: Optional[str] = None
    slots: Optional[List[datetime]] = None
    resume_suffix: Optional[str] = None
    progress_bar: Optional[bool] = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


class _ConstructRun:
    """One construct's run: its plan, its scheduled target, its kind's strategy and its report."""

    def __init__(self, app: "_AppRun", entry: ConstructEntry) -> None:
        self.app = app
        self.entry = entry
        self.kind: ConstructKind = kind_for(entry.construct, where=entry.path)
        self.key = uuid.uuid4().hex[:12]
        self.planner = ConstructPlanner(app, entry, self.key)
        self.report: ConstructReport = self.planner.report
        self.fire_times: List[datetime] = []
        self.target: Optional[ScheduledTarget] = None
        #: The event source mapping, for a kind that has one (set by its strategy's ``plan``).
        self.event_source: Optional[SqsEventSource] = None
        self.table_name: Optional[str] = None
        self.ledger_name: Optional[str] = None
        self.lock = threading.Lock()

    def register_webhook(self) -> None:
        """Before anything is created: an in-app webhook secret holds the local sink URL."""
        self.planner.register_webhook()

    def compute_fire_times(self, after: datetime, count: int) -> None:
        """The fire times of the next ``count`` runs after ``after`` (or the options' ``slots``)."""
        slots = self.app.options.slots
        if slots is not None:
            self.fire_times = list(slots)
            self.report.runs_planned = len(self.fire_times)
            return
        self.fire_times = plan_fire_times(
            self.planner.schedule, after=after, count=count, where=self.entry.path, notes=self.report.notes
        )
        if self.planner.schedule.enabled:
            self.report.runs_planned = len(self.fire_times)

    def plan(self) -> None:
        """Build the functions, the mapping and the resources they name (nothing runs yet)."""
        app, entry, planner = self.app, self.entry, self.planner
        function_stack, function_id = planner.scheduled_function()
        pool = app.pool(planner.function_image("scheduled function", function_stack, function_id), 1)
        config = planner.async_config(function_stack, function_id)
        self.target = ScheduledTarget(
            pool,
            config,
            sqs=app.resources.sqs,
            input_template=planner.input_template,
            schedule_arn=planner.schedule_arn(),
        )
        table = entry.resources.get("table")
        if table is not None:
            self.table_name = planner.table_name(table)
            self.report.resources["table"] = self.table_name
        ledger = entry.resources.get("ledger")
        if ledger is not None:
            self.ledger_name = planner.table_name(ledger)
            self.report.resources["ledger"] = self.ledger_name
        self.kind.plan(self)
        app.put_schedule(self)
        if entry.resources.get("webhookSecret") is not None:
            self.report.results_posted = 0
        self.report.resources["run_failure_destination"] = config.on_failure_url

    def record_error(self, role: str, invocation: Invocation) -> None:
        """Count a failed invocation of the function of ``role`` by its error."""
        text = invocation.error or "error"
        with self.lock:
            errors = self.report.errors.setdefault(role, {})
            errors[text] = errors.get(text, 0) + 1

    def fire(self, number: int, fire_time: datetime) -> None:
        """Run ``number``: fire the schedule at ``fire_time``, then what the kind does after it."""
        app, report, target = self.app, self.report, self.target
        assert target is not None
        started = time.monotonic()
        report.runs += 1
        report.fire_times.append(iso_z(fire_time))
        event = target.event(fire_time)
        before = self.kind.before_run(self)
        attempts = target.attempts

        def observe(attempt: int, invocation: Invocation) -> None:
            report.invocations += 1
            app.show_output(invocation)
            if not invocation.ok:
                self.record_error("scheduled function", invocation)
                app.progress(f"{self.entry.path}: run {number}: attempt {attempt}/{attempts} failed: {invocation.error}")

        invocation, _ = target.invoke(event, observe)
        label = f"{self.entry.path}: run {number}/{report.runs_planned} at {iso_z(fire_time)}"
        if invocation.ok:
            report.runs_succeeded += 1
        else:
            report.runs_failed += 1
        app.progress(self.kind.after_run(self, label, invocation.ok, before))
        report.seconds += time.monotonic() - started

    def finish(self) -> ConstructReport:
        """Read the results back from the endpoint into the report."""
        report, app = self.report, self.app
        if self.table_name:
            items = 0
            kwargs: Dict[str, Any] = {"TableName": self.table_name, "Select": "COUNT"}
            for _ in range(100_000):
                page = app.resources.dynamodb.scan(**kwargs)
                items += int(page.get("Count", 0))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            report.table_items = items
        on_failure_url = self.target.config.on_failure_url if self.target is not None else None
        if on_failure_url:
            report.runs_dead_lettered = queue_count(app.resources.sqs, on_failure_url)
        pools: List[FunctionPool] = [self.target.pool] if self.target is not None else []
        if self.event_source is not None:
            pools.append(self.event_source.worker)
        report.cold_starts = sum(p.cold_starts for p in pools)
        if self.event_source is not None:
            self.kind.finish(self)
        if self.ledger_name:
            self.read_ledger()
        if report.results_posted is not None and app.sink is not None:
            report.results_posted = app.sink.count(self.key)
        report.seconds = round(report.seconds, 3)
        return report


    def read_ledger(self) -> None:
        """The run ledger's items, oldest first, and a note for runs the worker never finished."""
        from .history import read_runs, rows_as_json

        report = self.report
        runs = read_runs(self.app.resources.dynamodb, self.ledger_name, limit=100_000)
        report.ledger = rows_as_json(reversed(runs))
        drained = self.event_source is not None and not report.tasks_left_in_queue
        stuck = [run for run in runs if run.status == "running"]
        if drained and stuck:
            report.notes.append(
                f"{plural(len(stuck), 'run')} still running in the run ledger after every task was worked off: "
                "the worker does not report its tasks to the ledger (wrap its handler with "
                "scheduled_tasks_constructs.runtime.worker.task_handler or call process_batch), so in AWS "
                "these runs stay running until run_deadline and, with overlap='skip', the next slots are skipped"
            )


# --------------------------------------------------------------------------- the whole app


class _AppRun:
    def __init__(self, assembly: CloudAssembly, *, endpoint: str, options: RunOptions, progress: Callable[[str], None]) -> None:
        self.assembly = assembly
        self.endpoint = endpoint
        self.options = options
        self.region = options.region
        self.progress = progress
        self.sink: Optional[WebhookSink] = None
        self.scratch = Path(tempfile.mkdtemp(prefix="scheduled-tasks-run-"))
        self.base = runtime_base(self.scratch / "lambda-runtime")
        self.resources = LocalResources(
            assembly,
            endpoint=endpoint,
            region=self.region,
            suffix=options.resume_suffix or uuid.uuid4().hex[:8],
            external=load_external_resources(options.external_resources),
            webhook_url=lambda stack, key: self.webhook_url(key),
            reuse=options.resume_suffix is not None,
        )
        self.pools: List[FunctionPool] = []
        self.deadline = time.monotonic() + float(options.timeout_seconds)
        self.timed_out = False
        bar = options.progress_bar
        self.show_bar = sys.stderr.isatty() if bar is None else bool(bar)

    def out_of_time(self) -> bool:
        if time.monotonic() > self.deadline:
            self.timed_out = True
        return self.timed_out

    def webhook_url(self, key: str) -> str:
        if self.sink is None:
            self.sink = WebhookSink()
        return self.sink.url_for(key)

    def put_schedule(self, construct: "_ConstructRun") -> None:
        """Make the construct's schedule on the endpoint (a new run replaces it; a resumed run keeps it).

        The endpoint does not fire it (the run does); it is there for the
        verbs that read or change a schedule. An endpoint that refuses it
        costs the run nothing but a note.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        request = construct.planner.schedule_request()
        scheduler = self.resources.client("scheduler")
        try:
            try:
                scheduler.get_schedule(GroupName=request["GroupName"], Name=request["Name"])
                if self.options.resume_suffix is not None:
                    return
                scheduler.delete_schedule(GroupName=request["GroupName"], Name=request["Name"])
            except scheduler.exceptions.ResourceNotFoundException:
                pass
            scheduler.create_schedule(**request)
        except (BotoCoreError, ClientError) as exc:
            construct.report.notes.append(
                f"the schedule could not be made on the endpoint ({' '.join(str(exc).split())}): "
                "the verbs with --endpoint will not find it"
            )

    def lambda_environment(self, image: FunctionImage) -> Dict[str, str]:
        """What Lambda sets in every function, pointed at the local endpoint."""
        environment = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            # Local only: every SDK call goes to the local endpoint, and no
            # configuration or credentials file of this machine is read.
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        if "WEBHOOK_SECRET_ARN" in image.environment and "WEBHOOK_KIND" not in image.environment:
            # Local only: the local webhook sink's URL does not tell Slack from Discord.
            environment["WEBHOOK_KIND"] = "slack"
        return environment

    def pool(self, image: FunctionImage, size: int) -> FunctionPool:
        made = FunctionPool(
            image,
            lambda_environment=self.lambda_environment(image),
            base=self.base,
            log_dir=self.scratch / "logs",
            max_containers=size,
        )
        self.pools.append(made)
        return made

    def show_errors(self, invocation: Invocation) -> None:
        """Without --verbose, still show a few of the error lines the function logged."""
        if self.options.verbose:
            return
        errors = [line for line in invocation.output.splitlines() if line.startswith(("[ERROR]", "[CRITICAL]"))]
        for line in errors[:_SHOWN_ERROR_LINES]:
            self.progress(f"    | {line}")
        if len(errors) > _SHOWN_ERROR_LINES:
            self.progress(f"    | ... {len(errors) - _SHOWN_ERROR_LINES} more error line(s); -v shows all output")

    def show_output(self, invocation: Invocation) -> None:
        if self.options.verbose and invocation.output.strip():
            for line in invocation.output.rstrip().splitlines():
                self.progress(f"    | {line}")

    def close(self) -> None:
        for pool in self.pools:
            pool.close()
        if self.sink is not None:
            self.sink.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def run_app(
    assembly: CloudAssembly,
    constructs: List[ConstructEntry],
    *,
    endpoint: str,
    options: Optional[RunOptions] = None,
    embedded: bool = False,
    app: str = "",
    progress: Callable[[str], None] = lambda line: None,
) -> RunReport:
    """Run scheduled constructs of a synthesized app on a local endpoint.

    Parameters
    ----------
    assembly : CloudAssembly
        The synthesized app.
    constructs : list of ConstructEntry
        The constructs to run (from :meth:`CloudAssembly.scheduled_constructs`).
    endpoint : str
        The local AWS endpoint URL (moto).
    options : RunOptions, optional
        How to run. Default: ``RunOptions()``.
    embedded : bool, optional
        Whether the endpoint was started for this run (for the report).
    app : str, optional
        What to call the app in the report. Default: the assembly folder.
    progress : callable, optional
        Called with one line of progress at a time. Default: silent.

    Returns
    -------
    RunReport
        One :class:`ConstructReport` per construct, with counts read back from
        the endpoint.

    Raises
    ------
    RunnerError
        When a construct cannot run locally (nothing has run yet then).
    """
    options = options or RunOptions()
    started = time.monotonic()
    run = _AppRun(assembly, endpoint=endpoint, options=options, progress=progress)
    report = RunReport(
        app=app or str(assembly.directory),
        endpoint=endpoint,
        embedded=embedded,
        real_time=options.real_time,
        constructs=[],
    )
    try:
        runs = [_ConstructRun(run, entry) for entry in constructs]
        report.constructs = [c.report for c in runs]
        after = options.now() if options.real_time or options.after is None else options.after
        after = after.replace(microsecond=0)
        for construct in runs:
            construct.register_webhook()
        for construct in runs:
            construct.compute_fire_times(after, options.runs)
            try:
                construct.plan()
            except AssemblyError as exc:
                raise RunnerError(f"{construct.entry.path}: {exc}") from None
        for kind, name, stack, logical_id in run.resources.created:
            progress(f"created {kind} {name} ({stack}/{logical_id})")
        timeline = sorted(
            (fire, index, number)
            for index, construct in enumerate(runs)
            for number, fire in enumerate(construct.fire_times, 1)
        )
        for fire, index, number in timeline:
            if run.out_of_time():
                break
            if options.real_time and not _wait_until(fire, run, options, progress):
                break
            runs[index].fire(number, fire)
        if run.timed_out:
            report.notes.append(
                f"stopped at the time limit of {options.timeout_seconds:g} s (--timeout); the counts are what had happened by then"
            )
        for construct in runs:
            construct.finish()
    finally:
        run.close()
    report.seconds = time.monotonic() - started
    return report


def _wait_until(fire: datetime, run: _AppRun, options: RunOptions, progress: Callable[[str], None]) -> bool:
    """Sleep until ``fire`` (real time); False when it is past the time limit."""
    delay = (fire - options.now()).total_seconds()
    if delay <= 0:
        return True
    if time.monotonic() + delay > run.deadline:
        run.timed_out = True
        return False
    progress(f"waiting {delay:.0f} s for {iso_z(fire)}")
    for _ in range(int(math.ceil(delay)) + 2):
        remaining = (fire - options.now()).total_seconds()
        if remaining <= 0:
            return True
        options.sleep(min(1.0, remaining))
    return True
