"""The watchdog both constructs create: a function on its own schedule that reads the schedule and the run ledger.

Every ``watchdog_interval`` the bundled handler
``scheduled_tasks_constructs.runtime.watchdog.handler`` computes the slots the
construct's schedule should have started (its expression, time zone, start,
end and flexible window, daylight-saving rules included) and compares them
with the run ledger. It writes three metrics per run, in namespace
``ScheduledTasks`` with the dimension ``Schedule`` = ``"<group>/<name>"``:
``MissedRuns``, ``LateRuns`` and ``FailedRuns``, each the number of new
findings (0 when nothing is new); the construct's alarms watch them.

Nothing here depends on the schedule's kind: a weekly, monthly, yearly or
``at()`` schedule is watched as a ``rate(5 minutes)`` one is, which the
invocation-count alarm this replaces could not do (CloudWatch cannot
evaluate a window over 7 days, and a skipped daylight-saving slot looked
like a missed run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from . import _assets, _defaults, _grants, _schedule
from .runtime import (
    DEADLINE_SECONDS,
    FLEXIBLE_WINDOW_MINUTES,
    GRACE_SECONDS,
    LEDGER_TABLE_NAME,
    SCHEDULE_END,
    SCHEDULE_EXPRESSION,
    SCHEDULE_NAME,
    SCHEDULE_START,
    SCHEDULE_TIME_ZONE,
    WEBHOOK_SECRET_ARN,
)
from .runtime.metrics import NAMESPACE, SCHEDULE

#: Each finding: its metric, the alarm's child ID, and what the alarm says.
FINDINGS = (
    ("missed", "MissedRuns", "MissedRunAlarm", "A scheduled run did not start by its time plus the grace"),
    ("late", "LateRuns", "LateRunAlarm", "A run is still running past its run_deadline"),
    ("failed", "FailedRuns", "FailedRunAlarm", "A run finished with failed tasks, or failed"),
)


@dataclass(frozen=True)
class BuiltWatchdog:
    """The watchdog's resources and the metrics it writes."""

    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    schedule: scheduler.Schedule
    schedule_role: iam.Role
    #: ``"<group>/<name>"`` of the watched schedule: the ledger's ``schedule``, the metrics' dimension.
    schedule_dimension: str
    #: The watchdog's metrics by finding (``missed``, ``late``, ``failed``).
    metrics: Mapping[str, cloudwatch.Metric]


def schedule_dimension(schedule: scheduler.Schedule, group: Optional[scheduler.IScheduleGroup]) -> str:
    """``"<group>/<name>"`` of ``schedule``: how the ledger and the metrics name it."""
    group_name = group.schedule_group_name if group is not None else "default"
    return f"{group_name}/{schedule.schedule_name}"


def run_metric(dimension: str, name: str, *, period: Duration, statistic: str = "Sum") -> cloudwatch.Metric:
    """A metric the runtime writes for the schedule ``dimension`` (``runtime.metrics``)."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={SCHEDULE: dimension},
        statistic=statistic,
        period=period,
    )


def _event_age(interval: Duration) -> Duration:
    """How long a watchdog invocation may wait in Lambda's queue: until the next one is due (at most 6 hours)."""
    if Token.is_unresolved(interval.to_seconds()):
        return _defaults.WATCHDOG_INTERVAL
    return Duration.seconds(min(int(interval.to_seconds()), 6 * 3600))


def _iso(moment: object) -> str:
    return "" if moment is None else moment.isoformat()  # type: ignore[attr-defined]


def build_watchdog(
    scope: Construct,
    options: _schedule.ScheduleOptions,
    *,
    schedule: scheduler.Schedule,
    ledger: dynamodb.ITable,
    interval: Duration,
    grace_seconds: str,
    deadline_seconds: str,
    log_retention: logs.RetentionDays,
    tracing: bool,
    webhook_secret: Optional[secretsmanager.ISecret],
) -> BuiltWatchdog:
    """Create the watchdog of ``schedule``: ``Watchdog`` (with ``WatchdogRole``, ``WatchdogLogs``) and ``WatchdogSchedule``.

    The watchdog's schedule is always enabled, in the watched schedule's
    group: the handler asks ``scheduler:GetSchedule`` whether the watched
    schedule is disabled (deployed so, or paused later) and then misses
    nothing. A failed watchdog run is not retried (the next one is at most
    ``interval`` away); its errors have an alarm of their own.
    """
    expression, zone = _schedule.expression_and_zone(options.schedule)
    dimension = schedule_dimension(schedule, options.schedule_group)
    environment: Dict[str, str] = {
        LEDGER_TABLE_NAME: ledger.table_name,
        SCHEDULE_NAME: dimension,
        SCHEDULE_EXPRESSION: expression,
        SCHEDULE_TIME_ZONE: zone,
        FLEXIBLE_WINDOW_MINUTES: str(_schedule.flexible_minutes(options.time_window)),
        GRACE_SECONDS: grace_seconds,
        DEADLINE_SECONDS: deadline_seconds,
    }
    if options.start is not None:
        environment[SCHEDULE_START] = _iso(options.start)
    if options.end is not None:
        environment[SCHEDULE_END] = _iso(options.end)
    if webhook_secret is not None:
        environment[WEBHOOK_SECRET_ARN] = webhook_secret.secret_arn
    function, role, log_group = _schedule.create_function(
        scope,
        "Watchdog",
        code=_assets.runtime_code(),
        handler=_assets.handler_path("watchdog"),
        memory_size=_defaults.WATCHDOG_MEMORY_MB,
        timeout=_defaults.WATCHDOG_TIMEOUT,
        log_retention=log_retention,
        tracing=tracing,
        environment=environment,
        description="Compares the schedule's fire times with its run ledger: missed, late and failed runs",
        retry_attempts=0,
        max_event_age=_event_age(interval),
    )
    _grants.grant_watchdog(
        ledger, function, schedule, scan=expression.startswith("rate(") and options.start is None
    )
    if webhook_secret is not None:
        _grants.grant_secret_value(webhook_secret, function)
    watchdog_options = _schedule.ScheduleOptions(
        schedule=scheduler.ScheduleExpression.rate(interval),
        description="Runs the watchdog of the schedule next to it",
        schedule_group=options.schedule_group,
        retry_attempts=0,
        max_event_age=Duration.minutes(1),
    )
    watchdog_schedule, schedule_role = _schedule.create_schedule(
        scope,
        watchdog_options,
        function=function,
        payload=None,
        dead_letter_queue=None,
        id="WatchdogSchedule",
        role_description="Lets EventBridge Scheduler invoke this construct's watchdog",
    )
    metrics = {
        kind: run_metric(dimension, metric_name, period=interval) for kind, metric_name, _, _ in FINDINGS
    }
    return BuiltWatchdog(function, role, log_group, watchdog_schedule, schedule_role, dimension, metrics)
