"""Hand-written handler: record each scheduled run in the table."""

import datetime
import os
import time

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
TTL_SECONDS = int(os.environ.get("ITEM_TTL_SECONDS", "0"))


def handler(event, context):
    now = datetime.datetime.now(datetime.timezone.utc)
    item = {
        "run_id": event.get("execution_id") or context.aws_request_id,
        "request_id": context.aws_request_id,
        "scheduled_time": event.get("scheduled_time"),
        "recorded_at": now.isoformat(),
    }
    if TTL_SECONDS:
        item["expires_at"] = int(time.time()) + TTL_SECONDS
    TABLE.put_item(Item=item)
    return {"run_id": item["run_id"]}
