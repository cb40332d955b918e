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

A function that calls Lambda's ``Invoke`` (an asynchronous invocation of
itself, say) reaches the run's local Lambda endpoint
(:mod:`.lambda_endpoint`, its ``AWS_ENDPOINT_URL_LAMBDA``), which runs the
app's function after checking the caller's role allows it; a run is done
when every asynchronous invocation it caused (and those they caused) has
run, retried and gone to its failure destination as Lambda's would.

Every loop is bounded, and the whole run has a wall-clock limit.

This module orchestrates; each step has a module of its own:
:mod:`.planning` (steps 1 and 2), :mod:`.scheduler` (step 3),
:mod:`.event_source_mapping` (step 4), :mod:`.construct_kinds` (what differs
per construct kind), :mod:`.lambda_endpoint` (the Lambda API the functions
call) and :mod:`.reporting` (step 5, and the progress lines).
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
from typing import Any, Callable, Dict, List, Optional, Tuple

from .assembly import AssemblyError, CloudAssembly, ConstructEntry
from .construct_kinds import ConstructKind, kind_for
from .endpoint import WebhookSink
from .event_source_mapping import (
    SqsEventSource,
    failed_message_ids,
    queue_count,
    sqs_record,
)
from .lambda_endpoint import (
    INVOKE_ACTION,
    AppFunctions,
    AsyncInvocationQueue,
    InvokePermissions,
    LambdaBackend,
    LambdaEndpoint,
    LambdaError,
)
from .lambda_local import FunctionImage, FunctionPool, Invocation, runtime_base
from .planning import ConstructPlanner, RunnerError, ScheduleSpec, read_schedule
from .reporting import ConstructReport, RunReport, iso_z, plural
from .resources import ACCOUNT, LocalResources, load_external_resources
from .scheduler import AsyncTarget, ScheduledTarget, fill_placeholders, plan_fire_times

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
        #: Asynchronous invocations the current run caused that failed after their retries.
        self.async_failed = 0

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
        image = planner.function_image("scheduled function", function_stack, function_id)
        pool = app.pool(image, app.function_concurrency(function_stack, function_id))
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
        app.lambda_service().current = self
        self.async_failed = 0
        before = self.kind.before_run(self)
        attempts = target.attempts

        def observe(attempt: int, invocation: Invocation) -> None:
            with self.lock:
                report.invocations += 1
            app.show_output(invocation)
            if not invocation.ok:
                self.record_error("scheduled function", invocation)
                app.progress(f"{self.entry.path}: run {number}: attempt {attempt}/{attempts} failed: {invocation.error}")

        invocation, _ = target.invoke(event, observe)
        # The run is done when the asynchronous invocations it caused are (Lambda's queue drained).
        app.wait_async(self)
        label = f"{self.entry.path}: run {number}/{report.runs_planned} at {iso_z(fire_time)}"
        ok = invocation.ok and self.async_failed == 0
        if ok:
            report.runs_succeeded += 1
        else:
            report.runs_failed += 1
        if self.async_failed:
            app.progress(f"{label}: {plural(self.async_failed, 'asynchronous invocation')} it caused failed after its retries")
        app.progress(self.kind.after_run(self, label, ok, before))
        app.wait_async(self)  # what the worker invoked asynchronously, if anything
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
        self._lambda: Optional[_LambdaService] = None
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

    def lambda_service(self) -> "_LambdaService":
        """The run's local Lambda endpoint and what it runs (started on first use)."""
        if self._lambda is None:
            self._lambda = _LambdaService(self)
        return self._lambda

    def wait_async(self, construct: "_ConstructRun") -> None:
        """Wait until every queued asynchronous invocation has run (or the run is out of time)."""
        service = self._lambda
        if service is None:
            return
        dropped = service.queue.dropped
        if not service.queue.wait(self.out_of_time) and service.queue.dropped > dropped:
            construct.report.notes.append(
                f"{plural(service.queue.dropped - dropped, 'queued asynchronous invocation')} did not run: "
                "the run reached its time limit"
            )

    def function_concurrency(self, stack: Any, logical_id: str) -> int:
        """Local containers of one function at most: ``--concurrency``, or its reserved concurrency if lower."""
        reserved = stack.properties(logical_id).get("ReservedConcurrentExecutions")
        limits = [int(self.options.concurrency)] + ([reserved] if isinstance(reserved, int) else [])
        return max(1, min(limits))

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
            # Lambda's own API is the run's local Lambda endpoint (botocore prefers the
            # service's variable); the URL names the caller, for the permission check.
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_service().endpoint.url_for(image.name),
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
        if self._lambda is not None:
            self._lambda.close()
        for pool in self.pools:
            pool.close()
        if self.sink is not None:
            self.sink.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class _LambdaService(LambdaBackend):
    """What the run's local Lambda endpoint serves: the app's functions, run as the runner runs them.

    A function is found by its local name among every function of the app
    (:class:`~.lambda_endpoint.AppFunctions`); the caller's role is checked
    (:class:`~.lambda_endpoint.InvokePermissions`). It runs on the pool the
    run already has for it (the scheduled function's, the worker's) or a new
    one, with its own ``EventInvokeConfig``. What it does counts in the
    report of the construct whose run is under way (``current``): its
    invocations, and its failures by the function's role there.
    """

    def __init__(self, app: _AppRun) -> None:
        self.app = app
        self.functions = AppFunctions(app.resources)
        self.permissions = InvokePermissions(app.resources)
        self.queue = AsyncInvocationQueue(self._run_queued)
        self.targets: Dict[str, AsyncTarget] = {}
        self.current: Optional[_ConstructRun] = None
        self.closed = False
        self._decisions: Dict[Tuple[str, str], Optional[str]] = {}
        self._noted: set = set()
        self._lock = threading.Lock()
        self.endpoint = LambdaEndpoint(self, region=app.region, account=ACCOUNT)

    # -- LambdaBackend -------------------------------------------------------------------

    def function_arn(self, name: str) -> Optional[str]:
        """The ARN of the app's function called ``name``."""
        with self._lock:
            found = self.functions.get(name)
        return found[2] if found else None

    def authorize(self, caller: Optional[str], resource: str) -> Optional[str]:
        """Whether the function ``caller`` may invoke ``resource``, as its role's policies say."""
        with self._lock:
            key = (caller or "", resource)
            if key not in self._decisions:
                found = self.functions.get(caller) if caller else None
                if found is None:
                    self._decisions[key] = (
                        f"User: anonymous is not authorized to perform: {INVOKE_ACTION} on resource: {resource} "
                        f"because no identity-based policy allows the {INVOKE_ACTION} action"
                    )
                else:
                    self._decisions[key] = self.permissions.check(found[0], found[1], str(caller), resource)
                    if caller in self.permissions.unchecked:
                        self._note(
                            f"the role of {caller} is not a role of the app: its permission to invoke {resource} "
                            "was not checked"
                        )
            return self._decisions[key]

    def invoke(self, name: str, event: Any, request_id: str) -> Invocation:
        """A synchronous invocation: run it now, on the function's pool."""
        target, construct = self._target(name)
        invocation = target.pool.invoke(event, request_id=request_id)
        self._observe(construct, name, invocation, "synchronous invocation")
        return invocation

    def enqueue(self, name: str, event: Any, request_id: str) -> None:
        """An asynchronous invocation: queued, run on at most the pool's containers at a time."""
        target, construct = self._target(name)
        item = (name, target, construct, event, request_id)
        if not self.queue.put(name, item, concurrency=target.pool.max_containers) and not self.queue_stopped():
            self._note(
                f"stopped queueing asynchronous invocations after {self.queue.max_items} in one run "
                "(a function that keeps invoking itself?): the later ones did not run"
            )

    # -- the runner's side ---------------------------------------------------------------

    def queue_stopped(self) -> bool:
        """Whether the run stopped (its time limit, or closed)."""
        return self.closed or self.app.timed_out

    def _note(self, note: str) -> None:
        construct = self.current
        if construct is not None and note not in self._noted:
            self._noted.add(note)
            construct.report.notes.append(note)

    def _target(self, name: str) -> Tuple[AsyncTarget, "_ConstructRun"]:
        with self._lock:
            construct = self.current
            found = self.functions.get(name)
            if construct is None or found is None:
                raise LambdaError(500, "ServiceException", f"no local run is under way to run {name}", kind="Service")
            if construct.target is not None and construct.target.pool.image.name == name:
                return construct.target, construct
            if name not in self.targets:
                stack, logical_id, _ = found
                pool = next((p for p in self.app.pools if p.image.name == name), None)
                try:
                    if pool is None:
                        image = construct.planner.function_image("function", stack, logical_id)
                        pool = self.app.pool(image, self.app.function_concurrency(stack, logical_id))
                    config = construct.planner.async_config(stack, logical_id)
                except (RunnerError, AssemblyError) as exc:
                    message = f"the local run cannot run the function {name}: {exc}"
                    construct.report.notes.append(message)
                    raise LambdaError(500, "ServiceException", message, kind="Service") from None
                self.targets[name] = AsyncTarget(pool, config, sqs=self.app.resources.sqs)
            return self.targets[name], construct

    def _role(self, construct: "_ConstructRun", name: str) -> str:
        if construct.target is not None and construct.target.pool.image.name == name:
            return "scheduled function"
        if construct.event_source is not None and construct.event_source.worker.image.name == name:
            return "worker"
        return f"function {name}"

    def _observe(self, construct: "_ConstructRun", name: str, invocation: Invocation, what: str) -> None:
        if self.closed:
            return
        with construct.lock:
            construct.report.invocations += 1
        self.app.show_output(invocation)
        if not invocation.ok:
            construct.record_error(self._role(construct, name), invocation)
            self.app.progress(f"{construct.entry.path}: {what} of {name} failed: {invocation.error}")

    def _run_queued(self, item: Tuple[str, AsyncTarget, "_ConstructRun", Any, str]) -> None:
        name, target, construct, event, request_id = item
        attempts = target.attempts

        def observe(attempt: int, invocation: Invocation) -> None:
            self._observe(construct, name, invocation, f"asynchronous invocation (attempt {attempt}/{attempts})")

        invocation, _ = target.invoke(event, observe, request_id=request_id, stopped=lambda: self.closed)
        if not invocation.ok and not self.closed:
            with construct.lock:
                construct.async_failed += 1

    def close(self) -> None:
        """Stop the endpoint and drop what is still queued (what runs is stopped with its pool)."""
        self.closed = True
        self.queue.stop()
        self.endpoint.close()


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
