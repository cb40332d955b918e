"""Lambda runtime code shipped with the scheduled-tasks constructs.

Everything in this package runs inside AWS Lambda. It depends only on the
Python standard library, ``boto3`` and ``botocore`` (both part of the Lambda
Python runtime), never on ``aws_cdk`` or ``constructs``, and it imports
``boto3`` lazily so that a cold start stays light.

Modules
-------
events
    Parses the input that EventBridge Scheduler passes to a target.
record_run
    Handler of ``ScheduledLambdaToTable``: one DynamoDB item per scheduled run.
fanout
    Producer-side helper: turns a list of tasks into SQS messages.
producer
    Handler that sends the tasks of a ``ScheduledTaskFanout`` run to its queue.
worker
    Consumer-side helper: runs one function per SQS message and reports
    partial batch failures.
webhook
    Posts results to a Slack or Discord incoming webhook.
idempotency
    Records that a task was applied, at most once, in a DynamoDB table.
ledger
    The run ledger: one item per scheduled slot, its status and task counts.
watchdog
    Compares a schedule's fire times with its run ledger: missed, late and
    failed runs.

The constants below are the names of the environment variables that the
constructs set on the functions they create.
"""

TABLE_NAME = "TABLE_NAME"
"""Environment variable: name of the DynamoDB table a handler writes to."""

ITEM_TTL_SECONDS = "ITEM_TTL_SECONDS"
"""Environment variable: lifetime of a written item in seconds (optional)."""

QUEUE_URL = "QUEUE_URL"
"""Environment variable: URL of the SQS queue the producer sends tasks to."""

WEBHOOK_SECRET_ARN = "WEBHOOK_SECRET_ARN"
"""Environment variable: ARN of the Secrets Manager secret holding the webhook URL."""

WEBHOOK_KIND = "WEBHOOK_KIND"
"""Environment variable: ``"slack"`` or ``"discord"`` (optional; detected from the URL)."""

WEBHOOK_MESSAGES = "WEBHOOK_MESSAGES"
"""Environment variable: ``summary`` (one message per finished run), ``per_task`` or ``both``."""

WEBHOOK_MESSAGE_MODES = ("summary", "per_task", "both")
"""The values of ``WEBHOOK_MESSAGES``."""

LEDGER_TABLE_NAME = "LEDGER_TABLE_NAME"
"""Environment variable: the run ledger's table."""

MAX_ATTEMPTS = "MAX_ATTEMPTS"
"""Environment variable: deliveries Lambda makes of one run (retries + 1)."""

MAX_RECEIVE_COUNT = "MAX_RECEIVE_COUNT"
"""Environment variable: receives of a task message before SQS dead-letters it."""

OVERLAP = "OVERLAP"
"""Environment variable: ``skip`` or ``allow``."""

LOCK_SECONDS = "LOCK_SECONDS"
"""Environment variable: longest a run holds the overlap lock (the run deadline)."""

LEDGER_TTL_SECONDS = "LEDGER_TTL_SECONDS"
"""Environment variable: lifetime of a run item (optional; ``expires_at``)."""

SCHEDULE_NAME = "SCHEDULE_NAME"
"""Environment variable (watchdog): the schedule's ``"<group>/<name>"``."""

SCHEDULE_EXPRESSION = "SCHEDULE_EXPRESSION"
"""Environment variable (watchdog): the schedule's expression, ``cron(...)``, ``rate(...)`` or ``at(...)``."""

SCHEDULE_TIME_ZONE = "SCHEDULE_TIME_ZONE"
"""Environment variable (watchdog): the schedule's IANA time zone."""

SCHEDULE_START = "SCHEDULE_START"
"""Environment variable (watchdog): the schedule's start, ISO 8601 (optional)."""

SCHEDULE_END = "SCHEDULE_END"
"""Environment variable (watchdog): the schedule's end, ISO 8601 (optional)."""

FLEXIBLE_WINDOW_MINUTES = "FLEXIBLE_WINDOW_MINUTES"
"""Environment variable (watchdog): the schedule's flexible time window in minutes."""

GRACE_SECONDS = "GRACE_SECONDS"
"""Environment variable (watchdog): seconds after a slot's window before it is missed."""

DEADLINE_SECONDS = "DEADLINE_SECONDS"
"""Environment variable (watchdog): seconds a run may stay ``running`` before it is late."""

SHARD_SIZE = "SHARD_SIZE"
"""Environment variable: most tasks one producer invocation sends; a larger run is split into shards."""

RUN_METRICS = "RUN_METRICS"
"""Environment variable: ``"on"`` makes whoever finishes a run publish its run metrics (the dashboard's)."""

__all__ = [
    "RUN_METRICS",
    "DEADLINE_SECONDS",
    "FLEXIBLE_WINDOW_MINUTES",
    "GRACE_SECONDS",
    "ITEM_TTL_SECONDS",
    "LEDGER_TABLE_NAME",
    "LEDGER_TTL_SECONDS",
    "LOCK_SECONDS",
    "MAX_ATTEMPTS",
    "MAX_RECEIVE_COUNT",
    "OVERLAP",
    "QUEUE_URL",
    "SCHEDULE_END",
    "SCHEDULE_EXPRESSION",
    "SCHEDULE_NAME",
    "SCHEDULE_START",
    "SCHEDULE_TIME_ZONE",
    "SHARD_SIZE",
    "TABLE_NAME",
    "WEBHOOK_KIND",
    "WEBHOOK_MESSAGES",
    "WEBHOOK_MESSAGE_MODES",
    "WEBHOOK_SECRET_ARN",
]
