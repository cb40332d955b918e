"""ScheduledLambdaToTable: a schedule invokes a function that records each run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Unpack

from aws_cdk import Duration, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _assets, _defaults, _grants, _schedule, _skeleton, _tables
from ._skeleton import CommonProps, ScheduledConstruct
from ._validation import Described, Problems, is_token
from .runtime import (
    ITEM_TTL_SECONDS,
    LEDGER_TABLE_NAME,
    LEDGER_TTL_SECONDS,
    LOCK_SECONDS,
    MAX_ATTEMPTS,
    OVERLAP,
    RUN_METRICS,
    TABLE_NAME,
)


class ScheduledLambdaToTable(ScheduledConstruct):
    """An EventBridge Scheduler schedule invokes a Lambda function that records each run in a DynamoDB table.

    The table is the run ledger (``runtime.ledger``): one item per scheduled
    slot, keyed ``run_id = "<schedule>#<slot>"``, with its status, execution
    ID, attempts and times. By default the function is the library's own
    handler: it writes each run's item, already ``succeeded``, with one
    conditional ``PutItem`` (so a duplicate delivery of the same slot does not
    create a second item), and may call ``dynamodb:PutItem`` on the table and
    nothing else there. Bring your own code (``code`` + ``handler``) or
    function (``existing_function``) instead; it is granted write access to the
    table (``grant_write_data``: your code may batch, update or delete items)
    and ``GetItem``, and gets its name in ``TABLE_NAME`` and the ledger's
    settings (``LEDGER_TABLE_NAME``, ``OVERLAP``, ``LOCK_SECONDS``,
    ``MAX_ATTEMPTS``): wrap your handler in ``runtime.ledger.track_run`` to
    record each run's outcome and honour ``overlap``.
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
        A function to invoke instead of creating one (see "Functions you
        bring" in :class:`ScheduledConstruct`). It may write to the table
        (``grant_write_data``) and gets ``TABLE_NAME`` (and
        ``ITEM_TTL_SECONDS`` with ``item_ttl``). Default: none.
    memory_size, timeout, environment : optional
        The created function's memory in MB, timeout and extra environment.
        Default: 128 MB, 30 seconds, none.
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
    common : CommonProps
        The props both constructs share, by name (:class:`CommonProps`): the
        ``schedule`` (required) and its settings, the created functions' logs
        and retries, the alarms.

    Attributes
    ----------
    table : aws_dynamodb.ITable
        The table each run is recorded in.
    ledger_table : aws_dynamodb.ITable
        The run ledger: the same table as ``table``.
    dead_letter_queue : aws_sqs.IQueue
        Where undeliverable runs and runs whose code failed are kept.
    function : aws_lambda.IFunction
        The function the schedule invokes.
    function_role : aws_iam.IRole or None
        The created function's role (None with ``existing_function``).
    log_group : aws_logs.ILogGroup or None
        The created function's log group (None with ``existing_function``).
    dead_letter_alarm : aws_cloudwatch.Alarm or None
        Alarm on any message in ``dead_letter_queue`` (None when ``alarms``
        is False).
    errors_alarm : aws_cloudwatch.Alarm or None
        Alarm on function errors (None when ``alarms`` is False).

    The schedule, its role and the alarm topic are the attributes of
    :class:`ScheduledConstruct`.

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
        dead_letter_queue: Optional[sqs.IQueue] = None,
        code: Optional[lambda_.Code] = None,
        handler: Optional[str] = None,
        existing_function: Optional[lambda_.IFunction] = None,
        memory_size: Optional[int] = None,
        timeout: Optional[Duration] = None,
        environment: Optional[Mapping[str, str]] = None,
        existing_table: Optional[dynamodb.ITable] = None,
        table_props: Optional[dynamodb.TableProps] = None,
        item_ttl: Optional[Duration] = None,
        **common: Unpack[CommonProps],
    ) -> None:
        props = _skeleton.given(type(self).__name__, locals())
        super().__init__(scope, id)
        settings = _resolve(id, props)

        # build
        self.table = settings.existing_table or dynamodb.Table(self, "Table", **settings.table)
        self.dead_letter_queue = settings.dead_letter_queue or _schedule.dead_letter_queue(
            self, "DeadLetterQueue", fed_by_services=True
        )
        self.ledger_table = self.table
        environment = {TABLE_NAME: (self.table.table_name, "the table's name (table.table_name)")}
        if settings.item_ttl_seconds is not None:
            environment[ITEM_TTL_SECONDS] = (settings.item_ttl_seconds, "item_ttl in seconds")
        if settings.function.bundled and settings.common.dashboard:
            environment[RUN_METRICS] = ("on", "dashboard=True")
        if not settings.function.bundled:
            # Code of the user's keeps the ledger with runtime.ledger.track_run.
            environment.update(_skeleton.ledger_environment(settings.common, self.table, scheduled=True))
            if settings.item_ttl_seconds is not None:
                environment[LEDGER_TTL_SECONDS] = (settings.item_ttl_seconds, "item_ttl in seconds")
        self.function, self.function_role, self.log_group = _skeleton.build_function(
            self,
            settings.function,
            settings.common,
            required_environment=environment,
            failures_to=self.dead_letter_queue,
        )
        # grant: the bundled handler puts items; code of the user's may do more.
        if settings.function.bundled:
            _grants.grant_put_item(self.table, self.function)
        else:
            self.table.grant_write_data(self.function)
            # runtime.ledger reads a run's item back (a duplicate delivery, the overlap lock).
            self.table.grant(self.function, "dynamodb:GetItem")

        # schedule, alarms, metadata
        alarms = self._schedule_and_alarms(
            settings.common,
            kind="ScheduledLambdaToTable",
            function=self.function,
            payload=_schedule.CONTEXT_INPUT,
            failures_to=self.dead_letter_queue,
            alarms=[
                _skeleton.AlarmRequest("DeadLetterAlarm", "dead_letters", self.dead_letter_queue, "Failed runs"),
                _skeleton.AlarmRequest("ErrorsAlarm", "errors", self.function, "scheduled"),
            ],
            resources={
                "function": self.function,
                "table": self.table,
                "ledger": self.table,
                "deadLetterQueue": self.dead_letter_queue,
            },
            ledger=self.table,
            dead_letter_queues=[("Failed runs", self.dead_letter_queue)],
        )
        self.dead_letter_alarm, self.errors_alarm = alarms["DeadLetterAlarm"], alarms["ErrorsAlarm"]


@dataclass(frozen=True)
class _Settings:
    """The props of a ``ScheduledLambdaToTable``, validated, with every default applied."""

    common: _skeleton.CommonSettings
    function: _skeleton.FunctionSettings
    dead_letter_queue: Optional[sqs.IQueue]
    existing_table: Optional[dynamodb.ITable]
    #: The props of the created table (None with ``existing_table``).
    table: Optional[Mapping[str, Any]]
    #: ``item_ttl`` in seconds as the function's environment holds it (None: items never expire).
    item_ttl_seconds: Optional[str]


def _resolve(id: str, props: Mapping[str, Any]) -> _Settings:
    """Validate the props of a ``ScheduledLambdaToTable`` (every problem at once) and resolve them."""
    problems = Problems(f"ScheduledLambdaToTable '{id}'")
    _skeleton.validate_schedule(problems, props)
    function = _skeleton.resolve_function(
        problems,
        props,
        id="Function",
        prefix="",
        reserved=(
            TABLE_NAME, ITEM_TTL_SECONDS, LEDGER_TABLE_NAME, OVERLAP, LOCK_SECONDS, MAX_ATTEMPTS, LEDGER_TTL_SECONDS,
            RUN_METRICS,
        ),
        bundled_handler=_assets.handler_path("record_run"),
        default_memory_size=_defaults.RECORD_FUNCTION_MEMORY_MB,
        default_timeout=_defaults.RECORD_FUNCTION_TIMEOUT,
        description="Records each scheduled run in a DynamoDB table",
    )
    common = _skeleton.resolve_common(problems, props, scheduled=function, functions=[function])
    existing_table, table_props = props.get("existing_table"), props.get("table_props")
    item_ttl = props.get("item_ttl")
    problems.exclusive(existing_table=existing_table, table_props=table_props)
    if problems.interface("existing_table", existing_table, "table_name", "an aws_dynamodb.ITable"):
        if function.bundled:
            _tables.validate_table_key(problems, existing_table, "existing_table", "the bundled handler")
    if table_props is not None and not isinstance(table_props, dynamodb.TableProps):
        problems.add("table_props", "an aws_dynamodb.TableProps", Described(type(table_props).__name__))
    elif table_props is not None:
        _tables.validate_table_props(problems, table_props._values)
    problems.duration_range("item_ttl", item_ttl, Duration.minutes(1), Duration.days(36500))
    if item_ttl is not None and existing_table is not None:
        problems.add_message(
            "item_ttl: only applies to a table the construct creates, got it with existing_table"
        )
    dead_letter_queue = props.get("dead_letter_queue")
    _schedule.validate_dead_letter_queue(problems, "dead_letter_queue", dead_letter_queue)
    problems.raise_if_any()
    return _Settings(
        common=common,
        function=function,
        dead_letter_queue=dead_letter_queue,
        existing_table=existing_table,
        table=None if existing_table is not None else _tables.table_settings(table_props, ttl=item_ttl is not None),
        item_ttl_seconds=(
            None
            if item_ttl is None
            else Token.as_string(item_ttl.to_seconds())
            if is_token(item_ttl)
            else str(int(item_ttl.to_seconds()))
        ),
    )
