"""Schedule, target, retry and dead-letter wiring that both constructs share."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from aws_cdk import (
    Acknowledgment,
    Annotations,
    Duration,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _defaults, _grants
from ._validation import Described, Problems, is_token

#: The part of every target input that the Scheduler fills in at run time.
CONTEXT_INPUT: Dict[str, str] = {
    "execution_id": scheduler.ContextAttribute.execution_id,
    "scheduled_time": scheduler.ContextAttribute.scheduled_time,
    "schedule_arn": scheduler.ContextAttribute.schedule_arn,
    "attempt_number": scheduler.ContextAttribute.attempt_number,
}


@dataclass(frozen=True)
class ScheduleOptions:
    """The schedule props both constructs take, as given (None: the default)."""

    schedule: Any
    enabled: Optional[bool] = None
    description: Optional[str] = None
    time_window: Optional[scheduler.TimeWindow] = None
    start: Optional[_dt.datetime] = None
    end: Optional[_dt.datetime] = None
    schedule_group: Any = None
    retry_attempts: Optional[float] = None
    max_event_age: Optional[Duration] = None


def validate_schedule_props(problems: Problems, options: ScheduleOptions) -> None:
    """Check the schedule props both constructs take; record every problem."""
    schedule, description = options.schedule, options.description
    start, end, schedule_group = options.start, options.end, options.schedule_group
    retry_attempts, max_event_age = options.retry_attempts, options.max_event_age
    if not isinstance(schedule, scheduler.ScheduleExpression):
        problems.add("schedule", "an aws_scheduler.ScheduleExpression", Described(type(schedule).__name__))
    else:
        _validate_expression(problems, schedule)
    if description is not None and not is_token(description):
        if not isinstance(description, str):
            problems.add("schedule_description", "a string", Described(type(description).__name__))
        elif len(description) > 512:
            problems.add("schedule_description", "at most 512 characters", Described(f"{len(description)} characters"))
    for prop, value in (("start", start), ("end", end)):
        if value is not None and not isinstance(value, _dt.datetime):
            problems.add(prop, "a datetime.datetime", Described(type(value).__name__))
        elif value is not None and value.tzinfo is None:
            problems.add(prop, "a timezone-aware datetime.datetime", Described(f"{value.isoformat()} (naive)"))
    problems.interface("schedule_group", schedule_group, "schedule_group_arn", "an aws_scheduler.IScheduleGroup")
    problems.boolean("schedule_enabled", options.enabled)
    _validate_time_window(problems, options.time_window)
    if isinstance(start, _dt.datetime) and isinstance(end, _dt.datetime):
        if _aware(end) <= _aware(start):
            problems.add("end", f"after start ({start.isoformat()})", end.isoformat())
    problems.integer_range("retry_attempts", retry_attempts, 0, 185)
    problems.duration_range(
        "max_event_age", max_event_age, Duration.seconds(60), Duration.hours(24)
    )


#: The flexible time window the Scheduler allows, in minutes.
FLEXIBLE_WINDOW_MINUTES = (1, 1440)


def _validate_time_window(problems: Problems, window: Any) -> None:
    if window is None:
        return
    if not isinstance(window, scheduler.TimeWindow):
        problems.add("time_window", "an aws_scheduler.TimeWindow", Described(type(window).__name__))
        return
    max_window = window.max_window
    if max_window is None or is_token(max_window):
        return
    low, high = FLEXIBLE_WINDOW_MINUTES
    millis = max_window.to_milliseconds()
    if millis % 60000 or not low <= millis // 60000 <= high:
        problems.add(
            "time_window", f"off or a flexible window of {low} to {high} whole minutes", max_window
        )


def _aware(value: _dt.datetime) -> _dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _validate_expression(problems: Problems, schedule: scheduler.ScheduleExpression) -> None:
    from .schedule_expressions import validate_expression, validate_time_zone

    expression = schedule.expression_string
    if not is_token(expression):
        for message in validate_expression(expression):
            problems.add_message(f"schedule: {message}")
    zone = schedule.time_zone.timezone_name if schedule.time_zone else None
    if zone and not is_token(zone):
        error = validate_time_zone(zone)
        if error:
            problems.add_message(f"schedule time zone: {error}")


def input_text(payload: Mapping[str, Any]) -> str:
    """The target input as the template holds it: compact JSON, non-ASCII kept as is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def input_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units.

    That is its number of characters, except that a character outside the
    Basic Multilingual Plane (an emoji, say) counts twice, as it does in a
    Java string; the count never falls below the Scheduler's.
    """
    return len(text.encode("utf-16-le")) // 2


def _leaves(value: Any) -> "list[Any]":
    if isinstance(value, Mapping):
        return [*value.keys(), *(leaf for item in value.values() for leaf in _leaves(item))]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def has_token(payload: Any) -> bool:
    """Whether any key or value in ``payload`` is known only at deploy time."""
    return any(isinstance(leaf, (str, int, float)) and is_token(leaf) for leaf in _leaves(payload))


def has_null(payload: Any) -> bool:
    """Whether any value in ``payload`` is JSON ``null`` (Python ``None``)."""
    return any(leaf is None for leaf in _leaves(payload))


def validate_input_size(problems: Problems, prop: str, payload: Mapping[str, Any]) -> None:
    """Check the target input fits the Scheduler's limit once serialised."""
    size = input_length(input_text(payload))
    if size > _defaults.TARGET_INPUT_MAX_CHARS:
        problems.add(
            prop,
            f"small enough for the schedule input (at most {_defaults.TARGET_INPUT_MAX_CHARS}"
            " characters of JSON)",
            Described(f"{size} characters"),
        )


def target_input(payload: Mapping[str, Any]) -> scheduler.ScheduleTargetInput:
    """The schedule's target input, equal to ``payload`` after a JSON round trip.

    Without deploy-time values the input is the JSON text itself, so that
    ``null`` values stay (an object passed through jsii loses them: a key
    whose value is ``None`` disappears, and so does a ``None`` list item).
    With deploy-time values CDK serialises it, resolving them; callers
    reject ``null`` values there.
    """
    if has_token(payload):
        return scheduler.ScheduleTargetInput.from_object(dict(payload))
    return scheduler.ScheduleTargetInput.from_text(input_text(payload))


#: Why a dead-letter queue fed by the Scheduler and Lambda needs no DLQ of its own.
DLQ_ACKNOWLEDGMENT = Acknowledgment(
    id="AwsSolutions::AwsSolutions-SQS3",
    reason=(
        "This queue is itself a dead-letter queue: EventBridge Scheduler's target DLQ and "
        "the Lambda on-failure destination send to it, which the rule cannot see "
        "(it only recognises queues named in a redrive policy)."
    ),
)


#: Why a traced function's policy may name Resource "*" (for X-Ray only).
TRACING_ACKNOWLEDGMENT = Acknowledgment(
    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    reason=(
        "X-Ray active tracing (tracing=True): xray:PutTraceSegments and "
        "xray:PutTelemetryRecords support no resource-level permissions, so X-Ray "
        "requires Resource '*'. No other statement of this policy uses '*'."
    ),
)


def dead_letter_queue(scope: Construct, id: str, *, fed_by_services: bool = False) -> sqs.Queue:
    """An encrypted, HTTPS-only queue that keeps failed deliveries for 14 days.

    ``fed_by_services`` marks a queue that the Scheduler and Lambda send to
    directly (not through a redrive policy); the cdk-nag rule that asks every
    queue for a dead-letter queue is acknowledged on it, and only on it.
    """
    queue = sqs.Queue(
        scope,
        id,
        encryption=_defaults.QUEUE_ENCRYPTION,
        enforce_ssl=True,
        retention_period=_defaults.DEAD_LETTER_RETENTION,
    )
    if fed_by_services:
        Validations.of(queue.node.default_child).acknowledge(DLQ_ACKNOWLEDGMENT)
    return queue


def function_log_group(scope: Construct, id: str, retention: logs.RetentionDays) -> logs.LogGroup:
    """A log group with finite retention, removed with the stack."""
    return logs.LogGroup(scope, id, retention=retention, removal_policy=RemovalPolicy.DESTROY)


def function_role(scope: Construct, id: str, log_group: logs.ILogGroup) -> iam.Role:
    """An execution role that may write to its own log group and nothing else yet."""
    role = iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    return role


class _InvokeLatest(targets.LambdaInvoke):
    """``LambdaInvoke`` that grants invoke on the function itself, not ``<arn>:*``."""

    def __init__(self, func: lambda_.IFunction, **kwargs: Any) -> None:
        super().__init__(func, **kwargs)
        self._func = func

    def _add_target_action_to_role(self, role: iam.IRole) -> None:
        self._func.grant_invoke_latest_version(role)


def create_schedule(
    scope: Construct,
    options: ScheduleOptions,
    *,
    function: lambda_.IFunction,
    payload: Optional[Mapping[str, Any]],
    dead_letter_queue: Optional[sqs.IQueue],
    id: str = "Schedule",
    role_description: str = "Lets EventBridge Scheduler invoke this construct's function",
) -> "tuple[scheduler.Schedule, iam.Role]":
    """Create the schedule ``id``, its own scoped role ``<id>Role``, and the Lambda target.

    Without ``payload`` the target has no input of its own (the Scheduler
    sends ``{}``); without ``dead_letter_queue`` an undeliverable event is dropped.
    """
    schedule_group = options.schedule_group
    stack = Stack.of(scope)
    group_arn = (
        schedule_group.schedule_group_arn
        if schedule_group is not None
        else stack.format_arn(service="scheduler", resource="schedule-group", resource_name="default")
    )
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": group_arn}
            },
        ),
        description=role_description,
    )
    target = _InvokeLatest(
        function,
        role=role,
        input=None if payload is None else target_input(payload),
        dead_letter_queue=dead_letter_queue,
        retry_attempts=(
            _defaults.TARGET_RETRY_ATTEMPTS
            if options.retry_attempts is None
            else options.retry_attempts
        ),
        max_event_age=options.max_event_age or _defaults.TARGET_MAX_EVENT_AGE,
    )
    created = scheduler.Schedule(
        scope,
        id,
        schedule=options.schedule,
        target=target,
        enabled=True if options.enabled is None else options.enabled,
        description=options.description,
        time_window=options.time_window,
        start=options.start,
        end=options.end,
        schedule_group=schedule_group,
    )
    return created, role


def expression_and_zone(schedule: scheduler.ScheduleExpression) -> "tuple[str, str]":
    """The expression string and IANA time zone name of a schedule expression."""
    zone = schedule.time_zone.timezone_name if schedule.time_zone else "Etc/UTC"
    return schedule.expression_string, zone


def create_function(
    scope: Construct,
    id: str,
    *,
    code: lambda_.Code,
    handler: str,
    memory_size: float,
    timeout: Duration,
    log_retention: logs.RetentionDays,
    tracing: bool,
    environment: Mapping[str, str],
    description: str,
    layers: "Optional[list[lambda_.ILayerVersion]]" = None,
    **async_options: Any,
) -> "tuple[lambda_.Function, iam.Role, logs.LogGroup]":
    """A function with its own log group (finite retention) and its own role.

    ``id`` names the function; its role and log group are ``<id>Role`` and
    ``<id>Logs``. The role starts with log-writing only; callers grant the rest.
    """
    log_group = function_log_group(scope, f"{id}Logs", log_retention)
    role = function_role(scope, f"{id}Role", log_group)
    function = lambda_.Function(
        scope,
        id,
        code=code,
        handler=handler,
        runtime=_defaults.FUNCTION_RUNTIME,
        architecture=_defaults.FUNCTION_ARCHITECTURE,
        memory_size=memory_size,
        timeout=timeout,
        role=role,
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
        environment=dict(environment),
        description=description,
        layers=layers,
        **async_options,
    )
    # The function's GetAtt of the role already orders the two, so the L2's
    # DependsOn on the role is redundant (cfn-lint W3005); keep the one on the
    # role's policy, which nothing else orders.
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is not None:
        function.node.default_child.add_override(
            "DependsOn", [Stack.of(scope).get_logical_id(policy.node.default_child)]
        )
        if tracing:
            # Only the X-Ray statement the function just added names "*".
            Validations.of(policy.node.default_child).acknowledge(TRACING_ACKNOWLEDGMENT)
    return function, role, log_group


#: Environment variables the Lambda runtime sets; a function may not set them.
LAMBDA_RESERVED_ENVIRONMENT = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)  # fmt: skip
#: Lambda's rule for environment variable names.
LAMBDA_ENVIRONMENT_NAME = r"[a-zA-Z][a-zA-Z0-9_]+"
#: Lambda's limit on a function's environment (names and values), in bytes.
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096


def validate_function_props(
    problems: Problems,
    *,
    code: Optional[lambda_.Code],
    handler: Optional[str],
    existing_function: Optional[lambda_.IFunction],
    memory_size: Optional[float],
    timeout: Optional[Duration],
    environment: Optional[Mapping[str, str]],
    reserved: "tuple[str, ...]",
    prefix: str = "",
    max_timeout: Duration = Duration.minutes(15),
) -> None:
    """Check the props that describe one function (code/handler or existing)."""
    p = prefix
    existing = f"existing_{p[:-1]}" if p else "existing_function"
    if (code is None) != (handler is None):
        problems.add_message(
            f"{p}code and {p}handler: give both or neither, got "
            f"{'code' if code is not None else 'handler'} only"
        )
    if existing_function is not None and (code is not None or handler is not None):
        problems.add_message(
            f"{existing} and {p}code/{p}handler: give at most one of them, got both"
        )
    if existing_function is not None:
        for prop, value in (("memory_size", memory_size), ("timeout", timeout), ("environment", environment)):
            if value is not None:
                problems.add_message(
                    f"{p}{prop}: only applies to a function the construct creates, got it "
                    f"with {existing}"
                )
    if code is not None and not isinstance(code, lambda_.Code):
        problems.add(f"{p}code", "an aws_lambda.Code", Described(type(code).__name__))
    problems.interface(existing, existing_function, "function_arn", "an aws_lambda.IFunction")
    problems.integer_range(f"{p}memory_size", memory_size, 128, 10240)
    problems.duration_range(f"{p}timeout", timeout, Duration.seconds(1), max_timeout)
    problems.name(
        f"{p}handler",
        handler,
        r"[^\s\x00-\x1f\x7f]{1,128}",
        "1 to 128 characters without whitespace or control characters",
    )
    if environment is not None and not isinstance(environment, Mapping):
        problems.add(f"{p}environment", "a mapping of names to strings", Described(type(environment).__name__))
        environment = None
    size = 0
    for name, value in (environment or {}).items():
        if name in reserved:
            problems.add(
                f"{p}environment",
                f"free of the names the construct sets ({', '.join(reserved)})",
                name,
            )
        elif name in LAMBDA_RESERVED_ENVIRONMENT:
            problems.add(f"{p}environment", "free of the names the Lambda runtime sets", name)
        else:
            problems.name(
                f"{p}environment",
                name,
                LAMBDA_ENVIRONMENT_NAME,
                "names of a letter then letters, digits or underscores (at least 2 characters)",
            )
        if not isinstance(value, str):
            problems.add(f"{p}environment[{name!r}]", "a string", Described(type(value).__name__))
        elif not is_token(value):
            size += len(str(name).encode()) + len(value.encode())
    if size > LAMBDA_ENVIRONMENT_MAX_BYTES:
        problems.add(
            f"{p}environment",
            f"at most {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes of names and values",
            Described(f"{size} bytes"),
        )


def flexible_minutes(window: Optional[scheduler.TimeWindow]) -> int:
    """The flexible time window in minutes (0 when off)."""
    if window is None or window.max_window is None:
        return 0
    return int(window.max_window.to_minutes())


def async_invoke_options(
    retry_attempts: float, max_event_age: Duration, dead_letter_queue: sqs.IQueue
) -> Dict[str, Any]:
    """Asynchronous invocation settings of a scheduled function: bounded retries,
    bounded event age, and failures sent to ``dead_letter_queue`` (the function
    may send to it, ``sqs:SendMessage`` only)."""
    return {
        "retry_attempts": retry_attempts,
        "max_event_age": max_event_age,
        "on_failure": _grants.SendOnlySqsDestination(dead_letter_queue),
    }


#: The ID of the warning about an existing function whose environment the construct cannot set.
EXISTING_ENVIRONMENT_WARNING = "scheduled-tasks-constructs:existingFunctionEnvironment"


def set_existing_environment(
    scope: Construct,
    prop: str,
    function: lambda_.IFunction,
    variables: Mapping[str, Tuple[str, str]],
) -> None:
    """Set the environment the construct promises on a function the user brought.

    ``variables`` maps each name to its value and a description of it. A
    function defined in this app (``aws_lambda.Function`` or
    ``SingletonFunction``) gets them with ``add_environment``, which replaces
    a value of the same name: the function does not expose its environment,
    so a clash cannot be detected. Any other ``IFunction`` cannot be changed;
    ``scope`` gets a warning naming ``prop`` and what the user must set.
    """
    if not variables:
        return
    if isinstance(function, (lambda_.Function, lambda_.SingletonFunction)):
        for name, (value, _) in variables.items():
            function.add_environment(name, value)
        return
    settings = [f"{name} to {what}" for name, (_, what) in variables.items()]
    wanted = settings[0] if len(settings) == 1 else ", ".join(settings[:-1]) + " and " + settings[-1]
    Annotations.of(scope).add_warning_v2(
        EXISTING_ENVIRONMENT_WARNING,
        f"{prop} is not an aws_lambda.Function, so the construct cannot set its environment: "
        f"set {wanted} in {prop}'s environment yourself",
    )


def validate_common_props(
    problems: Problems,
    *,
    log_retention: Any,
    tracing: Any,
    alarms: Any,
    alarm_topic: Any,
) -> None:
    """Check the kinds of the logging, tracing and alarm props both constructs take."""
    if log_retention is not None and not isinstance(log_retention, logs.RetentionDays):
        problems.add("log_retention", "an aws_logs.RetentionDays", Described(type(log_retention).__name__))
    problems.boolean("tracing", tracing)
    problems.boolean("alarms", alarms)
    problems.interface("alarm_topic", alarm_topic, "topic_arn", "an aws_sns.ITopic")


def validate_dead_letter_queue(problems: Problems, prop: str, queue: Any) -> None:
    """Check a queue the Scheduler and Lambda send failures to: an ``IQueue``, standard."""
    if problems.interface(prop, queue, "queue_arn", "an aws_sqs.IQueue") and queue is not None:
        if getattr(queue, "fifo", False) is True:
            problems.add(prop, "a standard queue", Described("a FIFO queue"))
