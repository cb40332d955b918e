"""The opt-in CloudWatch dashboard of a construct (``dashboard=True``).

Every graph reads the metrics the runtime writes (``runtime.metrics``:
namespace ``ScheduledTasks``, dimension ``Schedule`` = ``"<group>/<name>"``)
or the queues' own SQS metrics; the text widget lists the schedule's next
fire times as of synthesis, so they are as fresh as the last deployment.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Sequence, Tuple

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _schedule
from ._watchdog import FINDINGS, run_metric

#: The period of every graph: runs and tasks are counted per hour.
PERIOD = Duration.hours(1)
#: How many fire times the text widget lists.
NEXT_FIRE_TIMES = 5
_WIDTH = 12
_HEIGHT = 6

RUN_STATUS_METRICS = (
    ("RunSucceeded", "succeeded"),
    ("RunPartiallyFailed", "partially failed"),
    ("RunFailed", "failed"),
    ("RunSkipped", "skipped"),
)
TASK_METRICS = (
    ("TasksSent", "sent"),
    ("TasksSucceeded", "succeeded"),
    ("TasksFailed", "failed"),
    ("TasksDeadLettered", "dead-lettered"),
)


def next_fire_times_text(options: _schedule.ScheduleOptions, *, now: datetime) -> str:
    """The text widget's Markdown: the schedule and its next fire times after ``now``."""
    from .schedule_expressions import next_fire_times

    expression, zone = _schedule.expression_and_zone(options.schedule)
    if Token.is_unresolved(expression) or Token.is_unresolved(zone):
        return "### Schedule\nThe expression is known only at deploy time."
    lines = [f"### Schedule `{expression}` in {zone}"]
    if options.enabled is False:
        lines.append("Deployed disabled.")
    fires = next_fire_times(
        expression, after=now, count=NEXT_FIRE_TIMES, time_zone=zone, start=options.start, end=options.end
    )
    if fires:
        lines.append(f"Next fire times as of {now.strftime('%Y-%m-%d %H:%M')} UTC (synthesis):")
        lines += [f"* {fire.isoformat()}" for fire in fires]
    else:
        lines.append(f"No fire time after {now.strftime('%Y-%m-%d %H:%M')} UTC (synthesis).")
    return "\n".join(lines)


def _graph(title: str, metrics: List[cloudwatch.IMetric], **options: object) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=_WIDTH, height=_HEIGHT, **options)  # type: ignore[arg-type]


def build_dashboard(
    scope: Construct,
    options: _schedule.ScheduleOptions,
    *,
    dimension: str,
    fanout: bool,
    dead_letter_queues: Sequence[Tuple[str, sqs.IQueue]],
    deadline_seconds: str,
    watchdog: bool,
    now: datetime | None = None,
) -> cloudwatch.Dashboard:
    """The dashboard ``Dashboard`` of a construct whose schedule is ``dimension``."""
    # The hour of synthesis, so that synthesizing again within the hour changes nothing.
    moment = now or datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    dashboard = cloudwatch.Dashboard(scope, "Dashboard", default_interval=Duration.days(7))
    dashboard.add_widgets(
        cloudwatch.TextWidget(markdown=next_fire_times_text(options, now=moment), width=24, height=4)
    )
    runs = [
        run_metric(dimension, name, period=PERIOD).with_(label=label) for name, label in RUN_STATUS_METRICS
    ]
    duration = run_metric(dimension, "RunDuration", period=PERIOD, statistic="Maximum").with_(
        label="longest run (s)"
    )
    annotations = []
    if not Token.is_unresolved(deadline_seconds):
        annotations.append(cloudwatch.HorizontalAnnotation(value=float(deadline_seconds), label="run_deadline"))
    dashboard.add_widgets(
        _graph("Runs by status, per hour", runs, stacked=True),
        _graph("Run duration against run_deadline (seconds)", [duration], left_annotations=annotations),
    )
    depth = [
        queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5), statistic="Maximum").with_(
            label=label
        )
        for label, queue in dead_letter_queues
    ]
    second_row: List[cloudwatch.IWidget] = []
    if fanout:
        tasks = [run_metric(dimension, name, period=PERIOD).with_(label=label) for name, label in TASK_METRICS]
        second_row.append(_graph("Tasks of the runs finished, per hour", tasks))
    second_row.append(_graph("Dead-letter queue depth", depth))
    dashboard.add_widgets(*second_row)
    if watchdog:
        findings = [
            run_metric(dimension, metric_name, period=PERIOD).with_(label=kind)
            for kind, metric_name, _, _ in FINDINGS
        ]
        dashboard.add_widgets(_graph("Watchdog: new missed, late and failed runs, per hour", findings))
    return dashboard
