#!/usr/bin/env python3
"""The serverless task scheduler, written by hand with plain aws-cdk-lib L2 constructs.

The baseline of the synthesis benchmark for ``examples/serverless_task_scheduler``:
the same resources as the example (schedule and its role; producer and worker,
each with its role and log group; task queue with its dead-letter queue; the
runs' dead-letter queue; a layer of the tasks' Python dependencies; alarm topic
and five alarms), without the library.

As in the original design, the dependencies layer comes from a folder that was
filled by hand beforehand (``pip install --target <dir>/python ...``): pass it
as ``$LAYER_DIR``. The cloud assembly goes to ``$CDK_OUTDIR`` when set, else to
a new temporary directory.
"""

import os
import tempfile
from pathlib import Path

from aws_cdk import App, Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

FUNCTIONS = Path(__file__).parent / "functions"

TASKS = [
    {"name": "daily-sales", "kind": "total", "values": [1250, 980, 1432, 1104]},
    {"name": "stock-levels", "kind": "table", "rows": [["apples", 120], ["pears", 8]]},
    {"name": "signups", "kind": "total", "values": [31, 44, 27]},
    {"name": "low-stock", "kind": "below", "rows": [["apples", 120], ["pears", 8]], "limit": 10},
]


def _function(scope: Construct, id: str, **props) -> lambda_.Function:
    log_group = logs.LogGroup(
        scope, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
    )
    role = iam.Role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    return lambda_.Function(
        scope,
        id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        role=role,
        log_group=log_group,
        **props,
    )


def _dead_letter_queue(scope: Construct, id: str) -> sqs.Queue:
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )


class ServerlessTaskSchedulerStack(Stack):
    """A schedule, a task queue, a producer and a worker, wired by hand."""

    def __init__(self, scope: Construct, id: str, *, layer_dir: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        run_dead_letters = _dead_letter_queue(self, "RunDeadLetterQueue")
        task_dead_letters = _dead_letter_queue(self, "DeadLetterQueue")
        queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.minutes(6),  # 6 x the worker's 60 s timeout
            dead_letter_queue=sqs.DeadLetterQueue(queue=task_dead_letters, max_receive_count=3),
        )
        dependencies = lambda_.LayerVersion(
            self,
            "TaskDependencies",
            code=lambda_.Code.from_asset(layer_dir),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            removal_policy=RemovalPolicy.DESTROY,
        )
        producer = _function(
            self,
            "Producer",
            code=lambda_.Code.from_asset(str(FUNCTIONS / "send_tasks")),
            handler="index.handler",
            memory_size=256,
            timeout=Duration.minutes(5),
            environment={"QUEUE_URL": queue.queue_url},
            description="Sends the tasks of each scheduled run to the task queue",
            retry_attempts=2,
            max_event_age=Duration.hours(1),
            on_failure=destinations.SqsDestination(run_dead_letters),
        )
        queue.grant_send_messages(producer)
        worker = _function(
            self,
            "Worker",
            code=lambda_.Code.from_asset(str(FUNCTIONS / "run_task")),
            handler="index.handler",
            memory_size=256,
            timeout=Duration.seconds(60),
            layers=[dependencies],
            description="Runs the tasks of the task queue",
        )
        worker.add_event_source(
            event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
        )

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
            schedule=scheduler.ScheduleExpression.cron(
                minute="0", hour="9", week_day="MON-FRI", time_zone=TimeZone.ASIA_TAIPEI
            ),
            description="Weekday morning reports",
            target=targets.LambdaInvoke(
                producer,
                role=schedule_role,
                input=scheduler.ScheduleTargetInput.from_object(
                    {
                        "execution_id": scheduler.ContextAttribute.execution_id,
                        "scheduled_time": scheduler.ContextAttribute.scheduled_time,
                        "schedule_arn": scheduler.ContextAttribute.schedule_arn,
                        "attempt_number": scheduler.ContextAttribute.attempt_number,
                        "tasks": TASKS,
                    }
                ),
                dead_letter_queue=run_dead_letters,
                retry_attempts=3,
                max_event_age=Duration.hours(1),
            ),
        )

        topic = sns.Topic(self, "AlarmTopic", enforce_ssl=True)
        action = cw_actions.SnsAction(topic)

        def any_message(alarm_id: str, dlq: sqs.Queue) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self,
                alarm_id,
                metric=dlq.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        def any_error(alarm_id: str, function: lambda_.Function) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self,
                alarm_id,
                metric=function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        alarms = [
            any_message("RunDeadLetterAlarm", run_dead_letters),
            any_message("DeadLetterAlarm", task_dead_letters),
            any_error("ProducerErrorsAlarm", producer),
            any_error("WorkerErrorsAlarm", worker),
            cloudwatch.Alarm(
                self,
                "MissedRunAlarm",
                # Longest gap Friday 09:00 to Monday 09:00 (72 h) + 5 min slack, in whole
                # hours: 73-hour periods hold at least one run.
                metric=producer.metric_invocations(period=Duration.hours(73), statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(action)


def build_app(outdir: "str | None" = None, layer_dir: "str | None" = None) -> App:
    """The hand-written app, synthesized into ``outdir``."""
    layer_dir = layer_dir or os.environ.get("LAYER_DIR")
    if not layer_dir:
        raise SystemExit("set LAYER_DIR to a folder holding python/<dependencies> (pip install --target)")
    app = App(outdir=outdir or os.environ.get("CDK_OUTDIR") or tempfile.mkdtemp(prefix="cdk-out-"))
    ServerlessTaskSchedulerStack(app, "ServerlessTaskSchedulerStack", layer_dir=layer_dir)
    return app


if __name__ == "__main__":
    build_app().synth()
