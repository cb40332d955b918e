#!/usr/bin/env python3
"""The benchmark app of ``bench_local_run.py``: one fan-out of N tasks per run.

A producer of our own sends ``-c tasks=N`` tasks with ``send_tasks`` or, with
``-c shard_size=S``, in shards of S with ``sharded_producer`` (each shard an
asynchronous invocation of the producer); the worker does nothing with each (``task_handler`` around a no-op), in batches
of 10. The run is what a user's app synthesizes: the same constructs, the
runtime layer, the template's queue and mapping.
"""

from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler

from scheduled_tasks_constructs import ScheduledTaskFanout

HERE = Path(__file__).parent

app = App()
stack = Stack(app, "LocalFanoutBenchmark")
shard_size = app.node.try_get_context("shard_size")
ScheduledTaskFanout(
    stack,
    "Fanout",
    schedule=scheduler.ScheduleExpression.cron(minute="0", hour="3"),
    producer_code=lambda_.Code.from_asset(str(HERE / "producer")),
    producer_handler="sharded.handler" if shard_size else "producer.handler",
    producer_shard_size=int(shard_size) if shard_size else None,
    producer_environment={"TASKS": str(app.node.try_get_context("tasks") or 1000)},
    worker_code=lambda_.Code.from_asset(str(HERE / "worker")),
    worker_handler="worker.handler",
    batch_size=10,
    alarms=False,
)
app.synth()
