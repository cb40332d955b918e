"""The skeleton both L3 constructs follow, and the steps they share.

Each constructor reads, in this order:

1. **validate and resolve**: one function turns the props as given into one
   frozen settings object, with every default applied and every value the
   later phases need derived once (a problem found on the way is recorded;
   all of them are raised together, before any resource exists);
2. **build**: the resources, from the settings alone (each becomes the
   construct's attribute of the same role);
3. **grant**: what each function and role may do, and nothing more;
4. **publish**: the alarms and the construct metadata the local runner reads.

This module holds what the two constructs share: the shared props, defined and
documented once (:class:`CommonProps`, taken as ``**common``), their
validation and resolution (:class:`CommonSettings`, :class:`FunctionSettings`),
and the build steps for a function, the schedule and the alarms.
"""


from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import (
    Any,
    Dict,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Required,
    Sequence,
    Tuple,
    TypedDict,
)

from aws_cdk import Annotations, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _assets, _defaults, _metadata, _schedule, _topic, _watchdog
from ._alarms import Alarms
from ._validation import Problems, is_token
from .runtime import LEDGER_TABLE_NAME, LOCK_SECONDS, MAX_ATTEMPTS, OVERLAP, RUN_METRICS
from .runtime.ledger import OVERLAP_POLICIES
from .runtime_layer import RuntimeLayer

# --- the shared props, documented once ---------------------------------------


class CommonProps(TypedDict, total=False):
    """The props both constructs take, as keyword arguments: the schedule, its functions' logs and retries, the alarms.

    ``ScheduledLambdaToTable(..., **common)`` and
    ``ScheduledTaskFanout(..., **common)`` accept each of these by name.
    ``schedule`` is required, the rest optional. A name that is not a prop of
    the construct is a ``TypeError``, as for any keyword argument.

    Examples
    --------
    >>> from aws_cdk import Duration
    >>> nightly: CommonProps = {"schedule": expression, "retry_attempts": 1, "max_event_age": Duration.minutes(10)}
    >>> ScheduledTaskFanout(stack, "Reports", tasks=tasks, worker_code=code, worker_handler="tasks.handler", **nightly)  # doctest: +SKIP
    """

    schedule: Required[scheduler.ScheduleExpression]
    """When to run: ``ScheduleExpression.rate(...)``, ``.cron(...)`` (with a time zone) or ``.at(...)``. Required."""
    schedule_enabled: bool
    """Whether the schedule is enabled. Default: True."""
    schedule_description: str
    """Description of the schedule (at most 512 characters). Default: none."""
    time_window: scheduler.TimeWindow
    """Flexible time window. Default: off (runs at the exact time)."""
    start: datetime
    """The schedule's first possible run. Default: when it is deployed."""
    end: datetime
    """The schedule's last possible run (after ``start``). Default: none."""
    schedule_group: scheduler.IScheduleGroup
    """The group the schedule belongs to. Default: the account's default group."""
    retry_attempts: int
    """Scheduler retries of a delivery that failed (0-185). Default: 3."""
    max_event_age: Duration
    """How long the Scheduler keeps retrying (60 s - 24 h). Default: 1 hour."""
    log_retention: logs.RetentionDays
    """Retention of the log groups of the functions the construct creates. Default: one month."""
    tracing: bool
    """X-Ray active tracing of the functions the construct creates. Default: False.

    Their roles may then call ``xray:PutTraceSegments`` and
    ``xray:PutTelemetryRecords``, which X-Ray grants on Resource ``"*"`` only.
    """
    function_retry_attempts: int
    """Lambda's retries of a failed run of the scheduled function the construct creates (0-2). Default: 2."""
    function_max_event_age: Duration
    """How long a run of the scheduled function the construct creates may wait (60 s - 6 h). Default: 1 hour."""
    alarms: bool
    """Create the alarms. Default: True."""
    alarm_topic: sns.ITopic
    """Where alarms notify. Default: a created topic (when ``alarms``)."""
    overlap: str
    """What a slot does while the previous run still runs: ``"skip"`` or ``"allow"``. Default: ``"skip"``.

    With ``"skip"`` (what cron users get from ``flock``, and Airflow's
    ``max_active_runs=1``), a run holds its schedule's lock in the run ledger
    until it finishes or ``run_deadline`` passes; a slot that fires meanwhile
    is recorded as ``skipped`` and does no work. ``"allow"`` lets runs
    overlap. It applies to the bundled producer and to code that uses the
    runtime's ledger (``runtime.ledger.track_run``); the bundled record-run
    handler's runs take milliseconds and never overlap.
    """
    run_deadline: Duration
    """How long a run may take (1 minute - 7 days): a run still ``running`` after it is late. Default: 1 hour.

    It is also the longest a run holds the overlap lock, and how long a
    delivery's claim on a run lasts before a retry may take the run over.
    """
    watchdog: bool
    """Create the watchdog: a function on its own schedule that compares the schedule with the run ledger. Default: True.

    Every ``watchdog_interval`` it computes the slots the schedule should
    have started (expression, time zone, start, end, flexible window and
    daylight-saving rules) and reports each slot once: *missed* (no run by
    the slot's time, its flexible window and ``missed_run_grace``), *late*
    (still ``running`` past ``run_deadline``) and *failed* (finished with
    failed tasks, or failed). It writes the metrics ``MissedRuns``,
    ``LateRuns`` and ``FailedRuns`` (namespace ``ScheduledTasks``,
    dimension ``Schedule`` = ``"<group>/<name>"``), which the missed, late
    and failed run alarms watch, and with a webhook it posts one message
    per finding. It never reports slots from before its first run or the
    schedule's start, nor while the schedule is disabled.
    """
    watchdog_interval: Duration
    """How often the watchdog runs (whole minutes, 5 minutes - 1 day). Default: 15 minutes."""
    missed_run_grace: Duration
    """How long after a slot (and its flexible window) its run may start before the slot is missed (0 - 1 day). Default: 5 minutes."""
    dashboard: bool
    """Create a CloudWatch dashboard of the construct's runs. Default: False (a dashboard costs $3 a month).

    It shows runs by status, task counts per run (a fan-out), dead-letter
    queue depths, run durations against ``run_deadline``, the watchdog's
    findings, and the schedule's next fire times as of synthesis.
    """


def given(construct: str, arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """The props of a constructor call, from its ``locals()``: its own and the :class:`CommonProps`.

    Raises ``TypeError`` for a keyword in ``common`` that is not a prop, as
    Python does for an unknown keyword argument.
    """
    common = arguments.get("common", {})
    unknown = sorted(set(common) - set(CommonProps.__annotations__))
    if unknown:
        raise TypeError(f"{construct}.__init__() got an unexpected keyword argument {unknown[0]!r}")
    if "schedule" not in common:
        raise TypeError(f"{construct}.__init__() missing 1 required keyword-only argument: 'schedule'")
    props = {
        name: value
        for name, value in arguments.items()
        if name not in ("self", "scope", "id", "common", "__class__")
    }
    props.update(common)
    return props


# --- settings ----------------------------------------------------------------


@dataclass(frozen=True)
class CommonSettings:
    """The resolved shared props: the schedule, the created functions' logging and retries, the alarms."""

    schedule: _schedule.ScheduleOptions
    log_retention: logs.RetentionDays
    tracing: bool
    function_retry_attempts: int
    function_max_event_age: Duration
    alarms: bool
    alarm_topic: Optional[sns.ITopic]
    #: ``"skip"`` or ``"allow"``.
    overlap: str
    #: ``run_deadline`` in seconds, as the functions' environment holds it.
    run_deadline_seconds: str
    #: Whether to create the watchdog.
    watchdog: bool
    watchdog_interval: Duration
    #: ``missed_run_grace`` in seconds, as the watchdog's environment holds it.
    missed_run_grace_seconds: str
    dashboard: bool


@dataclass(frozen=True)
class FunctionSettings:
    """One function of a construct: the user's own, or one to create with every default applied."""

    #: The child ID of a created function (its role and log group are ``<id>Role``, ``<id>Logs``).
    id: str
    #: The prop that names a function of the user's (``existing_function``, ``existing_worker`` ...).
    existing_prop: str
    existing: Optional[lambda_.IFunction]
    code: Optional[lambda_.Code]
    handler: Optional[str]
    #: The library's own handler: its asset holds the runtime package, so it needs no layer.
    bundled: bool
    memory_size: float
    timeout: Duration
    environment: Mapping[str, str]
    description: str
    extra_layers: Tuple[lambda_.ILayerVersion, ...] = field(default=())

    @property
    def created(self) -> bool:
        """Whether the construct creates this function."""
        return self.existing is None


def resolve_function(
    problems: Problems,
    props: Mapping[str, Any],
    *,
    id: str,
    prefix: str,
    reserved: Tuple[str, ...],
    bundled_handler: Optional[str],
    default_memory_size: int,
    default_timeout: Duration,
    description: str,
    extra_layers: Sequence[lambda_.ILayerVersion] = (),
) -> FunctionSettings:
    """Check the props of one function (``<prefix>code``, ``<prefix>handler`` ...) and resolve them."""
    existing_prop = f"existing_{prefix[:-1]}" if prefix else "existing_function"
    code, handler = props.get(f"{prefix}code"), props.get(f"{prefix}handler")
    existing = props.get(existing_prop)
    memory_size, timeout = props.get(f"{prefix}memory_size"), props.get(f"{prefix}timeout")
    environment = props.get(f"{prefix}environment")
    _schedule.validate_function_props(
        problems,
        code=code,
        handler=handler,
        existing_function=existing,
        memory_size=memory_size,
        timeout=timeout,
        environment=environment,
        reserved=reserved,
        prefix=prefix,
    )
    bundled = code is None and existing is None and bundled_handler is not None
    return FunctionSettings(
        id=id,
        existing_prop=existing_prop,
        existing=existing,
        code=_assets.runtime_code() if bundled else code,
        handler=bundled_handler if bundled else handler,
        bundled=bundled,
        memory_size=memory_size or default_memory_size,
        timeout=timeout or default_timeout,
        environment=dict(environment) if isinstance(environment, Mapping) else {},
        description=description,
        extra_layers=tuple(extra_layers),
    )


def resolve_common(
    problems: Problems,
    props: Mapping[str, Any],
    *,
    scheduled: FunctionSettings,
    functions: Sequence[FunctionSettings],
) -> CommonSettings:
    """Check the shared props and resolve them.

    ``scheduled`` is the function the schedule invokes (its asynchronous
    invocation settings apply only when the construct creates it);
    ``functions`` are all of the construct's functions (logging and tracing
    apply only when it creates at least one).
    """
    log_retention, tracing = props.get("log_retention"), props.get("tracing")
    retries, max_age = props.get("function_retry_attempts"), props.get("function_max_event_age")
    alarms, alarm_topic = props.get("alarms"), props.get("alarm_topic")
    if all(not function.created for function in functions):
        given_with = " and ".join(function.existing_prop for function in functions)
        what = "a function" if len(functions) == 1 else "functions"
        for prop, value in (("log_retention", log_retention), ("tracing", tracing)):
            if value is not None:
                problems.add_message(
                    f"{prop}: only applies to {what} the construct creates, got it with {given_with}"
                )
    if not scheduled.created:
        noun = "a function" if scheduled.existing_prop == "existing_function" else "a producer"
        for prop, value in (("function_retry_attempts", retries), ("function_max_event_age", max_age)):
            if value is not None:
                problems.add_message(
                    f"{prop}: only applies to {noun} the construct creates, got it with "
                    f"{scheduled.existing_prop}"
                )
    problems.integer_range("function_retry_attempts", retries, 0, 2)
    problems.duration_range("function_max_event_age", max_age, Duration.seconds(60), Duration.hours(6))
    _schedule.validate_common_props(
        problems, log_retention=log_retention, tracing=tracing, alarms=alarms, alarm_topic=alarm_topic
    )
    if alarm_topic is not None and alarms is False:
        problems.add_message("alarm_topic: needs alarms, got alarms=False")
    overlap, run_deadline = props.get("overlap"), props.get("run_deadline")
    if overlap is not None and overlap not in OVERLAP_POLICIES:
        problems.add("overlap", "one of " + ", ".join(repr(p) for p in OVERLAP_POLICIES), overlap)
    problems.duration_range("run_deadline", run_deadline, Duration.minutes(1), Duration.days(7))
    watchdog, interval, grace = props.get("watchdog"), props.get("watchdog_interval"), props.get("missed_run_grace")
    problems.boolean("watchdog", watchdog)
    problems.duration_range("watchdog_interval", interval, Duration.minutes(5), Duration.days(1))
    if isinstance(interval, Duration) and not is_token(interval) and interval.to_seconds() % 60:
        problems.add("watchdog_interval", "a whole number of minutes", interval)
    problems.duration_range("missed_run_grace", grace, Duration.seconds(0), Duration.days(1))
    if watchdog is False:
        for prop, value in (("watchdog_interval", interval), ("missed_run_grace", grace)):
            if value is not None:
                problems.add_message(f"{prop} applies only to the watchdog, got it with watchdog=False")
    dashboard = props.get("dashboard")
    problems.boolean("dashboard", dashboard)
    return CommonSettings(
        schedule=schedule_options(props),
        log_retention=log_retention or _defaults.LOG_RETENTION,
        tracing=bool(tracing),
        function_retry_attempts=_defaults.FUNCTION_RETRY_ATTEMPTS if retries is None else retries,
        function_max_event_age=max_age or _defaults.FUNCTION_MAX_EVENT_AGE,
        alarms=alarms is not False,
        alarm_topic=alarm_topic,
        overlap=overlap if overlap is not None else _defaults.OVERLAP,
        run_deadline_seconds=seconds_text(run_deadline or _defaults.RUN_DEADLINE),
        watchdog=watchdog is not False,
        watchdog_interval=interval or _defaults.WATCHDOG_INTERVAL,
        missed_run_grace_seconds=seconds_text(_defaults.MISSED_RUN_GRACE if grace is None else grace),
        dashboard=dashboard is True,
    )


def seconds_text(duration: Duration) -> str:
    """A duration in whole seconds as an environment variable holds it (a token stays a token)."""
    if is_token(duration):
        return Token.as_string(duration.to_seconds())
    return str(int(duration.to_seconds()))


def ledger_environment(common: CommonSettings, table: dynamodb.ITable, *, scheduled: bool) -> Dict[str, Tuple[str, str]]:
    """The run ledger's variables of a function: its table, the overlap policy, the deadline.

    The scheduled function (``scheduled``) also learns how many deliveries
    Lambda makes of one run, so that its last failure fails the run. With
    the dashboard, ``RUN_METRICS=on`` makes whoever finishes a run publish
    the run metrics its graphs show.
    """
    environment = {
        LEDGER_TABLE_NAME: (table.table_name, "the run ledger's name"),
        OVERLAP: (common.overlap, "overlap"),
        LOCK_SECONDS: (common.run_deadline_seconds, "run_deadline in seconds"),
    }
    if common.dashboard:
        environment[RUN_METRICS] = ("on", "dashboard=True")
    if scheduled:
        environment[MAX_ATTEMPTS] = (
            str(common.function_retry_attempts + 1),
            "function_retry_attempts + 1",
        )
    return environment


def schedule_options(props: Mapping[str, Any]) -> _schedule.ScheduleOptions:
    """The schedule props of a constructor call (validated by :func:`validate_schedule`)."""
    return _schedule.ScheduleOptions(
        schedule=props.get("schedule"),
        enabled=props.get("schedule_enabled"),
        description=props.get("schedule_description"),
        time_window=props.get("time_window"),
        start=props.get("start"),
        end=props.get("end"),
        schedule_group=props.get("schedule_group"),
        retry_attempts=props.get("retry_attempts"),
        max_event_age=props.get("max_event_age"),
    )


def validate_schedule(problems: Problems, props: Mapping[str, Any]) -> None:
    """Check the schedule props of a constructor call."""
    _schedule.validate_schedule_props(problems, schedule_options(props))


# --- build -------------------------------------------------------------------


class BuiltFunction(NamedTuple):
    """A construct's function and, when the construct created it, its role and log group."""

    function: lambda_.IFunction
    role: Optional[iam.IRole]
    log_group: Optional[logs.ILogGroup]


def build_function(
    scope: Construct,
    settings: FunctionSettings,
    common: CommonSettings,
    *,
    required_environment: Mapping[str, Tuple[str, str]],
    failures_to: Optional[sqs.IQueue] = None,
) -> BuiltFunction:
    """Create the function of ``settings``, or take the user's and set its environment.

    ``required_environment`` maps each variable the construct sets to its
    value and a description (for the warning about a function it cannot
    change). A created function built from user code gets the stack's
    :class:`RuntimeLayer` and the extra layers. With ``failures_to``, the function is invoked
    asynchronously by the schedule: bounded retries and event age, and
    failures sent to that queue.
    """
    if settings.existing is not None:
        _schedule.set_existing_environment(
            scope, settings.existing_prop, settings.existing, required_environment
        )
        return BuiltFunction(settings.existing, None, None)
    environment = dict(settings.environment)
    environment.update({name: value for name, (value, _) in required_environment.items()})
    layers = None if settings.bundled else [RuntimeLayer.of(scope), *settings.extra_layers]
    async_options = (
        {}
        if failures_to is None
        else _schedule.async_invoke_options(
            common.function_retry_attempts, common.function_max_event_age, failures_to
        )
    )
    function, role, log_group = _schedule.create_function(
        scope,
        settings.id,
        code=settings.code,
        handler=settings.handler,
        memory_size=settings.memory_size,
        timeout=settings.timeout,
        log_retention=common.log_retention,
        tracing=common.tracing,
        environment=environment,
        description=settings.description,
        layers=layers,
        **async_options,
    )
    return BuiltFunction(function, role, log_group)


class ScheduledConstruct(Construct):
    """What both constructs are: a schedule that invokes a function, the role it assumes, the alarms.

    :class:`ScheduledLambdaToTable` and :class:`ScheduledTaskFanout` are
    scheduled constructs; this class holds what they share and is not created
    on its own. Each construct's constructor checks and resolves its props,
    builds its resources, grants, and then calls this class to create the
    schedule, the alarms and the construct metadata.

    Attributes
    ----------
    schedule : aws_scheduler.Schedule
        The EventBridge Scheduler schedule.
    schedule_role : aws_iam.IRole
        The role the Scheduler assumes; it may invoke the scheduled function
        only.
    alarm_topic : aws_sns.ITopic or None
        Where alarms notify (None when ``alarms`` is False).
    watchdog_function : aws_lambda.IFunction or None
        The watchdog (None when ``watchdog`` is False).
    watchdog_role : aws_iam.IRole or None
        The watchdog's role: it may scan the run ledger, keep its own state
        item there, and read the watched schedule (None without the watchdog).
    watchdog_log_group : aws_logs.ILogGroup or None
        The watchdog's log group (None without the watchdog).
    watchdog_schedule : aws_scheduler.Schedule or None
        The schedule that runs the watchdog every ``watchdog_interval`` (None
        without the watchdog).
    watchdog_schedule_role : aws_iam.IRole or None
        The role that schedule assumes; it may invoke the watchdog only (None
        without the watchdog).
    missed_run_alarm : aws_cloudwatch.Alarm or None
        Alarm on the watchdog's ``MissedRuns``: a slot without a run by its
        time plus ``missed_run_grace`` (None without alarms or the watchdog).
    late_run_alarm : aws_cloudwatch.Alarm or None
        Alarm on the watchdog's ``LateRuns``: a run still ``running`` past
        ``run_deadline`` (None without alarms or the watchdog).
    failed_run_alarm : aws_cloudwatch.Alarm or None
        Alarm on the watchdog's ``FailedRuns``: a run that finished
        ``failed`` or ``partially_failed`` (None without alarms or the
        watchdog).
    watchdog_errors_alarm : aws_cloudwatch.Alarm or None
        Alarm on errors of the watchdog itself (None without alarms or the
        watchdog).
    alarms : list of aws_cloudwatch.Alarm
        Every alarm created, in creation order.
    dashboard : aws_cloudwatch.Dashboard or None
        The construct's dashboard (None unless ``dashboard`` is True).

    Notes
    -----
    **Functions the construct creates** each have their own role (it may
    write the function's own log group and do what the construct grants,
    nothing more) and their own log group. Their memory is 128-10240 MB,
    their timeout 1 second to 15 minutes, and their extra environment may not
    use the names the construct sets or those Lambda sets.

    **Functions you bring** (``existing_function``, ``existing_producer``,
    ``existing_worker``) get the grants the construct's own would. When one
    is an ``aws_lambda.Function`` (or a ``SingletonFunction``), the construct
    sets the environment variables it promises in its environment, replacing
    any value of those names. Any other function (an imported one, an alias,
    a version) cannot be changed: the construct warns at synth time
    (``scheduled-tasks-constructs:existingFunctionEnvironment``) and you set
    those variables yourself. It gets no layer: add :attr:`runtime_layer` to
    its layers if its code imports ``scheduled_tasks_constructs.runtime``.
    """

    def _schedule_and_alarms(
        self,
        common: CommonSettings,
        *,
        kind: str,
        function: lambda_.IFunction,
        payload: Mapping[str, Any],
        failures_to: sqs.IQueue,
        alarms: Sequence["AlarmRequest"],
        resources: Mapping[str, Any],
        ledger: dynamodb.ITable,
        webhook_secret: Optional[secretsmanager.ISecret] = None,
        dead_letter_queues: Sequence[Tuple[str, sqs.IQueue]] = (),
    ) -> Mapping[str, Optional[cloudwatch.Alarm]]:
        """Create the schedule invoking ``function``, the watchdog, the alarms, the dashboard and the construct metadata.

        Returns the requested alarms by ID (None each when ``alarms`` is False).
        """
        self.schedule, self.schedule_role = _schedule.create_schedule(
            self, common.schedule, function=function, payload=payload, dead_letter_queue=failures_to
        )
        warn_about_schedule(self, common.schedule)
        watchdog = None
        if common.watchdog:
            watchdog = _watchdog.build_watchdog(
                self,
                common.schedule,
                schedule=self.schedule,
                ledger=ledger,
                interval=common.watchdog_interval,
                grace_seconds=common.missed_run_grace_seconds,
                deadline_seconds=common.run_deadline_seconds,
                log_retention=common.log_retention,
                tracing=common.tracing,
                webhook_secret=webhook_secret,
            )
        self.watchdog_function = watchdog.function if watchdog else None
        self.watchdog_role = watchdog.role if watchdog else None
        self.watchdog_log_group = watchdog.log_group if watchdog else None
        self.watchdog_schedule = watchdog.schedule if watchdog else None
        self.watchdog_schedule_role = watchdog.schedule_role if watchdog else None
        watch = build_alarms(self, common, alarms, watchdog=watchdog)
        self.alarm_topic, self.alarms = watch.topic, watch.created
        self.missed_run_alarm = watch.findings.get("missed")
        self.late_run_alarm = watch.findings.get("late")
        self.failed_run_alarm = watch.findings.get("failed")
        self.watchdog_errors_alarm = watch.watchdog_errors
        self.dashboard = None
        if common.dashboard:
            from ._dashboard import build_dashboard

            self.dashboard = build_dashboard(
                self,
                common.schedule,
                dimension=_watchdog.schedule_dimension(self.schedule, common.schedule.schedule_group),
                fanout=kind == "ScheduledTaskFanout",
                dead_letter_queues=dead_letter_queues,
                deadline_seconds=common.run_deadline_seconds,
                watchdog=watchdog is not None,
            )
        extra: Dict[str, Any] = {}
        if watchdog is not None:
            extra = {"watchdog": watchdog.function, "watchdogSchedule": watchdog.schedule}
        _metadata.publish(self, kind, {"schedule": self.schedule, **resources, **extra})
        return watch.by_id

    @property
    def runtime_layer(self) -> RuntimeLayer:
        """The stack's runtime helpers layer (:class:`RuntimeLayer`).

        Functions the construct builds from your code have it; the bundled
        handlers carry the helpers in their own asset and need none. Add it to
        the layers of a function you bring (``existing_function``,
        ``existing_producer``, ``existing_worker``) whose code imports
        ``scheduled_tasks_constructs.runtime``. Reading it creates the layer
        when the stack has none yet.
        """
        return RuntimeLayer.of(self)


#: Warning IDs (for ``Annotations.acknowledge_warning``), by a phrase of the warning.
_WARNING_IDS = (
    ("daylight-saving gap", "scheduled-tasks-constructs:scheduleInDaylightSavingGap"),
    ("daylight-saving fold", "scheduled-tasks-constructs:scheduleInDaylightSavingFold"),
    ("never", "scheduled-tasks-constructs:scheduleNeverFires"),
)


def warn_about_schedule(scope: Construct, options: _schedule.ScheduleOptions) -> None:
    """Add a synth-time warning to ``scope`` for each way its schedule will surprise (see ``schedule_warnings``).

    A disabled schedule, or one whose expression or zone is known only at
    deploy time, is not looked at.
    """
    from .schedule_warnings import schedule_warnings

    if options.enabled is False:
        return
    expression, zone = _schedule.expression_and_zone(options.schedule)
    if Token.is_unresolved(expression) or Token.is_unresolved(zone):
        return
    try:
        warnings = schedule_warnings(
            expression, time_zone=zone, start=options.start, end=options.end, now=datetime.now(timezone.utc)
        )
    except ValueError:
        return  # a bad expression, zone or date is a validation error, already reported
    for text in warnings:
        warning_id = next(wid for phrase, wid in _WARNING_IDS if phrase in text or phrase == "never")
        Annotations.of(scope).add_warning_v2(warning_id, text)


@dataclass(frozen=True)
class AlarmRequest:
    """One alarm a construct wants: a dead-letter queue's depth or a function's errors."""

    id: str
    kind: str  # "dead_letters" or "errors"
    target: Any
    label: str


@dataclass(frozen=True)
class BuiltAlarms:
    """The alarms of a construct (all empty when ``alarms`` is False)."""

    topic: Optional[sns.ITopic]
    by_id: Mapping[str, Optional[cloudwatch.Alarm]]
    #: The watchdog's alarms by finding (``missed``, ``late``, ``failed``); empty without the watchdog.
    findings: Mapping[str, cloudwatch.Alarm]
    watchdog_errors: Optional[cloudwatch.Alarm]
    created: List[cloudwatch.Alarm]


def build_alarms(
    scope: Construct,
    common: CommonSettings,
    requests: Sequence[AlarmRequest],
    *,
    watchdog: Optional["_watchdog.BuiltWatchdog"],
) -> BuiltAlarms:
    """The alarm topic, the requested alarms, then the watchdog's (its findings and its errors), in that order."""
    if not common.alarms:
        return BuiltAlarms(None, {request.id: None for request in requests}, {}, None, [])
    topic = common.alarm_topic or _topic.alarm_topic(scope)
    watch = Alarms(scope, topic)
    by_id: Dict[str, Optional[cloudwatch.Alarm]] = {}
    for request in requests:
        make = watch.dead_letters if request.kind == "dead_letters" else watch.errors
        by_id[request.id] = make(request.id, request.target, request.label)
    findings: Dict[str, cloudwatch.Alarm] = {}
    errors = None
    if watchdog is not None:
        for kind, _, alarm_id, what in _watchdog.FINDINGS:
            findings[kind] = watch.finding(alarm_id, watchdog.metrics[kind], what)
        errors = watch.errors("WatchdogErrorsAlarm", watchdog.function, "watchdog")
    return BuiltAlarms(topic, by_id, findings, errors, watch.created)
