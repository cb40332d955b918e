"""ScheduledTaskFanout: a schedule sends tasks to a queue; a worker runs them."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Unpack

from aws_cdk import Duration, Names
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _fanout_settings, _grants, _schedule, _skeleton
from ._skeleton import CommonProps, ScheduledConstruct
from .runtime import (
    LEDGER_TTL_SECONDS,
    MAX_RECEIVE_COUNT,
    QUEUE_URL,
    SHARD_SIZE,
    WEBHOOK_MESSAGES,
    WEBHOOK_SECRET_ARN,
)


class ScheduledTaskFanout(ScheduledConstruct):
    """A schedule invokes a "send tasks" function that puts tasks on an SQS queue; a "run task" function works them off.

    The cron-and-Airflow job, serverless: every run of ``schedule`` invokes
    the producer, which enqueues one message per task with
    ``SendMessageBatch`` (10 per call, failed entries retried, nothing dropped
    silently). The worker consumes the queue in batches and reports partial
    batch failures, so only failed tasks are retried; a task that keeps
    failing moves to ``dead_letter_queue`` after ``max_receive_count``
    receives. Results can be posted to Slack or Discord (``webhook_secret``).

    Static tasks travel in the schedule's input (``tasks``) and the bundled
    producer sends them. For tasks built at run time, give your own producer
    (``producer_code`` + ``producer_handler``) that calls
    :func:`scheduled_tasks_constructs.runtime.fanout.send_tasks`, or, for runs
    of many thousands of tasks, is built with
    :func:`scheduled_tasks_constructs.runtime.sharding.sharded_producer`, which
    sends a large run in shards of ``producer_shard_size``. The worker is
    always yours (``worker_code`` + ``worker_handler``, or
    ``existing_worker``); wrap your function with
    :func:`scheduled_tasks_constructs.runtime.worker.task_handler`. Functions
    built from your code get the runtime helpers as a layer
    (``runtime_layer``).

    Parameters
    ----------
    scope : Construct
        The parent construct.
    id : str
        The construct ID. Child IDs (``Schedule``, ``Producer``, ``Queue``,
        ``DeadLetterQueue``, ``Worker`` ...) are stable.
    run_dead_letter_queue : aws_sqs.IQueue, optional
        Where undeliverable runs and failed producer invocations go; a
        standard queue (Lambda destinations and Scheduler dead-letter queues
        cannot be FIFO). Default: a created queue (SQS-managed encryption, HTTPS only, 14 days).
    tasks : Sequence, optional
        Static tasks: JSON-serialisable payloads, one message each per run,
        delivered as given (``None`` included, as JSON ``null``)
        (1-1000 tasks; with their names unique when dicts carry ``"name"``;
        at most 8192 characters of schedule input, a character outside the
        Basic Multilingual Plane counting twice). Required unless you give
        your own producer. Default: none.
    producer_code : aws_lambda.Code, optional
        Your producer's code (with ``producer_handler``); the producer gets
        ``runtime_layer``. Default: the bundled producer, which sends
        ``tasks``.
    producer_handler : str, optional
        The handler in ``producer_code``. Default: the bundled one.
    existing_producer : aws_lambda.IFunction, optional
        A producer function instead of creating one (see "Functions you
        bring" in :class:`ScheduledConstruct`). It may send to the task queue
        and gets ``QUEUE_URL``. Default: none.
    producer_memory_size, producer_timeout, producer_environment : optional
        The created producer's memory in MB, timeout and extra environment.
        Default: 256 MB, 5 minutes, none.
    producer_shard_size : int, optional
        With ``producer_code``: most tasks one invocation of your producer
        sends when it is built with
        :func:`scheduled_tasks_constructs.runtime.sharding.sharded_producer`
        (100-1,000,000; the producer's ``SHARD_SIZE``). A larger run is split
        into shards, each sent by an asynchronous invocation of the producer
        (the construct grants the producer ``lambda:InvokeFunction`` on
        itself, ``producer_self_invoke_policy``). Not with the bundled
        producer (its tasks fit in the schedule's input) or
        ``existing_producer``. Default: 50,000 with ``producer_code``.
    worker_code : aws_lambda.Code, optional
        Your worker's code (with ``worker_handler``); the worker gets
        ``runtime_layer``. Required unless ``existing_worker``.
    worker_handler : str, optional
        The handler in ``worker_code``, e.g. ``"tasks.handler"``.
    existing_worker : aws_lambda.IFunction, optional
        A worker function instead of creating one (see "Functions you bring"
        in :class:`ScheduledConstruct`; ``task_handler`` needs the runtime
        layer). It consumes the task queue through an event source mapping
        and, with ``webhook_secret``, may read the secret and gets
        ``WEBHOOK_SECRET_ARN``. Default: none.
    worker_memory_size, worker_timeout, worker_environment : optional
        The created worker's memory in MB, timeout and extra environment.
        Default: 256 MB, 60 seconds, none.
    worker_layers : Sequence[aws_lambda.ILayerVersion], optional
        Extra layers of the created worker, e.g. a ``DependenciesLayer`` (at
        most 4: Lambda allows 5 and the runtime helpers layer is always
        added). Default: none.
    existing_queue : aws_sqs.IQueue, optional
        A standard queue instead of creating one (give it a redrive policy
        yourself). When it is a queue of this app, its visibility timeout
        (SQS's 30 seconds when not set) must follow the rule below and its
        maximum message size must hold the largest task's message.
        Default: none.
    queue_props : aws_sqs.QueueProps, optional
        Overrides for the created queue (not ``dead_letter_queue`` or the
        FIFO settings: the task queue is a standard queue).
        Default: standard queue, SQS-managed encryption, HTTPS only, 4 days
        retention, visibility timeout derived as below.
    max_receive_count : int, optional
        Receives of a task before it moves to the dead-letter queue (1-1000).
        Default: 3.
    batch_size : int, optional
        Tasks per worker invocation (1-10000; above 10 needs
        ``max_batching_window``). Default: 10.
    max_batching_window : aws_cdk.Duration, optional
        How long Lambda gathers a batch (0-300 s). Default: none.
    max_concurrency : int, optional
        Most concurrent worker invocations from the queue (2-1000). Default:
        no limit beyond the account's.
    webhook_secret : aws_secretsmanager.ISecret, optional
        A secret holding a Slack or Discord webhook URL; the worker (and,
        for summaries, the producer) may read it and gets its ARN (never the
        URL) in ``WEBHOOK_SECRET_ARN``. Default: none.
    webhook_messages : str, optional
        What goes to the webhook (needs ``webhook_secret``): ``"summary"``,
        one message per finished run (its slot, duration, counts and first
        failures), posted by whichever function finishes the run;
        ``"per_task"``, each result the worker's ``task_handler(post_results=True)``
        returns; or ``"both"``. Default: ``"summary"`` (a run of 1,000 tasks
        posting a message each floods a channel, and Slack accepts about one
        message a second).
    existing_ledger_table : aws_dynamodb.ITable, optional
        The run ledger to write to instead of creating one: its partition key
        must be the string ``run_id``; enable TTL on ``expires_at`` for
        ``ledger_retention`` to apply. Default: none.
    ledger_table_props : aws_dynamodb.TableProps, optional
        Overrides for the created run ledger (not its key or TTL attribute).
        Default: on-demand billing, point-in-time recovery, AWS-managed KMS
        encryption, removal policy RETAIN, TTL on ``expires_at``.
    ledger_retention : aws_cdk.Duration, optional
        How long run items are kept (1 day - 100 years). Default: 90 days.
    common : CommonProps
        The props both constructs share, by name (:class:`CommonProps`): the
        ``schedule`` (required) and its settings, the created functions' logs
        and retries, the alarms.

    Attributes
    ----------
    tasks : list or None
        Tasks sent by the bundled producer on every run (None with your own
        producer and no tasks).
    batch_size : int
        Tasks per worker invocation.
    max_receive_count : int or None
        Receives of a task before it moves to the dead-letter queue (None
        with ``existing_queue``).
    run_dead_letter_queue : aws_sqs.IQueue
        Where undeliverable runs and failed producer invocations are kept.
    dead_letter_queue : aws_sqs.IQueue or None
        Where tasks go after ``max_receive_count`` failed receives (None with
        ``existing_queue``).
    queue : aws_sqs.IQueue
        The task queue.
    producer : aws_lambda.IFunction
        The "send tasks" function the schedule invokes.
    producer_role : aws_iam.IRole or None
        The producer's role (None with ``existing_producer``).
    producer_log_group : aws_logs.ILogGroup or None
        The producer's log group (None with ``existing_producer``).
    producer_self_invoke_policy : aws_iam.Policy or None
        Lets a producer of your own (``producer_code``) invoke itself
        asynchronously, to send a large run in shards (None with the bundled
        producer or ``existing_producer``). A policy of its own, not the
        role's default policy: the function waits for that one, and a grant
        on its own ARN there would be a circular dependency.
    producer_shard_size : int or None
        ``SHARD_SIZE`` of a producer of your own (None otherwise).
    worker : aws_lambda.IFunction
        The "run task" function that consumes the queue.
    worker_role : aws_iam.IRole or None
        The worker's role (None with ``existing_worker``).
    worker_log_group : aws_logs.ILogGroup or None
        The worker's log group (None with ``existing_worker``).
    event_source : aws_lambda_event_sources.SqsEventSource
        The worker's SQS event source (partial batch responses on).
    webhook_secret : aws_secretsmanager.ISecret or None
        The webhook secret the worker may read (None when not given).
    ledger_table : aws_dynamodb.ITable
        The run ledger: one item per scheduled slot with its status and task
        counts (``runtime.ledger``), written by the producer and the worker.
    run_dead_letter_alarm : aws_cloudwatch.Alarm or None
        Alarm on runs in ``run_dead_letter_queue`` (None when ``alarms`` is
        False).
    dead_letter_alarm : aws_cloudwatch.Alarm or None
        Alarm on tasks in ``dead_letter_queue`` (None without alarms or with
        ``existing_queue``).
    producer_errors_alarm : aws_cloudwatch.Alarm or None
        Alarm on producer errors (None when ``alarms`` is False).
    worker_errors_alarm : aws_cloudwatch.Alarm or None
        Alarm on worker errors (None when ``alarms`` is False).

    The schedule, its role and the alarm topic are the attributes of
    :class:`ScheduledConstruct`.

    Notes
    -----
    The queue's visibility timeout is at least 6 x the worker's timeout plus
    the batching window (AWS guidance for SQS event sources); a smaller
    ``queue_props.visibility_timeout`` is an error.

    Examples
    --------
    >>> from aws_cdk import aws_lambda as lambda_, aws_scheduler as scheduler
    >>> ScheduledTaskFanout(
    ...     stack, "Reports",
    ...     schedule=scheduler.ScheduleExpression.cron(minute="0", hour="9"),
    ...     tasks=[{"name": "sales"}, {"name": "stock"}],
    ...     worker_code=lambda_.Code.from_asset("tasks"),
    ...     worker_handler="tasks.handler",
    ... )  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        run_dead_letter_queue: Optional[sqs.IQueue] = None,
        tasks: Optional[Sequence[Any]] = None,
        producer_code: Optional[lambda_.Code] = None,
        producer_handler: Optional[str] = None,
        existing_producer: Optional[lambda_.IFunction] = None,
        producer_memory_size: Optional[int] = None,
        producer_timeout: Optional[Duration] = None,
        producer_environment: Optional[Mapping[str, str]] = None,
        producer_shard_size: Optional[int] = None,
        worker_code: Optional[lambda_.Code] = None,
        worker_handler: Optional[str] = None,
        existing_worker: Optional[lambda_.IFunction] = None,
        worker_memory_size: Optional[int] = None,
        worker_timeout: Optional[Duration] = None,
        worker_environment: Optional[Mapping[str, str]] = None,
        worker_layers: Optional[Sequence[lambda_.ILayerVersion]] = None,
        existing_queue: Optional[sqs.IQueue] = None,
        queue_props: Optional[sqs.QueueProps] = None,
        max_receive_count: Optional[int] = None,
        batch_size: Optional[int] = None,
        max_batching_window: Optional[Duration] = None,
        max_concurrency: Optional[int] = None,
        webhook_secret: Optional[secretsmanager.ISecret] = None,
        webhook_messages: Optional[str] = None,
        existing_ledger_table: Optional[dynamodb.ITable] = None,
        ledger_table_props: Optional[dynamodb.TableProps] = None,
        ledger_retention: Optional[Duration] = None,
        **common: Unpack[CommonProps],
    ) -> None:
        props = _skeleton.given(type(self).__name__, locals())
        super().__init__(scope, id)
        settings = _fanout_settings.resolve(id, props)

        # build
        self.tasks, self.batch_size = settings.tasks, settings.batch_size
        self.max_receive_count, self.webhook_secret = settings.max_receive_count, settings.webhook_secret
        self.run_dead_letter_queue = settings.run_dead_letter_queue or _schedule.dead_letter_queue(
            self, "RunDeadLetterQueue", fed_by_services=True
        )
        self.dead_letter_queue = None
        if settings.existing_queue is not None:
            self.queue = settings.existing_queue
        else:
            self.dead_letter_queue = _schedule.dead_letter_queue(self, "DeadLetterQueue")
            redrive = sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=self.max_receive_count)
            self.queue = sqs.Queue(self, "Queue", **settings.queue, dead_letter_queue=redrive)
        self.ledger_table = settings.existing_ledger_table or dynamodb.Table(self, "Ledger", **settings.ledger_table)
        summaries = self.webhook_secret is not None and settings.webhook_messages != "per_task"
        webhook: dict = {}
        if self.webhook_secret is not None:
            webhook = {
                WEBHOOK_SECRET_ARN: (self.webhook_secret.secret_arn, "the webhook secret's ARN (webhook_secret.secret_arn)"),
                WEBHOOK_MESSAGES: (settings.webhook_messages, "webhook_messages"),
            }
        self.producer, self.producer_role, self.producer_log_group = _skeleton.build_function(
            self,
            settings.producer,
            settings.common,
            required_environment={
                QUEUE_URL: (self.queue.queue_url, "the task queue's URL (queue.queue_url)"),
                **_skeleton.ledger_environment(settings.common, self.ledger_table, scheduled=True),
                LEDGER_TTL_SECONDS: (settings.ledger_ttl_seconds, "ledger_retention in seconds"),
                **(webhook if summaries else {}),
                **(
                    {SHARD_SIZE: (str(settings.shard_size), "producer_shard_size")}
                    if settings.shard_size is not None
                    else {}
                ),
            },
            failures_to=self.run_dead_letter_queue,
        )
        self.producer_shard_size = settings.shard_size
        self.producer_self_invoke_policy = None
        if settings.shard_size is not None and self.producer_role is not None:
            self.producer_self_invoke_policy = _grants.grant_self_invoke(self, "ProducerSelfInvoke", self.producer, self.producer_role)
        worker_environment = {
            **webhook,
            **_skeleton.ledger_environment(settings.common, self.ledger_table, scheduled=False),
        }
        if settings.worker_max_receive_count is not None:
            worker_environment[MAX_RECEIVE_COUNT] = (str(settings.worker_max_receive_count), "max_receive_count")
        self.worker, self.worker_role, self.worker_log_group = _skeleton.build_function(
            self, settings.worker, settings.common, required_environment=worker_environment
        )

        # grant: the producer sends to the queue, the worker consumes it (and reads the secret);
        # both keep the run ledger, the producer also reads it (a duplicate delivery, the lock).
        _grants.grant_send(self.queue, self.producer)
        _grants.grant_ledger(self.ledger_table, self.producer, reads=True)
        _grants.grant_ledger(self.ledger_table, self.worker, reads=False)
        if self.webhook_secret is not None:
            _grants.grant_secret_value(self.webhook_secret, self.worker)
            if summaries:
                _grants.grant_secret_value(self.webhook_secret, self.producer)
        self.event_source = _grants.ConsumeOnlySqsEventSource(
            self.queue,
            batch_size=self.batch_size,
            max_batching_window=settings.max_batching_window,
            max_concurrency=settings.max_concurrency,
            report_batch_item_failures=True,
        )
        self.worker.add_event_source(self.event_source)

        # schedule, alarms, metadata
        requests = [
            _skeleton.AlarmRequest("RunDeadLetterAlarm", "dead_letters", self.run_dead_letter_queue, "Failed runs")
        ]
        if self.dead_letter_queue is not None:
            requests.append(
                _skeleton.AlarmRequest("DeadLetterAlarm", "dead_letters", self.dead_letter_queue, "Failed tasks")
            )
        requests += [
            _skeleton.AlarmRequest("ProducerErrorsAlarm", "errors", self.producer, "producer"),
            _skeleton.AlarmRequest("WorkerErrorsAlarm", "errors", self.worker, "worker"),
        ]
        # SqsEventSource.bind adds the mapping to the worker under this ID.
        mapping = self.worker.node.try_find_child(f"SqsEventSource:{Names.node_unique_id(self.queue.node)}")
        alarms = self._schedule_and_alarms(
            settings.common,
            kind="ScheduledTaskFanout",
            function=self.producer,
            payload=settings.payload,
            failures_to=self.run_dead_letter_queue,
            alarms=requests,
            resources={
                "producer": self.producer,
                "worker": self.worker,
                "queue": self.queue,
                "deadLetterQueue": self.dead_letter_queue,
                "runDeadLetterQueue": self.run_dead_letter_queue,
                "eventSourceMapping": mapping,
                "webhookSecret": self.webhook_secret,
                "ledger": self.ledger_table,
            },
            ledger=self.ledger_table,
            webhook_secret=self.webhook_secret,
            dead_letter_queues=[
                (label, queue)
                for label, queue in (("Failed tasks", self.dead_letter_queue), ("Failed runs", self.run_dead_letter_queue))
                if queue is not None
            ],
        )
        self.run_dead_letter_alarm = alarms["RunDeadLetterAlarm"]
        self.dead_letter_alarm = alarms.get("DeadLetterAlarm")
        self.producer_errors_alarm = alarms["ProducerErrorsAlarm"]
        self.worker_errors_alarm = alarms["WorkerErrorsAlarm"]
