"""End to end: a local run of the synthesized artifact leaves the run ledger a deployed system would.

The fan-out example and a small test app are synthesized once per module (at
the same time, as ``cdk synth`` runs them: a subprocess each). Whole runs go
through ``scheduled-tasks run`` on the synthesized cloud assembly against the
shared moto server; the ledger table and the queues are then read back from
the server, item by item.

``scheduled-tasks run`` fires each slot once and works its tasks off before the
next slot fires, so it cannot deliver a slot twice or let two runs overlap.
Those cases go through the runner's own pieces instead (:class:`Deliveries`):
the construct is planned as the runner plans it (its synthesized functions,
assets, layers and environment, each function in processes of its own), and
the test chooses when the Scheduler's input of a slot is delivered to the
scheduled function (with Lambda's retries and failure destination) and when
the event source mapping works the task queue off. No handler code is
imported here.
"""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from scheduled_tasks_constructs.local import cli, runner
from scheduled_tasks_constructs.local.assembly import CloudAssembly
from scheduled_tasks_constructs.local.cdk_app import load_app
from scheduled_tasks_constructs.local.lambda_local import Invocation

pytestmark = pytest.mark.xdist_group("ledger-run")

ROOT = Path(__file__).resolve().parents[2]
FANOUT_EXAMPLE = ROOT / "examples" / "serverless_task_scheduler" / "app.py"

AFTER = "2026-11-22T10:00:00Z"
#: The slots of every rate(5 minutes) schedule after AFTER.
SLOTS = ["2026-11-22T10:05:00Z", "2026-11-22T10:10:00Z", "2026-11-22T10:15:00Z"]
#: The test app's functions fail every task, and every run, of this slot (the second).
FAIL_SLOT = SLOTS[1]
#: What the ledger's counts are called on a run item.
COUNTS = ("status", "attempts", "tasks_sent", "tasks_succeeded", "tasks_failed", "tasks_dead_lettered")

APP = f'''
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler

from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout

app = App()
stack = Stack(app, "Ledger")
# Five minutes apart, under the default run_deadline (1 hour): a run still running holds
# the overlap lock over the next slots.
every_five_minutes = scheduler.ScheduleExpression.rate(Duration.minutes(5))
worker = dict(worker_code=lambda_.Code.from_asset("worker"), worker_handler="handler.handler")

# Tasks that succeed, one that fails on its first delivery only, two that always fail;
# in the slot {FAIL_SLOT} every task fails.
ScheduledTaskFanout(
    stack, "Mixed", schedule=every_five_minutes, alarms=False, max_receive_count=2,
    tasks=[{{"name": "a"}}, {{"name": "b"}}, {{"name": "flaky"}}, {{"name": "x", "fail": True}}, {{"name": "y", "fail": True}}],
    worker_environment={{"FAIL_SLOT": "{FAIL_SLOT}"}}, **worker,
)
# Tasks that always succeed (the slots are delivered by the test).
ScheduledTaskFanout(
    stack, "Steady", schedule=every_five_minutes, alarms=False,
    tasks=[{{"name": "a"}}, {{"name": "b"}}, {{"name": "c"}}], **worker,
)
# A worker stopped by Lambda (past its timeout) cannot report its task: the run stays running.
ScheduledTaskFanout(
    stack, "Stuck", schedule=every_five_minutes, alarms=False, max_receive_count=1, tasks=[{{"name": "slow"}}],
    worker_code=lambda_.Code.from_asset("slow_worker"), worker_handler="handler.handler",
    worker_timeout=Duration.seconds(1),
)
# Code of the user's that keeps the ledger with runtime.ledger.track_run; the run of {FAIL_SLOT} fails.
ScheduledLambdaToTable(
    stack, "Tracked", schedule=every_five_minutes, alarms=False,
    code=lambda_.Code.from_asset("tracked"), handler="handler.handler",
    environment={{"FAIL_SLOT": "{FAIL_SLOT}"}},
)
# The bundled record-run handler.
ScheduledLambdaToTable(stack, "Recorder", schedule=every_five_minutes, alarms=False)
app.synth()
'''

FILES = {
    "worker/handler.py": """
        import os

        from scheduled_tasks_constructs.runtime.worker import task_handler


        @task_handler
        def handler(task):
            if task.scheduled_time == os.environ.get("FAIL_SLOT"):
                raise RuntimeError(f"every task of {task.scheduled_time} fails")
            if task.payload.get("fail"):
                raise ValueError(f"task {task.payload['name']} always fails")
            if task.payload["name"] == "flaky" and task.receive_count == 1:
                raise ConnectionError("flaky fails on its first delivery")
            return task.payload["name"]
    """,
    "slow_worker/handler.py": """
        import time

        from scheduled_tasks_constructs.runtime.worker import task_handler


        @task_handler
        def handler(task):
            time.sleep(5)
    """,
    "tracked/handler.py": """
        import os

        from scheduled_tasks_constructs.runtime.events import parse_schedule_input
        from scheduled_tasks_constructs.runtime.ledger import track_run


        @track_run
        def handler(event, context):
            run = parse_schedule_input(event, fallback_id=context.aws_request_id)
            if run.scheduled_time == os.environ["FAIL_SLOT"]:
                raise RuntimeError(f"the run of {run.scheduled_time} fails")
            return {"refreshed": run.scheduled_time}
    """,
}


# --------------------------------------------------------------------------- helpers


def run_cli(argv: List[str]) -> Tuple[int, Dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else {}), err.getvalue()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def table_items(endpoint: str, table: str) -> Dict[str, Dict[str, Any]]:
    """Every item of the ledger table (runs and locks), as plain values, by ``run_id``."""
    dynamodb, deserialize = client("dynamodb", endpoint), TypeDeserializer().deserialize
    items: Dict[str, Dict[str, Any]] = {}
    request: Dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        for raw in page["Items"]:
            item = {key: _plain(deserialize(value)) for key, value in raw.items()}
            items[item["run_id"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def runs_by_slot(items: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """The run items (lock items have no slot), by slot; each keyed ``<schedule>#<slot>``."""
    runs = {item["slot"]: item for item in items.values() if "slot" in item}
    for slot, item in runs.items():
        assert item["run_id"] == f"{item['schedule']}#{slot}"
    assert len({item["schedule"] for item in runs.values()}) <= 1
    return runs


def counts(item: Dict[str, Any]) -> Dict[str, Any]:
    return {name: item.get(name) for name in COUNTS}


def queue_count(endpoint: str, url: Optional[str]) -> int:
    attributes = client("sqs", endpoint).get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                        "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def receive_all(endpoint: str, url: str) -> List[Dict[str, Any]]:
    """The bodies of every message on a queue (kept invisible once read, so each is read once)."""
    sqs, bodies = client("sqs", endpoint), []
    for _ in range(100):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                       WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in messages)
    raise AssertionError("the queue did not empty")


def assert_finished_in_order(item: Dict[str, Any]) -> None:
    assert item["started_at"] <= item["finished_at"]
    assert "claim_until" not in item and "claimed_by" not in item


class Deliveries:
    """One construct of a synthesized app, planned as ``scheduled-tasks run`` plans it; the test delivers its slots.

    Its resources are new ones on the endpoint (a run's own suffix), its
    functions the synthesized ones, each in processes of its own.
    """

    def __init__(self, assembly_dir: Path, path: str, endpoint: str) -> None:
        assembly = CloudAssembly(assembly_dir)
        (entry,) = [c for c in assembly.scheduled_constructs() if c.path == path]
        self.endpoint = endpoint
        options = runner.RunOptions(runs=len(SLOTS), progress_bar=False)
        self.app = runner._AppRun(assembly, endpoint=endpoint, options=options, progress=lambda line: None)
        try:
            self.construct = runner._ConstructRun(self.app, entry)
            self.construct.compute_fire_times(datetime.fromisoformat(AFTER.replace("Z", "+00:00")), len(SLOTS))
            self.construct.plan()
        except BaseException:
            self.app.close()
            raise
        assert [runner.iso_z(t) for t in self.construct.fire_times] == SLOTS
        self.ledger = self.construct.ledger_name
        assert self.ledger is not None

    def event(self, slot: int) -> Any:
        """The Scheduler's input of one execution of slot ``slot`` (0-based), placeholders filled in."""
        return self.construct.target.event(self.construct.fire_times[slot])

    def deliver(self, event: Any) -> List[Invocation]:
        """One asynchronous invocation of the scheduled function with ``event``: its attempts (Lambda's retries)."""
        attempts: List[Invocation] = []
        self.construct.target.invoke(event, lambda attempt, invocation: attempts.append(invocation))
        return attempts

    def work_off_tasks(self) -> None:
        """The event source mapping feeds the worker until the task queue is empty."""
        source = self.construct.event_source
        assert source is not None
        source.drain(self.construct.entry.path, source.queue_count(source.plan.queue_url))

    def queued(self) -> int:
        """Tasks on the task queue."""
        return queue_count(self.endpoint, self.construct.event_source.plan.queue_url)

    def items(self) -> Dict[str, Dict[str, Any]]:
        return table_items(self.endpoint, self.ledger)

    def close(self) -> None:
        self.app.close()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """The test app's and the fan-out example's cloud assemblies, synthesized side by side."""
    folder = tmp_path_factory.mktemp("ledger-app")
    (folder / "app.py").write_text(APP)
    for name, source in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    outdirs = {"app": folder / "cdk.out", "example": tmp_path_factory.mktemp("fanout-example") / "cdk.out"}
    sources = {"app": folder / "app.py", "example": FANOUT_EXAMPLE}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(load_app, str(sources[name]), outdir=outdirs[name]) for name in outdirs]
        for future in futures:
            future.result()
    return outdirs


@pytest.fixture(scope="module")
def run(assemblies: Dict[str, Path], moto_server: str):
    """``scheduled-tasks run`` of one construct of the test app: exit status, its report, stderr."""

    def run_construct(name: str, runs: int) -> Tuple[int, Dict[str, Any], str]:
        code, report, err = run_cli(
            ["run", str(assemblies["app"]), "--construct", f"Ledger/{name}", "--endpoint", moto_server,
             "--json", "--runs", str(runs), "--after", AFTER]
        )
        assert report, err
        (construct,) = report["constructs"]
        assert construct["fire_times"] == SLOTS[:runs]
        return code, construct, err

    return run_construct


@pytest.fixture
def deliveries(assemblies: Dict[str, Path], moto_server: str):
    opened: List[Deliveries] = []

    def open_construct(name: str) -> Deliveries:
        opened.append(Deliveries(assemblies["app"], f"Ledger/{name}", moto_server))
        return opened[-1]

    yield open_construct
    for made in opened:
        made.close()


# --------------------------------------------------------------------------- fan-out: whole runs


def test_a_run_of_the_fanout_example_leaves_one_succeeded_item_per_run(assemblies: Dict[str, Path], moto_server: str) -> None:
    code, report, err = run_cli(
        ["run", str(assemblies["example"]), "--endpoint", moto_server, "--json", "--runs", "2", "--after", AFTER]
    )

    assert code == 0, err
    (construct,) = report["constructs"]
    slots = construct["fire_times"]
    assert slots == ["2026-11-23T01:00:00Z", "2026-11-24T01:00:00Z"]  # weekdays, 09:00 in Taipei
    items = table_items(moto_server, construct["resources"]["ledger"])
    runs = runs_by_slot(items)
    assert len(items) == 2 and sorted(runs) == slots  # one item per run, and no lock left behind
    for item in runs.values():
        assert counts(item) == {"status": "succeeded", "attempts": 1, "tasks_sent": 4, "tasks_succeeded": 4,
                                "tasks_failed": 0, "tasks_dead_lettered": 0}
        assert item["sending_done"] is True and "failures" not in item and "error" not in item
        assert_finished_in_order(item)
    assert len({item["execution_id"] for item in runs.values()}) == 2
    # The report's ledger is the table's.
    assert [(row["slot"], row["status"], row["tasks_succeeded"]) for row in construct["ledger"]] == [
        (slot, "succeeded", 4) for slot in slots
    ]
    resources = construct["resources"]
    assert queue_count(moto_server, resources["dead_letter_queue"]) == construct["tasks_dead_lettered"] == 0
    assert queue_count(moto_server, resources["run_failure_destination"]) == 0


def test_failed_and_dead_lettered_tasks_are_counted_exactly_and_are_on_the_dead_letter_queue(run, moto_server: str) -> None:
    code, construct, err = run("Mixed", 2)

    assert code == 1  # tasks ended in the dead-letter queue
    items = table_items(moto_server, construct["resources"]["ledger"])
    runs = runs_by_slot(items)
    assert len(items) == 2 and sorted(runs) == SLOTS[:2]
    first, second = runs[SLOTS[0]], runs[SLOTS[1]]
    # a, b and flaky (on its second delivery) succeed; flaky's first delivery and the first of x and y
    # fail and are retried; the second of x and y is their last (max_receive_count=2).
    assert counts(first) == {"status": "partially_failed", "attempts": 1, "tasks_sent": 5, "tasks_succeeded": 3,
                             "tasks_failed": 3, "tasks_dead_lettered": 2}
    # Every task fails twice, then is dead-lettered: the run failed.
    assert counts(second) == {"status": "failed", "attempts": 1, "tasks_sent": 5, "tasks_succeeded": 0,
                              "tasks_failed": 5, "tasks_dead_lettered": 5}
    for item in (first, second):
        assert_finished_in_order(item)
    execution = {slot: runs[slot]["execution_id"] for slot in SLOTS[:2]}
    assert sorted((f["task_id"], f["error"]) for f in first["failures"]) == [
        (f"{execution[SLOTS[0]]}/x", "ValueError: task x always fails"),
        (f"{execution[SLOTS[0]]}/y", "ValueError: task y always fails"),
    ]
    assert sorted((f["task_id"], f["error"]) for f in second["failures"]) == [
        (f"{execution[SLOTS[1]]}/{name}", f"RuntimeError: every task of {SLOTS[1]} fails")
        for name in ("a", "b", "flaky", "x", "y")
    ]

    # The dead-lettered tasks are on the dead-letter queue, each once, with their run's ledger key.
    resources = construct["resources"]
    assert construct["tasks_dead_lettered"] == 7 and construct["tasks_left_in_queue"] == 0
    dead = receive_all(moto_server, resources["dead_letter_queue"])
    assert sorted((body["run_id"], body["task_id"]) for body in dead) == sorted(
        (item["run_id"], failure["task_id"]) for item in (first, second) for failure in item["failures"]
    )
    assert queue_count(moto_server, resources["run_failure_destination"]) == 0  # the producer succeeded


# --------------------------------------------------------------------------- fan-out: a slot delivered twice


def test_a_duplicate_delivery_while_the_tasks_are_worked_off_sends_nothing_and_counts_once(deliveries, moto_server: str) -> None:
    steady = deliveries("Steady")
    event = steady.event(0)

    (first,) = steady.deliver(event)
    (again,) = steady.deliver(event)  # EventBridge delivers at least once: the same input again

    assert (first.result["outcome"], first.result["sent"]) == ("started", 3)
    assert (again.result["outcome"], again.result["sent"]) == ("duplicate", 0)
    assert again.result["run_id"] == first.result["run_id"]
    assert steady.queued() == 3
    steady.work_off_tasks()
    items = steady.items()
    (item,) = items.values()  # one item, and the finished run gave up the lock
    assert item["run_id"] == first.result["run_id"] and item["slot"] == SLOTS[0]
    assert item["execution_id"] == event["execution_id"]
    # attempts counts the deliveries that did the work: one; the counts are those of one run.
    assert counts(item) == {"status": "succeeded", "attempts": 1, "tasks_sent": 3, "tasks_succeeded": 3,
                            "tasks_failed": 0, "tasks_dead_lettered": 0}
    assert steady.queued() == 0


def test_a_duplicate_delivery_after_the_run_finished_changes_nothing(deliveries) -> None:
    steady = deliveries("Steady")
    event = steady.event(0)
    steady.deliver(event)
    steady.work_off_tasks()
    (finished,) = [item for item in steady.items().values() if "slot" in item]

    (again,) = steady.deliver(event)

    assert again.ok and (again.result["outcome"], again.result["sent"]) == ("duplicate", 0)
    assert steady.queued() == 0
    (item,) = [item for item in steady.items().values() if "slot" in item]
    assert item == finished  # the same item, attempts and counts unchanged
    assert counts(item)["attempts"] == 1 and counts(item)["tasks_sent"] == 3


@pytest.mark.parametrize("name", ["Steady", "Tracked"])
def test_a_duplicate_delivery_after_the_run_finished_leaves_the_next_slot_free(deliveries, name: str) -> None:
    construct = deliveries(name)
    event = construct.event(0)
    construct.deliver(event)
    if name == "Steady":
        construct.work_off_tasks()
    construct.deliver(event)

    locks = [item for item in construct.items().values() if "slot" not in item]
    (next_slot,) = construct.deliver(construct.event(2))

    assert next_slot.result.get("outcome", "started") == "started"  # fails: "skipped" by the finished run
    assert locks == []


# --------------------------------------------------------------------------- fan-out: overlapping slots


def test_a_slot_that_fires_while_the_previous_run_is_running_is_skipped_and_sends_nothing(deliveries) -> None:
    steady = deliveries("Steady")
    (first,) = steady.deliver(steady.event(0))  # its tasks are still on the queue: the run is running
    second_event = steady.event(1)

    (second,) = steady.deliver(second_event)
    (second_again,) = steady.deliver(second_event)

    assert (first.result["outcome"], first.result["sent"]) == ("started", 3)
    assert (second.result["outcome"], second.result["sent"]) == ("skipped", 0)
    assert (second_again.result["outcome"], second_again.result["sent"]) == ("duplicate", 0)
    assert steady.queued() == 3  # the first run's tasks only
    runs = runs_by_slot(steady.items())
    skipped = runs[SLOTS[1]]
    assert counts(skipped) == {"status": "skipped", "attempts": 1, "tasks_sent": None, "tasks_succeeded": None,
                               "tasks_failed": None, "tasks_dead_lettered": None}
    assert skipped["skipped_because"] == first.result["run_id"]
    assert skipped["execution_id"] == second_event["execution_id"]
    assert skipped["started_at"] == skipped["finished_at"]
    assert counts(runs[SLOTS[0]])["status"] == "running"

    steady.work_off_tasks()  # the first run finishes and gives up the lock: the next slot runs
    (third,) = steady.deliver(steady.event(2))
    assert (third.result["outcome"], third.result["sent"]) == ("started", 3)
    steady.work_off_tasks()

    items = steady.items()
    runs = runs_by_slot(items)
    assert len(items) == 3 and sorted(runs) == SLOTS  # one item per slot, no lock left behind
    done = {"status": "succeeded", "attempts": 1, "tasks_sent": 3, "tasks_succeeded": 3, "tasks_failed": 0,
            "tasks_dead_lettered": 0}
    assert counts(runs[SLOTS[0]]) == counts(runs[SLOTS[2]]) == done
    assert runs[SLOTS[1]] == skipped  # the first run's tasks were not counted on the skipped slot


def test_a_run_its_worker_never_finishes_makes_the_next_slots_of_a_local_run_skipped(run, moto_server: str) -> None:
    code, construct, err = run("Stuck", 3)

    assert code == 1  # the task ended in the dead-letter queue
    items = table_items(moto_server, construct["resources"]["ledger"])
    runs = runs_by_slot(items)
    assert sorted(runs) == SLOTS
    stuck = runs[SLOTS[0]]
    # The worker was stopped past its timeout: it counted nothing, and the run holds the lock.
    assert counts(stuck) == {"status": "running", "attempts": 1, "tasks_sent": 1, "tasks_succeeded": None,
                             "tasks_failed": None, "tasks_dead_lettered": None}
    for slot in SLOTS[1:]:
        assert counts(runs[slot]) == {"status": "skipped", "attempts": 1, "tasks_sent": None, "tasks_succeeded": None,
                                      "tasks_failed": None, "tasks_dead_lettered": None}
        assert runs[slot]["skipped_because"] == stuck["run_id"]
    (lock,) = [item for item in items.values() if "slot" not in item]
    assert lock == {"run_id": f"{stuck['schedule']}#lock", "holder": stuck["run_id"],
                    "lock_until": "2026-11-22T11:05:00.000Z"}  # the slot plus run_deadline
    # The skipped slots sent nothing: the one task on the dead-letter queue is the first run's.
    assert (construct["tasks_sent"], construct["worker_invocations"]) == (1, 1)
    (dead,) = receive_all(moto_server, construct["resources"]["dead_letter_queue"])
    assert dead["run_id"] == stuck["run_id"]


# --------------------------------------------------------------------------- ScheduledLambdaToTable


def test_a_tracked_function_leaves_one_item_per_run_succeeded_or_failed_after_lambdas_retries(run, moto_server: str) -> None:
    code, construct, err = run("Tracked", 2)

    assert code == 1  # a run failed
    items = table_items(moto_server, construct["resources"]["ledger"])
    runs = runs_by_slot(items)
    assert len(items) == 2 and sorted(runs) == SLOTS[:2]  # no lock left behind
    ok, failed = runs[SLOTS[0]], runs[SLOTS[1]]
    assert counts(ok) == {"status": "succeeded", "attempts": 1, "tasks_sent": None, "tasks_succeeded": None,
                          "tasks_failed": None, "tasks_dead_lettered": None}
    assert "error" not in ok
    # Lambda's two retries are the same run: three attempts on one item, then failed.
    assert counts(failed) == {"status": "failed", "attempts": 3, "tasks_sent": None, "tasks_succeeded": None,
                              "tasks_failed": None, "tasks_dead_lettered": None}
    assert failed["error"] == f"RuntimeError: the run of {FAIL_SLOT} fails"
    for item in (ok, failed):
        assert_finished_in_order(item)
    assert construct["invocations"] == 4 and construct["runs_failed"] == 1
    # The failed run is on the failure destination, once, as Lambda sends it after the last retry.
    (record,) = receive_all(moto_server, construct["resources"]["run_failure_destination"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"]["scheduled_time"] == FAIL_SLOT
    assert record["requestPayload"]["execution_id"] == failed["execution_id"]


def test_the_bundled_handler_leaves_one_succeeded_item_per_run(run, moto_server: str) -> None:
    code, construct, err = run("Recorder", 2)

    assert code == 0, err
    items = table_items(moto_server, construct["resources"]["ledger"])
    runs = runs_by_slot(items)
    assert len(items) == construct["table_items"] == 2 and sorted(runs) == SLOTS[:2]
    for item in runs.values():
        assert counts(item) == {"status": "succeeded", "attempts": 1, "tasks_sent": None, "tasks_succeeded": None,
                                "tasks_failed": None, "tasks_dead_lettered": None}
        assert_finished_in_order(item)
    assert queue_count(moto_server, construct["resources"]["run_failure_destination"]) == 0


def test_a_duplicate_delivery_to_the_bundled_handler_lands_on_the_same_item(deliveries) -> None:
    recorder = deliveries("Recorder")
    event = recorder.event(0)

    (first,) = recorder.deliver(event)
    (recorded,) = recorder.items().values()
    (again,) = recorder.deliver(event)

    assert first.result == {"run_id": recorded["run_id"], "created": True}
    assert again.result == {"run_id": recorded["run_id"], "created": False}
    (item,) = recorder.items().values()
    assert item == recorded and item["attempts"] == 1 and item["slot"] == SLOTS[0]
    assert item["execution_id"] == event["execution_id"] and item["request_id"] == first.request_id


def test_a_duplicate_delivery_to_a_tracked_function_does_not_run_it_again(deliveries) -> None:
    tracked = deliveries("Tracked")
    event = tracked.event(0)

    (first,) = tracked.deliver(event)
    (finished,) = [item for item in tracked.items().values() if "slot" in item]
    (again,) = tracked.deliver(event)

    assert first.result == {"refreshed": SLOTS[0]}  # the function ran
    assert again.ok and again.result == {"run_id": finished["run_id"], "outcome": "duplicate"}  # it did not
    (item,) = [item for item in tracked.items().values() if "slot" in item]
    assert item == finished
    assert counts(item)["status"] == "succeeded" and counts(item)["attempts"] == 1
