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
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .assembly import AssemblyError, CloudAssembly, ConstructEntry, Intrinsics, ResourceRef, StackArtifact
from .endpoint import WebhookSink
from .event_filter import FilterError, compile_filters
from .lambda_local import FunctionImage, FunctionPool, Invocation, runtime_base
from .resources import ACCOUNT, LocalResources, load_external_resources, name_from_arn

__all__ = [
    "ACCOUNT",
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

_PLACEHOLDERS = {
    "execution_id": "<aws.scheduler.execution-id>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "attempt_number": "<aws.scheduler.attempt-number>",
}
_MAX_WORKER_INVOCATIONS_PER_RUN = 200_000
_MAX_SQS_BATCH = 10
_SHOWN_FAILED_BATCHES = 5
_SHOWN_ERROR_LINES = 3
_DEFAULT_ASYNC_RETRIES = 2
_DEFAULT_SQS_BATCH_SIZE = 10
_IDLE_POLL_SECONDS = 0.02
#: Local processes of one function at most, whatever its mapping allows.
DEFAULT_CONCURRENCY = 4


class RunnerError(Exception):
    """A run cannot start (a construct the runner cannot run, as the assembly says); one line."""


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
    progress_bar: Optional[bool] = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


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
    """What a whole app run did."""

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


# --------------------------------------------------------------------------- events


def iso_z(moment: datetime) -> str:
    """Write an instant as the Scheduler writes ``scheduled_time``.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> iso_z(datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    '2026-11-23T01:00:00Z'
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill_placeholders(text: str, values: Dict[str, str]) -> str:
    """Substitute the Scheduler's context placeholders in a target input.

    Parameters
    ----------
    text : str
        The target input as the template holds it (a JSON string).
    values : dict
        ``execution_id``, ``scheduled_time``, ``schedule_arn`` and
        ``attempt_number`` values (strings).

    Returns
    -------
    str
        The input with every ``<aws.scheduler.*>`` placeholder replaced, also
        inside longer strings, as the Scheduler does.

    Examples
    --------
    >>> fill_placeholders('{"id": "<aws.scheduler.execution-id>"}', {"execution_id": "e-1"})
    '{"id": "e-1"}'
    """
    for key, placeholder in _PLACEHOLDERS.items():
        if key in values:
            text = text.replace(placeholder, values[key])
    return text


def sqs_record(message: Dict[str, Any], *, queue_arn: str, region: str) -> Dict[str, Any]:
    """Turn an SQS ``ReceiveMessage`` message into a Lambda SQS event record.

    Parameters
    ----------
    message : dict
        One message of a ``ReceiveMessage`` response (system and message
        attributes requested).
    queue_arn : str
        The queue's ARN (``eventSourceARN``).
    region : str
        The Region (``awsRegion``).

    Returns
    -------
    dict
        The record as Lambda delivers it: ``messageId``, ``receiptHandle``,
        ``body``, ``attributes``, ``messageAttributes``, ``md5OfBody``,
        ``eventSource``, ``eventSourceARN``, ``awsRegion``.
    """
    import base64

    attributes = {
        key: value
        for key, value in (message.get("Attributes") or {}).items()
        if key
        in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "SequenceNumber",
            "MessageGroupId",
            "MessageDeduplicationId",
            "AWSTraceHeader",
        )
    }
    message_attributes = {}
    for name, raw in (message.get("MessageAttributes") or {}).items():
        item: Dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": raw.get("DataType", "String")}
        if "StringValue" in raw:
            item["stringValue"] = raw["StringValue"]
        if "BinaryValue" in raw:
            binary = raw["BinaryValue"]
            item["binaryValue"] = base64.b64encode(binary if isinstance(binary, bytes) else str(binary).encode()).decode()
        message_attributes[name] = item
    record: Dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(invocation: Invocation, message_ids: List[str], *, partial: bool) -> Tuple[set, Optional[str]]:
    """The message IDs Lambda returns to the queue after a batch, and why when it is all of them.

    Parameters
    ----------
    invocation : Invocation
        The worker's invocation.
    message_ids : list of str
        The batch.
    partial : bool
        Whether the mapping reports batch item failures
        (``FunctionResponseTypes: [ReportBatchItemFailures]``); without it the
        response is ignored and only an error fails the batch.
    """
    if not invocation.ok:
        return set(message_ids), invocation.error
    result = invocation.result
    if not partial or not isinstance(result, dict) or result.get("batchItemFailures") in (None, []):
        return set(), None
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return set(message_ids), "the response's batchItemFailures is not a list"
    failed = set()
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return set(message_ids), "the response names an itemIdentifier that is not in the batch"
        failed.add(identifier)
    return failed, None


# --------------------------------------------------------------------------- reading the template


def _aware(text: Any) -> Optional[datetime]:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('s', 'sh', 'ch', 'x')) else 's'}"


@dataclass(frozen=True)
class ScheduleSpec:
    """A construct's schedule as its template says: expression, time zone, state, start and end."""

    expression: str
    time_zone: str
    enabled: bool
    start: Optional[datetime]
    end: Optional[datetime]


def read_schedule(entry: ConstructEntry, region: str = "us-east-1") -> ScheduleSpec:
    """The schedule of a construct, from its ``AWS::Scheduler::Schedule`` resource.

    Raises
    ------
    RunnerError
        When the metadata names no schedule of the stack, or its properties
        refer to something with no value before deployment.
    """
    ref = entry.resources.get("schedule")
    stack = entry.stack
    if ref is None or ref.external or not stack.type_of(str(ref.logical_id)):
        raise RunnerError(f"{entry.path}: the metadata names no schedule of this stack")

    def no_resources(_stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        raise AssemblyError(f"{logical_id} has no value before a run")

    ctx = Intrinsics(stack, {"AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}, no_resources)
    props = stack.properties(str(ref.logical_id))
    try:
        return ScheduleSpec(
            expression=str(ctx.resolve(props.get("ScheduleExpression", ""))),
            time_zone=str(ctx.resolve(props.get("ScheduleExpressionTimezone", "UTC"))),
            enabled=str(ctx.resolve(props.get("State", "ENABLED"))) != "DISABLED",
            start=_aware(ctx.resolve(props.get("StartDate"))),
            end=_aware(ctx.resolve(props.get("EndDate"))),
        )
    except AssemblyError as exc:
        raise RunnerError(f"{entry.path}: the schedule: {exc}") from None


@dataclass
class _Mapping:
    """An SQS event source mapping, from the template."""

    queue_url: str
    queue_arn: str
    worker: FunctionImage
    batch_size: int
    window_seconds: float
    partial: bool
    concurrency: int
    matches: Callable[[Dict[str, Any]], bool]
    enabled: bool
    dead_letter_url: Optional[str]
    max_receive_count: Optional[int]


class _Progress:
    """One progress line per run on stderr (a terminal only)."""

    def __init__(self, enabled: bool, label: str, total: int) -> None:
        self.enabled = enabled
        self.label = label
        self.total = total
        self.started = time.monotonic()
        self._shown = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
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


class _ConstructRun:
    """The functions, queues and counters of one construct."""

    def __init__(self, app: "_AppRun", entry: ConstructEntry) -> None:
        self.app = app
        self.entry = entry
        self.stack = entry.stack
        self.key = uuid.uuid4().hex[:12]
        self.schedule_id = self._in_app("schedule")
        props = self.stack.properties(self.schedule_id)
        self.ctx = app.resources.intrinsics(self.stack)
        schedule = read_schedule(entry, app.region)
        self.expression, self.time_zone, self.enabled = schedule.expression, schedule.time_zone, schedule.enabled
        self.start, self.end = schedule.start, schedule.end
        target = props.get("Target") or {}
        self.input_template = self.ctx.resolve(target.get("Input", "{}"))
        self.report = ConstructReport(
            path=entry.path,
            construct=entry.construct,
            schedule=self.expression,
            time_zone=self.time_zone,
            runs_requested=app.options.runs,
        )
        self.fire_times: List[datetime] = []
        self.schedule_name = self._schedule_name(props)
        self.scheduled: Optional[FunctionPool] = None
        self.mapping: Optional[_Mapping] = None
        self.worker: Optional[FunctionPool] = None
        self.on_failure_url: Optional[str] = None
        self.dead_letter_target: Optional[str] = None
        self.async_retries = _DEFAULT_ASYNC_RETRIES
        self.table_name: Optional[str] = None
        self.seen: Dict[str, int] = {}
        self.counts = {"filtered": 0, "deliveries": 0, "worker_invocations": 0, "sent": 0}
        #: Tasks the worker finished (a message delivered twice counts once).
        self.succeeded: set = set()
        self.lock = threading.Lock()
        self._target_arn = target.get("Arn")

    # -- planning --------------------------------------------------------------------

    def _in_app(self, role: str) -> str:
        ref = self.entry.resources.get(role)
        if ref is None or ref.external or ref.stack != self.stack.artifact_id:
            raise RunnerError(f"{self.entry.path}: the metadata names no {role} of this stack")
        if not self.stack.type_of(ref.logical_id or ""):
            raise RunnerError(f"{self.entry.path}: the {role} {ref.logical_id} is not in the template")
        return str(ref.logical_id)

    def _schedule_name(self, props: Dict[str, Any]) -> str:
        name = props.get("Name")
        return str(self.ctx.resolve(name)) if name is not None else f"{self.stack.stack_name}-{self.schedule_id}"[:64]

    def plan(self) -> None:
        """Build the functions, the mapping and the resources they name (nothing runs yet)."""
        app, entry = self.app, self.entry
        located = app.resources.locate(self.stack, self._target_arn)
        if located is None or located[0].type_of(located[1]) != "AWS::Lambda::Function":
            arn = self.ctx.resolve(self._target_arn)
            raise RunnerError(
                f"{entry.path}: the schedule's target is {arn}, a function the app imports by ARN: "
                "its code is not in this app, so it cannot run locally (leave the construct out with --construct)"
            )
        function_stack, function_id = located
        self.scheduled = app.pool(self._image("scheduled function", function_stack, function_id), 1)
        self._async_config(function_stack, function_id)
        table = entry.resources.get("table")
        if table is not None:
            self.table_name = self._table_name(table)
            self.report.resources["table"] = self.table_name
        if entry.resources.get("eventSourceMapping") is not None or entry.construct == "ScheduledTaskFanout":
            self._plan_mapping()
        webhook = entry.resources.get("webhookSecret")
        if webhook is not None:
            self.report.results_posted = 0
        self.report.resources["run_failure_destination"] = self.on_failure_url

    def _table_name(self, ref: ResourceRef) -> str:
        resources = self.app.resources
        if ref.external:
            name = name_from_arn(str(self.ctx.resolve(ref.arn)))
            return resources.external_table(name, f"{self.entry.path}: the run table")
        stack = self.app.assembly.stack(str(ref.stack))
        return str(resources.physical(stack, str(ref.logical_id))["Ref"])

    def _async_config(self, stack: StackArtifact, function_id: str) -> None:
        resources = self.app.resources
        ctx = resources.intrinsics(stack)
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") != "AWS::Lambda::EventInvokeConfig":
                continue
            props = resource.get("Properties", {})
            if resources.locate(stack, props.get("FunctionName")) != (stack, function_id):
                continue
            retries = props.get("MaximumRetryAttempts")
            if isinstance(retries, int):
                self.async_retries = retries
            destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            if destination is not None:
                arn = str(ctx.resolve(destination))
                self.on_failure_url = self._queue_for_arn(arn, "the on-failure destination")
        if self.on_failure_url is None:
            target = (stack.properties(function_id).get("DeadLetterConfig") or {}).get("TargetArn")
            if target is not None:
                self.dead_letter_target = self._queue_for_arn(str(ctx.resolve(target)), "the function's dead-letter queue")
                self.on_failure_url = self.dead_letter_target

    def _queue_for_arn(self, arn: str, what: str) -> Optional[str]:
        if not arn.startswith("arn:aws:sqs:"):
            self.report.notes.append(f"{what} is {arn}: only SQS destinations are kept locally")
            return None
        url = self.app.resources.queue_url(arn)
        if url is None:
            url, _ = self.app.resources.external_queue(arn, f"{self.entry.path}: {what}")
        return url

    def _plan_mapping(self) -> None:
        app, entry = self.app, self.entry
        ref = entry.resources.get("eventSourceMapping")
        if ref is None or ref.external:
            raise RunnerError(f"{entry.path}: the metadata names no event source mapping")
        stack = app.assembly.stack(str(ref.stack))
        props = stack.properties(str(ref.logical_id))
        ctx = app.resources.intrinsics(stack)
        located = app.resources.locate(stack, props.get("FunctionName"))
        if located is None or located[0].type_of(located[1]) != "AWS::Lambda::Function":
            raise RunnerError(
                f"{entry.path}: the worker is {ctx.resolve(props.get('FunctionName'))}, a function the app "
                "imports by name or ARN: its code is not in this app, so it cannot run locally "
                "(leave the construct out with --construct)"
            )
        worker_stack, worker_id = located
        queue = app.resources.locate(stack, props.get("EventSourceArn"))
        if queue is not None:
            values = app.resources.physical(*queue)
            queue_url, queue_arn = values["QueueUrl"], values["Arn"]
            queue_props = queue[0].properties(queue[1])
            redrive = app.resources.intrinsics(queue[0]).resolve(queue_props.get("RedrivePolicy"))
        else:
            arn = str(ctx.resolve(props.get("EventSourceArn")))
            queue_url, queue_arn = app.resources.external_queue(arn, f"{entry.path}: the task queue")
            attributes = app.resources.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
            redrive = attributes.get("Attributes", {}).get("RedrivePolicy")
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        dead_letter_url = None
        max_receive = None
        if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
            dead_letter_url = app.resources.queue_url(str(redrive["deadLetterTargetArn"]))
            max_receive = int(redrive.get("maxReceiveCount", 0)) or None
        worker = self._image("worker", worker_stack, worker_id)
        scaling = (ctx.resolve(props.get("ScalingConfig")) or {}).get("MaximumConcurrency")
        reserved = worker_stack.properties(worker_id).get("ReservedConcurrentExecutions")
        limits = [app.options.concurrency] + [int(v) for v in (scaling, reserved) if isinstance(v, int)]
        concurrency = min(limits)
        try:
            matches = compile_filters(ctx.resolve(props.get("FilterCriteria")))
        except FilterError as exc:
            raise RunnerError(f"{entry.path}: the event source mapping's {exc}") from None
        self.mapping = _Mapping(
            queue_url=queue_url,
            queue_arn=queue_arn,
            worker=worker,
            batch_size=int(ctx.resolve(props.get("BatchSize", _DEFAULT_SQS_BATCH_SIZE))),
            window_seconds=float(ctx.resolve(props.get("MaximumBatchingWindowInSeconds", 0))),
            partial="ReportBatchItemFailures" in (ctx.resolve(props.get("FunctionResponseTypes")) or []),
            concurrency=concurrency,
            matches=matches,
            enabled=bool(ctx.resolve(props.get("Enabled", True))),
            dead_letter_url=dead_letter_url,
            max_receive_count=max_receive,
        )
        if concurrency < 1:
            self.report.notes.append("the worker's reserved concurrency is 0: it is throttled and runs nothing")
        if not self.mapping.enabled:
            self.report.notes.append("the event source mapping is disabled: nothing consumes the task queue")
        self.worker = app.pool(worker, max(1, concurrency))
        report = self.report
        report.batch_size = self.mapping.batch_size
        report.max_receive_count = max_receive
        report.concurrency = concurrency
        report.resources["queue"] = queue_url
        report.resources["dead_letter_queue"] = dead_letter_url
        for name in ("tasks_sent", "tasks_succeeded", "tasks_filtered", "tasks_retried", "task_deliveries", "worker_invocations"):
            setattr(report, name, 0)
        report.tasks_left_in_queue = 0
        report.tasks_dead_lettered = 0 if dead_letter_url else None
        if dead_letter_url is None:
            report.notes.append("the task queue has no redrive policy: a task that keeps failing stays on it until it expires")

    def _image(self, role: str, stack: StackArtifact, logical_id: str) -> FunctionImage:
        app = self.app
        where = f"{self.entry.path}: the {role} {logical_id}"
        props = stack.properties(logical_id)
        runtime = str(props.get("Runtime") or "")
        if not runtime.startswith("python"):
            raise RunnerError(f"{where} has runtime {runtime or 'none'}: the local runner runs Python functions only")
        try:
            code_dir = stack.asset_folder(props.get("Code"), scratch=app.scratch)
        except AssemblyError as exc:
            raise RunnerError(f"{where}: {exc}") from None
        ctx = app.resources.intrinsics(stack)
        layers: List[Path] = []
        for index, layer in enumerate(props.get("Layers") or []):
            located = app.resources.locate(stack, layer)
            if located is None or located[0].type_of(located[1]) != "AWS::Lambda::LayerVersion":
                raise RunnerError(
                    f"{where}: its layer {index + 1} ({ctx.resolve(layer)}) is not a layer of this app, so its "
                    "content is not here and the function cannot run locally as it runs in AWS"
                )
            layer_stack, layer_id = located
            try:
                layers.append(layer_stack.asset_folder(layer_stack.properties(layer_id).get("Content"), scratch=app.scratch))
            except AssemblyError as exc:
                raise RunnerError(f"{where}: its layer {layer_id}: {exc}") from None
        environment: Dict[str, str] = {}
        for name, value in ((props.get("Environment") or {}).get("Variables") or {}).items():
            try:
                resolved = ctx.resolve(value)
            except AssemblyError as exc:
                raise RunnerError(f"{where}: environment variable {name}: {exc}") from None
            environment[name] = resolved if isinstance(resolved, str) else json.dumps(resolved)
        for name, value in environment.items():
            if self._is_webhook_value(stack, props, name):
                self._prepare_webhook(value)
        function_name, arn = app.resources.function_name(stack, logical_id)
        return FunctionImage(
            name=function_name,
            arn=arn,
            stack=stack.stack_name,
            logical_id=logical_id,
            handler=str(props.get("Handler") or ""),
            runtime=runtime,
            code_dir=code_dir,
            layer_dirs=layers,
            memory_mb=int(props.get("MemorySize") or 128),
            timeout_seconds=float(props.get("Timeout") or 3),
            environment=environment,
        )

    def _is_webhook_value(self, stack: StackArtifact, props: Dict[str, Any], name: str) -> bool:
        ref = self.entry.resources.get("webhookSecret")
        if ref is None:
            return False
        raw = ((props.get("Environment") or {}).get("Variables") or {}).get(name)
        if ref.external:
            return self.ctx.resolve(ref.arn) == self.app.resources.intrinsics(stack).resolve(raw)
        return self.app.resources.locate(stack, raw) == (self.app.assembly.stack(str(ref.stack)), ref.logical_id)

    def _prepare_webhook(self, value: str) -> None:
        ref = self.entry.resources.get("webhookSecret")
        assert ref is not None
        url = self.app.webhook_url(self.key)
        if ref.external:
            self.app.resources.external_webhook_secret(value, url)
        self.report.resources["webhook_url"] = url

    def register_webhook(self) -> None:
        """Before anything is created: an in-app webhook secret holds the local sink URL."""
        ref = self.entry.resources.get("webhookSecret")
        if ref is not None and not ref.external:
            self.app.resources.webhook_secrets[(str(ref.stack), str(ref.logical_id))] = self.app.webhook_url(self.key)

    def compute_fire_times(self, after: datetime, count: int) -> None:
        from ..schedule_expressions import ScheduleExpressionError, next_fire_times

        if not self.enabled:
            self.report.notes.append("the schedule is disabled: it does not fire")
            return
        try:
            self.fire_times = next_fire_times(
                self.expression, after=after, count=count, time_zone=self.time_zone, start=self.start, end=self.end
            )
        except (ScheduleExpressionError, ValueError) as exc:
            raise RunnerError(f"{self.entry.path}: cannot compute the fire times of {self.expression}: {exc}") from None
        self.report.runs_planned = len(self.fire_times)
        if len(self.fire_times) < count:
            self.report.notes.append(f"the schedule fires {len(self.fire_times)} time(s) after {iso_z(after)}, not {count}")

    # -- one run -----------------------------------------------------------------------

    def _error(self, role: str, invocation: Invocation) -> None:
        text = invocation.error or "error"
        with self.lock:
            errors = self.report.errors.setdefault(role, {})
            errors[text] = errors.get(text, 0) + 1

    def fire(self, number: int, fire_time: datetime) -> None:
        app, report = self.app, self.report
        started = time.monotonic()
        report.runs += 1
        report.fire_times.append(iso_z(fire_time))
        values = {
            "execution_id": str(uuid.uuid4()),
            "scheduled_time": iso_z(fire_time),
            "schedule_arn": f"arn:aws:scheduler:{app.region}:{ACCOUNT}:schedule/default/{self.schedule_name}",
            "attempt_number": "1",
        }
        text = fill_placeholders(str(self.input_template), values)
        try:
            event = json.loads(text)
        except ValueError:
            event = text
        assert self.scheduled is not None
        before = self._queue_count(self.mapping.queue_url) if self.mapping else 0
        request_id = str(uuid.uuid4())
        attempts = 1 + max(0, self.async_retries)
        invocation: Optional[Invocation] = None
        for attempt in range(1, attempts + 1):
            invocation = self.scheduled.invoke(event, request_id=request_id)
            report.invocations += 1
            app.show_output(invocation)
            if invocation.ok:
                break
            self._error("scheduled function", invocation)
            app.progress(f"{self.entry.path}: run {number}: attempt {attempt}/{attempts} failed: {invocation.error}")
        assert invocation is not None
        label = f"{self.entry.path}: run {number}/{report.runs_planned} at {iso_z(fire_time)}"
        if invocation.ok:
            report.runs_succeeded += 1
        else:
            report.runs_failed += 1
            self._send_failure(event, invocation, attempts)
        if self.mapping is not None:
            sent = max(0, self._queue_count(self.mapping.queue_url) - before)
            self.counts["sent"] += sent
            before_dead = self._queue_count(self.mapping.dead_letter_url)
            before_done = len(self.succeeded) + self.counts["filtered"]
            batches = self.counts["worker_invocations"]
            self.drain(label, sent)
            done = len(self.succeeded) + self.counts["filtered"] - before_done
            dead = self._queue_count(self.mapping.dead_letter_url) - before_dead
            state = "ok" if invocation.ok else "FAILED"
            line = (
                f"{label}: {state}, {_plural(sent, 'task')} sent, "
                f"{_plural(self.counts['worker_invocations'] - batches, 'batch')}, {done} succeeded"
            )
            if dead:
                line += f", {dead} to the dead-letter queue"
            app.progress(line)
        else:
            app.progress(f"{label}: {'ok' if invocation.ok else 'FAILED'}")
        report.seconds += time.monotonic() - started

    def _send_failure(self, event: Any, invocation: Invocation, attempts: int) -> None:
        """What Lambda sends to the on-failure destination (or dead-letter queue) after the last retry."""
        if self.on_failure_url is None:
            return
        sqs = self.app.resources.sqs
        assert self.scheduled is not None
        image = self.scheduled.image
        if self.dead_letter_target is not None:
            sqs.send_message(
                QueueUrl=self.on_failure_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": (invocation.error_message or "")[:256] or "error"},
                },
            )
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{image.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": invocation.error_message, "errorType": invocation.error_type},
        }
        sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(record))

    def _queue_count(self, url: Optional[str]) -> int:
        if not url:
            return 0
        attributes = self.app.resources.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    # -- the event source mapping ------------------------------------------------------

    def drain(self, label: str, sent: int) -> None:
        """Work the task queue off as the mapping does, until it is empty (or a limit is hit)."""
        mapping = self.mapping
        assert mapping is not None and self.worker is not None
        if not mapping.enabled or mapping.concurrency < 1:
            return
        progress = _Progress(self.app.show_bar, label, sent)
        state = {"busy": 0, "stop": False, "shown": 0, "invocations": 0}
        condition = threading.Condition()
        start_done = len(self.succeeded) + self.counts["filtered"]

        def poll() -> None:
            sqs = self.app.resources.sqs
            while True:
                with condition:
                    if state["stop"]:
                        return
                    if self.app.out_of_time() or state["invocations"] >= _MAX_WORKER_INVOCATIONS_PER_RUN:
                        state["stop"] = True
                        condition.notify_all()
                        return
                batch = self._receive(sqs, mapping)
                if batch:
                    with condition:
                        state["busy"] += 1
                        state["invocations"] += 1
                    try:
                        self._deliver(sqs, mapping, batch, state)
                        progress.update(len(self.succeeded) + self.counts["filtered"] - start_done)
                    finally:
                        with condition:
                            state["busy"] -= 1
                            condition.notify_all()
                    continue
                with condition:
                    # Nothing visible. A batch in flight holds its messages until it has deleted
                    # them or made them visible again, so the run is done when no batch is in
                    # flight and the queue holds nothing (visible, in flight or delayed).
                    if state["busy"] == 0 and self._queue_count(mapping.queue_url) == 0:
                        state["stop"] = True
                        condition.notify_all()
                        return
                    condition.wait(_IDLE_POLL_SECONDS)

        workers = max(1, mapping.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="event-source") as pool:
            for future in [pool.submit(poll) for _ in range(workers)]:
                future.result()
        progress.update(len(self.succeeded) + self.counts["filtered"] - start_done, final=True)
        if state["invocations"] >= _MAX_WORKER_INVOCATIONS_PER_RUN:
            self.report.notes.append(
                f"stopped feeding the worker after {_MAX_WORKER_INVOCATIONS_PER_RUN} invocations in one run"
            )

    def _receive(self, sqs: Any, mapping: _Mapping) -> List[Dict[str, Any]]:
        batch: List[Dict[str, Any]] = []
        while len(batch) < mapping.batch_size:
            response = sqs.receive_message(
                QueueUrl=mapping.queue_url,
                MaxNumberOfMessages=min(_MAX_SQS_BATCH, mapping.batch_size - len(batch)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = response.get("Messages") or []
            if not messages:
                break
            batch.extend(messages)
        return batch

    def _deliver(self, sqs: Any, mapping: _Mapping, batch: List[Dict[str, Any]], state: Dict[str, Any]) -> None:
        assert self.worker is not None
        records = [sqs_record(m, queue_arn=mapping.queue_arn, region=self.app.region) for m in batch]
        with self.lock:
            for message in batch:
                count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
                self.seen[message["MessageId"]] = max(count, self.seen.get(message["MessageId"], 0))
        kept = [(m, r) for m, r in zip(batch, records) if mapping.matches(r)]
        kept_ids = {m["MessageId"] for m, _ in kept}
        dropped = [m for m in batch if m["MessageId"] not in kept_ids]
        self._delete(sqs, mapping, dropped)
        with self.lock:
            self.counts["filtered"] += len(dropped)
        if not kept:
            return
        ids = [m["MessageId"] for m, _ in kept]
        invocation = self.worker.invoke({"Records": [r for _, r in kept]})
        with self.lock:
            self.counts["worker_invocations"] += 1
            self.counts["deliveries"] += len(kept)
        self.app.show_output(invocation)
        failed, reason = failed_message_ids(invocation, ids, partial=mapping.partial)
        if not invocation.ok:
            self._error("worker", invocation)
        if failed:
            with self.lock:
                state["shown"] += 1
                shown = state["shown"]
            if shown <= _SHOWN_FAILED_BATCHES:
                if reason:
                    self.app.progress(f"{self.entry.path}: worker batch of {len(kept)} failed: {reason}")
                else:
                    self.app.progress(f"{self.entry.path}: worker reported {len(failed)} of {len(kept)} task(s) failed")
                self.app.show_errors(invocation)
            elif shown == _SHOWN_FAILED_BATCHES + 1:
                self.app.progress(f"{self.entry.path}: more failed batches in this run (not shown)")
        done = [m for m, _ in kept if m["MessageId"] not in failed]
        again = [m for m, _ in kept if m["MessageId"] in failed]
        self._delete(sqs, mapping, done)
        with self.lock:
            self.succeeded.update(m["MessageId"] for m in done)
        for start in range(0, len(again), _MAX_SQS_BATCH):
            chunk = again[start : start + _MAX_SQS_BATCH]
            sqs.change_message_visibility_batch(
                QueueUrl=mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(chunk)],
            )

    @staticmethod
    def _delete(sqs: Any, mapping: _Mapping, messages: List[Dict[str, Any]]) -> None:
        for start in range(0, len(messages), _MAX_SQS_BATCH):
            chunk = messages[start : start + _MAX_SQS_BATCH]
            sqs.delete_message_batch(
                QueueUrl=mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    # -- results -----------------------------------------------------------------------

    def finish(self) -> ConstructReport:
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
        if self.on_failure_url:
            report.runs_dead_lettered = self._queue_count(self.on_failure_url)
        pools = [p for p in (self.scheduled, self.worker) if p is not None]
        report.cold_starts = sum(p.cold_starts for p in pools)
        if self.mapping is not None:
            mapping = self.mapping
            report.tasks_sent = self.counts["sent"]
            report.tasks_succeeded = len(self.succeeded)
            report.tasks_filtered = self.counts["filtered"]
            report.tasks_retried = sum(1 for count in self.seen.values() if count > 1)
            report.task_deliveries = self.counts["deliveries"]
            report.worker_invocations = self.counts["worker_invocations"]
            report.tasks_left_in_queue = self._queue_count(mapping.queue_url)
            if mapping.dead_letter_url:
                report.tasks_dead_lettered = self._queue_count(mapping.dead_letter_url)
            accounted = (
                report.tasks_succeeded + report.tasks_filtered + (report.tasks_dead_lettered or 0) + report.tasks_left_in_queue
            )
            if accounted != report.tasks_sent:
                report.notes.append(
                    f"count mismatch: {report.tasks_sent} task(s) sent, but {report.tasks_succeeded} succeeded, "
                    f"{report.tasks_filtered} filtered, {report.tasks_dead_lettered or 0} dead-lettered and "
                    f"{report.tasks_left_in_queue} left on the queue"
                )
        if report.results_posted is not None and app.sink is not None:
            report.results_posted = app.sink.count(self.key)
        report.seconds = round(report.seconds, 3)
        return report


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
            suffix=uuid.uuid4().hex[:8],
            external=load_external_resources(options.external_resources),
            webhook_url=lambda stack, key: self.webhook_url(key),
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
