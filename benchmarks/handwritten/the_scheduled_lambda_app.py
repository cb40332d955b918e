#!/usr/bin/env python3
"""The scheduled lambda, written by hand with plain aws-cdk-lib L2 constructs.

The baseline of the synthesis benchmark for ``examples/the_scheduled_lambda``:
the same resources as the example (schedule and its role, function with its
role, log group and failure destination, table, dead-letter queue, alarm topic
and three alarms), without the library. The missed-run alarm's period and
threshold are worked out by hand for a 2-minute rate, as a person writing this
stack would.

The cloud assembly goes to ``$CDK_OUTDIR`` when set, else to a new temporary
directory.
"""

import os
import tempfile
from pathlib import Path

from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

FUNCTIONS = Path(__file__).parent / "functions"


class TheScheduledLambdaStack(Stack):
    """A schedule, a function and a table, wired by hand."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="expires_at",
            removal_policy=RemovalPolicy.DESTROY,
        )
        dead_letters = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        log_group = logs.LogGroup(
            self, "FunctionLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        role = iam.Role(self, "FunctionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            "Function",
            code=lambda_.Code.from_asset(str(FUNCTIONS / "record_run")),
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            memory_size=128,
            timeout=Duration.seconds(30),
            role=role,
            log_group=log_group,
            environment={"TABLE_NAME": table.table_name, "ITEM_TTL_SECONDS": str(7 * 24 * 3600)},
            description="Records each scheduled run in a DynamoDB table",
            retry_attempts=2,
            max_event_age=Duration.hours(1),
            on_failure=destinations.SqsDestination(dead_letters),
        )
        table.grant_write_data(function)

        schedule_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": self.account,
                        "aws:SourceArn": self.format_arn(
                            service="scheduler", resource="schedule-group", resource_name="default"
                        ),
                    }
                },
            ),
        )
        scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(2)),
            description="Records a run every 2 minutes",
            target=targets.LambdaInvoke(
                function,
                role=schedule_role,
                input=scheduler.ScheduleTargetInput.from_object(
                    {
                        "execution_id": scheduler.ContextAttribute.execution_id,
                        "scheduled_time": scheduler.ContextAttribute.scheduled_time,
                        "schedule_arn": scheduler.ContextAttribute.schedule_arn,
                        "attempt_number": scheduler.ContextAttribute.attempt_number,
                    }
                ),
                dead_letter_queue=dead_letters,
                retry_attempts=3,
                max_event_age=Duration.hours(1),
            ),
        )

        topic = sns.Topic(self, "AlarmTopic", enforce_ssl=True)
        action = cw_actions.SnsAction(topic)
        alarms = [
            cloudwatch.Alarm(
                self,
                "DeadLetterAlarm",
                metric=dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ErrorsAlarm",
                metric=function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "MissedRunAlarm",
                # Longest gap 2 minutes + 5 minutes of slack: 7-minute periods hold at least 3 runs.
                metric=function.metric_invocations(period=Duration.minutes(7), statistic="Sum"),
                threshold=3,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(action)


def build_app(outdir: "str | None" = None) -> App:
    """The hand-written app, synthesized into ``outdir``."""
    app = App(outdir=outdir or os.environ.get("CDK_OUTDIR") or tempfile.mkdtemp(prefix="cdk-out-"))
    TheScheduledLambdaStack(app, "TheScheduledLambdaStack")
    return app


if __name__ == "__main__":
    build_app().synth()
