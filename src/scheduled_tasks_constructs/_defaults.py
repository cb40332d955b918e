"""Every default of the library, in one place.

Constructs merge settings in one order: these library defaults, then the user's
props, then the settings a construct needs to work (which users cannot override).
Docstrings of the public props name these values; nothing else repeats them.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

# --- Lambda functions -------------------------------------------------------
#: The newest Python runtime this aws-cdk-lib offers.
FUNCTION_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Graviton: about 20% cheaper per GB-second than x86_64.
FUNCTION_ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

RECORD_FUNCTION_MEMORY_MB = 128
RECORD_FUNCTION_TIMEOUT = Duration.seconds(30)
PRODUCER_MEMORY_MB = 256
PRODUCER_TIMEOUT = Duration.minutes(5)
#: Most tasks one invocation of a sharded producer sends (``runtime.sharding.DEFAULT_SHARD_SIZE``).
PRODUCER_SHARD_SIZE = 50_000
WORKER_MEMORY_MB = 256
WORKER_TIMEOUT = Duration.seconds(60)

NOTIFIER_MEMORY_MB = 128
NOTIFIER_TIMEOUT = Duration.seconds(10)

#: Asynchronous invocation of the scheduled function: Lambda's own retries of a
#: run whose code fails, and how long an event may wait (Lambda allows 0-2 and
#: 60 s-6 h; its defaults are 2 and 6 h).
FUNCTION_RETRY_ATTEMPTS = 2
FUNCTION_MAX_EVENT_AGE = Duration.hours(1)

# --- EventBridge Scheduler target --------------------------------------------
#: Retries of a delivery the Scheduler could not make (service: 0-185, default 185).
TARGET_RETRY_ATTEMPTS = 3
#: How long the Scheduler keeps trying (service: 60 s - 24 h, default 24 h).
TARGET_MAX_EVENT_AGE = Duration.hours(1)
#: The Scheduler's limit on the size of a target's input, in characters.
TARGET_INPUT_MAX_CHARS = 8192

# --- SQS --------------------------------------------------------------------
QUEUE_ENCRYPTION = sqs.QueueEncryption.SQS_MANAGED
DEAD_LETTER_RETENTION = Duration.days(14)
#: Receives of a task before it moves to the dead-letter queue.
MAX_RECEIVE_COUNT = 3
#: Lambda's SQS event source: batch size and its limits.
BATCH_SIZE = 10
#: Visibility timeout of the task queue relative to the worker's timeout (AWS
#: guidance: at least six times the function timeout, plus the batching window).
VISIBILITY_TIMEOUT_FACTOR = 6

#: Most static tasks in one schedule (they travel in its input).
MAX_STATIC_TASKS = 1000

# --- DynamoDB ---------------------------------------------------------------
TABLE_BILLING_MODE = dynamodb.BillingMode.PAY_PER_REQUEST
TABLE_ENCRYPTION = dynamodb.TableEncryption.AWS_MANAGED
TABLE_REMOVAL_POLICY = RemovalPolicy.RETAIN
#: The item attribute that holds the expiry time when ``item_ttl`` is set.
TTL_ATTRIBUTE = "expires_at"

#: How long a fan-out's run items are kept (the ledger's TTL): three months of history.
LEDGER_RETENTION = Duration.days(90)

# --- Runs -------------------------------------------------------------------
#: What a slot does while the previous run still runs: skip it, as cron users
#: with ``flock`` and Airflow's ``max_active_runs=1`` expect (two runs of one
#: job at once double its load and may race on the same data).
OVERLAP = "skip"
#: How long a run may take before it is late, and the longest a run holds the overlap lock.
RUN_DEADLINE = Duration.hours(1)
#: What a fan-out posts to its webhook: one summary per run (a run of 1,000
#: tasks posting one message each floods a channel and meets Slack's rate
#: limit of about one message a second).
WEBHOOK_MESSAGES = "summary"

# --- Watchdog ---------------------------------------------------------------
#: How often the watchdog compares the schedule with the run ledger: a missed
#: or late run is known within 15 minutes, for 2,920 invocations a month (730 hours).
WATCHDOG_INTERVAL = Duration.minutes(15)
#: How long after a slot (and its flexible window) a run may start before the
#: slot counts as missed: the Scheduler delivers within seconds, Lambda's
#: asynchronous queue may add a few minutes under load.
MISSED_RUN_GRACE = Duration.minutes(5)
WATCHDOG_MEMORY_MB = 256
WATCHDOG_TIMEOUT = Duration.minutes(2)
