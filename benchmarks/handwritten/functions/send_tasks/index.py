"""Hand-written handler: send the run's tasks to the queue in batches of 10."""

import json
import os

import boto3

SQS = boto3.client("sqs")
QUEUE_URL = os.environ["QUEUE_URL"]


def handler(event, context):
    tasks = event.get("tasks", [])
    for start in range(0, len(tasks), 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"execution_id": event.get("execution_id"), "task": task})}
            for i, task in enumerate(tasks[start:start + 10])
        ]
        response = SQS.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} tasks were not sent")
    return {"sent": len(tasks)}
