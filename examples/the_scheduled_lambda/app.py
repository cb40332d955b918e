#!/usr/bin/env python3
"""The Scheduled Lambda, rebuilt with ScheduledLambdaToTable.

EventBridge Scheduler invokes a Lambda function every 2 minutes; the function
records each run (its request ID, scheduled time and execution ID) in a
DynamoDB table. The table is destroyed with the stack: this is an example.
"""

import os

from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from scheduled_tasks_constructs import ScheduledLambdaToTable


class TheScheduledLambdaStack(Stack):
    """A schedule, a function and a table: one construct."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        # [readme:construct]
        self.scheduled = ScheduledLambdaToTable(
            self,
            "ScheduledLambda",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(2)),
            schedule_description="Records a run every 2 minutes",
            table_props=dynamodb.TableProps(removal_policy=RemovalPolicy.DESTROY),
            item_ttl=Duration.days(7),
        )
        # [/readme:construct]


def build_app(outdir: "str | None" = None) -> App:
    """The example's CDK app (``outdir`` for synthesizing outside the CDK CLI)."""
    app = App(outdir=outdir) if outdir else App()
    TheScheduledLambdaStack(app, "TheScheduledLambdaStack")
    return app


if __name__ == "__main__":
    build_app(None if os.environ.get("CDK_OUTDIR") else "cdk.out").synth()
