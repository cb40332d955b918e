"""send_tasks and friends against SQS on the moto server."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scheduled_tasks_constructs.runtime.events import RunContext
from scheduled_tasks_constructs.runtime.fanout import (
    DEFAULT_MAX_MESSAGE_BYTES,
    MAX_BATCH_ENTRIES,
    EnqueueError,
    SendReport,
    TaskTooLargeError,
    build_messages,
    send_tasks,
    task_id_for,
)

RUN = RunContext(execution_id="exec-1", scheduled_time="2026-11-22T10:00:00Z")


def tasks_of(count: int) -> list[dict[str, Any]]:
    return [{"name": f"task-{i:04d}", "n": i} for i in range(count)]


class CountingClient:
    """A real client whose SendMessageBatch calls are counted by a botocore hook."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()
        client.meta.events.register("provide-client-params.sqs.SendMessageBatch", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.batches.append([entry["Id"] for entry in params["Entries"]])


class FlakyClient:
    """Wraps a real client; entries chosen by ``fail`` are reported Failed.

    ``fail(task_id, attempt)`` is asked for every entry; the others go to the
    real queue in one real call.
    """

    def __init__(
        self,
        client: Any,
        fail: Callable[[str, int], bool],
        *,
        sender_fault: bool = False,
    ) -> None:
        self.client = client
        self.fail = fail
        self.sender_fault = sender_fault
        self.calls = 0
        self.attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        queue_url: str = kwargs["QueueUrl"]
        entries: list[dict[str, Any]] = kwargs["Entries"]
        with self._lock:
            self.calls += 1
            failing = []
            for entry in entries:
                task_id = entry["MessageAttributes"]["task_id"]["StringValue"]
                self.attempts[task_id] = self.attempts.get(task_id, 0) + 1
                if self.fail(task_id, self.attempts[task_id]):
                    failing.append(entry)
        passing = [entry for entry in entries if entry not in failing]
        response: dict[str, Any] = {"Successful": [], "Failed": []}
        if passing:
            real = self.client.send_message_batch(QueueUrl=queue_url, Entries=passing)
            response["Successful"] = real.get("Successful", [])
            response["Failed"] = real.get("Failed", [])
        response["Failed"] += [
            {
                "Id": entry["Id"],
                "SenderFault": self.sender_fault,
                "Code": "InvalidMessageContents" if self.sender_fault else "InternalError",
                "Message": "injected",
            }
            for entry in failing
        ]
        return response


def queued_bodies(messages: list[dict[str, Any]]) -> dict[str, str]:
    bodies: dict[str, str] = {}
    for message in messages:
        task_id = message["MessageAttributes"]["task_id"]["StringValue"]
        assert task_id not in bodies, f"{task_id} is on the queue twice"
        bodies[task_id] = message["Body"]
    return bodies


def test_task_id_uses_name_when_there_is_one() -> None:
    assert task_id_for("e", 0, {"name": "report"}) == "e/report"
    assert task_id_for("e", 4, {"name": 7}) == "e/4"
    assert task_id_for("e", 2, "plain string") == "e/2"
    assert task_id_for("e", 3, None) == "e/3"


def test_build_messages_bodies_are_deterministic_json() -> None:
    messages = build_messages([{"name": "a", "b": 1, "a": [1, 2]}, 42], RUN)

    assert messages == [
        (
            "exec-1/a",
            '{"execution_id":"exec-1","scheduled_time":"2026-11-22T10:00:00Z",'
            '"task":{"a":[1,2],"b":1,"name":"a"},"task_id":"exec-1/a"}',
        ),
        (
            "exec-1/1",
            '{"execution_id":"exec-1","scheduled_time":"2026-11-22T10:00:00Z",'
            '"task":42,"task_id":"exec-1/1"}',
        ),
    ]


def test_137_tasks_take_14_batch_calls_and_all_arrive(
    make_queue: Callable[..., Any],
    new_client: Callable[[str], Any],
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN 137 tasks and a client whose SendMessageBatch calls are counted
    queue = make_queue()
    counting = CountingClient(new_client("sqs"))
    tasks = tasks_of(137)

    # WHEN they are sent
    report = send_tasks(queue.url, tasks, run=RUN, client=counting.client)

    # THEN exactly ceil(137 / 10) calls of at most 10 entries were made
    assert len(counting.batches) == math.ceil(137 / MAX_BATCH_ENTRIES) == 14
    assert all(len(batch) <= MAX_BATCH_ENTRIES for batch in counting.batches)
    assert report == SendReport(
        sent=137,
        requests=14,
        retried_entries=0,
        task_ids=[f"exec-1/task-{i:04d}" for i in range(137)],
    )
    # AND every task is on the queue once, with the body build_messages gives
    assert queued_bodies(queue_messages(queue.url)) == dict(build_messages(tasks, RUN))


def test_body_of_a_queued_message(
    make_queue: Callable[..., Any], sqs: Any, receive_some: Callable[[str], Any]
) -> None:
    queue = make_queue()

    send_tasks(queue.url, [{"url": "https://example.com"}], run=RUN, client=sqs)

    (message,) = receive_some(queue.url)
    assert json.loads(message["Body"]) == {
        "task_id": "exec-1/0",
        "execution_id": "exec-1",
        "scheduled_time": "2026-11-22T10:00:00Z",
        "task": {"url": "https://example.com"},
    }
    assert message["MessageAttributes"] == {
        "task_id": {"StringValue": "exec-1/0", "DataType": "String"}
    }


def test_failed_entries_are_retried_and_none_is_lost(
    make_queue: Callable[..., Any],
    sqs: Any,
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN a client that fails every 7th entry on its first attempt
    queue = make_queue()
    failing = {f"exec-1/task-{i:04d}" for i in range(0, 137, 7)}
    flaky = FlakyClient(sqs, lambda task_id, attempt: attempt == 1 and task_id in failing)

    # WHEN 137 tasks are sent
    report = send_tasks(queue.url, tasks_of(137), run=RUN, client=flaky, backoff_seconds=0)

    # THEN only the failed entries were sent again, and every task arrived once
    assert report.sent == 137
    assert report.retried_entries == len(failing) == 20
    assert flaky.calls == report.requests == 14 + 14  # each batch holds a failing entry
    assert {task_id for task_id, count in flaky.attempts.items() if count > 1} == failing
    assert len(queued_bodies(queue_messages(queue.url))) == 137


def test_permanent_failure_raises_enqueue_error_naming_the_ids(
    make_queue: Callable[..., Any],
    sqs: Any,
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    queue = make_queue()
    broken = {"exec-1/task-0005", "exec-1/task-0077"}
    flaky = FlakyClient(sqs, lambda task_id, attempt: task_id in broken)

    with pytest.raises(EnqueueError) as caught:
        send_tasks(
            queue.url, tasks_of(137), run=RUN, client=flaky, max_attempts=3, backoff_seconds=0
        )

    error = caught.value
    assert str(error) == (
        "could not enqueue 2 of 137 tasks (InternalError): exec-1/task-0005, exec-1/task-0077"
    )
    assert error.task_ids == ["exec-1/task-0005", "exec-1/task-0077"]
    assert error.sent == 135
    assert flaky.attempts["exec-1/task-0005"] == 3
    # The others were sent (a retried run sends them again with the same ids).
    assert len(queue_messages(queue.url)) == 135


def test_sender_fault_entries_are_not_retried(make_queue: Callable[..., Any], sqs: Any) -> None:
    queue = make_queue()
    flaky = FlakyClient(
        sqs, lambda task_id, attempt: task_id == "exec-1/task-0003", sender_fault=True
    )

    with pytest.raises(EnqueueError, match=r"\(InvalidMessageContents\): exec-1/task-0003$"):
        send_tasks(queue.url, tasks_of(5), run=RUN, client=flaky, backoff_seconds=0)

    assert flaky.attempts["exec-1/task-0003"] == 1


def test_enqueue_error_names_at_most_twenty_ids() -> None:
    ids = [f"e/{i}" for i in range(25)]
    error = EnqueueError(ids, sent=0, reasons=dict.fromkeys(ids, "InternalError"))

    assert str(error).endswith("e/18, e/19 and 5 more")
    assert error.task_ids == ids


def test_a_call_that_raises_is_not_retried_by_the_library(
    make_queue: Callable[..., Any], sqs: Any
) -> None:
    # GIVEN a client whose first call raises throttling (its own retries used up)
    queue = make_queue()
    calls = []

    class Throttled:
        def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            if len(calls) == 1:
                raise ClientError(
                    {
                        "Error": {"Code": "RequestThrottled", "Message": "slow down"},
                        "ResponseMetadata": {"HTTPStatusCode": 403},
                    },
                    "SendMessageBatch",
                )
            return sqs.send_message_batch(**kwargs)

    # WHEN the tasks are sent THEN no second loop retries the whole call
    with pytest.raises(EnqueueError) as caught:
        send_tasks(queue.url, tasks_of(3), run=RUN, client=Throttled(), backoff_seconds=0)

    assert len(calls) == 1
    assert caught.value.task_ids == ["exec-1/task-0000", "exec-1/task-0001", "exec-1/task-0002"]
    assert caught.value.reasons == dict.fromkeys(caught.value.task_ids, "RequestThrottled")
    assert caught.value.sent == 0
    assert isinstance(caught.value.__cause__, ClientError)


def test_whole_call_errors_are_retried_by_botocore_standard_mode(
    make_queue: Callable[..., Any],
    lambda_env: pytest.MonkeyPatch,
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN the library's client, whose first request gets HTTP 503
    from botocore.awsrequest import AWSResponse

    from scheduled_tasks_constructs.runtime import _aws

    queue = make_queue()
    client = _aws.client("sqs")
    sends = []

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield b""

    def unavailable(request: Any, **_: Any) -> Any:
        sends.append(request)
        if len(sends) == 1:
            return AWSResponse(request.url, 503, {}, Raw())
        return None

    client.meta.events.register("before-send.sqs.SendMessageBatch", unavailable)

    # WHEN the tasks are sent
    report = send_tasks(queue.url, tasks_of(3), run=RUN, client=client, backoff_seconds=0)

    # THEN botocore sent the request again within the library's one call
    assert len(sends) == 2
    assert (report.sent, report.requests, report.retried_entries) == (3, 1, 0)
    assert len(queue_messages(queue.url)) == 3


def test_library_clients_use_standard_retries_with_bounded_attempts(
    lambda_env: pytest.MonkeyPatch,
) -> None:
    from scheduled_tasks_constructs.runtime import _aws

    retries = _aws.client("sqs").meta.config.retries

    assert retries["mode"] == "standard"
    assert retries["total_max_attempts"] == _aws.MAX_ATTEMPTS


def test_missing_queue_fails_at_once(sqs: Any) -> None:
    counting_calls = []
    sqs_url = sqs.meta.endpoint_url + "/123456789012/no-such-queue"

    class Counting:
        def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
            counting_calls.append(1)
            return sqs.send_message_batch(**kwargs)

    with pytest.raises(EnqueueError) as caught:
        send_tasks(sqs_url, tasks_of(12), run=RUN, client=Counting(), backoff_seconds=0)

    assert len(counting_calls) == 2  # one per batch, no retries
    assert len(caught.value.task_ids) == 12
    assert isinstance(caught.value.__cause__, ClientError)


def test_oversized_task_raises_before_anything_is_sent(
    make_queue: Callable[..., Any],
    new_client: Callable[[str], Any],
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN 30 good tasks and, last, one too large for a message
    queue = make_queue()
    counting = CountingClient(new_client("sqs"))
    tasks = [*tasks_of(30), {"name": "huge", "blob": "x" * DEFAULT_MAX_MESSAGE_BYTES}]

    # WHEN they are sent THEN the error names the task, its size and the limit
    with pytest.raises(TaskTooLargeError) as caught:
        send_tasks(queue.url, tasks, run=RUN, client=counting.client)

    size = caught.value.size
    assert size > DEFAULT_MAX_MESSAGE_BYTES
    assert str(caught.value) == (
        f"task 'exec-1/huge' is {size} bytes, over the limit of 1048576 bytes "
        "(message body plus the task_id attribute)"
    )
    # AND nothing at all was sent
    assert counting.batches == []
    assert queue_messages(queue.url) == []


def test_the_default_limit_is_the_sqs_maximum_of_1_mib() -> None:
    assert DEFAULT_MAX_MESSAGE_BYTES == 1_048_576


def test_a_task_over_256_kib_is_sent_by_default(
    make_queue: Callable[..., Any],
    new_client: Callable[[str], Any],
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN a task just over the old 256 KiB limit, and a queue with the SQS default size limit
    queue = make_queue()
    blob = "x" * (262_144 + 1)

    # WHEN it is sent with the default limit
    report = send_tasks(queue.url, [{"name": "big", "blob": blob}], run=RUN, client=new_client("sqs"))

    # THEN it arrives whole
    assert report.sent == 1
    (message,) = queue_messages(queue.url)
    assert json.loads(message["Body"])["task"]["blob"] == blob


def test_a_task_over_1_mib_names_itself_and_a_lower_limit_still_applies() -> None:
    just_over = [{"name": "big", "blob": "x" * DEFAULT_MAX_MESSAGE_BYTES}]
    with pytest.raises(TaskTooLargeError) as caught:
        build_messages(just_over, RUN)
    assert caught.value.task_id == "exec-1/big"
    assert caught.value.limit == 1_048_576

    over_256_kib = [{"name": "mid", "blob": "x" * 262_144}]
    build_messages(over_256_kib, RUN)
    with pytest.raises(TaskTooLargeError) as caught:
        build_messages(over_256_kib, RUN, max_message_bytes=262_144)
    assert caught.value.task_id == "exec-1/mid"
    assert caught.value.limit == 262_144


def test_message_size_counts_the_task_id_attribute() -> None:
    # Find the largest blob whose message fits exactly, then go one byte over.
    limit = 2_048
    base = len(build_messages([{"b": ""}], RUN, max_message_bytes=limit)[0][1])
    attribute = len("task_id") + len("String") + len("exec-1/0")
    fits = "x" * (limit - base - attribute)

    build_messages([{"b": fits}], RUN, max_message_bytes=limit)
    with pytest.raises(TaskTooLargeError):
        build_messages([{"b": fits + "x"}], RUN, max_message_bytes=limit)


def test_batches_also_respect_the_total_size(
    make_queue: Callable[..., Any],
    new_client: Callable[[str], Any],
    queue_messages: Callable[[str], list[dict[str, Any]]],
) -> None:
    queue = make_queue()
    counting = CountingClient(new_client("sqs"))
    tasks = [{"name": f"t{i}", "blob": "x" * 240_000} for i in range(10)]

    report = send_tasks(queue.url, tasks, run=RUN, client=counting.client)

    # 4 x ~240 KB fit in 1 MiB, 5 do not: 4 + 4 + 2
    assert sorted(len(batch) for batch in counting.batches) == [2, 4, 4]
    assert report.requests == 3
    assert len(queue_messages(queue.url)) == 10


def test_not_serialisable_task_raises_a_clear_error(new_client: Callable[[str], Any]) -> None:
    counting = CountingClient(new_client("sqs"))

    with pytest.raises(TypeError) as caught:
        send_tasks(
            "unused",
            [{"name": "ok"}, {"name": "bad", "when": {1, 2}}],
            run=RUN,
            client=counting.client,
        )

    assert str(caught.value) == (
        "task 'exec-1/bad' (index 1) is not JSON-serialisable: "
        "Object of type set is not JSON serializable"
    )
    assert counting.batches == []


def test_nan_is_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"^task 'exec-1/0' \(index 0\) is not valid JSON: Out of range"
    ):
        build_messages([{"x": float("nan")}], RUN)


def test_duplicate_task_names_raise() -> None:
    with pytest.raises(ValueError) as caught:
        build_messages([{"name": "a"}, {"name": "b"}, {"name": "a"}], RUN)

    assert str(caught.value) == (
        "tasks 0 and 2 have the same id 'exec-1/a'; task names must be unique within a run"
    )


def test_name_and_index_ids_can_collide() -> None:
    with pytest.raises(ValueError, match="tasks 0 and 1 have the same id 'exec-1/1'"):
        build_messages([{"name": "1"}, {"no": "name"}], RUN)


def test_control_characters_in_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="task 0 has an id with characters SQS does not accept"):
        build_messages([{"name": "bad\x00name"}], RUN)


def test_tasks_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="^tasks must be a list, got dict$"):
        build_messages({"name": "a"}, RUN)  # type: ignore[arg-type]


def test_no_tasks_sends_nothing(new_client: Callable[[str], Any]) -> None:
    counting = CountingClient(new_client("sqs"))

    report = send_tasks("unused", [], run=RUN, client=counting.client)

    assert report == SendReport(sent=0, requests=0, retried_entries=0, task_ids=[])
    assert counting.batches == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency": 0}, "concurrency must be a positive integer, got 0"),
        ({"max_attempts": 0}, "max_attempts must be a positive integer, got 0"),
        ({"backoff_seconds": -1}, "backoff_seconds must be a number of at least 0, got -1"),
        ({"max_message_bytes": 100}, "max_message_bytes must be between 1024 and 1048576, got 100"),
    ],
)
def test_invalid_options_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        send_tasks("unused", tasks_of(1), run=RUN, client=None, **kwargs)

    assert str(caught.value) == message


def test_an_iterator_of_tasks_is_sent_lazily_with_ids_from_its_start_position(
    make_queue: Callable[..., Any], sqs: Any, queue_messages: Callable[[str], list[dict[str, Any]]]
) -> None:
    queue = make_queue()
    progress: list[tuple[int, int]] = []

    report = send_tasks(
        queue.url,
        ({"n": n} for n in range(500, 537)),
        run=RUN,
        client=sqs,
        start=500,
        on_progress=lambda prefix, sent: progress.append((prefix, sent)),
        progress_every=10,
    )

    assert (report.sent, report.requests, report.task_ids) == (37, 4, [])
    assert sorted(queued_bodies(queue_messages(queue.url))) == sorted(f"exec-1/{n}" for n in range(500, 537))
    prefixes = [prefix for prefix, _ in progress]
    assert prefixes == sorted(prefixes) and prefixes[-1] == 37 and all(sent >= prefix for prefix, sent in progress)


def test_with_on_progress_the_first_failed_batch_stops_the_sending_and_the_prefix_is_reported(
    make_queue: Callable[..., Any], sqs: Any
) -> None:
    # GIVEN the 8th task fails every attempt
    queue = make_queue()
    flaky = FlakyClient(sqs, lambda task_id, attempt: task_id == "exec-1/7")
    progress: list[tuple[int, int]] = []

    with pytest.raises(EnqueueError) as caught:
        send_tasks(
            queue.url,
            iter(tasks_of(500)[i] | {"name": None} for i in range(500)),
            run=RUN,
            client=flaky,
            concurrency=1,
            max_attempts=2,
            backoff_seconds=0,
            on_progress=lambda prefix, sent: progress.append((prefix, sent)),
        )

    # THEN nothing after that batch was sent, and the last report is the exact prefix
    assert caught.value.task_ids == ["exec-1/7"]
    assert progress[-1] == (0, 9)
    assert flaky.calls == 2


def test_tasks_must_be_a_list_or_an_iterator() -> None:
    with pytest.raises(TypeError, match="^tasks must be a list or an iterator, got dict$"):
        send_tasks("unused", {"name": "a"}, run=RUN, client=None)  # type: ignore[arg-type]
