"""ScheduledLambdaToTable: a schedule invokes a function that records each run."""

from __future__ import annotations

import datetime as _dt
from typing import List, Mapping, Optional

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _assets, _defaults, _grants, _metadata, _schedule, _topic
from ._alarms import Alarms
from ._validation import Described, Problems, is_token
from .runtime_layer import RuntimeLayer
from .runtime import ITEM_TTL_SECONDS, TABLE_NAME
from .runtime.record_run import PARTITION_KEY


class ScheduledLambdaToTable(Construct):
    """An EventBridge Scheduler schedule invokes a Lambda function that records each run in a DynamoDB table.

    By default the function is the library's own handler: it writes one item
    per run, keyed by the run (the Scheduler's execution ID; the Lambda request
    ID when invoked by hand), with the request ID, scheduled time, execution ID
    and the time it was written. The write is conditional, so a duplicate
    delivery of the same run does not create a second item, and it may call
    ``dynamodb:PutItem`` on the table and nothing else there. Bring your own
    code (``code`` + ``handler``) or function (``existing_function``) instead;
    it is granted write access to the table (``grant_write_data``: your code
    may batch, update or delete items) and gets its name in ``TABLE_NAME``.
    A function built from your code also gets the runtime helpers layer
    (``runtime_layer``), so its handler can import
    ``scheduled_tasks_constructs.runtime``.

    Failures are kept on every hop: the Scheduler retries a delivery it could
    not make and then puts it in ``dead_letter_queue``; a run whose code fails
    is retried by Lambda and then sent to the same queue (on-failure
    destination). Alarms on that queue, on function errors and on missed runs
    notify ``alarm_topic``.

    Parameters
    ----------
    scope : Construct
        The parent construct.
    id : str
        The construct ID. Child IDs (``Schedule``, ``Function``, ``Table``,
        ``DeadLetterQueue`` ...) are stable: renaming one replaces a resource.
    schedule : aws_scheduler.ScheduleExpression
        When to run: ``ScheduleExpression.rate(...)``, ``.cron(...)`` (with a
        time zone) or ``.at(...)``. Required.
    schedule_enabled : bool, optional
        Whether the schedule is enabled. Default: True.
    schedule_description : str, optional
        Description of the schedule (at most 512 characters). Default: none.
    time_window : aws_scheduler.TimeWindow, optional
        Flexible time window. Default: off (runs at the exact time).
    start : datetime.datetime, optional
        The schedule's first possible run. Default: when it is deployed.
    end : datetime.datetime, optional
        The schedule's last possible run (after ``start``). Default: none.
    schedule_group : aws_scheduler.IScheduleGroup, optional
        The group the schedule belongs to. Default: the account's default group.
    retry_attempts : int, optional
        Scheduler retries of a delivery that failed (0-185). Default: 3.
    max_event_age : aws_cdk.Duration, optional
        How long the Scheduler keeps retrying (60 s - 24 h). Default: 1 hour.
    dead_letter_queue : aws_sqs.IQueue, optional
        Where undeliverable runs and failed invocations go; a standard queue
        (Lambda destinations and Scheduler dead-letter queues cannot be FIFO).
        Default: a created queue, SQS-managed encryption, HTTPS only, 14 days retention.
    code : aws_lambda.Code, optional
        Your function code (with ``handler``); the function gets
        ``runtime_layer``. Default: the bundled handler.
    handler : str, optional
        The handler in ``code``, e.g. ``"app.handler"``. Default: the bundled one.
    existing_function : aws_lambda.IFunction, optional
        A function to invoke instead of creating one. It is granted write
        access to the table (``grant_write_data``). When it is an ``aws_lambda.Function`` (or a
        ``SingletonFunction``) the construct sets ``TABLE_NAME`` to the
        table's name in its environment, and ``ITEM_TTL_SECONDS`` to
        ``item_ttl`` in seconds when given, replacing any value of those
        names. Any other function (an imported one, an alias, a version)
        cannot be changed: the construct warns at synth time
        (``scheduled-tasks-constructs:existingFunctionEnvironment``) and you
        set those variables yourself. It gets no layer: add
        ``runtime_layer`` to its layers if its code imports
        ``scheduled_tasks_constructs.runtime``. Default: none.
    memory_size : int, optional
        Memory of the created function in MB (128-10240). Default: 128.
    timeout : aws_cdk.Duration, optional
        Timeout of the created function (1 s - 15 min). Default: 30 seconds.
    environment : Mapping[str, str], optional
        Extra environment of the created function. Default: none.
    log_retention : aws_logs.RetentionDays, optional
        Retention of the created function's log group. Default: one month.
    tracing : bool, optional
        Turn on X-Ray active tracing of the created function; its role may
        then call ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords``,
        which X-Ray grants on Resource ``"*"`` only. Default: False.
    function_retry_attempts : int, optional
        Lambda's retries of a failed asynchronous run (0-2). Default: 2.
    function_max_event_age : aws_cdk.Duration, optional
        How long a run may wait for Lambda (60 s - 6 h). Default: 1 hour.
    existing_table : aws_dynamodb.ITable, optional
        A table to write to instead of creating one (its partition key must be
        the string ``run_id`` for the bundled handler). Default: none.
    table_props : aws_dynamodb.TableProps, optional
        Overrides for the created table (not its keys or TTL attribute).
        Default: on-demand billing, point-in-time recovery, AWS-managed KMS
        encryption, removal policy RETAIN.
    item_ttl : aws_cdk.Duration, optional
        Items expire this long after they are written (TTL attribute
        ``expires_at``; 1 minute - 100 years). Default: items never expire.
    alarms : bool, optional
        Create the alarms. Default: True.
    alarm_topic : aws_sns.ITopic, optional
        Where alarms notify. Default: a created topic (when ``alarms``).

    Examples
    --------
    >>> from aws_cdk import Duration, aws_scheduler as scheduler
    >>> ScheduledLambdaToTable(
    ...     stack, "EveryTwoMinutes",
    ...     schedule=scheduler.ScheduleExpression.rate(Duration.minutes(2)),
    ... )  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        schedule: scheduler.ScheduleExpression,
        schedule_enabled: Optional[bool] = None,
        schedule_description: Optional[str] = None,
        time_window: Optional[scheduler.TimeWindow] = None,
        start: Optional[_dt.datetime] = None,
        end: Optional[_dt.datetime] = None,
        schedule_group: Optional[scheduler.IScheduleGroup] = None,
        retry_attempts: Optional[int] = None,
        max_event_age: Optional[Duration] = None,
        dead_letter_queue: Optional[sqs.IQueue] = None,
        code: Optional[lambda_.Code] = None,
        handler: Optional[str] = None,
        existing_function: Optional[lambda_.IFunction] = None,
        memory_size: Optional[int] = None,
        timeout: Optional[Duration] = None,
        environment: Optional[Mapping[str, str]] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        tracing: Optional[bool] = None,
        function_retry_attempts: Optional[int] = None,
        function_max_event_age: Optional[Duration] = None,
        existing_table: Optional[dynamodb.ITable] = None,
        table_props: Optional[dynamodb.TableProps] = None,
        item_ttl: Optional[Duration] = None,
        alarms: Optional[bool] = None,
        alarm_topic: Optional[sns.ITopic] = None,
    ) -> None:
        super().__init__(scope, id)
        options = _schedule.ScheduleOptions(
            schedule=schedule,
            enabled=schedule_enabled,
            description=schedule_description,
            time_window=time_window,
            start=start,
            end=end,
            schedule_group=schedule_group,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )
        problems = Problems(f"ScheduledLambdaToTable '{id}'")
        _schedule.validate_schedule_props(problems, options)
        _schedule.validate_function_props(
            problems,
            code=code,
            handler=handler,
            existing_function=existing_function,
            memory_size=memory_size,
            timeout=timeout,
            environment=environment,
            reserved=(TABLE_NAME, ITEM_TTL_SECONDS),
        )
        for prop, value in (
            ("function_retry_attempts", function_retry_attempts),
            ("function_max_event_age", function_max_event_age),
            ("log_retention", log_retention),
            ("tracing", tracing),
        ):
            if value is not None and existing_function is not None:
                problems.add_message(
                    f"{prop}: only applies to a function the construct creates, got it "
                    "with existing_function"
                )
        problems.integer_range("function_retry_attempts", function_retry_attempts, 0, 2)
        problems.duration_range(
            "function_max_event_age", function_max_event_age, Duration.seconds(60), Duration.hours(6)
        )
        problems.exclusive(existing_table=existing_table, table_props=table_props)
        if problems.interface("existing_table", existing_table, "table_name", "an aws_dynamodb.ITable"):
            if code is None and existing_function is None:
                _validate_table_key(problems, existing_table)
        if table_props is not None and not isinstance(table_props, dynamodb.TableProps):
            problems.add("table_props", "an aws_dynamodb.TableProps", Described(type(table_props).__name__))
        elif table_props is not None:
            for key in ("partition_key", "sort_key", "time_to_live_attribute"):
                if table_props._values.get(key) is not None:
                    problems.add_message(
                        f"table_props.{key}: set by the construct, got {key} in table_props"
                    )
            problems.name(
                "table_props.table_name",
                table_props._values.get("table_name"),
                r"[a-zA-Z0-9_.-]{3,255}",
                "3 to 255 letters, digits, '_', '-' or '.'",
            )
            billing = table_props._values.get("billing_mode", _defaults.TABLE_BILLING_MODE)
            for key in ("read_capacity", "write_capacity"):
                if table_props._values.get(key) is not None and billing != dynamodb.BillingMode.PROVISIONED:
                    problems.add_message(
                        f"table_props.{key}: only applies with billing_mode PROVISIONED, got it "
                        "with on-demand billing"
                    )
        problems.duration_range("item_ttl", item_ttl, Duration.minutes(1), Duration.days(36500))
        if item_ttl is not None and existing_table is not None:
            problems.add_message(
                "item_ttl: only applies to a table the construct creates, got it with existing_table"
            )
        _schedule.validate_common_props(
            problems, log_retention=log_retention, tracing=tracing, alarms=alarms, alarm_topic=alarm_topic
        )
        if alarm_topic is not None and alarms is False:
            problems.add_message("alarm_topic: needs alarms, got alarms=False")
        _schedule.validate_dead_letter_queue(problems, "dead_letter_queue", dead_letter_queue)
        problems.raise_if_any()

        #: The table each run is recorded in.
        self.table: dynamodb.ITable
        if existing_table is not None:
            self.table = existing_table
        else:
            settings = {
                "billing_mode": _defaults.TABLE_BILLING_MODE,
                "encryption": _defaults.TABLE_ENCRYPTION,
                "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                "removal_policy": _defaults.TABLE_REMOVAL_POLICY,
            }
            user = table_props._values if table_props is not None else {}
            # A default yields to the user's prop that decides the same setting.
            if user.get("encryption_key") is not None:
                settings.pop("encryption")
            if user.get("point_in_time_recovery") is not None:
                settings.pop("point_in_time_recovery_specification")
            settings.update(user)
            settings.update(
                partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
                time_to_live_attribute=_defaults.TTL_ATTRIBUTE if item_ttl is not None else None,
            )
            self.table = dynamodb.Table(self, "Table", **settings)

        #: Where undeliverable runs and runs whose code failed are kept.
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue or _schedule.dead_letter_queue(
            self, "DeadLetterQueue", fed_by_services=True
        )

        #: The created function's role (None with ``existing_function``).
        self.function_role: Optional[iam.IRole] = None
        #: The created function's log group (None with ``existing_function``).
        self.log_group: Optional[logs.ILogGroup] = None
        #: The function the schedule invokes.
        self.function: lambda_.IFunction
        # What the construct sets in the function's environment: name -> (value, what it is).
        required_env = {TABLE_NAME: (self.table.table_name, "the table's name (table.table_name)")}
        if item_ttl is not None:
            required_env[ITEM_TTL_SECONDS] = (
                Token.as_string(item_ttl.to_seconds())
                if is_token(item_ttl)
                else str(int(item_ttl.to_seconds())),
                "item_ttl in seconds",
            )
        if existing_function is not None:
            self.function = existing_function
            _schedule.set_existing_environment(self, "existing_function", existing_function, required_env)
        else:
            env = dict(environment or {})
            env.update({name: value for name, (value, _) in required_env.items()})
            function, role, log_group = _schedule.create_function(
                self,
                "Function",
                code=code or _assets.runtime_code(),
                handler=handler or _assets.handler_path("record_run"),
                memory_size=memory_size,
                timeout=timeout,
                default_memory_size=_defaults.RECORD_FUNCTION_MEMORY_MB,
                default_timeout=_defaults.RECORD_FUNCTION_TIMEOUT,
                log_retention=log_retention,
                tracing=tracing,
                environment=env,
                description="Records each scheduled run in a DynamoDB table",
                # The bundled handler's own asset holds the runtime package.
                layers=[self.runtime_layer] if code is not None else None,
                **_schedule.async_invoke_options(
                    function_retry_attempts, function_max_event_age, self.dead_letter_queue
                ),
            )
            self.function, self.function_role, self.log_group = function, role, log_group
        if code is None and existing_function is None:
            _grants.grant_put_item(self.table, self.function)
        else:
            self.table.grant_write_data(self.function)

        #: The EventBridge Scheduler schedule.
        self.schedule: scheduler.Schedule
        #: The role the Scheduler assumes; it may invoke ``function`` only.
        self.schedule_role: iam.IRole
        self.schedule, self.schedule_role = _schedule.create_schedule(
            self, options, function=self.function, payload=_schedule.CONTEXT_INPUT, dead_letter_queue=self.dead_letter_queue
        )

        #: Where alarms notify (None when ``alarms`` is False).
        self.alarm_topic: Optional[sns.ITopic] = None
        #: Alarm on any message in ``dead_letter_queue`` (None when ``alarms`` is False).
        self.dead_letter_alarm: Optional[cloudwatch.Alarm] = None
        #: Alarm on function errors (None when ``alarms`` is False).
        self.errors_alarm: Optional[cloudwatch.Alarm] = None
        #: Alarm on missed runs (None when ``alarms`` is False, the schedule is
        #: disabled, runs once, or its longest gap is over about 7 days).
        self.missed_run_alarm: Optional[cloudwatch.Alarm] = None
        #: Every alarm created, in creation order.
        self.alarms: List[cloudwatch.Alarm] = []
        if alarms is not False:
            self.alarm_topic = alarm_topic or _topic.alarm_topic(self)
            watch = Alarms(self, self.alarm_topic)
            self.dead_letter_alarm = watch.dead_letters(
                "DeadLetterAlarm", self.dead_letter_queue, "Failed runs"
            )
            self.errors_alarm = watch.errors("ErrorsAlarm", self.function, "scheduled")
            self.missed_run_alarm = _schedule.missed_run_alarm(watch, self.function, options)
            self.alarms = watch.created

        _metadata.publish(
            self,
            "ScheduledLambdaToTable",
            {
                "schedule": self.schedule,
                "function": self.function,
                "table": self.table,
                "deadLetterQueue": self.dead_letter_queue,
            },
        )

    @property
    def runtime_layer(self) -> RuntimeLayer:
        """The stack's runtime helpers layer (:class:`RuntimeLayer`).

        A function built from your ``code`` has it. Add it to the layers of
        an ``existing_function`` whose code imports
        ``scheduled_tasks_constructs.runtime``. Reading it creates the layer
        when the stack has none yet (the bundled handler needs none, so a
        construct with it adds no layer unless you read this).
        """
        return RuntimeLayer.of(self)


def _validate_table_key(problems: Problems, table: Optional[dynamodb.ITable]) -> None:
    """Check the key of a table defined in this app fits the bundled handler.

    Only a table whose key schema the app holds (its ``CfnTable`` or
    ``CfnGlobalTable``) is checked; an imported table's key is unknown.
    """
    if table is None:
        return
    resource = getattr(getattr(table, "node", None), "default_child", None)
    schema = getattr(resource, "key_schema", None)
    if not isinstance(schema, (list, tuple)) or is_token(schema):
        return
    keys = {getattr(k, "key_type", None): getattr(k, "attribute_name", None) for k in schema}
    partition = keys.get("HASH")
    if not isinstance(partition, str) or is_token(partition):
        return
    definitions = getattr(resource, "attribute_definitions", None)
    if definitions is not None and not isinstance(definitions, (list, tuple)):
        # A TableV2 holds them lazily: as the template will.
        definitions = Stack.of(table).resolve(definitions)
    types = {}
    for item in definitions if isinstance(definitions, (list, tuple)) else []:
        if isinstance(item, Mapping):
            types[item.get("AttributeName", item.get("attributeName"))] = item.get(
                "AttributeType", item.get("attributeType")
            )
        else:
            types[getattr(item, "attribute_name", None)] = getattr(item, "attribute_type", None)
    kind = types.get(partition)
    if partition != PARTITION_KEY or kind not in (None, "S"):
        given = f"partition key {partition!r}" + (f" of type {kind}" if kind else "")
        problems.add(
            "existing_table",
            f"a table whose partition key is the string {PARTITION_KEY!r} (the bundled handler writes it)",
            Described(given),
        )
