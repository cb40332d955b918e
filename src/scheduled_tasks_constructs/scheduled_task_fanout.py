"""ScheduledTaskFanout: a schedule sends tasks to a queue; a worker runs them."""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from typing import Any, List, Mapping, Optional, Sequence

from aws_cdk import Duration, Names
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _assets, _defaults, _grants, _metadata, _schedule, _topic
from ._alarms import Alarms
from ._validation import Described, Problems, is_token
from .runtime import QUEUE_URL, WEBHOOK_SECRET_ARN, messages
from .runtime_layer import RuntimeLayer


class ScheduledTaskFanout(Construct):
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
    :func:`scheduled_tasks_constructs.runtime.fanout.send_tasks`. The worker is
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
    schedule : aws_scheduler.ScheduleExpression
        When to run. Required.
    schedule_enabled : bool, optional
        Whether the schedule is enabled. Default: True.
    schedule_description : str, optional
        Description of the schedule (at most 512 characters). Default: none.
    time_window : aws_scheduler.TimeWindow, optional
        Flexible time window. Default: off.
    start : datetime.datetime, optional
        The schedule's first possible run. Default: when it is deployed.
    end : datetime.datetime, optional
        The schedule's last possible run. Default: none.
    schedule_group : aws_scheduler.IScheduleGroup, optional
        The schedule's group. Default: the account's default group.
    retry_attempts : int, optional
        Scheduler retries of a failed delivery (0-185). Default: 3.
    max_event_age : aws_cdk.Duration, optional
        How long the Scheduler keeps retrying (60 s - 24 h). Default: 1 hour.
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
        A producer function instead of creating one. It may send to the task
        queue. When it is an ``aws_lambda.Function`` (or a
        ``SingletonFunction``) the construct sets ``QUEUE_URL`` to the task
        queue's URL in its environment, replacing any value of that name.
        Any other function (an imported one, an alias, a version) cannot be
        changed: the construct warns at synth time
        (``scheduled-tasks-constructs:existingFunctionEnvironment``) and you
        set ``QUEUE_URL`` yourself. It gets no layer: add
        ``runtime_layer`` to its layers if its code imports
        ``scheduled_tasks_constructs.runtime``. Default: none.
    producer_memory_size : int, optional
        Memory of the created producer in MB (128-10240). Default: 256.
    producer_timeout : aws_cdk.Duration, optional
        Timeout of the created producer (1 s - 15 min). Default: 5 minutes.
    producer_environment : Mapping[str, str], optional
        Extra environment of the created producer. Default: none.
    worker_code : aws_lambda.Code, optional
        Your worker's code (with ``worker_handler``); the worker gets
        ``runtime_layer``. Required unless ``existing_worker``.
    worker_handler : str, optional
        The handler in ``worker_code``, e.g. ``"tasks.handler"``.
    existing_worker : aws_lambda.IFunction, optional
        A worker function instead of creating one. It consumes the task queue
        through an event source mapping and, with ``webhook_secret``, may read
        the secret. With ``webhook_secret``, when it is an
        ``aws_lambda.Function`` (or a ``SingletonFunction``) the construct
        sets ``WEBHOOK_SECRET_ARN`` to the secret's ARN in its environment,
        replacing any value of that name. Any other function (an imported
        one, an alias, a version) cannot be changed: the construct warns at
        synth time (``scheduled-tasks-constructs:existingFunctionEnvironment``)
        and you set ``WEBHOOK_SECRET_ARN`` yourself. It gets no layer: add
        ``runtime_layer`` to its layers if its code imports
        ``scheduled_tasks_constructs.runtime`` (``task_handler`` does).
        Default: none.
    worker_memory_size : int, optional
        Memory of the created worker in MB (128-10240). Default: 256.
    worker_timeout : aws_cdk.Duration, optional
        Timeout of the created worker (1 s - 15 min). Default: 60 seconds.
    worker_environment : Mapping[str, str], optional
        Extra environment of the created worker. Default: none.
    worker_layers : Sequence[aws_lambda.ILayerVersion], optional
        Extra layers of the created worker, e.g. a ``DependenciesLayer`` (at
        most 4: Lambda allows 5 and the runtime helpers layer is always
        added). Default: none.
    log_retention : aws_logs.RetentionDays, optional
        Retention of the created functions' log groups. Default: one month.
    tracing : bool, optional
        X-Ray active tracing of the created functions; their roles may then
        call ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords``, which
        X-Ray grants on Resource ``"*"`` only. Default: False.
    function_retry_attempts : int, optional
        Lambda's retries of a failed asynchronous producer run (0-2). Default: 2.
    function_max_event_age : aws_cdk.Duration, optional
        How long a producer run may wait for Lambda (60 s - 6 h). Default: 1 hour.
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
        A secret holding a Slack or Discord webhook URL; the worker may read
        it and gets its ARN (never the URL) in ``WEBHOOK_SECRET_ARN``.
        Default: none.
    alarms : bool, optional
        Create the alarms. Default: True.
    alarm_topic : aws_sns.ITopic, optional
        Where alarms notify. Default: a created topic (when ``alarms``).

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
        schedule: scheduler.ScheduleExpression,
        schedule_enabled: Optional[bool] = None,
        schedule_description: Optional[str] = None,
        time_window: Optional[scheduler.TimeWindow] = None,
        start: Optional[_dt.datetime] = None,
        end: Optional[_dt.datetime] = None,
        schedule_group: Optional[scheduler.IScheduleGroup] = None,
        retry_attempts: Optional[int] = None,
        max_event_age: Optional[Duration] = None,
        run_dead_letter_queue: Optional[sqs.IQueue] = None,
        tasks: Optional[Sequence[Any]] = None,
        producer_code: Optional[lambda_.Code] = None,
        producer_handler: Optional[str] = None,
        existing_producer: Optional[lambda_.IFunction] = None,
        producer_memory_size: Optional[int] = None,
        producer_timeout: Optional[Duration] = None,
        producer_environment: Optional[Mapping[str, str]] = None,
        worker_code: Optional[lambda_.Code] = None,
        worker_handler: Optional[str] = None,
        existing_worker: Optional[lambda_.IFunction] = None,
        worker_memory_size: Optional[int] = None,
        worker_timeout: Optional[Duration] = None,
        worker_environment: Optional[Mapping[str, str]] = None,
        worker_layers: Optional[Sequence[lambda_.ILayerVersion]] = None,
        log_retention: Optional[logs.RetentionDays] = None,
        tracing: Optional[bool] = None,
        function_retry_attempts: Optional[int] = None,
        function_max_event_age: Optional[Duration] = None,
        existing_queue: Optional[sqs.IQueue] = None,
        queue_props: Optional[sqs.QueueProps] = None,
        max_receive_count: Optional[int] = None,
        batch_size: Optional[int] = None,
        max_batching_window: Optional[Duration] = None,
        max_concurrency: Optional[int] = None,
        webhook_secret: Optional[secretsmanager.ISecret] = None,
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
        problems = Problems(f"ScheduledTaskFanout '{id}'")
        _schedule.validate_schedule_props(problems, options)
        _schedule.validate_function_props(
            problems,
            code=producer_code,
            handler=producer_handler,
            existing_function=existing_producer,
            memory_size=producer_memory_size,
            timeout=producer_timeout,
            environment=producer_environment,
            reserved=(QUEUE_URL,),
            prefix="producer_",
        )
        _schedule.validate_function_props(
            problems,
            code=worker_code,
            handler=worker_handler,
            existing_function=existing_worker,
            memory_size=worker_memory_size,
            timeout=worker_timeout,
            environment=worker_environment,
            reserved=(WEBHOOK_SECRET_ARN,),
            prefix="worker_",
        )
        if worker_code is None and worker_handler is None and existing_worker is None:
            problems.add_message(
                "worker_code/worker_handler or existing_worker: the worker is required, got neither"
            )
        if worker_layers is not None and existing_worker is not None:
            problems.add_message(
                "worker_layers: only applies to a worker the construct creates, got it with "
                "existing_worker"
            )
        elif worker_layers is not None and (
            isinstance(worker_layers, (str, bytes)) or not isinstance(worker_layers, Sequence)
        ):
            problems.add(
                "worker_layers", "a list of aws_lambda.ILayerVersion", Described(type(worker_layers).__name__)
            )
        elif worker_layers is not None and len(worker_layers) > _MAX_WORKER_LAYERS:
            problems.add(
                "worker_layers",
                f"at most {_MAX_WORKER_LAYERS} layers (Lambda allows 5; the runtime helpers "
                "layer is one)",
                Described(f"{len(worker_layers)} layers"),
            )
        if isinstance(worker_layers, Sequence) and not isinstance(worker_layers, (str, bytes)):
            for index, layer in enumerate(worker_layers):
                problems.interface(
                    f"worker_layers[{index}]", layer, "layer_version_arn", "an aws_lambda.ILayerVersion"
                )
        if existing_producer is not None and existing_worker is not None:
            for prop, value in (("log_retention", log_retention), ("tracing", tracing)):
                if value is not None:
                    problems.add_message(
                        f"{prop}: only applies to functions the construct creates, got it with "
                        "existing_producer and existing_worker"
                    )
        if existing_producer is not None:
            for prop, value in (
                ("function_retry_attempts", function_retry_attempts),
                ("function_max_event_age", function_max_event_age),
            ):
                if value is not None:
                    problems.add_message(
                        f"{prop}: only applies to a producer the construct creates, got it with "
                        "existing_producer"
                    )
        custom_producer = (
            producer_code is not None or producer_handler is not None or existing_producer is not None
        )
        payload = dict(_schedule.CONTEXT_INPUT)
        if tasks is not None:
            _validate_tasks(problems, tasks)
            payload["tasks"] = list(tasks) if isinstance(tasks, (list, tuple)) else tasks
        elif not custom_producer:
            problems.add_message(
                "tasks: required with the bundled producer (or give producer_code/producer_handler "
                "or existing_producer that builds tasks at run time), got none"
            )
        if tasks is not None and not problems.items:
            if _schedule.has_token(payload) and _schedule.has_null(payload):
                problems.add(
                    "tasks",
                    "free of null (None) values when it holds values known only at deploy time "
                    "(CDK drops them while resolving those values)",
                    Described("both"),
                )
            else:
                _schedule.validate_input_size(problems, "tasks", payload)
        problems.integer_range("function_retry_attempts", function_retry_attempts, 0, 2)
        problems.duration_range(
            "function_max_event_age", function_max_event_age, Duration.seconds(60), Duration.hours(6)
        )
        problems.exclusive(existing_queue=existing_queue, queue_props=queue_props)
        if existing_queue is not None and max_receive_count is not None:
            problems.add_message(
                "max_receive_count: only applies to a queue the construct creates, got it with "
                "existing_queue"
            )
        problems.integer_range("max_receive_count", max_receive_count, 1, 1000)
        problems.integer_range("batch_size", batch_size, 1, 10000)
        problems.duration_range(
            "max_batching_window", max_batching_window, Duration.seconds(0), Duration.seconds(300)
        )
        if (
            isinstance(batch_size, (int, float))
            and not is_token(batch_size)
            and batch_size > 10
            and (
                max_batching_window is None
                or (
                    isinstance(max_batching_window, Duration)
                    and not is_token(max_batching_window)
                    and max_batching_window.to_milliseconds() < 1000
                )
            )
        ):
            problems.add(
                "max_batching_window",
                f"at least 1 second when batch_size is over 10 (batch_size is {batch_size})",
                max_batching_window if max_batching_window is not None else Described("none"),
            )
        problems.integer_range("max_concurrency", max_concurrency, 2, 1000)
        _schedule.validate_common_props(
            problems, log_retention=log_retention, tracing=tracing, alarms=alarms, alarm_topic=alarm_topic
        )
        if alarm_topic is not None and alarms is False:
            problems.add_message("alarm_topic: needs alarms, got alarms=False")
        problems.interface("webhook_secret", webhook_secret, "secret_arn", "an aws_secretsmanager.ISecret")

        effective_worker_timeout = _worker_timeout(worker_timeout, existing_worker)
        window_s = (
            max_batching_window.to_milliseconds() / 1000
            if isinstance(max_batching_window, Duration) and not is_token(max_batching_window)
            else 0
        )
        required_visibility = (
            None
            if effective_worker_timeout is None
            else int(_defaults.VISIBILITY_TIMEOUT_FACTOR * effective_worker_timeout + window_s)
        )
        if queue_props is not None and not isinstance(queue_props, sqs.QueueProps):
            problems.add("queue_props", "an aws_sqs.QueueProps", Described(type(queue_props).__name__))
        elif queue_props is not None:
            for key in (
                "fifo",
                "dead_letter_queue",
                "content_based_deduplication",
                "deduplication_scope",
                "fifo_throughput_limit",
            ):
                if queue_props._values.get(key) is not None:
                    problems.add_message(
                        f"queue_props.{key}: set by the construct (a standard queue with the "
                        f"construct's dead-letter queue), got {key} in queue_props"
                    )
            given = queue_props._values.get("visibility_timeout")
            if isinstance(given, Duration) and required_visibility is not None and not is_token(given):
                if given.to_milliseconds() < required_visibility * 1000:
                    problems.add(
                        "queue_props.visibility_timeout",
                        f"at least {required_visibility} seconds (6 x worker timeout "
                        f"{int(effective_worker_timeout)} s + batching window {int(window_s)} s)",
                        given,
                    )
            problems.name(
                "queue_props.queue_name",
                queue_props._values.get("queue_name"),
                r"[a-zA-Z0-9_-]{1,80}",
                "1 to 80 letters, digits, '-' or '_' (a standard queue: no '.fifo')",
            )
            for key, low, high in (
                ("visibility_timeout", Duration.seconds(0), Duration.hours(12)),
                ("retention_period", Duration.seconds(60), Duration.days(14)),
                ("delivery_delay", Duration.seconds(0), Duration.minutes(15)),
                ("receive_message_wait_time", Duration.seconds(0), Duration.seconds(20)),
            ):
                problems.duration_range(f"queue_props.{key}", queue_props._values.get(key), low, high)
            size_limit = queue_props._values.get("max_message_size_bytes")
            problems.integer_range("queue_props.max_message_size_bytes", size_limit, 1024, 1_048_576)
            _validate_message_size(
                problems, "queue_props.max_message_size_bytes", size_limit, tasks if not problems.items else None
            )
        for prop, queue in (("existing_queue", existing_queue), ("run_dead_letter_queue", run_dead_letter_queue)):
            _schedule.validate_dead_letter_queue(problems, prop, queue)
        if isinstance(existing_queue, sqs.Queue):
            # An existing worker's timeout may be unknown: the rule then assumes 15 minutes,
            # which is only a guess, not a reason to reject the queue.
            timeout_known = worker_timeout is not None or existing_worker is None or isinstance(
                getattr(existing_worker, "timeout", None), Duration
            )
            _validate_existing_queue(
                problems,
                existing_queue,
                required_visibility=required_visibility if timeout_known else None,
                visibility_rule=(
                    None
                    if effective_worker_timeout is None
                    else f"6 x worker timeout {int(effective_worker_timeout)} s + batching window "
                    f"{int(window_s)} s"
                ),
                tasks=tasks if not problems.items else None,
            )
        problems.raise_if_any()

        #: Tasks sent by the bundled producer on every run (None with your own producer and no tasks).
        self.tasks: Optional[List[Any]] = list(tasks) if tasks is not None else None
        #: Tasks per worker invocation.
        self.batch_size: int = int(batch_size or _defaults.BATCH_SIZE)
        #: Receives of a task before it moves to the dead-letter queue (None with ``existing_queue``).
        self.max_receive_count: Optional[int] = (
            None if existing_queue is not None else int(max_receive_count or _defaults.MAX_RECEIVE_COUNT)
        )

        #: Where undeliverable runs and failed producer invocations are kept.
        self.run_dead_letter_queue: sqs.IQueue = run_dead_letter_queue or _schedule.dead_letter_queue(
            self, "RunDeadLetterQueue", fed_by_services=True
        )
        #: Where tasks go after ``max_receive_count`` failed receives (None with ``existing_queue``).
        self.dead_letter_queue: Optional[sqs.IQueue] = None
        #: The task queue.
        self.queue: sqs.IQueue
        if existing_queue is not None:
            self.queue = existing_queue
        else:
            self.dead_letter_queue = _schedule.dead_letter_queue(self, "DeadLetterQueue")
            settings: dict = {
                "encryption": _defaults.QUEUE_ENCRYPTION,
                "enforce_ssl": True,
                "visibility_timeout": Duration.seconds(required_visibility or 900 * 6),
            }
            user = queue_props._values if queue_props is not None else {}
            if user.get("encryption_master_key") is not None:
                settings.pop("encryption")  # the key implies KMS encryption
            settings.update(user)
            settings["dead_letter_queue"] = sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=self.max_receive_count
            )
            self.queue = sqs.Queue(self, "Queue", **settings)

        #: The producer's role (None with ``existing_producer``).
        self.producer_role: Optional[iam.IRole] = None
        #: The producer's log group (None with ``existing_producer``).
        self.producer_log_group: Optional[logs.ILogGroup] = None
        #: The "send tasks" function the schedule invokes.
        self.producer: lambda_.IFunction
        producer_required_env = {QUEUE_URL: (self.queue.queue_url, "the task queue's URL (queue.queue_url)")}
        if existing_producer is not None:
            self.producer = existing_producer
            _schedule.set_existing_environment(
                self, "existing_producer", existing_producer, producer_required_env
            )
        else:
            producer_env = dict(producer_environment or {})
            producer_env.update({name: value for name, (value, _) in producer_required_env.items()})
            self.producer, self.producer_role, self.producer_log_group = _schedule.create_function(
                self,
                "Producer",
                code=producer_code or _assets.runtime_code(),
                handler=producer_handler or _assets.handler_path("producer"),
                memory_size=producer_memory_size,
                timeout=producer_timeout,
                default_memory_size=_defaults.PRODUCER_MEMORY_MB,
                default_timeout=_defaults.PRODUCER_TIMEOUT,
                log_retention=log_retention,
                tracing=tracing,
                environment=producer_env,
                description="Sends the tasks of each scheduled run to the task queue",
                # The bundled producer's own asset holds the runtime package.
                layers=[self.runtime_layer] if producer_code is not None else None,
                **_schedule.async_invoke_options(
                    function_retry_attempts, function_max_event_age, self.run_dead_letter_queue
                ),
            )
        _grants.grant_send(self.queue, self.producer)

        #: The worker's role (None with ``existing_worker``).
        self.worker_role: Optional[iam.IRole] = None
        #: The worker's log group (None with ``existing_worker``).
        self.worker_log_group: Optional[logs.ILogGroup] = None
        #: The "run task" function that consumes the queue.
        self.worker: lambda_.IFunction
        worker_required_env = {}
        if webhook_secret is not None:
            worker_required_env[WEBHOOK_SECRET_ARN] = (
                webhook_secret.secret_arn,
                "the webhook secret's ARN (webhook_secret.secret_arn)",
            )
        if existing_worker is not None:
            self.worker = existing_worker
            _schedule.set_existing_environment(self, "existing_worker", existing_worker, worker_required_env)
        else:
            env = dict(worker_environment or {})
            env.update({name: value for name, (value, _) in worker_required_env.items()})
            layers = [self.runtime_layer, *(worker_layers or [])]
            self.worker, self.worker_role, self.worker_log_group = _schedule.create_function(
                self,
                "Worker",
                code=worker_code,
                handler=worker_handler,
                memory_size=worker_memory_size,
                timeout=worker_timeout,
                default_memory_size=_defaults.WORKER_MEMORY_MB,
                default_timeout=_defaults.WORKER_TIMEOUT,
                log_retention=log_retention,
                tracing=tracing,
                environment=env,
                description="Runs the tasks of the task queue",
                layers=layers,
            )
        if webhook_secret is not None:
            _grants.grant_secret_value(webhook_secret, self.worker)
        #: The worker's SQS event source (partial batch responses on).
        self.event_source: event_sources.SqsEventSource = _grants.ConsumeOnlySqsEventSource(
            self.queue,
            batch_size=self.batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            report_batch_item_failures=True,
        )
        self.worker.add_event_source(self.event_source)
        #: The webhook secret the worker may read (None when not given).
        self.webhook_secret: Optional[secretsmanager.ISecret] = webhook_secret

        #: The EventBridge Scheduler schedule.
        self.schedule: scheduler.Schedule
        #: The role the Scheduler assumes; it may invoke ``producer`` only.
        self.schedule_role: iam.IRole
        self.schedule, self.schedule_role = _schedule.create_schedule(
            self, options, function=self.producer, payload=payload, dead_letter_queue=self.run_dead_letter_queue
        )

        #: Where alarms notify (None when ``alarms`` is False).
        self.alarm_topic: Optional[sns.ITopic] = None
        #: Alarm on runs in ``run_dead_letter_queue`` (None when ``alarms`` is False).
        self.run_dead_letter_alarm: Optional[cloudwatch.Alarm] = None
        #: Alarm on tasks in ``dead_letter_queue`` (None without alarms or with ``existing_queue``).
        self.dead_letter_alarm: Optional[cloudwatch.Alarm] = None
        #: Alarm on producer errors (None when ``alarms`` is False).
        self.producer_errors_alarm: Optional[cloudwatch.Alarm] = None
        #: Alarm on worker errors (None when ``alarms`` is False).
        self.worker_errors_alarm: Optional[cloudwatch.Alarm] = None
        #: Alarm on missed runs of the producer (None without alarms, for a
        #: disabled or one-time schedule, or gaps over about 7 days).
        self.missed_run_alarm: Optional[cloudwatch.Alarm] = None
        #: Every alarm created, in creation order.
        self.alarms: List[cloudwatch.Alarm] = []
        if alarms is not False:
            self.alarm_topic = alarm_topic or _topic.alarm_topic(self)
            watch = Alarms(self, self.alarm_topic)
            self.run_dead_letter_alarm = watch.dead_letters(
                "RunDeadLetterAlarm", self.run_dead_letter_queue, "Failed runs"
            )
            if self.dead_letter_queue is not None:
                self.dead_letter_alarm = watch.dead_letters(
                    "DeadLetterAlarm", self.dead_letter_queue, "Failed tasks"
                )
            self.producer_errors_alarm = watch.errors("ProducerErrorsAlarm", self.producer, "producer")
            self.worker_errors_alarm = watch.errors("WorkerErrorsAlarm", self.worker, "worker")
            self.missed_run_alarm = _schedule.missed_run_alarm(watch, self.producer, options)
            self.alarms = watch.created

        # SqsEventSource.bind adds the mapping to the worker under this ID.
        mapping = self.worker.node.try_find_child(f"SqsEventSource:{Names.node_unique_id(self.queue.node)}")
        _metadata.publish(
            self,
            "ScheduledTaskFanout",
            {
                "schedule": self.schedule,
                "producer": self.producer,
                "worker": self.worker,
                "queue": self.queue,
                "deadLetterQueue": self.dead_letter_queue,
                "runDeadLetterQueue": self.run_dead_letter_queue,
                "eventSourceMapping": mapping,
                "webhookSecret": self.webhook_secret,
            },
        )

    @property
    def runtime_layer(self) -> RuntimeLayer:
        """The stack's runtime helpers layer (:class:`RuntimeLayer`).

        The worker built from ``worker_code`` and a producer built from
        ``producer_code`` have it (the bundled producer needs none). Add it
        to the layers of an ``existing_producer`` or ``existing_worker``
        whose code imports ``scheduled_tasks_constructs.runtime``. Reading it
        creates the layer when the stack has none yet.
        """
        return RuntimeLayer.of(self)


#: Lambda allows 5 layers per function; the worker always has the runtime helpers layer.
_MAX_WORKER_LAYERS = 4

#: Characters SQS rejects in message attributes: control characters other than
#: tab, line feed and carriage return; surrogates; U+FFFE and U+FFFF.
_INVALID_SQS_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: The longest execution ID and scheduled time of a run (a UUID, an ISO 8601 time in UTC).
_SAMPLE_EXECUTION_ID = "x" * 36
_SAMPLE_SCHEDULED_TIME = "2026-01-01T00:00:00Z"


def _largest_message(tasks: Sequence[Any]) -> int:
    """The size in bytes of the largest message the bundled producer sends for ``tasks``."""
    largest = 0
    for index, task in enumerate(tasks):
        name = task.get("name") if isinstance(task, dict) else None
        task_id = f"{_SAMPLE_EXECUTION_ID}/{name if isinstance(name, str) else index}"
        body = messages.encode_task(
            task_id, task, execution_id=_SAMPLE_EXECUTION_ID, scheduled_time=_SAMPLE_SCHEDULED_TIME
        )
        # SQS counts the body and the task_id attribute's name, type and value.
        largest = max(largest, messages.message_size(task_id, body))
    return largest


#: The visibility timeout SQS gives a queue created without one.
_SQS_DEFAULT_VISIBILITY_SECONDS = 30


def _validate_existing_queue(
    problems: Problems,
    queue: sqs.Queue,
    *,
    required_visibility: Optional[int],
    visibility_rule: Optional[str],
    tasks: Optional[Sequence[Any]],
) -> None:
    """Check the settings of a queue defined in this app that the worker and producer rely on.

    A ``CfnQueue`` without a visibility timeout gets SQS's default of
    30 seconds when it is deployed, so that is the value checked.
    """
    resource = queue.node.default_child
    visibility = getattr(resource, "visibility_timeout", None)
    if visibility is None and isinstance(resource, sqs.CfnQueue):
        visibility = _SQS_DEFAULT_VISIBILITY_SECONDS
    if (
        isinstance(visibility, (int, float))
        and not is_token(visibility)
        and required_visibility is not None
        and visibility < required_visibility
    ):
        problems.add(
            "existing_queue visibility timeout",
            f"at least {required_visibility} seconds ({visibility_rule})",
            Described(f"{int(visibility)} seconds"),
        )
    _validate_message_size(
        problems, "existing_queue maximum message size", getattr(resource, "maximum_message_size", None), tasks
    )


def _validate_message_size(problems: Problems, prop: str, limit: Any, tasks: Optional[Sequence[Any]]) -> None:
    """Check a queue's message size limit holds the largest message of the static ``tasks``."""
    if (
        isinstance(limit, bool)
        or not isinstance(limit, (int, float))
        or is_token(limit)
        or not isinstance(tasks, (list, tuple))
        or _schedule.has_token(tasks)
    ):
        return
    largest = _largest_message(tasks)
    if largest > limit:
        problems.add(prop, f"at least {largest} bytes (the largest task's message)", Described(f"{int(limit)} bytes"))


def _worker_timeout(
    worker_timeout: Optional[Duration], existing_worker: Optional[lambda_.IFunction]
) -> Optional[float]:
    if worker_timeout is not None:
        if not isinstance(worker_timeout, Duration) or is_token(worker_timeout):
            return None
        return worker_timeout.to_milliseconds() / 1000
    if existing_worker is not None:
        timeout = getattr(existing_worker, "timeout", None)
        if isinstance(timeout, Duration) and not is_token(timeout):
            return timeout.to_milliseconds() / 1000
        return 900.0  # unknown: assume Lambda's longest timeout
    return _defaults.WORKER_TIMEOUT.to_seconds()


def _validate_tasks(problems: Problems, tasks: Any) -> None:
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Sequence):
        problems.add("tasks", "a list of JSON-serialisable payloads", Described(type(tasks).__name__))
        return
    if not 1 <= len(tasks) <= _defaults.MAX_STATIC_TASKS:
        problems.add("tasks", f"a list of 1 to {_defaults.MAX_STATIC_TASKS} tasks", Described(f"{len(tasks)} tasks"))
    names: dict = {}
    unnamed: List[int] = []
    for index, task in enumerate(tasks):
        try:
            json.dumps(task, allow_nan=False)
        except RecursionError:
            problems.add(f"tasks[{index}]", "JSON-serialisable", Described(f"{type(task).__name__} (nested too deeply)"))
            continue
        except (TypeError, ValueError) as exc:
            problems.add(f"tasks[{index}]", "JSON-serialisable", Described(f"{type(task).__name__} ({exc})"))
            continue
        if not (isinstance(task, dict) and isinstance(task.get("name"), str)):
            unnamed.append(index)
            continue
        name = task["name"]
        if _INVALID_SQS_TEXT.search(name):
            problems.add(
                f"tasks[{index}].name",
                "free of control characters and unpaired surrogates (SQS rejects them in the task ID)",
                Described(ascii(name)),
            )
        if name in names:
            problems.add(
                f"tasks[{index}].name",
                f"unique within tasks (tasks[{names[name]}] has it too)",
                name,
            )
        names.setdefault(name, index)
    for index in unnamed:
        if str(index) in names:
            problems.add(
                f"tasks[{names[str(index)]}].name",
                f"different from the ID of tasks[{index}], which has no name and is known by its index",
                str(index),
            )
