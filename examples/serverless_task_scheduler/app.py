#!/usr/bin/env python3
"""The Serverless Task Scheduler, rebuilt with ScheduledTaskFanout.

Every weekday at 09:00 in Taipei, EventBridge Scheduler invokes the "send
tasks" function, which puts one message per task on an SQS queue. The "run
task" function (``tasks/handler.py``) works them off in batches and, when a
webhook secret is configured, posts each result (and every alarm) to Slack or
Discord. Python dependencies of the tasks come from ``requirements-layer.txt``
as a layer.

Configure a webhook with ``cdk deploy -c webhook_secret_name=<secret name>``;
the secret holds the Slack or Discord incoming-webhook URL.
"""

import os
from pathlib import Path

from aws_cdk import App, Stack, TimeZone
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from scheduled_tasks_constructs import AlarmWebhook, DependenciesLayer, ScheduledTaskFanout

HERE = Path(__file__).parent

#: The jobs that used to live in Airflow: one message per task per run.
TASKS = [
    {"name": "daily-sales", "kind": "total", "values": [1250, 980, 1432, 1104]},
    {"name": "stock-levels", "kind": "table", "rows": [["apples", 120], ["pears", 8]]},
    {"name": "signups", "kind": "total", "values": [31, 44, 27]},
    {"name": "low-stock", "kind": "below", "rows": [["apples", 120], ["pears", 8]], "limit": 10},
]


class ServerlessTaskSchedulerStack(Stack):
    """A schedule, a task queue, a producer and a worker: one construct."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        secret_name = self.node.try_get_context("webhook_secret_name")
        webhook = (
            secretsmanager.Secret.from_secret_name_v2(self, "Webhook", secret_name)
            if secret_name
            else None
        )
        # [readme:construct]
        self.task_dependencies = DependenciesLayer(
            self, "TaskDependencies", requirements_file=str(HERE / "requirements-layer.txt")
        )
        self.fanout = ScheduledTaskFanout(
            self,
            "TaskScheduler",
            schedule=scheduler.ScheduleExpression.cron(
                minute="0", hour="9", week_day="MON-FRI", time_zone=TimeZone.ASIA_TAIPEI
            ),
            schedule_description="Weekday morning reports",
            tasks=TASKS,
            worker_code=lambda_.Code.from_asset(str(HERE / "tasks")),
            worker_handler="handler.handler",
            worker_layers=[self.task_dependencies.layer],
            webhook_secret=webhook,
        )
        # [/readme:construct]
        if webhook is not None:
            # Alarms go to the same channel as the results.
            AlarmWebhook(
                self, "AlarmsToWebhook", topic=self.fanout.alarm_topic, webhook_secret=webhook
            )


def build_app(outdir: "str | None" = None, context: "dict | None" = None) -> App:
    """The example's CDK app (``outdir`` for synthesizing outside the CDK CLI)."""
    app = App(outdir=outdir, context=context) if outdir else App(context=context)
    ServerlessTaskSchedulerStack(app, "ServerlessTaskSchedulerStack")
    return app


if __name__ == "__main__":
    build_app(None if os.environ.get("CDK_OUTDIR") else "cdk.out").synth()
