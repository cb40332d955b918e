"""Alarms both constructs create: dead letters, function errors, and the watchdog's findings."""

from __future__ import annotations

from typing import List

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct


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

    def finding(self, id: str, metric: cloudwatch.IMetric, what: str) -> cloudwatch.Alarm:
        """Alarm when the watchdog counts a new finding (``MissedRuns``, ``LateRuns``, ``FailedRuns``).

        The watchdog writes the metric on every run, 0 when nothing is new,
        so the alarm goes back to OK on the watchdog's next run; no data
        (before the watchdog's first run) is not a finding.
        """
        return self._add(
            cloudwatch.Alarm(
                self._scope,
                id,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=what,
            )
        )
