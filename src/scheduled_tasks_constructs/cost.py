"""Monthly cost model of a scheduled-task system on AWS.

Turns a system's settings (what a construct deploys and how it is configured)
and a workload (how often it runs and how much work a run holds) into
requests, GB-seconds and dollars per month, line by line.

The model is deliberately small and every assumption is a named field with a
default, so that two designs can be compared under the same assumptions:

* **Prices** are us-east-1 list prices (:class:`UnitPrices`, with the date they
  were recorded). Volume tiers are not modelled: every line is far below the
  first tier boundary.
* **Free tiers are never applied, on either side.** They are per account and
  shared with everything else in it (Lambda: 1M requests and 400,000 GB-s a
  month; SQS: 1M requests; EventBridge Scheduler: 14M invocations; DynamoDB:
  25 provisioned WCU and RCU), so no single system can count on them.
* **Task time does not depend on memory.** ``seconds_per_task`` is the wall
  time of one task, the same at 128 MB as at 256 MB: right for I/O-bound tasks
  (an API call, a webhook post) and pessimistic for the larger memory size
  (a CPU-bound task would run faster there and cost about the same).
* **Full batches.** All tasks of a run are enqueued at once, so Lambda's SQS
  poller hands the worker full batches of ``worker_batch_size`` messages; each
  batch is one ``ReceiveMessage`` and one ``DeleteMessageBatch``.
* **Idle polling.** Lambda's SQS poller long-polls the queue around the clock
  whether or not it holds messages: ``idle_pollers`` pollers each make one
  ``ReceiveMessage`` every ``long_poll_seconds`` all month.
* **Cold starts.** Since August 2025 Lambda bills the init phase. When runs
  are far apart (``Workload.runs_start_cold``), every run starts the scheduled
  function once and the worker once per execution environment it uses. The
  watchdog starts cold on every check when its checks are at least
  ``Workload.idle_reclaim_minutes`` (15) apart, as the library's 15-minute
  default is.
* **The run ledger.** Every write is one request of an item under 1 KB (one
  write unit). The counts are those of the success path of the bundled
  handlers under ``overlap="skip"`` (``runtime.ledger``): a
  ``ScheduledLambdaToTable`` run is one conditional ``PutItem``; a fan-out
  run takes the overlap lock, claims the run and records the count sent (the
  producer), adds each worker batch's counts, then finishes the run and
  releases the lock (the last worker). Duplicate deliveries, retries and
  dead-lettered tasks write more and are not modelled.
* **The watchdog.** Each check (every ``watchdog_interval_minutes``) asks
  ``scheduler:GetSchedule`` whether the schedule is paused (not billed),
  makes the conditional ``PutItem`` that creates its state item on the first
  check (it fails afterwards, and a failed conditional write still bills a
  write unit), reads the state (strongly consistent), reads the ledger's
  items of the slots in its open window (``BatchGetItem``), writes the
  state back (``UpdateItem``) and logs one line (``runtime.watchdog``). Its
  metrics are published only for findings (``Workload.findings_per_month``),
  so a healthy month bills none; ``watchdog_ledger_read="scan"`` and
  ``watchdog_publishes_zeros`` model a watchdog that scans the whole ledger
  and publishes zeros.
* **Custom metrics** are billed pro rata for the hours in which they are
  published: a metric published in every hour costs a metric-month.

Nothing here imports ``aws_cdk``: the model runs anywhere.

Examples
--------
>>> workload = Workload(runs_per_month=900, tasks_per_run=1_000, seconds_per_task=0.2)
>>> ours = estimate_monthly_cost(SCHEDULED_TASK_FANOUT_DEFAULTS, workload)
>>> seed = estimate_monthly_cost(SEED_TASK_SCHEDULER, workload)
>>> ours.line("sqs.send").quantity, seed.line("sqs.send").quantity
(90000, 900000)
>>> ours.total < seed.total
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, Optional

Architecture = Literal["arm64", "x86_64"]
ScheduleSource = Literal["scheduler", "rule"]
QueueType = Literal["standard", "fifo"]
TableBilling = Literal["on_demand", "provisioned"]
WatchdogLedgerRead = Literal["batch_get", "scan"]

SQS_CHUNK_BYTES = 65_536
"""SQS bills each request per 64 KB chunk of its payload."""

DYNAMODB_WRITE_UNIT_BYTES = 1_024
"""One DynamoDB write unit covers an item of up to 1 KB."""

DYNAMODB_READ_UNIT_BYTES = 4_096
"""One DynamoDB read unit covers a strongly consistent read of up to 4 KB (an
eventually consistent read costs half a unit)."""

DYNAMODB_SCAN_PAGE_BYTES = 1_048_576
"""A ``Scan`` reads at most 1 MB of items per call (page)."""

LAMBDA_FULL_VCPU_MEMORY_MB = 1_769
"""Lambda memory size that comes with one full vCPU (CPU share scales with memory)."""

BYTES_PER_GB = 1_024**3

# The library's defaults, as the constructs set them (kept equal to
# ``scheduled_tasks_constructs._defaults`` by a test; this module does not
# import it because that module imports aws_cdk).
LIBRARY_ARCHITECTURE: Architecture = "arm64"
"""Architecture of every function the library creates."""
LIBRARY_RECORD_FUNCTION_MEMORY_MB = 128
"""Memory of ``ScheduledLambdaToTable``'s bundled function."""
LIBRARY_PRODUCER_MEMORY_MB = 256
"""Memory of ``ScheduledTaskFanout``'s producer ("send tasks") function."""
LIBRARY_WORKER_MEMORY_MB = 256
"""Memory of ``ScheduledTaskFanout``'s worker ("run task") function."""
LIBRARY_WORKER_BATCH_SIZE = 10
"""Batch size of the worker's SQS event source."""
LIBRARY_SEND_BATCH_SIZE = 10
"""Tasks per ``SendMessageBatch`` call (the SQS maximum)."""
LIBRARY_SEND_CONCURRENCY = 4
"""Concurrent ``SendMessageBatch`` calls of ``runtime.fanout.send_tasks``."""
LIBRARY_PRODUCER_SHARD_SIZE = 50_000
"""Shard size of a producer of your own (``producer_shard_size``, ``runtime.sharding.DEFAULT_SHARD_SIZE``)."""
LIBRARY_TABLE_ALARMS = 6
"""Alarms ``ScheduledLambdaToTable`` creates with its defaults (dead letters,
function errors, and the watchdog's: missed runs, late runs, failed runs,
watchdog errors)."""
LIBRARY_FANOUT_ALARMS = 8
"""Alarms ``ScheduledTaskFanout`` creates with its defaults (run and task dead
letters, producer and worker errors, and the watchdog's: missed runs, late
runs, failed runs, watchdog errors)."""
LIBRARY_WATCHDOG_ALARMS = 4
"""Of those, the alarms that come with the watchdog (missed, late and failed
runs, watchdog errors); ``watchdog=False`` leaves 2 and 4."""
LIBRARY_WATCHDOG_MEMORY_MB = 256
"""Memory of the watchdog function."""
LIBRARY_WATCHDOG_INTERVAL_MINUTES = 15
"""Minutes between two watchdog checks (``watchdog_interval``)."""
LIBRARY_LEDGER_RETENTION_DAYS = 90
"""How long a fan-out's run items are kept (``ledger_retention``, the ledger's TTL)."""
LIBRARY_OVERLAP = "skip"
"""The default ``overlap`` policy; under it every run takes and releases the
schedule's lock item in the ledger (two of a fan-out run's ledger writes)."""

WATCHDOG_METRICS = ("MissedRuns", "LateRuns", "FailedRuns")
"""The custom metrics the watchdog publishes (``runtime.watchdog.METRIC_NAMES``)."""
RUN_METRICS = ("RunSucceeded", "RunDuration")
"""Custom metrics a successful run publishes when the construct has a dashboard
(``RUN_METRICS=on``; ``runtime.ledger.run_metrics``)."""
TASK_METRICS = ("TasksSent", "TasksSucceeded", "TasksFailed", "TasksDeadLettered")
"""Custom metrics a fan-out run publishes besides :data:`RUN_METRICS`, zeros
included (``runtime.ledger.run_metrics``)."""
WATCHDOG_LOOKBACK_DAYS = 35
"""Days of slots a scanning watchdog evaluates (``runtime.watchdog.DEFAULT_LOOKBACK``)."""
WATCHDOG_MAX_SLOTS = 10_000
"""Most slots one watchdog evaluation considers (``runtime.watchdog.MAX_SLOTS``)."""


@dataclass(frozen=True)
class UnitPrices:
    """Unit prices, in US dollars, of the services a scheduled-task system uses.

    Parameters
    ----------
    region : str, optional
        Region the prices apply to. Default: ``"us-east-1"``.
    as_of : str, optional
        Date the prices were recorded (ISO-8601). Default: ``"2026-11-22"``.
    source : str, optional
        Where the prices come from.
    lambda_request_per_million : float, optional
        Lambda requests, per million. Default: 0.20.
    lambda_gb_second_arm64 : float, optional
        Lambda duration on arm64 (Graviton), per GB-second. Default: 0.0000133334.
    lambda_gb_second_x86_64 : float, optional
        Lambda duration on x86_64, per GB-second. Default: 0.0000166667.
    sqs_standard_request_per_million : float, optional
        SQS standard-queue requests (each 64 KB chunk of a request's payload
        is one request), per million. Default: 0.40.
    sqs_fifo_request_per_million : float, optional
        SQS FIFO-queue requests, per million. Default: 0.50.
    scheduler_invocation_per_million : float, optional
        EventBridge Scheduler invocations, per million. Default: 1.00 (the
        14M-a-month free tier is not applied; see the module notes).
    scheduled_rule_event_per_million : float, optional
        Events of an EventBridge scheduled rule on the default bus, per
        million. Default: 0.0 (events AWS generates itself are not charged).
    dynamodb_write_request_per_million : float, optional
        DynamoDB on-demand write request units, per million. Default: 0.625.
    dynamodb_read_request_per_million : float, optional
        DynamoDB on-demand read request units, per million (a strongly
        consistent read of up to 4 KB is one unit, an eventually consistent
        one half a unit). Default: 0.125.
    dynamodb_wcu_hour : float, optional
        DynamoDB provisioned write capacity, per WCU-hour. Default: 0.00065.
    dynamodb_rcu_hour : float, optional
        DynamoDB provisioned read capacity, per RCU-hour. Default: 0.00013.
    logs_ingestion_per_gb : float, optional
        CloudWatch Logs ingestion (standard class), per GB. Default: 0.50.
    alarm_per_month : float, optional
        CloudWatch standard-resolution metric alarm, per alarm-month. Default: 0.10.
    custom_metric_per_month : float, optional
        CloudWatch custom metric (first tier), per metric-month; billed pro
        rata for the hours in which the metric is published (Embedded Metric
        Format log lines included). Default: 0.30.
    dashboard_per_month : float, optional
        CloudWatch dashboard, per dashboard-month. Default: 3.00.
    hours_per_month : float, optional
        Hours in a billing month, for hourly and always-on lines. Default: 730.

    Examples
    --------
    >>> DEFAULT_PRICES.region, DEFAULT_PRICES.lambda_request_per_million
    ('us-east-1', 0.2)
    >>> DEFAULT_PRICES.gb_second("arm64") < DEFAULT_PRICES.gb_second("x86_64")
    True
    """

    region: str = "us-east-1"
    as_of: str = "2026-11-22"
    source: str = (
        "AWS public price lists for us-east-1 (aws.amazon.com/<service>/pricing for "
        "lambda, sqs, eventbridge, dynamodb and cloudwatch), first volume tier, "
        "free tiers excluded"
    )
    lambda_request_per_million: float = 0.20
    lambda_gb_second_arm64: float = 0.0000133334
    lambda_gb_second_x86_64: float = 0.0000166667
    sqs_standard_request_per_million: float = 0.40
    sqs_fifo_request_per_million: float = 0.50
    scheduler_invocation_per_million: float = 1.00
    scheduled_rule_event_per_million: float = 0.0
    dynamodb_write_request_per_million: float = 0.625
    dynamodb_read_request_per_million: float = 0.125
    dynamodb_wcu_hour: float = 0.00065
    dynamodb_rcu_hour: float = 0.00013
    logs_ingestion_per_gb: float = 0.50
    alarm_per_month: float = 0.10
    custom_metric_per_month: float = 0.30
    dashboard_per_month: float = 3.00
    hours_per_month: float = 730.0

    def gb_second(self, architecture: Architecture) -> float:
        """Price of one Lambda GB-second on ``architecture``.

        Parameters
        ----------
        architecture : {"arm64", "x86_64"}
            The function's instruction set architecture.

        Returns
        -------
        float
            Dollars per GB-second.

        Raises
        ------
        ValueError
            For any other architecture.

        Examples
        --------
        >>> DEFAULT_PRICES.gb_second("x86_64")
        1.66667e-05
        """
        if architecture == "arm64":
            return self.lambda_gb_second_arm64
        if architecture == "x86_64":
            return self.lambda_gb_second_x86_64
        raise ValueError(f"architecture must be 'arm64' or 'x86_64', got {architecture!r}")

    def sqs_request(self, queue_type: QueueType) -> float:
        """Price of one SQS request (one 64 KB chunk) on a ``queue_type`` queue.

        Parameters
        ----------
        queue_type : {"standard", "fifo"}
            The queue's type.

        Returns
        -------
        float
            Dollars per request.

        Raises
        ------
        ValueError
            For any other queue type.

        Examples
        --------
        >>> round(DEFAULT_PRICES.sqs_request("fifo") * 1e6, 2)
        0.5
        """
        if queue_type == "standard":
            return self.sqs_standard_request_per_million / 1e6
        if queue_type == "fifo":
            return self.sqs_fifo_request_per_million / 1e6
        raise ValueError(f"queue_type must be 'standard' or 'fifo', got {queue_type!r}")


DEFAULT_PRICES = UnitPrices()
"""us-east-1 list prices recorded on 2026-11-22."""


def _check_non_negative(owner: str, **values: float) -> None:
    problems = [
        f"{name} must be a non-negative number, got {value!r}"
        for name, value in values.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
    ]
    if problems:
        raise ValueError(f"{owner}: " + "; ".join(problems))


@dataclass(frozen=True)
class Workload:
    """How often a system runs and how much work one run holds.

    Parameters
    ----------
    runs_per_month : float
        Scheduled runs a month (30 a day is 900).
    tasks_per_run : int
        Tasks one run holds: messages a fan-out run enqueues, or units of work
        a single scheduled function does itself (0 when it only records the run).
    seconds_per_task : float
        Wall time of one task, at any memory size (see the module notes).
    bytes_per_task : int, optional
        Size of one task's SQS message body and attributes. Default: 256.
    aws_call_seconds : float, optional
        Round trip of one AWS API call made from a function (``SendMessage``,
        ``SendMessageBatch``, ``PutItem``). Default: 0.010, the latency the
        fan-out benchmark injects.
    handler_overhead_seconds : float, optional
        Billed time of one invocation besides its tasks and API calls
        (runtime hand-off, parsing, logging). Default: 0.005.
    init_seconds : float, optional
        Billed init phase of a cold start (Python runtime, handler module and
        boto3). Default: 0.3.
    runs_start_cold : bool, optional
        Whether runs are far enough apart that Lambda has reclaimed the
        execution environments in between, so that every run starts cold.
        Default: ``True``.
    item_bytes : int, optional
        Size of one item a run writes to a table, and of a run-ledger item.
        Default: 300.
    log_bytes_per_invocation : int, optional
        Log bytes ingested per invocation (Lambda's ``START``, ``END`` and
        ``REPORT`` lines plus a line of the handler's own), the watchdog's
        included. Default: 400.
    findings_per_month : float, optional
        Missed, late and failed runs the watchdog finds a month; each costs
        at most one metric-hour of custom metric. Default: 0 (a healthy month).
    idle_reclaim_minutes : float, optional
        Idle time after which Lambda is assumed to have reclaimed an execution
        environment: a watchdog whose checks are at least this far apart
        starts cold on every check. Default: 15.
    watchdog_seconds_per_slot : float, optional
        Billed time the watchdog spends per slot it evaluates, at its memory
        size: about 15 us of a full vCPU per slot (measured), times
        1769 / 256 for the 256 MB watchdog. Default: 0.0001.
    ledger_age_months : float, optional
        Months a ledger whose items never expire has been filling; only a
        watchdog that scans the whole ledger (``watchdog_ledger_read="scan"``)
        depends on it. Default: 12.

    Raises
    ------
    ValueError
        If a count or duration is negative. All problems are reported at once.

    Examples
    --------
    >>> w = Workload(runs_per_month=30 * 30, tasks_per_run=1_000, seconds_per_task=0.2)
    >>> w.tasks_per_month
    900000
    """

    runs_per_month: float
    tasks_per_run: int
    seconds_per_task: float
    bytes_per_task: int = 256
    aws_call_seconds: float = 0.010
    handler_overhead_seconds: float = 0.005
    init_seconds: float = 0.3
    runs_start_cold: bool = True
    item_bytes: int = 300
    log_bytes_per_invocation: int = 400
    findings_per_month: float = 0
    idle_reclaim_minutes: float = 15.0
    watchdog_seconds_per_slot: float = 0.0001
    ledger_age_months: float = 12.0

    def __post_init__(self) -> None:
        _check_non_negative(
            "Workload",
            runs_per_month=self.runs_per_month,
            tasks_per_run=self.tasks_per_run,
            seconds_per_task=self.seconds_per_task,
            bytes_per_task=self.bytes_per_task,
            aws_call_seconds=self.aws_call_seconds,
            handler_overhead_seconds=self.handler_overhead_seconds,
            init_seconds=self.init_seconds,
            item_bytes=self.item_bytes,
            log_bytes_per_invocation=self.log_bytes_per_invocation,
            findings_per_month=self.findings_per_month,
            idle_reclaim_minutes=self.idle_reclaim_minutes,
            watchdog_seconds_per_slot=self.watchdog_seconds_per_slot,
            ledger_age_months=self.ledger_age_months,
        )
        if not isinstance(self.tasks_per_run, int) or isinstance(self.tasks_per_run, bool):
            raise ValueError(
                f"Workload: tasks_per_run must be an integer, got {self.tasks_per_run!r}"
            )

    @property
    def tasks_per_month(self) -> float:
        """Tasks a month: ``runs_per_month * tasks_per_run``."""
        return self.runs_per_month * self.tasks_per_run


@dataclass(frozen=True)
class Settings:
    """What a scheduled-task system deploys, and how it is configured.

    One dataclass describes both shapes of system: a scheduled function that
    does its run's work itself (``fanout=False``, optionally recording the run
    in a table), and a producer that enqueues a run's tasks on an SQS queue
    for a worker function (``fanout=True``). Fields of the shape not in use
    are ignored.

    Parameters
    ----------
    name : str
        Label used in tables.
    architecture : {"arm64", "x86_64"}, optional
        Architecture of every function. Default: ``"arm64"``.
    schedule_source : {"scheduler", "rule"}, optional
        ``"scheduler"`` for an EventBridge Scheduler schedule (billed per
        invocation), ``"rule"`` for a scheduled EventBridge rule (not billed).
        Default: ``"scheduler"``.
    function_memory_mb : int, optional
        Memory of the scheduled function (the recorder, or the producer of a
        fan-out). Default: 128.
    table_billing : {"on_demand", "provisioned"} or None, optional
        Billing mode of the table the scheduled function writes to; ``None``
        for no table. Default: ``None``.
    table_read_capacity : int, optional
        Provisioned RCUs (``table_billing="provisioned"`` only). Default: 5.
    table_write_capacity : int, optional
        Provisioned WCUs (``table_billing="provisioned"`` only). Default: 5.
    table_writes_per_run : int, optional
        Writes the scheduled function makes to its table per run. Default: 1,
        the bundled ``record_run`` handler's one conditional ``PutItem`` of
        the run's ledger item, already ``succeeded``. Code of your own wrapped
        in ``runtime.ledger.track_run`` makes 4 under ``overlap="skip"`` (take
        the lock, claim the run, finish it, release the lock) and 2 under
        ``overlap="allow"`` (the claim and the finish).
    fanout : bool, optional
        Whether runs enqueue their tasks for a worker. Default: ``False``.
    send_batch_size : int, optional
        Tasks per send request: 10 for ``SendMessageBatch``, 1 for one
        ``SendMessage`` per task. Default: 10.
    send_concurrency : int, optional
        Send requests the producer has in flight at once. Default: 4.
    queue_type : {"standard", "fifo"}, optional
        Type of the task queue. Default: ``"standard"``.
    worker_memory_mb : int, optional
        Memory of the worker function. Default: 256.
    worker_batch_size : int, optional
        Batch size of the worker's SQS event source. Default: 10.
    worker_environments_per_run : int, optional
        Execution environments the worker spreads one run over (each starts
        cold when runs start cold). Default: 5, the number of batches Lambda's
        SQS poller starts with; 1 fits a FIFO queue with one message group.
    idle_pollers : int, optional
        Lambda SQS pollers long-polling the queue when it is empty. Default: 5.
    long_poll_seconds : int, optional
        Wait time of one long poll (Lambda's poller uses 20 s). Default: 20.
    alarms : int, optional
        CloudWatch alarms the system creates. Default: 0.
    ledger : bool, optional
        Whether the system keeps a run ledger (``runtime.ledger``), which the
        watchdog reads. With ``fanout=False`` the table is the ledger (its
        writes are ``table_writes_per_run``; ``table_billing`` must be set);
        with ``fanout=True`` it is an on-demand table of its own, billed in
        ``ledger.writes``. Default: ``False``.
    ledger_producer_writes : int, optional
        Ledger writes of a fan-out's producer per run: the overlap lock, the
        run's claim (``start_run``, two ``UpdateItem``) and the count sent
        (``finish_sending``, one ``UpdateItem``). Default: 3 (2 under
        ``overlap="allow"``, which takes no lock).
    ledger_batch_writes : int, optional
        Ledger writes per worker batch: one ``UpdateItem`` that ``ADD`` s the
        batch's counts (``record_batch``). Default: 1.
    ledger_finish_writes : int, optional
        Ledger writes of the worker that finishes a run: the conditional
        ``UpdateItem`` of its final status and the ``DeleteItem`` that
        releases the overlap lock. Default: 2 (1 under ``overlap="allow"``).
    ledger_retention_days : float or None, optional
        Lifetime of a ledger item (its TTL), or ``None`` when items never
        expire; only a scanning watchdog depends on it. Default: ``None``.
    watchdog_interval_minutes : int or None, optional
        Minutes between two watchdog checks (5 to 1440, as the constructs
        allow), or ``None`` for no watchdog. Needs ``ledger``. Default: ``None``.
    watchdog_memory_mb : int, optional
        Memory of the watchdog function. Default: 256.
    watchdog_aws_calls : int, optional
        AWS calls of one check, each ``aws_call_seconds`` of billed time:
        ``GetSchedule``, the state's ``GetItem``, the ledger's
        ``BatchGetItem`` and the state's ``UpdateItem``. Default: 4.
    watchdog_state_reads : int, optional
        Strongly consistent reads of the watchdog's state item (under 4 KB:
        one read unit each) per check. Default: 1.
    watchdog_state_writes : int, optional
        Writes of the watchdog's state item (under 1 KB: one write unit each)
        per check: the ``UpdateItem`` (the item is created with a
        ``PutItem`` on the first check only). Default: 1.
    watchdog_ledger_read : {"batch_get", "scan"}, optional
        How a check reads the ledger: ``"batch_get"``, a ``BatchGetItem`` of
        the slots in its open window (the runs since the last check plus
        one, half a read unit each: eventually consistent, under 4 KB); or
        ``"scan"``, a ``Scan`` of every item the ledger holds (half a unit per
        4 KB) that then evaluates up to :data:`WATCHDOG_MAX_SLOTS` slots of
        :data:`WATCHDOG_LOOKBACK_DAYS` days (the runtime scans only for a
        rate schedule without a start date, until it has found a first run).
        Default: ``"batch_get"``.
    watchdog_publishes_zeros : bool, optional
        Whether every check publishes its three metrics, zeros included
        (three metric-months), instead of only the counts of findings.
        Default: ``False``.
    dashboard : bool, optional
        Whether the system has a CloudWatch dashboard; its functions then
        publish ``run_metrics`` custom metrics per run (plus
        ``task_metrics`` for a fan-out). Default: ``False``.
    run_metrics : int, optional
        Custom metrics every successful run publishes with a dashboard
        (:data:`RUN_METRICS`: ``RunSucceeded``, ``RunDuration``). Default: 2.
    task_metrics : int, optional
        Custom metrics a fan-out run publishes besides those, zeros included
        (:data:`TASK_METRICS`: ``TasksSent``, ``TasksSucceeded``,
        ``TasksFailed``, ``TasksDeadLettered``). Default: 4.
    producer_shard_size : int or None, optional
        With ``fanout=True``: most tasks one producer invocation sends
        (``runtime.sharding.sharded_producer``, ``producer_shard_size`` of the
        construct). A run of more tasks is planned by the scheduled
        invocation and sent by ``ceil(n / shard_size)`` shard invocations (at
        most 1,000; larger shards beyond), each one more Lambda request, its
        own send time and init, and its ledger writes: the plan, one mark
        per shard handed on, then per shard its claim, a checkpoint every
        10,000 tasks and its completion, and one write that ends the
        sending. ``None``: one invocation sends every task (the bundled
        producer). Default: ``None``.

    Raises
    ------
    ValueError
        If a field is out of range. All problems are reported at once.

    Examples
    --------
    >>> from dataclasses import replace
    >>> replace(SCHEDULED_TASK_FANOUT_DEFAULTS, worker_memory_mb=512).worker_memory_mb
    512
    """

    name: str
    architecture: Architecture = "arm64"
    schedule_source: ScheduleSource = "scheduler"
    function_memory_mb: int = 128
    table_billing: Optional[TableBilling] = None
    table_read_capacity: int = 5
    table_write_capacity: int = 5
    table_writes_per_run: int = 1
    fanout: bool = False
    send_batch_size: int = 10
    send_concurrency: int = LIBRARY_SEND_CONCURRENCY
    queue_type: QueueType = "standard"
    worker_memory_mb: int = 256
    worker_batch_size: int = 10
    worker_environments_per_run: int = 5
    idle_pollers: int = 5
    long_poll_seconds: int = 20
    alarms: int = 0
    ledger: bool = False
    ledger_producer_writes: int = 3
    ledger_batch_writes: int = 1
    ledger_finish_writes: int = 2
    ledger_retention_days: Optional[float] = None
    watchdog_interval_minutes: Optional[int] = None
    watchdog_memory_mb: int = LIBRARY_WATCHDOG_MEMORY_MB
    watchdog_aws_calls: int = 4
    watchdog_state_reads: int = 1
    watchdog_state_writes: int = 1
    watchdog_ledger_read: WatchdogLedgerRead = "batch_get"
    watchdog_publishes_zeros: bool = False
    dashboard: bool = False
    run_metrics: int = len(RUN_METRICS)
    task_metrics: int = len(TASK_METRICS)
    producer_shard_size: Optional[int] = None

    def __post_init__(self) -> None:
        problems = []
        if self.architecture not in ("arm64", "x86_64"):
            problems.append(f"architecture must be 'arm64' or 'x86_64', got {self.architecture!r}")
        if self.schedule_source not in ("scheduler", "rule"):
            problems.append(
                f"schedule_source must be 'scheduler' or 'rule', got {self.schedule_source!r}"
            )
        if self.queue_type not in ("standard", "fifo"):
            problems.append(f"queue_type must be 'standard' or 'fifo', got {self.queue_type!r}")
        if self.table_billing not in (None, "on_demand", "provisioned"):
            problems.append(
                "table_billing must be None, 'on_demand' or 'provisioned', "
                f"got {self.table_billing!r}"
            )
        for name in ("function_memory_mb", "worker_memory_mb", "watchdog_memory_mb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 128 <= value <= 10_240:
                problems.append(f"{name} must be an integer between 128 and 10240, got {value!r}")
        if not (isinstance(self.send_batch_size, int) and 1 <= self.send_batch_size <= 10):
            problems.append(f"send_batch_size must be between 1 and 10, got {self.send_batch_size!r}")
        if not (isinstance(self.worker_batch_size, int) and 1 <= self.worker_batch_size <= 10_000):
            problems.append(
                f"worker_batch_size must be between 1 and 10000, got {self.worker_batch_size!r}"
            )
        shard = self.producer_shard_size
        if shard is not None and (isinstance(shard, bool) or not isinstance(shard, int) or shard < 1):
            problems.append(f"producer_shard_size must be None or a positive integer, got {shard!r}")
        for name in ("send_concurrency", "worker_environments_per_run", "long_poll_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        for name in (
            "table_read_capacity",
            "table_write_capacity",
            "table_writes_per_run",
            "idle_pollers",
            "alarms",
            "ledger_producer_writes",
            "ledger_batch_writes",
            "ledger_finish_writes",
            "watchdog_aws_calls",
            "watchdog_state_reads",
            "watchdog_state_writes",
            "run_metrics",
            "task_metrics",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("fanout", "ledger", "watchdog_publishes_zeros", "dashboard"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                problems.append(f"{name} must be True or False, got {value!r}")
        retention = self.ledger_retention_days
        if retention is not None and (
            isinstance(retention, bool) or not isinstance(retention, (int, float)) or not retention > 0
        ):
            problems.append(f"ledger_retention_days must be None or a positive number, got {retention!r}")
        if self.watchdog_ledger_read not in ("batch_get", "scan"):
            problems.append(
                f"watchdog_ledger_read must be 'batch_get' or 'scan', got {self.watchdog_ledger_read!r}"
            )
        interval = self.watchdog_interval_minutes
        if interval is not None:
            if isinstance(interval, bool) or not isinstance(interval, int) or not 5 <= interval <= 1_440:
                problems.append(
                    "watchdog_interval_minutes must be None or a whole number of minutes between "
                    f"5 and 1440, got {interval!r}"
                )
            elif self.ledger is not True:
                problems.append(
                    "watchdog_interval_minutes needs a run ledger to watch, got it with ledger=False"
                )
        if self.ledger is True and self.fanout is False and self.table_billing is None:
            problems.append(
                "ledger: without a fan-out the table is the ledger, got ledger=True with table_billing=None"
            )
        if problems:
            raise ValueError("Settings: " + "; ".join(problems))


SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS = Settings(
    name="ScheduledLambdaToTable (library defaults)",
    architecture=LIBRARY_ARCHITECTURE,
    schedule_source="scheduler",
    function_memory_mb=LIBRARY_RECORD_FUNCTION_MEMORY_MB,
    table_billing="on_demand",
    table_writes_per_run=1,
    alarms=LIBRARY_TABLE_ALARMS,
    ledger=True,
    watchdog_interval_minutes=LIBRARY_WATCHDOG_INTERVAL_MINUTES,
    watchdog_memory_mb=LIBRARY_WATCHDOG_MEMORY_MB,
)
"""``ScheduledLambdaToTable`` as deployed with its defaults: a Scheduler
schedule, an arm64 function of 128 MB, an on-demand table that is the run
ledger (one conditional ``PutItem`` a run, items kept), a watchdog of 256 MB
every 15 minutes, and six alarms."""

SCHEDULED_TASK_FANOUT_DEFAULTS = Settings(
    name="ScheduledTaskFanout (library defaults)",
    architecture=LIBRARY_ARCHITECTURE,
    schedule_source="scheduler",
    function_memory_mb=LIBRARY_PRODUCER_MEMORY_MB,
    fanout=True,
    send_batch_size=LIBRARY_SEND_BATCH_SIZE,
    send_concurrency=LIBRARY_SEND_CONCURRENCY,
    queue_type="standard",
    worker_memory_mb=LIBRARY_WORKER_MEMORY_MB,
    worker_batch_size=LIBRARY_WORKER_BATCH_SIZE,
    worker_environments_per_run=5,
    alarms=LIBRARY_FANOUT_ALARMS,
    ledger=True,
    ledger_producer_writes=3,
    ledger_batch_writes=1,
    ledger_finish_writes=2,
    ledger_retention_days=LIBRARY_LEDGER_RETENTION_DAYS,
    watchdog_interval_minutes=LIBRARY_WATCHDOG_INTERVAL_MINUTES,
    watchdog_memory_mb=LIBRARY_WATCHDOG_MEMORY_MB,
)
"""``ScheduledTaskFanout`` as deployed with its defaults: a Scheduler schedule,
an arm64 producer of 256 MB sending ``SendMessageBatch`` calls of 10, 4 at a
time, to a standard queue, an arm64 worker of 256 MB taking batches of 10, an
on-demand run ledger (``overlap="skip"``: 5 writes a run plus one a batch,
items kept 90 days), a watchdog of 256 MB every 15 minutes, and eight alarms."""

SEED_SCHEDULED_LAMBDA = Settings(
    name="the-scheduled-lambda (seed design)",
    architecture="x86_64",
    schedule_source="rule",
    function_memory_mb=128,
    table_billing="provisioned",
    table_read_capacity=5,
    table_write_capacity=5,
)
"""The "scheduled Lambda" design this library replaces: a scheduled EventBridge
rule, an x86_64 function with Lambda's default 128 MB, and an ``aws_dynamodb.Table``
with aws-cdk-lib's default billing (provisioned, 5 RCU and 5 WCU)."""

SEED_TASK_SCHEDULER = Settings(
    name="serverless-task-scheduler (seed design)",
    architecture="x86_64",
    schedule_source="scheduler",
    function_memory_mb=128,
    fanout=True,
    send_batch_size=1,
    send_concurrency=1,
    queue_type="fifo",
    worker_memory_mb=128,
    worker_batch_size=1,
    worker_environments_per_run=1,
)
"""The "serverless task scheduler" design this library replaces: a Scheduler
schedule, an x86_64 producer with Lambda's default 128 MB calling
``SendMessage`` once per task in a loop, a FIFO queue with one message group
(so one batch is in flight at a time), and an x86_64 worker of 128 MB with an
SQS event source of batch size 1."""


@dataclass(frozen=True)
class CostLine:
    """One line of a cost estimate.

    Parameters
    ----------
    key : str
        Stable identifier, such as ``"worker.duration"`` or ``"sqs.send"``;
        the same key names the same line in every estimate.
    description : str
        What the line counts.
    quantity : float
        Billed units a month.
    unit : str
        Unit of ``quantity``: ``"requests"``, ``"invocations"``,
        ``"GB-seconds"``, ``"write units"``, ``"read units"``,
        ``"capacity unit-hours"``, ``"GB"``, ``"metric-months"``,
        ``"dashboards"`` or ``"alarms"``.
    dollars : float
        Cost a month.

    Examples
    --------
    >>> CostLine("sqs.send", "send requests", 10.0, "requests", 4e-06).dollars
    4e-06
    """

    key: str
    description: str
    quantity: float
    unit: str
    dollars: float


REQUEST_UNITS = frozenset({"requests", "invocations", "write units", "read units"})
"""Units of the lines that count calls to a service."""


@dataclass(frozen=True)
class CostEstimate:
    """A monthly cost estimate, line by line.

    Parameters
    ----------
    settings : Settings
        The system estimated.
    workload : Workload
        The workload estimated.
    prices : UnitPrices
        The prices used.
    lines : tuple of CostLine
        Every billed line, in a fixed order.

    Examples
    --------
    >>> w = Workload(runs_per_month=1_000, tasks_per_run=0, seconds_per_task=0.0)
    >>> e = estimate_monthly_cost(SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, w)
    >>> e.line("schedule").quantity
    1000
    >>> round(e.total, 6) == round(sum(line.dollars for line in e.lines), 6)
    True
    """

    settings: Settings
    workload: Workload
    prices: UnitPrices
    lines: tuple[CostLine, ...]

    @property
    def total(self) -> float:
        """Dollars a month, all lines together."""
        return math.fsum(line.dollars for line in self.lines)

    @property
    def requests(self) -> float:
        """Calls to AWS services a month (requests, invocations, write and read units)."""
        return math.fsum(line.quantity for line in self.lines if line.unit in REQUEST_UNITS)

    @property
    def gb_seconds(self) -> float:
        """Lambda GB-seconds a month, all functions together."""
        return math.fsum(line.quantity for line in self.lines if line.unit == "GB-seconds")

    def line(self, key: str) -> CostLine:
        """Return the line named ``key``.

        Parameters
        ----------
        key : str
            A line key such as ``"sqs.send"``.

        Returns
        -------
        CostLine
            The line.

        Raises
        ------
        KeyError
            If the estimate has no such line; the message lists the keys it has.
        """
        for candidate in self.lines:
            if candidate.key == key:
                return candidate
        raise KeyError(f"no line {key!r}; lines: {', '.join(l.key for l in self.lines)}")

    def dollars(self, key: str) -> float:
        """Dollars of line ``key``, 0.0 when the estimate has no such line.

        Parameters
        ----------
        key : str
            A line key.

        Returns
        -------
        float
            The line's dollars a month.
        """
        for candidate in self.lines:
            if candidate.key == key:
                return candidate.dollars
        return 0.0

    def format_table(self) -> str:
        """Render the estimate as a plain-text table.

        Returns
        -------
        str
            One row per line (key, quantity, unit, dollars) and a total row.
        """
        rows = [
            f"  {l.key:<20} {_fmt_qty(l.quantity):>14} {l.unit:<20} ${l.dollars:>10.4f}"
            for l in self.lines
        ]
        header = f"{self.settings.name}: ${self.total:.4f}/month"
        return "\n".join([header, *rows, f"  {'total':<20} {'':>14} {'':<20} ${self.total:>10.4f}"])


_SHARD_CHECKPOINT_TASKS = 10_000  # runtime.fanout.DEFAULT_PROGRESS_EVERY
_MAX_SHARDS = 1_000  # runtime.sharding.MAX_SHARDS


def shard_sizes(tasks: int, shard_size: Optional[int]) -> list[int]:
    """The task counts of a run's shards, as ``runtime.sharding.shard_ranges`` plans them; none when one invocation sends the run.

    Examples
    --------
    >>> shard_sizes(250_000, 100_000)
    [100000, 100000, 50000]
    >>> shard_sizes(25, 100), len(shard_sizes(10_000_000, 1_000))
    ([], 1000)
    """
    if shard_size is None or tasks <= shard_size:
        return []
    size = max(shard_size, -(-tasks // _MAX_SHARDS))
    return [min(size, tasks - start) for start in range(0, tasks, size)]


def _fmt_qty(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 10:
        return f"{value:,.3f}"
    return f"{value:,.1f}"


def _sqs_chunks(payload_bytes: int) -> int:
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def _batched_chunks(tasks: int, batch_size: int, bytes_per_task: int) -> tuple[int, int]:
    """Return (calls, billed requests) for ``tasks`` sent or received in batches."""
    full, rest = divmod(tasks, batch_size)
    calls = full + (1 if rest else 0)
    billed = full * _sqs_chunks(batch_size * bytes_per_task)
    if rest:
        billed += _sqs_chunks(rest * bytes_per_task)
    return calls, billed


def _count(value: float) -> float:
    # Whole counts stay integers in tables; fractional run counts stay as they are.
    return int(value) if float(value).is_integer() else value


def estimate_monthly_cost(
    settings: Settings, workload: Workload, prices: UnitPrices = DEFAULT_PRICES
) -> CostEstimate:
    """Estimate what ``settings`` cost a month under ``workload``.

    Parameters
    ----------
    settings : Settings
        The system: a preset such as :data:`SCHEDULED_TASK_FANOUT_DEFAULTS`,
        or one built with :func:`dataclasses.replace`.
    workload : Workload
        Runs a month, tasks a run, seconds a task.
    prices : UnitPrices, optional
        Unit prices. Default: :data:`DEFAULT_PRICES` (us-east-1).

    Returns
    -------
    CostEstimate
        Lines, in this order (lines that do not apply are left out):
        ``schedule``; ``function.requests``, ``function.duration``,
        ``function.init``; for a table ``dynamodb.writes`` or
        ``dynamodb.capacity``; for a fan-out ``sqs.send``, ``sqs.receive``,
        ``sqs.delete``, ``sqs.idle_receive``, ``worker.requests``,
        ``worker.duration``, ``worker.init``, and with a ledger
        ``ledger.writes``; with a watchdog ``watchdog.schedule``,
        ``watchdog.requests``, ``watchdog.duration``, ``watchdog.init``,
        ``watchdog.reads``, ``watchdog.writes``; with a watchdog or a
        dashboard ``cloudwatch.metrics``; with a dashboard
        ``cloudwatch.dashboard``; then ``logs.ingestion`` and
        ``cloudwatch.alarms``.

    Notes
    -----
    Per run, with ``n = tasks_per_run``:

    * the scheduled function bills ``overhead + seconds`` at its memory, where
      ``seconds`` is ``n * seconds_per_task`` plus one API call per table write
      (no fan-out), or ``ceil(ceil(n / send_batch_size) / send_concurrency)``
      API calls (fan-out: the producer's send requests, ``send_concurrency``
      at a time) plus one per ledger write of the producer;
    * a fan-out bills ``ceil(n / send_batch_size)`` send requests,
      ``ceil(n / worker_batch_size)`` worker invocations, each with one receive
      and one delete request, and ``n * seconds_per_task`` of worker time plus
      ``overhead`` per invocation and one API call per ledger write; SQS
      requests count one per 64 KB chunk;
    * a fan-out's ledger bills ``ledger_producer_writes +
      batches * ledger_batch_writes + ledger_finish_writes`` writes of
      ``ceil(item_bytes / 1 KB)`` write units;
    * cold starts (when ``runs_start_cold``) bill ``init_seconds`` once for the
      scheduled function and once per worker environment,
      ``min(worker_environments_per_run, invocations)``.

    The watchdog makes ``checks = hours_per_month * 60 /
    watchdog_interval_minutes`` checks a month (2,920 at 15 minutes). Each
    is one Scheduler invocation and one Lambda request (the watchdog's schedule
    is a Scheduler schedule whatever ``schedule_source`` says) billing
    ``overhead + watchdog_aws_calls * aws_call_seconds + slots *
    watchdog_seconds_per_slot`` at ``watchdog_memory_mb``, plus
    ``init_seconds`` when checks are at least ``idle_reclaim_minutes`` apart;
    ``watchdog_state_reads`` read units and ``watchdog_state_writes`` write
    units of its state item; and the ledger's read: with ``"batch_get"``,
    ``slots = runs / checks + 1`` items at half a read unit each; with
    ``"scan"``, half a unit per 4 KB of every item the ledger holds (the
    runs of ``min(ledger_age_months, ledger_retention_days)``, plus the state
    item), one call per 1 MB page, and ``slots`` up to
    :data:`WATCHDOG_MAX_SLOTS` of :data:`WATCHDOG_LOOKBACK_DAYS` days. On a
    provisioned table the watchdog's reads and writes are in
    ``dynamodb.capacity``.

    Custom metrics bill the hours in which they are published: the
    watchdog's one metric-hour per finding (or, when it publishes zeros, its
    three metrics in every hour with a check); with a dashboard,
    ``run_metrics`` (plus ``task_metrics`` for a fan-out) for
    ``min(1, runs / hours_per_month)`` of the month each.

    Idle polling, provisioned table capacity, the dashboard and alarms are
    monthly and do not depend on the workload.

    Examples
    --------
    A run every two minutes that records one item:

    >>> w = Workload(runs_per_month=21_600, tasks_per_run=0, seconds_per_task=0.0,
    ...              runs_start_cold=False)
    >>> ours = estimate_monthly_cost(SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, w)
    >>> seed = estimate_monthly_cost(SEED_SCHEDULED_LAMBDA, w)
    >>> round(ours.dollars("dynamodb.writes"), 4), round(seed.dollars("dynamodb.capacity"), 4)
    (0.0135, 2.847)

    Its watchdog checks 2,920 times a month, each reading its state item and
    the slots since the last check:

    >>> ours.line("watchdog.requests").quantity
    2920
    >>> round(ours.line("watchdog.reads").quantity / 2920, 4)  # 1 + 0.5 * (21,600 / 2,920 + 1)
    5.1986
    """
    s, w, p = settings, workload, prices
    runs = w.runs_per_month
    n = w.tasks_per_run
    call = w.aws_call_seconds
    gb_price = p.gb_second(s.architecture)
    write_units = math.ceil(w.item_bytes / DYNAMODB_WRITE_UNIT_BYTES) if w.item_bytes else 1
    fanout_ledger = s.fanout and s.ledger
    lines: list[CostLine] = []

    def add(key: str, description: str, quantity: float, unit: str, unit_price: float) -> None:
        lines.append(CostLine(key, description, _count(quantity), unit, quantity * unit_price))

    # Schedule.
    if s.schedule_source == "scheduler":
        add("schedule", "EventBridge Scheduler invocations", runs, "invocations",
            p.scheduler_invocation_per_million / 1e6)
    else:
        add("schedule", "EventBridge scheduled-rule events", runs, "invocations",
            p.scheduled_rule_event_per_million / 1e6)

    # The scheduled function (recorder or producer).
    batches = 0
    shards = shard_sizes(n, s.producer_shard_size) if s.fanout else []
    producer_invocations = 1 + len(shards)
    shard_ledger_writes = 0
    if s.fanout and shards:
        send_calls, send_billed = _batched_chunks(n, s.send_batch_size, w.bytes_per_task)
        batches = _batched_chunks(n, s.worker_batch_size, w.bytes_per_task)[0]
        # The planner hands the shards on, send_concurrency at a time (an Invoke, then a ledger mark).
        function_work = math.ceil(len(shards) / s.send_concurrency) * (2 if fanout_ledger else 1) * call
        for size in shards:
            function_work += math.ceil(math.ceil(size / s.send_batch_size) / s.send_concurrency) * call
        if fanout_ledger:
            checkpoints = sum((size - 1) // _SHARD_CHECKPOINT_TASKS for size in shards)
            # the producer's own writes but finish_sending; the plan; a mark, a claim and a completion per shard; the end.
            shard_ledger_writes = s.ledger_producer_writes - 1 + 1 + 3 * len(shards) + checkpoints + 1
            function_work += (shard_ledger_writes - len(shards)) * call
    elif s.fanout:
        send_calls, send_billed = _batched_chunks(n, s.send_batch_size, w.bytes_per_task)
        batches = _batched_chunks(n, s.worker_batch_size, w.bytes_per_task)[0]
        function_work = math.ceil(send_calls / s.send_concurrency) * call
        if fanout_ledger:
            function_work += s.ledger_producer_writes * call
            if batches == 0:
                # No task to work off: the producer's own update finishes the run.
                function_work += s.ledger_finish_writes * call
    else:
        send_calls = send_billed = 0
        function_work = n * w.seconds_per_task
    if s.table_billing is not None:
        function_work += s.table_writes_per_run * call
    function_gb = s.function_memory_mb / 1024
    of_shards = f" (the run and {len(shards)} shards)" if shards else ""
    add("function.requests", f"scheduled function: Lambda requests{of_shards}", runs * producer_invocations,
        "requests", p.lambda_request_per_million / 1e6)
    add("function.duration", "scheduled function: duration",
        runs * (producer_invocations * w.handler_overhead_seconds + function_work) * function_gb,
        "GB-seconds", gb_price)
    if w.runs_start_cold:
        add("function.init", "scheduled function: cold-start init",
            runs * producer_invocations * w.init_seconds * function_gb, "GB-seconds", gb_price)

    # Table.
    if s.table_billing == "on_demand":
        add("dynamodb.writes", "DynamoDB on-demand write units",
            runs * s.table_writes_per_run * write_units, "write units",
            p.dynamodb_write_request_per_million / 1e6)
    elif s.table_billing == "provisioned":
        wcu_hours = s.table_write_capacity * p.hours_per_month
        rcu_hours = s.table_read_capacity * p.hours_per_month
        lines.append(CostLine(
            "dynamodb.capacity",
            f"DynamoDB provisioned capacity ({s.table_write_capacity} WCU, "
            f"{s.table_read_capacity} RCU, all month)",
            _count(wcu_hours + rcu_hours), "capacity unit-hours",
            wcu_hours * p.dynamodb_wcu_hour + rcu_hours * p.dynamodb_rcu_hour,
        ))

    invocations = 0.0
    if s.fanout:
        sqs_price = p.sqs_request(s.queue_type)
        receive_billed = _batched_chunks(n, s.worker_batch_size, w.bytes_per_task)[1]
        invocations = runs * batches
        kind = "SendMessageBatch" if s.send_batch_size > 1 else "SendMessage"
        add("sqs.send", f"SQS {kind} requests ({s.queue_type})", runs * send_billed,
            "requests", sqs_price)
        add("sqs.receive", f"SQS ReceiveMessage requests ({s.queue_type})",
            runs * receive_billed, "requests", sqs_price)
        add("sqs.delete", f"SQS delete requests ({s.queue_type})", invocations, "requests",
            sqs_price)
        idle = s.idle_pollers * p.hours_per_month * 3600 / s.long_poll_seconds
        add("sqs.idle_receive", f"SQS empty long polls of {s.idle_pollers} idle pollers",
            idle, "requests", sqs_price)
        worker_gb = s.worker_memory_mb / 1024
        worker_calls = 0
        if fanout_ledger and batches:
            worker_calls = batches * s.ledger_batch_writes + s.ledger_finish_writes
        add("worker.requests", "worker: Lambda requests", invocations, "requests",
            p.lambda_request_per_million / 1e6)
        add("worker.duration", "worker: duration",
            runs * (batches * w.handler_overhead_seconds + n * w.seconds_per_task
                    + worker_calls * call) * worker_gb,
            "GB-seconds", gb_price)
        if w.runs_start_cold:
            environments = min(s.worker_environments_per_run, batches)
            add("worker.init", "worker: cold-start init",
                runs * environments * w.init_seconds * worker_gb, "GB-seconds", gb_price)
        if fanout_ledger:
            producer_writes = shard_ledger_writes if shards else s.ledger_producer_writes
            writes = producer_writes + batches * s.ledger_batch_writes + s.ledger_finish_writes
            add("ledger.writes",
                f"run ledger: on-demand write units ({writes} writes a run)",
                runs * writes * write_units, "write units",
                p.dynamodb_write_request_per_million / 1e6)

    # Watchdog.
    checks = 0.0
    if s.watchdog_interval_minutes is not None:
        checks = p.hours_per_month * 60 / s.watchdog_interval_minutes
        if s.watchdog_ledger_read == "batch_get":
            slots = runs / checks + 1
            ledger_read_units = 0.5 * slots
            calls = s.watchdog_aws_calls
        else:
            retained_months = w.ledger_age_months
            if s.ledger_retention_days is not None:
                retained_months = min(retained_months, s.ledger_retention_days * 24 / p.hours_per_month)
            ledger_bytes = (runs * retained_months + 1) * w.item_bytes
            ledger_read_units = 0.5 * math.ceil(ledger_bytes / DYNAMODB_READ_UNIT_BYTES)
            calls = s.watchdog_aws_calls + max(1, math.ceil(ledger_bytes / DYNAMODB_SCAN_PAGE_BYTES)) - 1
            slots = min(WATCHDOG_MAX_SLOTS, runs * WATCHDOG_LOOKBACK_DAYS * 24 / p.hours_per_month)
        watchdog_gb = s.watchdog_memory_mb / 1024
        add("watchdog.schedule", "watchdog: EventBridge Scheduler invocations", checks, "invocations",
            p.scheduler_invocation_per_million / 1e6)
        add("watchdog.requests", "watchdog: Lambda requests", checks, "requests",
            p.lambda_request_per_million / 1e6)
        add("watchdog.duration", "watchdog: duration",
            checks * (w.handler_overhead_seconds + calls * call + slots * w.watchdog_seconds_per_slot)
            * watchdog_gb, "GB-seconds", gb_price)
        if s.watchdog_interval_minutes >= w.idle_reclaim_minutes:
            add("watchdog.init", "watchdog: cold-start init (every check)",
                checks * w.init_seconds * watchdog_gb, "GB-seconds", gb_price)
        if s.fanout or s.table_billing == "on_demand":
            how = "BatchGetItem of its window" if s.watchdog_ledger_read == "batch_get" else "Scan of the ledger"
            add("watchdog.reads", f"watchdog: on-demand read units (state GetItem, {how})",
                checks * (s.watchdog_state_reads + ledger_read_units), "read units",
                p.dynamodb_read_request_per_million / 1e6)
            add("watchdog.writes", "watchdog: on-demand write units (its state item)",
                checks * s.watchdog_state_writes, "write units",
                p.dynamodb_write_request_per_million / 1e6)

    # Custom metrics and the dashboard.
    if s.watchdog_interval_minutes is not None or s.dashboard:
        metric_months = 0.0
        published = []
        if s.watchdog_interval_minutes is not None:
            hours = p.hours_per_month
            if s.watchdog_publishes_zeros:
                metric_months += len(WATCHDOG_METRICS) * min(hours, checks) / hours
                published.append("the watchdog's 3 on every check")
            else:
                metric_months += min(w.findings_per_month, len(WATCHDOG_METRICS) * hours) / hours
                published.append(f"{_fmt_qty(w.findings_per_month)} watchdog findings")
        if s.dashboard:
            per_run = s.run_metrics + (s.task_metrics if s.fanout else 0)
            metric_months += per_run * min(1.0, runs / p.hours_per_month)
            published.append(f"{per_run} run metrics")
        add("cloudwatch.metrics", f"CloudWatch custom metrics ({', '.join(published)})",
            metric_months, "metric-months", p.custom_metric_per_month)
    if s.dashboard:
        add("cloudwatch.dashboard", "CloudWatch dashboard", 1, "dashboards", p.dashboard_per_month)

    log_gb = (runs + invocations + checks) * w.log_bytes_per_invocation / BYTES_PER_GB
    lines.append(CostLine("logs.ingestion", "CloudWatch Logs ingestion", log_gb, "GB",
                          log_gb * p.logs_ingestion_per_gb))
    if s.alarms:
        add("cloudwatch.alarms", "CloudWatch alarms", s.alarms, "alarms", p.alarm_per_month)

    return CostEstimate(settings=s, workload=w, prices=p, lines=tuple(lines))


@dataclass(frozen=True)
class LineDifference:
    """How one line differs between two estimates.

    Parameters
    ----------
    key : str
        The line's key.
    baseline : float
        Dollars a month in the baseline (0.0 when it has no such line).
    candidate : float
        Dollars a month in the candidate (0.0 when it has no such line).

    Examples
    --------
    >>> round(LineDifference("sqs.send", 0.45, 0.036).saving, 3)
    0.414
    """

    key: str
    baseline: float
    candidate: float

    @property
    def saving(self) -> float:
        """``baseline - candidate``: positive when the candidate is cheaper."""
        return self.baseline - self.candidate


def compare(baseline: CostEstimate, candidate: CostEstimate) -> list[LineDifference]:
    """Line-by-line differences between two estimates, largest saving first.

    Parameters
    ----------
    baseline : CostEstimate
        The design compared against (for example a seed's design).
    candidate : CostEstimate
        The design compared (for example the library's defaults).

    Returns
    -------
    list of LineDifference
        One entry per line key present in either estimate, sorted by
        ``saving``, largest first.

    Examples
    --------
    >>> w = Workload(runs_per_month=900, tasks_per_run=1_000, seconds_per_task=0.2)
    >>> diffs = compare(estimate_monthly_cost(SEED_TASK_SCHEDULER, w),
    ...                 estimate_monthly_cost(SCHEDULED_TASK_FANOUT_DEFAULTS, w))
    >>> [d.key for d in diffs[:3]]
    ['sqs.send', 'sqs.receive', 'sqs.delete']
    """
    keys = [l.key for l in baseline.lines]
    keys += [l.key for l in candidate.lines if l.key not in keys]
    diffs = [LineDifference(k, baseline.dollars(k), candidate.dollars(k)) for k in keys]
    return sorted(diffs, key=lambda d: d.saving, reverse=True)


def settings_differences(baseline: Settings, candidate: Settings) -> list[tuple[str, object, object]]:
    """The settings fields (other than ``name``) whose values differ.

    Parameters
    ----------
    baseline, candidate : Settings
        The two systems.

    Returns
    -------
    list of tuple
        ``(field, baseline value, candidate value)`` in field order.

    Examples
    --------
    >>> settings_differences(SEED_TASK_SCHEDULER, SCHEDULED_TASK_FANOUT_DEFAULTS)[0]
    ('architecture', 'x86_64', 'arm64')
    """
    return [
        (f.name, getattr(baseline, f.name), getattr(candidate, f.name))
        for f in fields(Settings)
        if f.name != "name" and getattr(baseline, f.name) != getattr(candidate, f.name)
    ]


__all__ = [
    "DEFAULT_PRICES",
    "DYNAMODB_READ_UNIT_BYTES",
    "DYNAMODB_SCAN_PAGE_BYTES",
    "DYNAMODB_WRITE_UNIT_BYTES",
    "LIBRARY_ARCHITECTURE",
    "LIBRARY_FANOUT_ALARMS",
    "LIBRARY_LEDGER_RETENTION_DAYS",
    "LIBRARY_OVERLAP",
    "LIBRARY_PRODUCER_MEMORY_MB",
    "LIBRARY_RECORD_FUNCTION_MEMORY_MB",
    "LIBRARY_SEND_BATCH_SIZE",
    "LIBRARY_SEND_CONCURRENCY",
    "LIBRARY_TABLE_ALARMS",
    "LIBRARY_WATCHDOG_ALARMS",
    "LIBRARY_WATCHDOG_INTERVAL_MINUTES",
    "LIBRARY_WATCHDOG_MEMORY_MB",
    "LIBRARY_WORKER_BATCH_SIZE",
    "LIBRARY_WORKER_MEMORY_MB",
    "RUN_METRICS",
    "TASK_METRICS",
    "WATCHDOG_LOOKBACK_DAYS",
    "WATCHDOG_MAX_SLOTS",
    "WATCHDOG_METRICS",
    "SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS",
    "SCHEDULED_TASK_FANOUT_DEFAULTS",
    "SEED_SCHEDULED_LAMBDA",
    "SEED_TASK_SCHEDULER",
    "CostEstimate",
    "CostLine",
    "LineDifference",
    "Settings",
    "UnitPrices",
    "Workload",
    "compare",
    "estimate_monthly_cost",
    "settings_differences",
    "shard_sizes",
]
