"""Alarms both constructs create: dead letters, function errors, missed runs."""

from __future__ import annotations

import datetime as _dt
import math
from typing import List, Optional, Tuple
from zoneinfo import ZoneInfo

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

#: Fixed reference instant, so the derived alarm settings are deterministic.
_REFERENCE = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
_SAMPLE_DAYS = 40
_SAMPLE_MAX_FIRES = 60_000
_MAX_PERIOD = _dt.timedelta(days=7)
_SHORT_PERIOD_LIMIT = _dt.timedelta(hours=1)


def missed_run_window(
    expression: str, time_zone: str, flexible_minutes: int = 0
) -> Optional[Tuple[int, int]]:
    """Alarm period (seconds) and the fewest runs any such period must hold.

    The period is the longest gap between two consecutive runs plus a slack
    (5 minutes, the flexible time window, and 1 hour in zones that observe
    daylight saving), rounded up to what CloudWatch accepts. ``None`` when the
    schedule runs once (``at``), has no run in the sample, or its longest gap
    needs a period over 7 days (CloudWatch's longest evaluation range).
    """
    from .schedule_expressions import next_fire_times

    if expression.startswith("at("):
        return None
    fires = next_fire_times(
        expression,
        after=_REFERENCE,
        count=_SAMPLE_MAX_FIRES,
        time_zone=time_zone,
        end=_REFERENCE + _dt.timedelta(days=_SAMPLE_DAYS),
    )
    if len(fires) < 2:
        return None
    gaps = [b - a for a, b in zip(fires, fires[1:])]
    slack = _dt.timedelta(minutes=5 + flexible_minutes)
    if _observes_dst(time_zone):
        slack += _dt.timedelta(hours=1)
    period = max(gaps) + slack
    if period >= _SHORT_PERIOD_LIMIT:
        period_s = math.ceil(period.total_seconds() / 3600) * 3600
    else:
        period_s = math.ceil(period.total_seconds() / 60) * 60
    if period_s > _MAX_PERIOD.total_seconds():
        return None
    ideal = _dt.timedelta(seconds=period_s) - slack
    expected = _fewest_in_window(fires, ideal)
    return period_s, max(1, expected)


def _observes_dst(time_zone: str) -> bool:
    zone = ZoneInfo(time_zone)
    offsets = {
        _dt.datetime(2026, month, 1, tzinfo=_dt.timezone.utc).astimezone(zone).utcoffset()
        for month in (1, 4, 7, 10)
    }
    return len(offsets) > 1


def _fewest_in_window(fires: List[_dt.datetime], window: _dt.timedelta) -> int:
    fewest = len(fires)
    j = 0
    usable_end = fires[-1] - window
    for i, start in enumerate(fires):
        if start > usable_end:
            break
        j = max(j, i + 1)
        while j < len(fires) and fires[j] <= start + window:
            j += 1
        fewest = min(fewest, j - i - 1)
    return fewest


class Alarms:
    """Creates the alarms of one construct and sends them to one topic."""

    def __init__(self, scope: Construct, topic: sns.ITopic) -> None:
        self._scope = scope
        self._action = cw_actions.SnsAction(topic)
        self.created: List[cloudwatch.Alarm] = []

    def _add(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(self._action)
        self.created.append(alarm)
        return alarm

    def dead_letters(self, id: str, queue: sqs.IQueue, what: str) -> cloudwatch.Alarm:
        """Alarm as soon as any message waits in a dead-letter queue."""
        return self._add(
            cloudwatch.Alarm(
                self._scope,
                id,
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{what} are waiting in a dead-letter queue",
            )
        )

    def errors(self, id: str, function: lambda_.IFunction, what: str) -> cloudwatch.Alarm:
        """Alarm on any error of a function in five minutes."""
        return self._add(
            cloudwatch.Alarm(
                self._scope,
                id,
                metric=function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"The {what} function reported errors",
            )
        )

    def missed_runs(
        self,
        id: str,
        function: lambda_.IFunction,
        expression: str,
        time_zone: str,
        flexible_minutes: int,
    ) -> Optional[cloudwatch.Alarm]:
        """Alarm when the function ran fewer times than the schedule promises."""
        if Token.is_unresolved(expression) or Token.is_unresolved(time_zone):
            return None
        window = missed_run_window(expression, time_zone, flexible_minutes)
        if window is None:
            return None
        period_s, expected = window
        return self._add(
            cloudwatch.Alarm(
                self._scope,
                id,
                metric=function.metric_invocations(
                    period=Duration.seconds(period_s), statistic="Sum"
                ),
                threshold=expected,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                alarm_description=(
                    f"Fewer than {expected} run(s) in {period_s} s: the schedule "
                    f"{expression} ({time_zone}) promises at least that many"
                ),
            )
        )
