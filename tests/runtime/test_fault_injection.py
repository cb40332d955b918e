"""End to end with injected faults: three scheduled runs, 1,020 tasks, nothing lost.

The real producer handler and the real worker helper run against SQS and
DynamoDB on the moto server while faults are injected at every step:

* ~5% of ``SendMessageBatch`` entries fail (and are retried by the producer);
* run 2's first producer invocation fails for good on a few tasks, so the
  "Scheduler" retries the whole run: every task it had sent is queued twice;
* ~10% of task attempts fail before doing anything, ~2% fail just after
  applying their effect (a crash after the write), ~1% of tasks always fail;
* one whole batch per run is delivered to the worker twice;
* every run is delivered twice and retried once to the run recorder.

The worker's effect is an idempotent conditional ``PutItem`` keyed by the
task id (:func:`claim`). The queue redrives to a dead-letter queue after 3
receives and has ``VisibilityTimeout=0``, so retries happen at once.

At the end every task is applied exactly once or is in the dead-letter queue
(nothing lost, no effect applied twice), and every always-failing task is in
the dead-letter queue. Faults are chosen by seeded random numbers keyed by
task id and attempt, so a task fails on the same attempts in every run of this
test; only which messages share the twice-delivered batch depends on the
order the threaded producer queued them in.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime import _aws, producer, record_run
from scheduled_tasks_constructs.runtime.fanout import EnqueueError
from scheduled_tasks_constructs.runtime.idempotency import claim
from scheduled_tasks_constructs.runtime.worker import Task, process_batch

SEED = 20261122
RUN_SIZES = {"run-1": 400, "run-2": 200, "run-3": 420}
SEND_FAILURE_RATE = 0.05
TRANSIENT_FAILURE_RATE = 0.10
FAIL_AFTER_APPLY_RATE = 0.02
MAX_RECEIVE_COUNT = 3
DUPLICATED_BATCH = 3  # per run, this batch is delivered to the worker twice


def chance(*key: object) -> float:
    """A number in [0, 1) fixed by ``key`` (seeded, independent of call order)."""
    return random.Random(":".join(map(str, (SEED, *key)))).random()


def is_permanent(n: int) -> bool:
    return n % 100 == 42  # ~1% of the tasks


class FlakySQS:
    """Wraps the real SQS client; entries picked by ``fails`` come back Failed."""

    def __init__(self, client: Any, fails: Callable[[str, int], bool]) -> None:
        self.client = client
        self.fails = fails
        self.attempts: Counter[str] = Counter()
        self.injected = 0
        self._lock = threading.Lock()

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        queue_url: str = kwargs["QueueUrl"]
        entries: list[dict[str, Any]] = kwargs["Entries"]
        failing = []
        with self._lock:
            for entry in entries:
                task_id = entry["MessageAttributes"]["task_id"]["StringValue"]
                self.attempts[task_id] += 1
                if self.fails(task_id, self.attempts[task_id]):
                    failing.append(entry)
            self.injected += len(failing)
        passing = [entry for entry in entries if entry not in failing]
        response: dict[str, Any] = {"Successful": [], "Failed": []}
        if passing:
            response = dict(self.client.send_message_batch(QueueUrl=queue_url, Entries=passing))
            response.setdefault("Failed", [])
        response["Failed"] = [
            *response["Failed"],
            *(
                {
                    "Id": e["Id"],
                    "SenderFault": False,
                    "Code": "InternalError",
                    "Message": "injected",
                }
                for e in failing
            ),
        ]
        return response


class TransientError(RuntimeError):
    pass


class PermanentError(RuntimeError):
    pass


def test_three_runs_with_faults_lose_nothing_and_apply_nothing_twice(
    make_queue: Callable[..., Any],
    make_table: Callable[[str], str],
    sqs: Any,
    dynamodb: Any,
    lambda_env: pytest.MonkeyPatch,
    lambda_context: Any,
    drain_queue: Callable[..., Any],
    queue_messages: Callable[[str], list[dict[str, Any]]],
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN a queue with a dead-letter queue, a table of applied tasks and a table of runs
    queue = make_queue(max_receive_count=MAX_RECEIVE_COUNT, visibility_timeout=0)
    applied_table = make_table("task_id")
    runs_table = make_table("run_id")
    lambda_env.setenv("QUEUE_URL", queue.url)
    lambda_env.setenv("TABLE_NAME", runs_table)

    sqs_client: list[Any] = []  # the client the producer gets on its next invocation
    real_client = _aws.client
    lambda_env.setattr(
        _aws, "client", lambda service, **config: sqs_client[-1] if service == "sqs" else real_client(service, **config)
    )

    effects: Counter[str] = Counter()  # effect applied (claim won), per task id
    executions: Counter[str] = Counter()  # fn got as far as applying, per task id
    counts: Counter[str] = Counter()

    def fn(task: Task) -> None:
        if is_permanent(task.payload["n"]):
            raise PermanentError(task.task_id)
        if chance("before", task.task_id, task.receive_count) < TRANSIENT_FAILURE_RATE:
            counts["transient failures"] += 1
            raise TransientError(task.task_id)
        executions[task.task_id] += 1
        lease = claim(
            applied_table,
            task.task_id,
            client=dynamodb,
            attributes={"message_id": task.message_id},
        )
        if lease:
            lease.complete()  # the write is the effect: complete it at once
            effects[task.task_id] += 1
        else:
            counts["duplicate effects suppressed"] += 1
        if chance("after", task.task_id, task.receive_count) < FAIL_AFTER_APPLY_RATE:
            counts["failures after applying"] += 1
            raise TransientError(task.task_id)

    def invoke(number: int, event: dict[str, Any]) -> dict[str, Any]:
        first = process_batch(event, fn)
        if number != DUPLICATED_BATCH:
            return first
        # The same batch reaches a second invocation; a message stays on the
        # queue only if both invocations failed it (either one deletes it).
        counts["batches delivered twice"] += 1
        second = process_batch(event, fn)
        failed_twice = {f["itemIdentifier"] for f in first["batchItemFailures"]} & {
            f["itemIdentifier"] for f in second["batchItemFailures"]
        }
        return {"batchItemFailures": [{"itemIdentifier": m} for m in sorted(failed_twice)]}

    all_ids: set[str] = set()
    permanent_ids: set[str] = set()
    recorded: dict[str, list[bool]] = {}
    for hour, (execution_id, size) in enumerate(RUN_SIZES.items(), start=10):
        tasks = [{"name": f"t{n:04d}", "n": n} for n in range(size)]
        all_ids.update(f"{execution_id}/t{n:04d}" for n in range(size))
        permanent_ids.update(f"{execution_id}/t{n:04d}" for n in range(size) if is_permanent(n))
        event = {
            "execution_id": execution_id,
            # One slot per run: the ledger keys a run by its schedule and slot.
            "scheduled_time": f"2026-11-22T{hour}:00:00Z",
            "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/fanout",
            "attempt_number": "1",
            "tasks": tasks,
        }

        # WHEN the Scheduler delivers the run to the recorder twice, then retries it
        recorded[execution_id] = [
            record_run.handler(event, lambda_context())["created"],
            record_run.handler(event, lambda_context())["created"],
            record_run.handler({**event, "attempt_number": "2"}, lambda_context())["created"],
        ]

        # AND the producer sends the tasks through a flaky SQS
        flaky = FlakySQS(
            sqs, lambda task_id, attempt: chance("send", task_id, attempt) < SEND_FAILURE_RATE
        )
        if execution_id == "run-2":
            # ...whose first invocation cannot send a few tasks at all, so the
            # Scheduler retries the run (attempt 2) and everything is sent again.
            broken = FlakySQS(
                sqs, lambda task_id, attempt: task_id.endswith(("7", "9")) and "t00" in task_id
            )
            sqs_client.append(broken)
            with pytest.raises(EnqueueError) as caught:
                producer.handler(event, lambda_context())
            counts["tasks queued twice by the run retry"] += caught.value.sent
            event = {**event, "attempt_number": "2"}
        sqs_client.append(flaky)
        result = producer.handler(event, lambda_context())
        assert result["sent"] == size
        counts["send entries failed (injected)"] += flaky.injected
        counts["SendMessageBatch requests"] += result["requests"]

        # AND the worker drains the queue (receive -> process_batch -> delete successes)
        stats = drain_queue(queue, fn, invoke=invoke)
        counts["worker batches"] += stats.batches
        counts["deliveries"] += stats.deliveries
        counts["failed deliveries"] += stats.failures

    # THEN the task queue is empty and the dead-letter queue holds the rest
    assert queue_messages(queue.url) == []
    dead = [json.loads(message["Body"])["task_id"] for message in queue_messages(queue.dlq_url)]
    dead_ids = set(dead)
    applied_items = table_items(applied_table)
    applied_ids = [item["task_id"]["S"] for item in applied_items]

    counts["tasks"] = len(all_ids)
    counts["applied"] = len(applied_ids)
    counts["dead-lettered messages"] = len(dead)
    counts["dead-lettered tasks"] = len(dead_ids)
    counts["always-failing tasks"] = len(permanent_ids)
    counts["unlucky tasks (3 transient failures)"] = len(
        dead_ids - permanent_ids - set(applied_ids)
    )
    counts["executions"] = sum(executions.values())
    print()
    for name, value in sorted(counts.items()):
        print(f"  {name:40} {value:6d}")

    # nothing lost: every task was applied or dead-lettered
    assert all_ids - set(applied_ids) - dead_ids == set()
    # nothing applied twice: one item and one effect per applied task
    assert len(applied_ids) == len(set(applied_ids))
    assert set(effects) == set(applied_ids)
    assert max(effects.values()) == 1
    # no strangers: every item and dead letter belongs to a scheduled task
    assert set(applied_ids) <= all_ids and dead_ids <= all_ids
    # always-failing tasks are all dead-lettered and never applied
    assert permanent_ids <= dead_ids
    assert not permanent_ids & set(applied_ids)
    # the faults really happened
    assert counts["send entries failed (injected)"] > 0
    assert counts["transient failures"] > 0
    assert counts["failures after applying"] > 0
    assert counts["duplicate effects suppressed"] > 0
    assert counts["tasks queued twice by the run retry"] > 0
    assert counts["batches delivered twice"] == len(RUN_SIZES)
    assert len(all_ids) >= 1_000

    # AND every run was recorded exactly once despite duplicates and retries
    assert recorded == {run: [True, False, False] for run in RUN_SIZES}
    runs = table_items(runs_table)
    assert sorted(item["execution_id"]["S"] for item in runs) == sorted(RUN_SIZES)
    assert sorted(item["run_id"]["S"] for item in runs) == [
        f"default/fanout#2026-11-22T{hour}:00:00Z" for hour in range(10, 10 + len(RUN_SIZES))
    ]
    assert {item["attempt_number"]["N"] for item in runs} == {"1"}
