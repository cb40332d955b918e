"""Hand-written handler: run each task of the batch, report the failed ones."""

import json

from tabulate import tabulate


def run(job):
    if job["kind"] == "total":
        return f"{job['name']}: total {sum(job['values'])}"
    if job["kind"] == "table":
        return tabulate(job["rows"], headers=["item", "count"])
    low = [row for row in job["rows"] if row[1] < job["limit"]]
    return f"{job['name']}: {len(low)} below {job['limit']}"


def handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            print(run(json.loads(record["body"])["task"]))
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
