"""The sharded producer against SQS and DynamoDB on moto: plans, shards, retries, exact counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime import _aws, sharding
from scheduled_tasks_constructs.runtime.events import MalformedEventError

ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/million"
SLOT = "2026-12-06T03:00:00Z"
RUN_ID = f"default/million#{SLOT}"


def schedule_event(execution_id: str = "exec-s") -> dict[str, Any]:
    return {"execution_id": execution_id, "scheduled_time": SLOT, "schedule_arn": ARN, "attempt_number": "1"}


def numbered(event: Any, run: Any, start: int, stop: int) -> Iterator[dict[str, Any]]:
    return ({"n": n} for n in range(start, stop))


class Dispatched:
    """The shard events a planner hands on, kept instead of invoking Lambda."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: Any) -> None:
        self.events.append(json.loads(json.dumps(event)))  # what an Invoke payload carries


class FlakySqs:
    """An SQS client whose ``SendMessageBatch`` raises from call ``fail_from`` on (``None``: never)."""

    def __init__(self, real: Any, fail_from: int | None) -> None:
        self.real, self.fail_from, self.calls = real, fail_from, 0

    def send_message_batch(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.fail_from is not None and self.calls >= self.fail_from:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "SendMessageBatch")
        return self.real.send_message_batch(**kwargs)


@pytest.fixture
def env(lambda_env: pytest.MonkeyPatch, make_queue: Callable[..., Any], make_table: Callable[[str], str]) -> Any:
    queue = make_queue()
    lambda_env.setenv("QUEUE_URL", queue.url)
    lambda_env.setenv("LEDGER_TABLE_NAME", make_table("run_id"))
    lambda_env.setenv("MAX_RECEIVE_COUNT", "2")
    lambda_env.setenv("MAX_ATTEMPTS", "3")
    return queue


def use_sqs(monkeypatch: pytest.MonkeyPatch, sqs_client: Any) -> None:
    real = _aws.client

    def client(service: str, **kwargs: Any) -> Any:
        return sqs_client if service == "sqs" else real(service, **kwargs)

    monkeypatch.setattr(_aws, "client", client)


def run_item(dynamodb: Any) -> dict[str, Any]:
    import os

    response = dynamodb.get_item(TableName=os.environ["LEDGER_TABLE_NAME"], Key={"run_id": {"S": RUN_ID}}, ConsistentRead=True)
    return _aws.plain_item(response["Item"])


def task_numbers(messages: list[dict[str, Any]]) -> list[int]:
    return sorted(json.loads(m["Body"])["task"]["n"] for m in messages)


def test_a_run_within_one_shard_is_sent_by_the_scheduled_invocation(
    env: Any, lambda_context: Any, queue_messages: Callable[[str], list[Any]], dynamodb: Any
) -> None:
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 25, numbered, shard_size=100, dispatch=dispatched)

    result = handler(schedule_event(), lambda_context())

    assert result["sent"] == 25 and result["requests"] == 3 and "shards" not in result
    assert dispatched.events == []
    assert task_numbers(queue_messages(env.url)) == list(range(25))
    item = run_item(dynamodb)
    assert (item["tasks_sent"], item["sending_done"], "shards" in item) == (25, True, False)


def test_a_large_run_is_planned_once_and_every_shard_sends_its_positions(
    env: Any, lambda_context: Any, queue_messages: Callable[[str], list[Any]], dynamodb: Any, drain_queue: Any
) -> None:
    # GIVEN a run of 2,500 tasks and shards of 1,000
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 2_500, numbered, shard_size=1_000, dispatch=dispatched)

    # WHEN the schedule fires, the planner sends nothing and hands on three shards
    planned = handler(schedule_event(), lambda_context())
    assert (planned["sent"], planned["shards"], planned["dispatched"]) == (0, 3, 3)
    specs = [event[sharding.SHARD_EVENT_KEY] for event in dispatched.events]
    assert [(s["index"], s["start"], s["stop"]) for s in specs] == [(0, 0, 1000), (1, 1000, 2000), (2, 2000, 2500)]
    assert {e["execution_id"] for e in dispatched.events} == {"exec-s"}
    item = run_item(dynamodb)
    assert (item["shard_count"], item["tasks_planned"], item.get("sending_done")) == (3, 2_500, None)

    # AND each shard, run as its own invocation, sends exactly its positions
    results = [handler(event, lambda_context()) for event in dispatched.events]
    assert [r["sent"] for r in results] == [1000, 1000, 500]
    messages = queue_messages(env.url)
    assert task_numbers(messages) == list(range(2_500))
    ids = {json.loads(m["Body"])["task_id"] for m in messages}
    assert ids == {f"exec-s/{n}" for n in range(2_500)}  # the ids one producer would give
    item = run_item(dynamodb)
    assert (item["tasks_sent"], item["shards_done"], item["sending_done"], item["status"]) == (2_500, 3, True, "running")

    # AND a second delivery of a done shard sends nothing and counts nothing
    again = handler(dispatched.events[1], lambda_context())
    assert (again["outcome"], again["sent"]) == ("done", 0)
    assert run_item(dynamodb)["tasks_sent"] == 2_500


def test_a_planner_retried_after_a_failed_dispatch_hands_on_only_the_shards_not_handed_on(
    env: Any, lambda_context: Any, dynamodb: Any
) -> None:
    calls: list[int] = []

    def flaky_dispatch(event: Any) -> None:
        index = event[sharding.SHARD_EVENT_KEY]["index"]
        calls.append(index)
        if index == 1 and calls.count(1) == 1:
            raise RuntimeError("invoke failed")

    handler = sharding.sharded_producer(lambda e, r: 3_000, numbered, shard_size=1_000, dispatch=flaky_dispatch, concurrency=1)
    with pytest.raises(RuntimeError, match="invoke failed"):
        handler(schedule_event(), lambda_context())
    retried = handler(schedule_event(), lambda_context())

    assert calls == [0, 1, 1, 2]
    assert (retried["shards"], retried["dispatched"]) == (3, 2)
    shards = run_item(dynamodb)["shards"]
    assert all(shards[str(i)]["dispatched"] for i in range(3))


def test_a_failed_shard_resumes_at_its_checkpoint_and_the_counts_expect_its_extra_sends(
    env: Any,
    lambda_context: Any,
    lambda_env: pytest.MonkeyPatch,
    sqs: Any,
    queue_messages: Callable[[str], list[Any]],
    dynamodb: Any,
    drain_queue: Any,
) -> None:
    # GIVEN a shard whose first attempt fails at its 40th SendMessageBatch call
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 2_000, numbered, shard_size=1_000, dispatch=dispatched)
    handler(schedule_event(), lambda_context())
    flaky = FlakySqs(sqs, fail_from=40)
    use_sqs(lambda_env, flaky)
    with pytest.raises(Exception):
        handler(dispatched.events[0], lambda_context())
    shard = run_item(dynamodb)["shards"]["0"]
    checkpoint, resent = shard["sent"], shard["resent"]
    assert 0 < checkpoint < 1000 and checkpoint % 10 == 0
    assert "claimed_by" not in shard and shard["attempts"] == 1  # the claim is given up for the retry

    # WHEN Lambda retries it, it resumes at the checkpoint
    flaky.fail_from = None
    retry = handler(dispatched.events[0], lambda_context())
    assert (retry["outcome"], retry["resumed_at"], retry["sent"]) == ("resumed", checkpoint, 1000 - checkpoint)
    handler(dispatched.events[1], lambda_context())

    # THEN every task is on the queue, and the ones sent twice are exactly those the ledger expects twice
    messages = queue_messages(env.url)
    numbers = task_numbers(messages)
    assert sorted(set(numbers)) == list(range(2_000))
    item = run_item(dynamodb)
    assert len(messages) == 2_000 + resent
    assert (item["tasks_sent"], item.get("tasks_resent", 0)) == (2_000, resent)


def test_the_run_finishes_when_every_delivery_of_a_resumed_shard_is_worked(
    env: Any, lambda_context: Any, lambda_env: pytest.MonkeyPatch, sqs: Any, dynamodb: Any, drain_queue: Any
) -> None:
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 600, numbered, shard_size=300, dispatch=dispatched)
    handler(schedule_event(), lambda_context())
    flaky = FlakySqs(sqs, fail_from=12)
    use_sqs(lambda_env, flaky)
    with pytest.raises(Exception):
        handler(dispatched.events[0], lambda_context())
    flaky.fail_from = None
    for event in dispatched.events:
        handler(event, lambda_context())
    item = run_item(dynamodb)
    expected = item["tasks_sent"] + item.get("tasks_resent", 0)

    stats = drain_queue(env, lambda task: None)

    item = run_item(dynamodb)
    assert stats.deliveries == expected
    assert (item["status"], item["tasks_succeeded"]) == ("succeeded", expected)


def test_a_shard_failing_its_last_attempt_fails_the_run(
    env: Any, lambda_context: Any, lambda_env: pytest.MonkeyPatch, sqs: Any, dynamodb: Any
) -> None:
    lambda_env.setenv("MAX_ATTEMPTS", "1")
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 400, numbered, shard_size=200, dispatch=dispatched)
    handler(schedule_event(), lambda_context())
    use_sqs(lambda_env, FlakySqs(sqs, fail_from=1))

    with pytest.raises(Exception):
        handler(dispatched.events[0], lambda_context())

    item = run_item(dynamodb)
    assert item["status"] == "failed"
    assert "InternalError" in item["error"]


def test_a_shard_short_of_time_hands_the_rest_to_a_new_invocation(
    env: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, queue_messages: Callable[[str], list[Any]], dynamodb: Any
) -> None:
    # GIVEN invocations that run short of time after 300 tasks each
    asked: list[int] = []

    def out_of_time(self: Any) -> bool:
        asked.append(id(self))
        return asked.count(id(self)) > 300

    monkeypatch.setattr(sharding._Clock, "out_of_time", out_of_time)
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 1_400, numbered, shard_size=700, dispatch=dispatched)
    handler(schedule_event(), lambda_context())

    # WHEN the first shard runs, it sends 300, then goes on in new invocations until done
    outcomes = []
    first = dispatched.events[0]
    dispatched.events.clear()
    outcomes.append(handler(first, lambda_context()))
    while dispatched.events:
        outcomes.append(handler(dispatched.events.pop(0), lambda_context()))

    assert [(o["outcome"], o["resumed_at"], o["sent"]) for o in outcomes] == [
        ("continued", 0, 300), ("continued", 300, 300), ("resumed", 600, 100),
    ]
    assert task_numbers(queue_messages(env.url)) == list(range(700))  # none sent twice
    shard = run_item(dynamodb)["shards"]["0"]
    assert (shard["done"], shard["sent"], shard["attempts"]) == (True, 700, 1)


def test_tasks_are_read_as_they_are_sent_not_all_first(
    env: Any, lambda_context: Any, lambda_env: pytest.MonkeyPatch, sqs: Any
) -> None:
    counting = FlakySqs(sqs, fail_from=None)
    use_sqs(lambda_env, counting)
    calls_when_read: list[int] = []

    def watched(event: Any, run: Any, start: int, stop: int) -> Iterator[dict[str, Any]]:
        for n in range(start, stop):
            calls_when_read.append(counting.calls)
            yield {"n": n}

    handler = sharding.sharded_producer(lambda e, r: 1_000, watched, shard_size=1_000)
    handler(schedule_event(), lambda_context())

    assert len(calls_when_read) == 1_000
    assert calls_when_read[0] == 0 and calls_when_read[-1] >= 90  # the last task is read after 90 calls went out


def test_without_a_ledger_shards_are_planned_and_sent_without_checkpoints(
    lambda_env: pytest.MonkeyPatch, make_queue: Callable[..., Any], lambda_context: Any, queue_messages: Callable[[str], list[Any]]
) -> None:
    queue = make_queue()
    lambda_env.setenv("QUEUE_URL", queue.url)
    lambda_env.delenv("LEDGER_TABLE_NAME", raising=False)
    dispatched = Dispatched()
    handler = sharding.sharded_producer(lambda e, r: 250, numbered, shard_size=100, dispatch=dispatched)

    planned = handler(schedule_event(), lambda_context())
    sent = [handler(event, lambda_context())["sent"] for event in dispatched.events]

    assert (planned["shards"], sent) == (3, [100, 100, 50])
    assert task_numbers(queue_messages(queue.url)) == list(range(250))


def test_invoke_self_is_an_asynchronous_invoke_of_this_function(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class Lambda:
        def invoke(self, **kwargs: Any) -> None:
            calls.append(kwargs)

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "my-producer")
    monkeypatch.setattr(_aws, "client", lambda service, **kwargs: Lambda() if service == "lambda" else None)

    sharding.invoke_self({"fanout_shard": {"index": 2}})

    (call,) = calls
    assert (call["FunctionName"], call["InvocationType"]) == ("my-producer", "Event")
    assert json.loads(call["Payload"]) == {"fanout_shard": {"index": 2}}


@pytest.mark.parametrize(
    ("count", "tasks", "error", "message"),
    [
        (lambda e, r: -1, numbered, ValueError, "count\\(...\\) must give a whole number of at least 0, got -1"),
        (lambda e, r: "many", numbered, ValueError, "count\\(...\\) must give a whole number"),
        (lambda e, r: 5, lambda e, r, a, b: {"n": 1}, TypeError, "tasks\\(...\\) must give a list or an iterable of tasks, got dict"),
    ],
)
def test_bad_task_sources_are_named(
    env: Any, lambda_context: Any, count: Any, tasks: Any, error: type[Exception], message: str
) -> None:
    handler = sharding.sharded_producer(count, tasks, shard_size=10)
    with pytest.raises(error, match=message):
        handler(schedule_event(), lambda_context())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("one", "event field 'fanout_shard' must be an object, got str"),
        ({"index": 0, "start": 5, "stop": 2, "run_id": RUN_ID}, "stop 2 is before start 5"),
        ({"index": -1, "start": 0, "stop": 2}, "fanout_shard.index must be a whole number, got -1"),
    ],
)
def test_malformed_shard_events_raise(env: Any, lambda_context: Any, spec: Any, message: str) -> None:
    handler = sharding.sharded_producer(lambda e, r: 5, numbered)
    with pytest.raises(MalformedEventError, match=message):
        handler({**schedule_event(), sharding.SHARD_EVENT_KEY: spec}, lambda_context())


def test_bad_settings_raise_when_the_handler_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="shard_size must be a positive integer, got 0"):
        sharding.sharded_producer(lambda e, r: 1, numbered, shard_size=0)
    with pytest.raises(TypeError, match="count and tasks must be callables"):
        sharding.sharded_producer(5, numbered)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="SHARD_SIZE must be a whole number of at least 1, got 'lots'"):
        sharding.shard_size_from_env({"SHARD_SIZE": "lots"})
