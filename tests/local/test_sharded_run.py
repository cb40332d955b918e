"""A sharded producer, synthesized and run locally as Lambda runs it: shards, a failed shard's retry, exact counts.

The app's producer is built with ``runtime.sharding.sharded_producer`` from
``producer_code`` (the construct grants it ``lambda:InvokeFunction`` on
itself and sets ``SHARD_SIZE`` from ``producer_shard_size``); each shard is an
asynchronous invocation the local Lambda endpoint queues and runs from the
function's own asset and layers, with the function's retries.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from scheduled_tasks_constructs.local import runner
from scheduled_tasks_constructs.local.assembly import CloudAssembly
from scheduled_tasks_constructs.runtime import _aws

pytestmark = pytest.mark.xdist_group("sharded-run")

AFTER = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
TASKS = 2_000
SHARD = 500

APP = f'''
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler

from scheduled_tasks_constructs import ScheduledTaskFanout

app = App()
stack = Stack(app, "Sharded")
hourly = scheduler.ScheduleExpression.rate(Duration.hours(1))
common = dict(
    schedule=hourly, alarms=False, function_retry_attempts=1, producer_shard_size={SHARD},
    producer_code=lambda_.Code.from_asset("producer"), producer_handler="handler.handler",
    worker_code=lambda_.Code.from_asset("worker"), worker_handler="handler.handler",
)
ScheduledTaskFanout(stack, "Million", **common)
# The same, with the first attempt at positions 1,000 to 1,499 failing at position 1,250.
ScheduledTaskFanout(stack, "Flaky", producer_environment={{"FAIL_ONCE_AT": "1250", "MARKERS": app.node.try_get_context("markers")}}, **common)
app.synth()
'''

FILES = {
    "producer/handler.py": f"""
        import os
        from pathlib import Path

        from scheduled_tasks_constructs.runtime.sharding import sharded_producer


        def count(event, run):
            return {TASKS}


        def tasks(event, run, start, stop):
            fail_at = int(os.environ.get("FAIL_ONCE_AT", "-1"))
            for n in range(start, stop):
                if n == fail_at:
                    marker = Path(os.environ["MARKERS"]) / f"failed-{{run.execution_id}}"
                    if not marker.exists():
                        marker.write_text("once")
                        raise RuntimeError(f"the task source failed at {{n}}")
                yield {{"n": n}}


        handler = sharded_producer(count, tasks)
    """,
    "worker/handler.py": """
        from scheduled_tasks_constructs.runtime.worker import task_handler


        @task_handler
        def handler(task):
            return task.payload["n"]
    """,
}


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("markers")


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory, markers: Path, synthesize_app: Any) -> CloudAssembly:
    folder = tmp_path_factory.mktemp("sharded-app")
    return CloudAssembly(synthesize_app(folder, APP, FILES, context={"markers": str(markers)}))


def run_one(assembly: CloudAssembly, endpoint: str, name: str) -> tuple[runner.ConstructReport, str]:
    """Run the construct once: its report, and what the run said (for a failing assertion's message)."""
    entries = [c for c in assembly.scheduled_constructs() if c.path == f"Sharded/{name}"]
    options = runner.RunOptions(runs=1, after=AFTER, progress_bar=False, timeout_seconds=300)
    lines: list[str] = []
    report = runner.run_app(assembly, entries, endpoint=endpoint, options=options, progress=lines.append)
    assert report.notes == [], "\n".join(lines)
    (construct,) = report.constructs
    summary = {key: getattr(construct, key) for key in ("errors", "invocations", "tasks_sent", "tasks_succeeded", "notes")}
    return construct, f"{summary}\n" + "\n".join(lines)


def ledger_item(endpoint: str, construct: runner.ConstructReport) -> dict[str, Any]:
    import boto3

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    (run,) = construct.ledger
    item = dynamodb.get_item(
        TableName=construct.resources["ledger"], Key={"run_id": {"S": run["run_id"]}}, ConsistentRead=True
    )["Item"]
    return _aws.plain_item(item)


def test_a_large_run_is_sent_in_shards_each_an_invocation_and_every_task_is_worked(assembly, moto_server: str) -> None:
    report, said = run_one(assembly, moto_server, "Million")

    assert report.errors == {}, said
    # The scheduled invocation planned 4 shards and each ran as an invocation of its own.
    assert report.invocations == 1 + TASKS // SHARD, said
    assert (report.tasks_sent, report.tasks_succeeded, report.tasks_left_in_queue) == (TASKS, TASKS, 0), said
    (run,) = report.ledger
    assert (run["status"], run["tasks_sent"], run["tasks_succeeded"]) == ("succeeded", TASKS, TASKS)
    item = ledger_item(moto_server, report)
    assert (item["shard_count"], item["shards_done"], item.get("tasks_resent", 0)) == (4, 4, 0), item
    assert all(item["shards"][str(i)]["attempts"] == 1 for i in range(4)), item


def test_a_shard_that_fails_midway_is_retried_from_its_checkpoint_and_the_counts_stay_exact(
    assembly, moto_server: str
) -> None:
    report, said = run_one(assembly, moto_server, "Flaky")

    # Shard 2's first attempt failed at position 1,250; Lambda's retry resumed it at its checkpoint.
    assert report.errors == {"scheduled function": {"RuntimeError: the task source failed at 1250": 1}}, said
    assert report.invocations == 1 + 4 + 1, said
    item = ledger_item(moto_server, report)
    shard = item["shards"]["2"]
    assert (shard["attempts"], shard["done"], shard["sent"]) == (2, True, SHARD)
    resent = item.get("tasks_resent", 0)
    # Every task reached the worker; those sent twice are exactly the deliveries the ledger expected twice.
    assert report.tasks_sent == TASKS + resent
    assert report.tasks_succeeded == TASKS + resent
    (run,) = report.ledger
    assert (run["status"], run["tasks_sent"], run["tasks_succeeded"]) == ("succeeded", TASKS, TASKS + resent)
