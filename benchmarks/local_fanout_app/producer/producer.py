"""Send TASKS small tasks per run."""

import os

import boto3

from scheduled_tasks_constructs.runtime.events import parse_schedule_input
from scheduled_tasks_constructs.runtime.fanout import send_tasks

sqs = boto3.client("sqs")


def handler(event, context):
    run = parse_schedule_input(event, fallback_id=context.aws_request_id)
    tasks = [{"name": f"task-{n}", "n": n} for n in range(int(os.environ["TASKS"]))]
    report = send_tasks(os.environ["QUEUE_URL"], tasks, run=run, client=sqs)
    return {"sent": report.sent, "requests": report.requests}
