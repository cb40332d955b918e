"""Bad input fails at synth time, with every problem named at once.

Each case gives a construct one invalid prop or one conflicting combination
and expects :class:`ScheduledTasksValidationError` with the exact problem
lines: the prop, what is allowed and what was given. The construct raises
before it creates any resource, so none of these inputs reaches a template
that would only fail at deploy time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, List

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack, TimeZone
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from scheduled_tasks_constructs import (
    AlarmWebhook,
    ScheduledLambdaToTable,
    ScheduledTaskFanout,
    ScheduledTasksValidationError,
)

HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")
WORKER = {"worker_code": CODE, "worker_handler": "index.handler"}
#: The smallest valid fan-out: static tasks and a worker.
FANOUT = {"tasks": [{"name": "report"}], **WORKER}
UTC = dt.timezone.utc

Props = Callable[[Stack], Dict[str, Any]]


def _function(stack: Stack) -> lambda_.Function:
    return lambda_.Function(
        stack, "Existing", code=CODE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_14
    )


def _layers(stack: Stack, count: int) -> List[lambda_.LayerVersion]:
    bucket = s3.Bucket.from_bucket_name(stack, "Layers", "layers")
    return [
        lambda_.LayerVersion(stack, f"Layer{i}", code=lambda_.Code.from_bucket(bucket, f"layer{i}.zip"))
        for i in range(count)
    ]


def _table(stack: Stack) -> dynamodb.Table:
    return dynamodb.Table(
        stack, "Runs", partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.STRING)
    )


def _queue(stack: Stack, **props: Any) -> sqs.Queue:
    return sqs.Queue(stack, "Other", **props)


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


NAN, INF = float("nan"), float("inf")
#: The message of an interface prop given a construct of another kind.
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alarms"


def table(case_id: str, props: Props, *expected: str):
    return pytest.param(ScheduledLambdaToTable, props, list(expected), id=f"table-{case_id}")


def fanout(case_id: str, props: Props, *expected: str):
    return pytest.param(ScheduledTaskFanout, props, list(expected), id=f"fanout-{case_id}")


CASES = [
    # --- the schedule (shared by both constructs) --------------------------------
    table(
        "schedule-not-an-expression",
        lambda s: {"schedule": "rate(1 hour)"},
        "schedule must be an aws_scheduler.ScheduleExpression, got str",
    ),
    table(
        "cron-day-of-month-and-day-of-week",
        lambda s: {"schedule": scheduler.ScheduleExpression.expression("cron(0 9 1 * MON *)")},
        "schedule: cron day-of-month and day-of-week: exactly one must be '?', got '1' and 'MON'",
    ),
    fanout(
        "unknown-time-zone",
        lambda s: {
            "schedule": scheduler.ScheduleExpression.cron(
                minute="0", hour="9", time_zone=TimeZone.of("Mars/Olympus")
            ),
            **FANOUT,
        },
        "schedule time zone: time zone must be an IANA time zone name such as 'UTC' or "
        "'America/New_York', got 'Mars/Olympus'",
    ),
    table(
        "rate-zero",
        lambda s: {"schedule": scheduler.ScheduleExpression.expression("rate(0 minutes)")},
        "schedule: rate value must be a positive whole number, got '0'",
    ),
    table(
        "description-too-long",
        lambda s: {"schedule_description": "x" * 513},
        "schedule_description must be at most 512 characters, got 513 characters",
    ),
    table(
        "retry-attempts-over-185",
        lambda s: {"retry_attempts": 186},
        "retry_attempts must be a whole number between 0 and 185, got 186",
    ),
    fanout(
        "retry-attempts-fraction",
        lambda s: {"retry_attempts": 1.5, **FANOUT},
        "retry_attempts must be a whole number between 0 and 185, got 1.5",
    ),
    table(
        "max-event-age-under-a-minute",
        lambda s: {"max_event_age": Duration.seconds(59)},
        "max_event_age must be between 1 minute and 1 day, got 59 seconds",
    ),
    table(
        "naive-start",
        lambda s: {"start": dt.datetime(2027, 1, 1)},
        "start must be a timezone-aware datetime.datetime, got 2027-01-01T00:00:00 (naive)",
    ),
    fanout(
        "end-not-after-start",
        lambda s: {
            "start": dt.datetime(2027, 1, 1, tzinfo=UTC),
            "end": dt.datetime(2027, 1, 1, tzinfo=UTC),
            **FANOUT,
        },
        "end must be after start (2027-01-01T00:00:00+00:00), got '2027-01-01T00:00:00+00:00'",
    ),
    table(
        "schedule-group-by-name",
        lambda s: {"schedule_group": "nightly"},
        "schedule_group must be an aws_scheduler.IScheduleGroup, got str",
    ),
    # --- the function -------------------------------------------------------------
    table(
        "memory-under-128",
        lambda s: {"memory_size": 64},
        "memory_size must be a whole number between 128 and 10240, got 64",
    ),
    table(
        "timeout-over-15-minutes",
        lambda s: {"timeout": Duration.minutes(16)},
        "timeout must be between 1 second and 15 minutes, got 16 minutes",
    ),
    table(
        "timeout-fraction-of-a-second",
        lambda s: {"timeout": Duration.millis(1500)},
        "timeout must be a whole number of seconds, got 1 second 500 millis",
    ),
    fanout(
        "worker-timeout-not-a-duration",
        lambda s: {"worker_timeout": 30, **FANOUT},
        "worker_timeout must be an aws_cdk.Duration, got int",
    ),
    table(
        "function-retry-attempts-over-2",
        lambda s: {"function_retry_attempts": 3},
        "function_retry_attempts must be a whole number between 0 and 2, got 3",
    ),
    table(
        "function-max-event-age-over-6-hours",
        lambda s: {"function_max_event_age": Duration.hours(7)},
        "function_max_event_age must be between 1 minute and 6 hours, got 7 hours",
    ),
    table(
        "code-without-handler",
        lambda s: {"code": CODE},
        "code and handler: give both or neither, got code only",
    ),
    table(
        "existing-function-and-code",
        lambda s: {"existing_function": _function(s), "code": CODE, "handler": "index.handler"},
        "existing_function and code/handler: give at most one of them, got both",
    ),
    table(
        "existing-function-and-its-settings",
        lambda s: {"existing_function": _function(s), "memory_size": 256, "tracing": True},
        "memory_size: only applies to a function the construct creates, got it with existing_function",
        "tracing: only applies to a function the construct creates, got it with existing_function",
    ),
    fanout(
        "existing-worker-and-worker-code",
        lambda s: {"existing_worker": _function(s), **FANOUT},
        "existing_worker and worker_code/worker_handler: give at most one of them, got both",
    ),
    fanout(
        "existing-producer-and-its-async-settings",
        lambda s: {"existing_producer": _function(s), "function_retry_attempts": 1, **FANOUT},
        "function_retry_attempts: only applies to a producer the construct creates, got it with "
        "existing_producer",
    ),
    fanout(
        "tracing-with-no-created-function",
        lambda s: {
            "existing_producer": _function(s),
            "existing_worker": lambda_.Function.from_function_name(s, "Worker", "worker"),
            "tracing": True,
        },
        "tracing: only applies to functions the construct creates, got it with existing_producer "
        "and existing_worker",
    ),
    table(
        "handler-with-whitespace",
        lambda s: {"code": CODE, "handler": "index handler"},
        "handler must be 1 to 128 characters without whitespace or control characters, got 'index handler'",
    ),
    fanout(
        "empty-producer-handler",
        lambda s: {"producer_code": CODE, "producer_handler": "", **WORKER},
        "producer_handler must be 1 to 128 characters without whitespace or control characters, got ''",
    ),
    table(
        "environment-name-the-construct-sets",
        lambda s: {"environment": {"TABLE_NAME": "runs"}},
        "environment must be free of the names the construct sets (TABLE_NAME, ITEM_TTL_SECONDS, "
        "LEDGER_TABLE_NAME, OVERLAP, LOCK_SECONDS, MAX_ATTEMPTS, LEDGER_TTL_SECONDS, RUN_METRICS), "
        "got 'TABLE_NAME'",
    ),
    fanout(
        "environment-names-the-construct-and-lambda-set",
        lambda s: {"worker_environment": {"WEBHOOK_SECRET_ARN": "x", "_HANDLER": "y"}, **FANOUT},
        "worker_environment must be free of the names the construct sets (WEBHOOK_SECRET_ARN, "
        "LEDGER_TABLE_NAME, OVERLAP, LOCK_SECONDS, MAX_RECEIVE_COUNT, WEBHOOK_MESSAGES, RUN_METRICS), "
        "got 'WEBHOOK_SECRET_ARN'",
        "worker_environment must be free of the names the Lambda runtime sets, got '_HANDLER'",
    ),
    table(
        "environment-name-lambda-reserves",
        lambda s: {"environment": {"AWS_REGION": "eu-west-1"}},
        "environment must be free of the names the Lambda runtime sets, got 'AWS_REGION'",
    ),
    table(
        "environment-name-with-a-dash",
        lambda s: {"environment": {"MY-STAGE": "prod"}},
        "environment must be names of a letter then letters, digits or underscores "
        "(at least 2 characters), got 'MY-STAGE'",
    ),
    fanout(
        "environment-name-of-one-letter",
        lambda s: {"producer_environment": {"X": "1"}, **FANOUT},
        "producer_environment must be names of a letter then letters, digits or underscores "
        "(at least 2 characters), got 'X'",
    ),
    table(
        "environment-value-not-a-string",
        lambda s: {"environment": {"RETRIES": 3}},
        "environment['RETRIES'] must be a string, got int",
    ),
    table(
        "environment-over-4-kb",
        lambda s: {"environment": {"BIG": "x" * 4094}},
        "environment must be at most 4096 bytes of names and values, got 4097 bytes",
    ),
    # --- the table ------------------------------------------------------------------
    table(
        "existing-table-and-table-props",
        lambda s: {"existing_table": _table(s), "table_props": dynamodb.TableProps()},
        "existing_table, table_props: give at most one of them, got 2",
    ),
    table(
        "table-sort-key",
        lambda s: {
            "table_props": dynamodb.TableProps(
                sort_key=dynamodb.Attribute(name="at", type=dynamodb.AttributeType.STRING)
            )
        },
        "table_props.sort_key: set by the construct, got sort_key in table_props",
    ),
    table(
        "table-name-too-short",
        lambda s: {"table_props": dynamodb.TableProps(table_name="ab")},
        "table_props.table_name must be 3 to 255 letters, digits, '_', '-' or '.', got 'ab'",
    ),
    table(
        "table-name-bad-characters",
        lambda s: {"table_props": dynamodb.TableProps(table_name="scheduled runs!")},
        "table_props.table_name must be 3 to 255 letters, digits, '_', '-' or '.', got 'scheduled runs!'",
    ),
    table(
        "capacity-with-on-demand-billing",
        lambda s: {"table_props": dynamodb.TableProps(read_capacity=5)},
        "table_props.read_capacity: only applies with billing_mode PROVISIONED, got it with on-demand billing",
    ),
    table(
        "table-props-as-a-dict",
        lambda s: {"table_props": {"table_name": "runs"}},
        "table_props must be an aws_dynamodb.TableProps, got dict",
    ),
    table(
        "item-ttl-under-a-minute",
        lambda s: {"item_ttl": Duration.seconds(30)},
        "item_ttl must be between 1 minute and 36500 days, got 30 seconds",
    ),
    table(
        "item-ttl-with-existing-table",
        lambda s: {"item_ttl": Duration.days(1), "existing_table": dynamodb.Table.from_table_name(s, "Runs", "runs")},
        "item_ttl: only applies to a table the construct creates, got it with existing_table",
    ),
    table(
        "alarm-topic-without-alarms",
        lambda s: {"alarms": False, "alarm_topic": sns.Topic(s, "Alarms")},
        "alarm_topic: needs alarms, got alarms=False",
    ),
    # --- tasks ----------------------------------------------------------------------
    fanout(
        "no-tasks-for-the-bundled-producer",
        lambda s: {**WORKER},
        "tasks: required with the bundled producer (or give producer_code/producer_handler or "
        "existing_producer that builds tasks at run time), got none",
    ),
    fanout(
        "empty-task-list",
        lambda s: {**WORKER, "tasks": []},
        "tasks must be a list of 1 to 1000 tasks, got 0 tasks",
    ),
    fanout(
        "too-many-tasks",
        lambda s: {**WORKER, "tasks": list(range(1001))},
        "tasks must be a list of 1 to 1000 tasks, got 1001 tasks",
    ),
    fanout(
        "tasks-not-a-list",
        lambda s: {**WORKER, "tasks": "report"},
        "tasks must be a list of JSON-serialisable payloads, got str",
    ),
    fanout(
        "task-with-a-date",
        lambda s: {**WORKER, "tasks": [{"name": "a", "day": dt.date(2026, 1, 1)}]},
        "tasks[0] must be JSON-serialisable, got dict (Object of type date is not JSON serializable)",
    ),
    fanout(
        "task-is-a-set",
        lambda s: {**WORKER, "tasks": [{"name": "a"}, {1, 2}]},
        "tasks[1] must be JSON-serialisable, got set (Object of type set is not JSON serializable)",
    ),
    fanout(
        "duplicate-task-names",
        lambda s: {**WORKER, "tasks": [{"name": "a"}, {"name": "a"}]},
        "tasks[1].name must be unique within tasks (tasks[0] has it too), got 'a'",
    ),
    fanout(
        "tasks-over-the-input-limit",
        lambda s: {**WORKER, "tasks": ["x" * 9000]},
        "tasks must be small enough for the schedule input (at most 8192 characters of JSON), "
        "got 9206 characters",
    ),
    # --- the worker and its event source ----------------------------------------------
    fanout(
        "no-worker",
        lambda s: {"tasks": [1]},
        "worker_code/worker_handler or existing_worker: the worker is required, got neither",
    ),
    fanout(
        "six-layers",
        lambda s: {"worker_layers": _layers(s, 5), **FANOUT},
        "worker_layers must be at most 4 layers (Lambda allows 5; the runtime helpers layer is one), "
        "got 5 layers",
    ),
    fanout(
        "batch-size-zero",
        lambda s: {"batch_size": 0, **FANOUT},
        "batch_size must be a whole number between 1 and 10000, got 0",
    ),
    fanout(
        "batch-size-over-10000",
        lambda s: {"batch_size": 10001, "max_batching_window": Duration.seconds(1), **FANOUT},
        "batch_size must be a whole number between 1 and 10000, got 10001",
    ),
    fanout(
        "batch-size-as-a-string",
        lambda s: {"batch_size": "10", **FANOUT},
        "batch_size must be a whole number between 1 and 10000, got '10'",
    ),
    fanout(
        "batch-over-10-without-window",
        lambda s: {"batch_size": 11, **FANOUT},
        "max_batching_window must be at least 1 second when batch_size is over 10 (batch_size is 11), got none",
    ),
    fanout(
        "batch-over-10-with-zero-window",
        lambda s: {"batch_size": 100, "max_batching_window": Duration.seconds(0), **FANOUT},
        "max_batching_window must be at least 1 second when batch_size is over 10 (batch_size is 100), "
        "got 0 seconds",
    ),
    fanout(
        "batching-window-over-5-minutes",
        lambda s: {"max_batching_window": Duration.seconds(301), **FANOUT},
        "max_batching_window must be between 0 seconds and 5 minutes, got 5 minutes 1 second",
    ),
    fanout(
        "max-concurrency-1",
        lambda s: {"max_concurrency": 1, **FANOUT},
        "max_concurrency must be a whole number between 2 and 1000, got 1",
    ),
    # --- the queue ----------------------------------------------------------------------
    fanout(
        "max-receive-count-zero",
        lambda s: {"max_receive_count": 0, **FANOUT},
        "max_receive_count must be a whole number between 1 and 1000, got 0",
    ),
    fanout(
        "max-receive-count-over-1000",
        lambda s: {"max_receive_count": 1001, **FANOUT},
        "max_receive_count must be a whole number between 1 and 1000, got 1001",
    ),
    fanout(
        "visibility-timeout-below-the-rule",
        lambda s: {
            "worker_timeout": Duration.minutes(2),
            "max_batching_window": Duration.seconds(30),
            "queue_props": sqs.QueueProps(visibility_timeout=Duration.minutes(12)),
            **FANOUT,
        },
        "queue_props.visibility_timeout must be at least 750 seconds (6 x worker timeout 120 s + "
        "batching window 30 s), got 12 minutes",
    ),
    fanout(
        "visibility-timeout-over-12-hours",
        lambda s: {"queue_props": sqs.QueueProps(visibility_timeout=Duration.hours(13)), **FANOUT},
        "queue_props.visibility_timeout must be between 0 seconds and 12 hours, got 13 hours",
    ),
    fanout(
        "existing-queue-and-queue-props",
        lambda s: {"existing_queue": _queue(s, visibility_timeout=Duration.minutes(6)), "queue_props": sqs.QueueProps(), **FANOUT},
        "existing_queue, queue_props: give at most one of them, got 2",
    ),
    fanout(
        "existing-queue-and-max-receive-count",
        lambda s: {"existing_queue": _queue(s, visibility_timeout=Duration.minutes(6)), "max_receive_count": 5, **FANOUT},
        "max_receive_count: only applies to a queue the construct creates, got it with existing_queue",
    ),
    fanout(
        "fifo-run-dead-letter-queue",
        lambda s: {"run_dead_letter_queue": sqs.Queue(s, "Dlq", fifo=True), **FANOUT},
        "run_dead_letter_queue must be a standard queue, got a FIFO queue",
    ),
    fanout(
        "imported-fifo-run-dead-letter-queue",
        lambda s: {
            "run_dead_letter_queue": sqs.Queue.from_queue_arn(
                s, "Dlq", "arn:aws:sqs:us-east-1:123456789012:failed.fifo"
            ),
            **FANOUT,
        },
        "run_dead_letter_queue must be a standard queue, got a FIFO queue",
    ),
    table(
        "fifo-dead-letter-queue",
        lambda s: {"dead_letter_queue": sqs.Queue(s, "Dlq", fifo=True)},
        "dead_letter_queue must be a standard queue, got a FIFO queue",
    ),
    table(
        "imported-fifo-dead-letter-queue",
        lambda s: {
            "dead_letter_queue": sqs.Queue.from_queue_arn(s, "Dlq", "arn:aws:sqs:us-east-1:123456789012:failed.fifo")
        },
        "dead_letter_queue must be a standard queue, got a FIFO queue",
    ),
    fanout(
        "existing-fifo-queue",
        lambda s: {"existing_queue": sqs.Queue(s, "Tasks", fifo=True, visibility_timeout=Duration.minutes(6)), **FANOUT},
        "existing_queue must be a standard queue, got a FIFO queue",
    ),
    fanout(
        "fifo-setting-in-queue-props",
        lambda s: {"queue_props": sqs.QueueProps(content_based_deduplication=True), **FANOUT},
        "queue_props.content_based_deduplication: set by the construct (a standard queue with the "
        "construct's dead-letter queue), got content_based_deduplication in queue_props",
    ),
    fanout(
        "fifo-queue-name",
        lambda s: {"queue_props": sqs.QueueProps(queue_name="tasks.fifo"), **FANOUT},
        "queue_props.queue_name must be 1 to 80 letters, digits, '-' or '_' (a standard queue: "
        "no '.fifo'), got 'tasks.fifo'",
    ),
    fanout(
        "queue-name-too-long",
        lambda s: {"queue_props": sqs.QueueProps(queue_name="t" * 81), **FANOUT},
        "queue_props.queue_name must be 1 to 80 letters, digits, '-' or '_' (a standard queue: "
        f"no '.fifo'), got '{'t' * 81}'",
    ),
    fanout(
        "retention-over-14-days",
        lambda s: {"queue_props": sqs.QueueProps(retention_period=Duration.days(15)), **FANOUT},
        "queue_props.retention_period must be between 1 minute and 14 days, got 15 days",
    ),
    fanout(
        "delivery-delay-over-15-minutes",
        lambda s: {"queue_props": sqs.QueueProps(delivery_delay=Duration.minutes(16)), **FANOUT},
        "queue_props.delivery_delay must be between 0 seconds and 15 minutes, got 16 minutes",
    ),
    fanout(
        "long-poll-over-20-seconds",
        lambda s: {"queue_props": sqs.QueueProps(receive_message_wait_time=Duration.seconds(21)), **FANOUT},
        "queue_props.receive_message_wait_time must be between 0 seconds and 20 seconds, got 21 seconds",
    ),
    fanout(
        "message-size-under-1-kib",
        lambda s: {"queue_props": sqs.QueueProps(max_message_size_bytes=512), **FANOUT},
        "queue_props.max_message_size_bytes must be a whole number between 1024 and 1048576, got 512",
    ),
    fanout(
        "queue-props-as-a-dict",
        lambda s: {"queue_props": {"queue_name": "tasks"}, **FANOUT},
        "queue_props must be an aws_sqs.QueueProps, got dict",
    ),
    fanout(
        "producer-environment-queue-url",
        lambda s: {"producer_environment": {"QUEUE_URL": "x"}, **FANOUT},
        "producer_environment must be free of the names the construct sets (QUEUE_URL, LEDGER_TABLE_NAME, "
        "OVERLAP, LOCK_SECONDS, MAX_ATTEMPTS, LEDGER_TTL_SECONDS, WEBHOOK_SECRET_ARN, WEBHOOK_MESSAGES, RUN_METRICS, SHARD_SIZE), got 'QUEUE_URL'",
    ),

    # --- flags: a string such as "no" would read as true ----------------------------------
    table(
        "schedule-enabled-as-a-string",
        lambda s: {"schedule_enabled": "no"},
        "schedule_enabled must be True or False, got 'no'",
    ),
    table(
        "tracing-as-a-string",
        lambda s: {"tracing": "no"},
        "tracing must be True or False, got 'no'",
    ),
    table(
        "alarms-as-zero",
        lambda s: {"alarms": 0},
        "alarms must be True or False, got 0",
    ),
    fanout(
        "alarms-as-a-string",
        lambda s: {"alarms": "no", **FANOUT},
        "alarms must be True or False, got 'no'",
    ),
    fanout(
        "tracing-as-one",
        lambda s: {"tracing": 1, **FANOUT},
        "tracing must be True or False, got 1",
    ),
    fanout(
        "schedule-enabled-as-a-string",
        lambda s: {"schedule_enabled": "false", **FANOUT},
        "schedule_enabled must be True or False, got 'false'",
    ),
    # --- numbers: NaN, infinity and booleans never reach jsii ------------------------------
    table(
        "retry-attempts-nan",
        lambda s: {"retry_attempts": NAN},
        "retry_attempts must be a whole number between 0 and 185, got nan",
    ),
    table(
        "memory-infinite",
        lambda s: {"memory_size": INF},
        "memory_size must be a whole number between 128 and 10240, got inf",
    ),
    table(
        "function-retry-attempts-true",
        lambda s: {"function_retry_attempts": True},
        "function_retry_attempts must be a whole number between 0 and 2, got True",
    ),
    fanout(
        "batch-size-true",
        lambda s: {"batch_size": True, **FANOUT},
        "batch_size must be a whole number between 1 and 10000, got True",
    ),
    fanout(
        "batch-size-nan",
        lambda s: {"batch_size": NAN, **FANOUT},
        "batch_size must be a whole number between 1 and 10000, got nan",
    ),
    fanout(
        "max-concurrency-infinite",
        lambda s: {"max_concurrency": INF, **FANOUT},
        "max_concurrency must be a whole number between 2 and 1000, got inf",
    ),
    fanout(
        "max-receive-count-nan",
        lambda s: {"max_receive_count": NAN, **FANOUT},
        "max_receive_count must be a whole number between 1 and 1000, got nan",
    ),
    fanout(
        "memory-sizes-nan-and-infinite",
        lambda s: {"producer_memory_size": NAN, "worker_memory_size": -INF, **FANOUT},
        "producer_memory_size must be a whole number between 128 and 10240, got nan",
        "worker_memory_size must be a whole number between 128 and 10240, got -inf",
    ),
    fanout(
        "retry-attempts-infinite",
        lambda s: {"retry_attempts": INF, "function_retry_attempts": NAN, **FANOUT},
        "retry_attempts must be a whole number between 0 and 185, got inf",
        "function_retry_attempts must be a whole number between 0 and 2, got nan",
    ),
    fanout(
        "message-size-nan",
        lambda s: {"queue_props": sqs.QueueProps(max_message_size_bytes=NAN), **FANOUT},
        "queue_props.max_message_size_bytes must be a whole number between 1024 and 1048576, got nan",
    ),
    # --- constructs of the wrong kind, and strings where a construct goes ------------------
    table(
        "queue-as-alarm-topic",
        lambda s: {"alarm_topic": _queue(s)},
        "alarm_topic must be an aws_sns.ITopic, got Queue",
    ),
    table(
        "topic-arn-as-alarm-topic",
        lambda s: {"alarm_topic": TOPIC_ARN},
        "alarm_topic must be an aws_sns.ITopic, got str",
    ),
    table(
        "topic-as-dead-letter-queue",
        lambda s: {"dead_letter_queue": sns.Topic(s, "Alarms")},
        "dead_letter_queue must be an aws_sqs.IQueue, got Topic",
    ),
    table(
        "table-name-as-existing-table",
        lambda s: {"existing_table": "runs"},
        "existing_table must be an aws_dynamodb.ITable, got str",
    ),
    table(
        "function-name-as-existing-function",
        lambda s: {"existing_function": "my-function"},
        "existing_function must be an aws_lambda.IFunction, got str",
    ),
    table(
        "queue-as-existing-function",
        lambda s: {"existing_function": _queue(s)},
        "existing_function must be an aws_lambda.IFunction, got Queue",
    ),
    table(
        "code-as-a-path",
        lambda s: {"code": "src/app.py", "handler": "app.handler"},
        "code must be an aws_lambda.Code, got str",
    ),
    table(
        "log-retention-as-days",
        lambda s: {"log_retention": 30},
        "log_retention must be an aws_logs.RetentionDays, got int",
    ),
    table(
        "topic-as-schedule-group",
        lambda s: {"schedule_group": sns.Topic(s, "Alarms")},
        "schedule_group must be an aws_scheduler.IScheduleGroup, got Topic",
    ),
    fanout(
        "queue-among-worker-layers",
        lambda s: {"worker_layers": [*_layers(s, 1), _queue(s)], **FANOUT},
        "worker_layers[1] must be an aws_lambda.ILayerVersion, got Queue",
    ),
    fanout(
        "layer-arn-as-worker-layers",
        lambda s: {"worker_layers": "arn:aws:lambda:us-east-1:123456789012:layer:deps:1", **FANOUT},
        "worker_layers must be a list of aws_lambda.ILayerVersion, got str",
    ),
    fanout(
        "queue-url-as-existing-queue",
        lambda s: {"existing_queue": "https://sqs.us-east-1.amazonaws.com/123456789012/tasks", **FANOUT},
        "existing_queue must be an aws_sqs.IQueue, got str",
    ),
    fanout(
        "topic-as-run-dead-letter-queue",
        lambda s: {"run_dead_letter_queue": sns.Topic(s, "Alarms"), **FANOUT},
        "run_dead_letter_queue must be an aws_sqs.IQueue, got Topic",
    ),
    fanout(
        "secret-arn-as-webhook-secret",
        lambda s: {"webhook_secret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook", **FANOUT},
        "webhook_secret must be an aws_secretsmanager.ISecret, got str",
    ),
    fanout(
        "queue-as-existing-worker",
        lambda s: {"tasks": [1], "existing_worker": _queue(s)},
        "existing_worker must be an aws_lambda.IFunction, got Queue",
    ),
    fanout(
        "function-name-as-existing-producer",
        lambda s: {"existing_producer": "send-tasks", **WORKER},
        "existing_producer must be an aws_lambda.IFunction, got str",
    ),
    fanout(
        "queue-as-alarm-topic",
        lambda s: {"alarm_topic": _queue(s), **FANOUT},
        "alarm_topic must be an aws_sns.ITopic, got Queue",
    ),
    fanout(
        "worker-code-as-a-string",
        lambda s: {"tasks": [1], "worker_code": "def handler(e, c): pass", "worker_handler": "index.handler"},
        "worker_code must be an aws_lambda.Code, got str",
    ),
    # --- durations: whole seconds, and the flexible window ---------------------------------
    table(
        "max-event-age-with-millis",
        lambda s: {"max_event_age": Duration.millis(90_500)},
        "max_event_age must be a whole number of seconds, got 1 minute 30 seconds and 500 millis",
    ),
    table(
        "function-max-event-age-with-millis",
        lambda s: {"function_max_event_age": Duration.millis(60_500)},
        "function_max_event_age must be a whole number of seconds, got 1 minute 500 millis",
    ),
    fanout(
        "worker-timeout-with-millis",
        lambda s: {"worker_timeout": Duration.millis(2500), **FANOUT},
        "worker_timeout must be a whole number of seconds, got 2 seconds 500 millis",
    ),
    fanout(
        "batching-window-with-millis",
        lambda s: {"max_batching_window": Duration.millis(1500), **FANOUT},
        "max_batching_window must be a whole number of seconds, got 1 second 500 millis",
    ),
    fanout(
        "visibility-timeout-with-millis",
        lambda s: {"queue_props": sqs.QueueProps(visibility_timeout=Duration.millis(400_250)), **FANOUT},
        "queue_props.visibility_timeout must be a whole number of seconds, got 6 minutes 40 seconds "
        "and 250 millis",
    ),
    table(
        "time-window-as-a-string",
        lambda s: {"time_window": "FLEXIBLE"},
        "time_window must be an aws_scheduler.TimeWindow, got str",
    ),
    fanout(
        "time-window-as-a-duration",
        lambda s: {"time_window": Duration.minutes(5), **FANOUT},
        "time_window must be an aws_scheduler.TimeWindow, got Duration",
    ),
    # --- existing resources of the app that would fail every run ---------------------------
    fanout(
        "existing-queue-visibility-below-the-rule",
        lambda s: {
            "existing_queue": _queue(s, visibility_timeout=Duration.minutes(5)),
            "worker_timeout": Duration.minutes(1),
            "max_batching_window": Duration.seconds(10),
            **FANOUT,
        },
        "existing_queue visibility timeout must be at least 370 seconds (6 x worker timeout 60 s + "
        "batching window 10 s), got 300 seconds",
    ),
    fanout(
        "existing-queue-default-worker-visibility",
        lambda s: {"existing_queue": _queue(s, visibility_timeout=Duration.seconds(30)), **FANOUT},
        "existing_queue visibility timeout must be at least 360 seconds (6 x worker timeout 60 s + "
        "batching window 0 s), got 30 seconds",
    ),
    fanout(
        "existing-queue-without-visibility-gets-the-sqs-default",
        lambda s: {"existing_queue": _queue(s), **FANOUT},
        "existing_queue visibility timeout must be at least 360 seconds (6 x worker timeout 60 s + "
        "batching window 0 s), got 30 seconds",
    ),
    fanout(
        "existing-queue-message-size-below-a-task",
        lambda s: {
            "existing_queue": _queue(s, visibility_timeout=Duration.minutes(6), max_message_size_bytes=1024),
            "tasks": ["x" * 1000],
            **WORKER,
        },
        "existing_queue maximum message size must be at least 1207 bytes (the largest task's message), "
        "got 1024 bytes",
    ),
    fanout(
        "queue-props-message-size-below-a-task",
        lambda s: {"queue_props": sqs.QueueProps(max_message_size_bytes=1100), "tasks": ["x" * 1000], **WORKER},
        "queue_props.max_message_size_bytes must be at least 1207 bytes (the largest task's message), "
        "got 1100 bytes",
    ),
    table(
        "existing-table-keyed-by-id",
        lambda s: {
            "existing_table": dynamodb.Table(
                s, "Other", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
            )
        },
        "existing_table must be a table whose partition key is the string 'run_id' (the bundled "
        "handler writes it), got partition key 'id' of type S",
    ),
    table(
        "existing-table-keyed-by-a-number",
        lambda s: {
            "existing_table": dynamodb.TableV2(
                s, "Other", partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.NUMBER)
            )
        },
        "existing_table must be a table whose partition key is the string 'run_id' (the bundled "
        "handler writes it), got partition key 'run_id' of type N",
    ),
    # --- tasks that pass synthesis but fail every run --------------------------------------
    fanout(
        "task-nested-too-deeply",
        lambda s: {**WORKER, "tasks": [{"name": "a"}, _nested(5000)]},
        "tasks[1] must be JSON-serialisable, got list (nested too deeply)",
    ),
    fanout(
        "task-dict-nested-too-deeply",
        lambda s: {**WORKER, "tasks": [{"name": "a", "steps": _nested(5000)}]},
        "tasks[0] must be JSON-serialisable, got dict (nested too deeply)",
    ),
    fanout(
        "task-name-with-a-control-character",
        lambda s: {**WORKER, "tasks": [{"name": "daily\x00report"}]},
        "tasks[0].name must be free of control characters and unpaired surrogates (SQS rejects them "
        "in the task ID), got 'daily\\x00report'",
    ),
    fanout(
        "task-name-with-an-escape",
        lambda s: {**WORKER, "tasks": [{"name": "ok"}, {"name": "\x1b[31mred"}]},
        "tasks[1].name must be free of control characters and unpaired surrogates (SQS rejects them "
        "in the task ID), got '\\x1b[31mred'",
    ),
    fanout(
        "task-name-of-another-tasks-index",
        lambda s: {**WORKER, "tasks": [{"name": "1"}, {"url": "https://example.com"}]},
        "tasks[0].name must be different from the ID of tasks[1], which has no name and is known by "
        "its index, got '1'",
    ),
    fanout(
        "task-name-of-a-later-index",
        lambda s: {**WORKER, "tasks": ["a", "b", {"name": "0"}]},
        "tasks[2].name must be different from the ID of tasks[0], which has no name and is known by "
        "its index, got '0'",
    ),
    table(
        "handler-with-a-control-character",
        lambda s: {"code": CODE, "handler": "index.\x00handler"},
        "handler must be 1 to 128 characters without whitespace or control characters, got "
        "'index.\\x00handler'",
    ),
]


def _build(construct: type, props: Props) -> "tuple[Stack, Exception | None]":
    stack = Stack(App(), "Test")
    given = props(stack)
    given.setdefault("schedule", HOURLY)
    try:
        construct(stack, "Bad", **given)
    except ScheduledTasksValidationError as error:
        return stack, error
    return stack, None


def test_the_table_covers_both_constructs_with_30_cases_or_more():
    constructs = [param.values[0] for param in CASES]
    assert len(CASES) >= 30
    assert constructs.count(ScheduledLambdaToTable) >= 10 and constructs.count(ScheduledTaskFanout) >= 10
    ids = [param.id for param in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("construct, props, expected", CASES)
def test_bad_input_fails_at_synth_time_naming_prop_allowed_and_given(construct, props, expected):
    stack, error = _build(construct, props)
    assert error is not None, "accepted: the template would only fail at deploy time"
    assert isinstance(error, ValueError)
    assert error.problems == expected
    assert str(error) == "\n".join(
        [f"{construct.__name__} 'Bad': invalid props ({len(expected)}):"] + [f"  - {p}" for p in expected]
    )
    # Nothing was built: the construct raised before creating any resource.
    assert stack.node.find_child("Bad").node.children == []


def test_one_call_reports_every_problem_of_the_table_construct():
    _, error = _build(
        ScheduledLambdaToTable,
        lambda s: {
            "schedule": scheduler.ScheduleExpression.expression("cron(0 9 1 * MON *)"),
            "schedule_description": "x" * 600,
            "schedule_group": "nightly",
            "memory_size": 64,
            "environment": {"AWS_REGION": "x", "MY-STAGE": "prod"},
            "table_props": dynamodb.TableProps(table_name="runs table", read_capacity=5),
            "item_ttl": Duration.seconds(30),
        },
    )
    assert str(error) == (
        "ScheduledLambdaToTable 'Bad': invalid props (9):\n"
        "  - schedule: cron day-of-month and day-of-week: exactly one must be '?', got '1' and 'MON'\n"
        "  - schedule_description must be at most 512 characters, got 600 characters\n"
        "  - schedule_group must be an aws_scheduler.IScheduleGroup, got str\n"
        "  - memory_size must be a whole number between 128 and 10240, got 64\n"
        "  - environment must be free of the names the Lambda runtime sets, got 'AWS_REGION'\n"
        "  - environment must be names of a letter then letters, digits or underscores "
        "(at least 2 characters), got 'MY-STAGE'\n"
        "  - table_props.table_name must be 3 to 255 letters, digits, '_', '-' or '.', got 'runs table'\n"
        "  - table_props.read_capacity: only applies with billing_mode PROVISIONED, got it with "
        "on-demand billing\n"
        "  - item_ttl must be between 1 minute and 36500 days, got 30 seconds"
    )


def test_one_call_reports_every_problem_of_the_fanout_construct():
    _, error = _build(
        ScheduledTaskFanout,
        lambda s: {
            "schedule": scheduler.ScheduleExpression.cron(minute="0", hour="9", time_zone=TimeZone.of("Mars/Olympus")),
            "retry_attempts": 200,
            "tasks": [],
            "worker_layers": _layers(s, 5),
            "batch_size": 11,
            "max_receive_count": 0,
            "queue_props": sqs.QueueProps(queue_name="tasks.fifo", retention_period=Duration.days(15)),
            **WORKER,
        },
    )
    assert error.problems == [
        "schedule time zone: time zone must be an IANA time zone name such as 'UTC' or "
        "'America/New_York', got 'Mars/Olympus'",
        "retry_attempts must be a whole number between 0 and 185, got 200",
        "worker_layers must be at most 4 layers (Lambda allows 5; the runtime helpers layer is one), got 5 layers",
        "tasks must be a list of 1 to 1000 tasks, got 0 tasks",
        "max_receive_count must be a whole number between 1 and 1000, got 0",
        "max_batching_window must be at least 1 second when batch_size is over 10 (batch_size is 11), got none",
        "queue_props.queue_name must be 1 to 80 letters, digits, '-' or '_' (a standard queue: no '.fifo'), "
        "got 'tasks.fifo'",
        "queue_props.retention_period must be between 1 minute and 14 days, got 15 days",
    ]
    assert str(error).startswith("ScheduledTaskFanout 'Bad': invalid props (8):\n  - schedule time zone: ")


def test_values_known_only_at_deploy_time_are_not_checked():
    stack = Stack(App(), "Test")
    number = CfnParameter(stack, "Number", type="Number").value_as_number
    text = CfnParameter(stack, "Text").value_as_string
    built = ScheduledLambdaToTable(
        stack,
        "Table",
        schedule=HOURLY,
        memory_size=number,
        item_ttl=Duration.seconds(number),
        schedule_description=text,
        environment={"STAGE": text},
        table_props=dynamodb.TableProps(table_name=text),
    )
    fan = ScheduledTaskFanout(
        stack,
        "Fanout",
        schedule=HOURLY,
        max_receive_count=number,
        queue_props=sqs.QueueProps(queue_name=text, max_message_size_bytes=number),
        worker_environment={"STAGE": text},
        **FANOUT,
    )
    # They reach the template as references, resolved by CloudFormation.
    template = Template.from_stack(stack)
    assert _props(template, built.function)["Environment"]["Variables"] == {
        "STAGE": {"Ref": "Text"},
        "TABLE_NAME": {"Ref": stack.get_logical_id(built.table.node.default_child)},
        "ITEM_TTL_SECONDS": {"Ref": "Number"},
    }
    assert _props(template, fan.queue)["QueueName"] == {"Ref": "Text"}


# --- valid input next to the rules above is accepted ----------------------------------


@pytest.fixture(scope="module")
def accepted():
    """Valid props at the edge of the rules, and overrides of settings the defaults also set."""
    stack = Stack(App(), "Test")
    key = kms.Key(stack, "Key")
    edges = ScheduledLambdaToTable(
        stack,
        "Edges",
        schedule=HOURLY,
        start=dt.datetime(2027, 1, 1, tzinfo=UTC),
        schedule_description="x" * 512,
        environment={"AB": "x" * 4094},  # 2 + 4094 = 4096 bytes, Lambda's limit
        table_props=dynamodb.TableProps(table_name="runs-2026.v1_a", encryption_key=key),
    )
    provisioned = ScheduledLambdaToTable(
        stack,
        "Provisioned",
        schedule=HOURLY,
        table_props=dynamodb.TableProps(
            billing_mode=dynamodb.BillingMode.PROVISIONED, read_capacity=1, write_capacity=1
        ),
    )
    legacy = ScheduledLambdaToTable(
        stack,
        "LegacyRecovery",
        schedule=HOURLY,
        table_props=dynamodb.TableProps(point_in_time_recovery=False),  # deprecated, still honoured
    )
    fan = ScheduledTaskFanout(
        stack,
        "Fanout",
        schedule=HOURLY,
        worker_layers=_layers(stack, 4),
        batch_size=10000,
        max_batching_window=Duration.seconds(1),
        queue_props=sqs.QueueProps(
            queue_name="t" * 80,
            encryption_master_key=key,
            retention_period=Duration.days(14),
            receive_message_wait_time=Duration.seconds(20),
            max_message_size_bytes=1_048_576,
        ),
        **FANOUT,
    )
    built = {"edges": edges, "provisioned": provisioned, "legacy": legacy, "fanout": fan, "key": key}
    return built, Template.from_stack(stack)


def _props(template: Template, construct) -> dict:
    stack = Stack.of(construct)
    return template.to_json()["Resources"][stack.get_logical_id(construct.node.default_child)]["Properties"]


def test_a_customer_managed_table_key_replaces_the_default_encryption(accepted):
    built, template = accepted
    props = _props(template, built["edges"].table)
    assert props["TableName"] == "runs-2026.v1_a"
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::GetAtt": [Stack.of(built["key"]).get_logical_id(built["key"].node.default_child), "Arn"]
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_provisioned_billing_takes_capacities(accepted):
    built, template = accepted
    props = _props(template, built["provisioned"].table)
    assert props["ProvisionedThroughput"] == {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    assert "BillingMode" not in props or props["BillingMode"] == "PROVISIONED"


def test_the_deprecated_recovery_flag_replaces_the_default_specification(accepted):
    built, template = accepted
    props = _props(template, built["legacy"].table)
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}


def test_a_queue_key_replaces_the_default_encryption(accepted):
    built, template = accepted
    props = _props(template, built["fanout"].queue)
    assert props["QueueName"] == "t" * 80
    assert props["KmsMasterKeyId"] == {
        "Fn::GetAtt": [Stack.of(built["key"]).get_logical_id(built["key"].node.default_child), "Arn"]
    }
    assert "SqsManagedSseEnabled" not in props
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_four_extra_layers_fit_next_to_the_runtime_helpers(accepted):
    built, template = accepted
    assert len(_props(template, built["fanout"].worker)["Layers"]) == 5


@pytest.mark.parametrize(
    "props, expected",
    [
        pytest.param(
            lambda s: {"topic": sqs.Queue(s, "Other"), "webhook_secret": secretsmanager.Secret(s, "Hook")},
            ["topic must be an aws_sns.ITopic, got Queue"],
            id="queue-as-topic",
        ),
        pytest.param(
            lambda s: {"topic": sns.Topic(s, "Alarms"), "webhook_secret": TOPIC_ARN},
            ["webhook_secret must be an aws_secretsmanager.ISecret, got str"],
            id="arn-as-secret",
        ),
        pytest.param(
            lambda s: {
                "topic": sns.Topic(s, "Alarms"),
                "webhook_secret": secretsmanager.Secret(s, "Hook"),
                "log_retention": "one month",
            },
            ["log_retention must be an aws_logs.RetentionDays, got str"],
            id="log-retention-as-a-string",
        ),
    ],
)
def test_alarm_webhook_names_a_prop_of_the_wrong_kind(props, expected):
    stack = Stack(App(), "Test")
    with pytest.raises(ScheduledTasksValidationError) as caught:
        AlarmWebhook(stack, "Bad", **props(stack))
    assert caught.value.problems == expected
    assert stack.node.find_child("Bad").node.children == []


def test_flags_numbers_and_kinds_known_only_at_deploy_time_are_not_checked():
    stack = Stack(App(), "Test")
    number = CfnParameter(stack, "Number", type="Number").value_as_number
    fan = ScheduledTaskFanout(
        stack,
        "Fanout",
        schedule=HOURLY,
        batch_size=number,
        max_concurrency=number,
        existing_queue=sqs.Queue(stack, "Tasks", visibility_timeout=Duration.seconds(number)),
        log_retention=logs.RetentionDays.ONE_WEEK,
        **FANOUT,
    )
    assert fan.queue is not None
