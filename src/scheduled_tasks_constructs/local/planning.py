"""Read one scheduled construct from the assembly and plan its local run.

Nothing here runs a function: :func:`read_schedule` reads the construct's
``AWS::Scheduler::Schedule``, and :class:`ConstructPlanner` finds the
scheduled function, its asynchronous invocation settings
(``AWS::Lambda::EventInvokeConfig`` or its dead-letter queue), the run table,
the ``AWS::Lambda::EventSourceMapping`` and each function's image (asset
folder, layers, environment resolved to local resources).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .assembly import (
    AssemblyError,
    ConstructEntry,
    Intrinsics,
    ResourceRef,
    StackArtifact,
)
from .event_filter import FilterError, compile_filters
from .lambda_local import FunctionImage
from .reporting import ConstructReport
from .resources import ACCOUNT, name_from_arn

__all__ = [
    "AsyncConfig",
    "ConstructPlanner",
    "MappingPlan",
    "RunnerError",
    "ScheduleSpec",
    "read_schedule",
]

_DEFAULT_ASYNC_RETRIES = 2
_DEFAULT_SQS_BATCH_SIZE = 10


class RunnerError(Exception):
    """A run cannot start (a construct the runner cannot run, as the assembly says); one line."""


@dataclass(frozen=True)
class ScheduleSpec:
    """A construct's schedule as its template says: expression, time zone, state, start and end."""

    expression: str
    time_zone: str
    enabled: bool
    start: Optional[datetime]
    end: Optional[datetime]


def _aware(text: Any) -> Optional[datetime]:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_schedule(entry: ConstructEntry, region: str = "us-east-1") -> ScheduleSpec:
    """The schedule of a construct, from its ``AWS::Scheduler::Schedule`` resource.

    Parameters
    ----------
    entry : ConstructEntry
        The construct, as :meth:`CloudAssembly.scheduled_constructs` found it.
    region : str, optional
        The Region ``AWS::Region`` resolves to. Default: ``"us-east-1"``.

    Returns
    -------
    ScheduleSpec
        Expression, time zone, state, start and end.

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
class AsyncConfig:
    """How Lambda treats a failed asynchronous invocation of the scheduled function.

    ``retries`` is ``MaximumRetryAttempts`` (2 without an
    ``EventInvokeConfig``); ``on_failure_url`` is the local queue a failed run
    goes to (its on-failure destination, else its dead-letter queue), and
    ``dead_letter_target`` is set when that queue is the dead-letter queue.
    """

    retries: int = _DEFAULT_ASYNC_RETRIES
    on_failure_url: Optional[str] = None
    dead_letter_target: Optional[str] = None


@dataclass
class MappingPlan:
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


class ConstructPlanner:
    """Reads one construct from the assembly: its schedule now, its functions and mapping on request.

    Parameters
    ----------
    app : object
        The app run: its ``resources`` (:class:`~.resources.LocalResources`),
        ``assembly``, ``region``, ``scratch`` folder, ``options`` and
        ``webhook_url(key)``.
    entry : ConstructEntry
        The construct.
    key : str
        The construct's key at the local webhook sink.

    Raises
    ------
    RunnerError
        When the metadata names no schedule of the construct's stack.

    Attributes
    ----------
    report : ConstructReport
        The construct's report, which planning fills in (resources, notes).
    """

    def __init__(self, app: Any, entry: ConstructEntry, key: str) -> None:
        self.app = app
        self.entry = entry
        self.stack = entry.stack
        self.key = key
        self.schedule_id = self.in_app("schedule")
        props = self.stack.properties(self.schedule_id)
        self.ctx = app.resources.intrinsics(self.stack)
        self.schedule = read_schedule(entry, app.region)
        target = props.get("Target") or {}
        self.input_template = self.ctx.resolve(target.get("Input", "{}"))
        self.report = ConstructReport(
            path=entry.path,
            construct=entry.construct,
            schedule=self.schedule.expression,
            time_zone=self.schedule.time_zone,
            runs_requested=app.options.runs,
        )
        name = props.get("Name")
        self.schedule_name = (
            str(self.ctx.resolve(name)) if name is not None else f"{self.stack.stack_name}-{self.schedule_id}"[:64]
        )
        self._target_arn = target.get("Arn")

    def in_app(self, role: str) -> str:
        """The logical ID of the resource of ``role``, which must be in the construct's own stack."""
        ref = self.entry.resources.get(role)
        if ref is None or ref.external or ref.stack != self.stack.artifact_id:
            raise RunnerError(f"{self.entry.path}: the metadata names no {role} of this stack")
        if not self.stack.type_of(ref.logical_id or ""):
            raise RunnerError(f"{self.entry.path}: the {role} {ref.logical_id} is not in the template")
        return str(ref.logical_id)

    def schedule_arn(self) -> str:
        """The schedule's ARN as the Scheduler names it (``<aws.scheduler.schedule-arn>``)."""
        return f"arn:aws:scheduler:{self.app.region}:{ACCOUNT}:schedule/default/{self.schedule_name}"

    def schedule_request(self) -> Dict[str, Any]:
        """The ``CreateSchedule`` request of the schedule's local copy.

        Its template properties resolved to the local resources (the target
        is the local function), named as the run names it, in the
        ``default`` group (as the run fires it), so that ``pause``,
        ``resume``, ``status``, ``trigger`` and ``backfill`` with
        ``--endpoint`` find it as they find a deployed one.
        """
        props = self.ctx.resolve(self.stack.properties(self.schedule_id))
        request: Dict[str, Any] = {
            key: props[key]
            for key in (
                "ScheduleExpression",
                "ScheduleExpressionTimezone",
                "State",
                "Description",
                "FlexibleTimeWindow",
                "ActionAfterCompletion",
            )
            if key in props
        }
        request.setdefault("FlexibleTimeWindow", {"Mode": "OFF"})
        for key in ("StartDate", "EndDate"):
            moment = _aware(props.get(key))
            if moment is not None:
                request[key] = moment
        target = props.get("Target") or {}
        request["Target"] = {
            key: target[key] for key in ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig") if key in target
        }
        request["Name"] = self.schedule_name
        request["GroupName"] = "default"
        return request

    def scheduled_function(self) -> Tuple[StackArtifact, str]:
        """The stack and logical ID of the schedule's target, a function of this app."""
        located = self.app.resources.locate(self.stack, self._target_arn)
        if located is None or located[0].type_of(located[1]) != "AWS::Lambda::Function":
            arn = self.ctx.resolve(self._target_arn)
            raise RunnerError(
                f"{self.entry.path}: the schedule's target is {arn}, a function the app imports by ARN: "
                "its code is not in this app, so it cannot run locally (leave the construct out with --construct)"
            )
        return located

    def table_name(self, ref: ResourceRef) -> str:
        """The local name of the run table ``ref`` (made, or checked when the app imports it)."""
        resources = self.app.resources
        if ref.external:
            name = name_from_arn(str(self.ctx.resolve(ref.arn)))
            return resources.external_table(name, f"{self.entry.path}: the run table")
        stack = self.app.assembly.stack(str(ref.stack))
        return str(resources.physical(stack, str(ref.logical_id))["Ref"])

    def async_config(self, stack: StackArtifact, function_id: str) -> AsyncConfig:
        """The retries and failure destination of the function ``function_id`` of ``stack``."""
        config = AsyncConfig()
        resources = self.app.resources
        ctx = resources.intrinsics(stack)
        for resource in stack.resources.values():
            if resource.get("Type") != "AWS::Lambda::EventInvokeConfig":
                continue
            props = resource.get("Properties", {})
            if resources.locate(stack, props.get("FunctionName")) != (stack, function_id):
                continue
            retries = props.get("MaximumRetryAttempts")
            if isinstance(retries, int):
                config.retries = retries
            destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            if destination is not None:
                arn = str(ctx.resolve(destination))
                config.on_failure_url = self._queue_for_arn(arn, "the on-failure destination")
        if config.on_failure_url is None:
            target = (stack.properties(function_id).get("DeadLetterConfig") or {}).get("TargetArn")
            if target is not None:
                config.dead_letter_target = self._queue_for_arn(str(ctx.resolve(target)), "the function's dead-letter queue")
                config.on_failure_url = config.dead_letter_target
        return config

    def _queue_for_arn(self, arn: str, what: str) -> Optional[str]:
        if not arn.startswith("arn:aws:sqs:"):
            self.report.notes.append(f"{what} is {arn}: only SQS destinations are kept locally")
            return None
        url = self.app.resources.queue_url(arn)
        if url is None:
            url, _ = self.app.resources.external_queue(arn, f"{self.entry.path}: {what}")
        return url

    def mapping(self) -> MappingPlan:
        """The construct's event source mapping: queue, worker image, batching, filters, concurrency."""
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
        worker = self.function_image("worker", worker_stack, worker_id)
        scaling = (ctx.resolve(props.get("ScalingConfig")) or {}).get("MaximumConcurrency")
        reserved = worker_stack.properties(worker_id).get("ReservedConcurrentExecutions")
        limits = [app.options.concurrency] + [int(v) for v in (scaling, reserved) if isinstance(v, int)]
        concurrency = min(limits)
        try:
            matches = compile_filters(ctx.resolve(props.get("FilterCriteria")))
        except FilterError as exc:
            raise RunnerError(f"{entry.path}: the event source mapping's {exc}") from None
        plan = MappingPlan(
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
        if not plan.enabled:
            self.report.notes.append("the event source mapping is disabled: nothing consumes the task queue")
        return plan

    def function_image(self, role: str, stack: StackArtifact, logical_id: str) -> FunctionImage:
        """What runs the function ``logical_id`` of ``stack``: code, layers, environment, memory, timeout."""
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
