"""SQS on the patched moto server behaves as moto's SQS does.

The tests through boto3 run against the session's server (``moto_server``,
the embedded server of the local runner, whose process runs
``moto_speedups.install()``). Each exercises one behaviour that the index of
``moto_speedups`` answers for: visibility timeouts, receive counts, the move
to the dead-letter queue, delays, deletes (also with an earlier receipt
handle), batch calls, the approximate counts, queue order, purging, long
polling and FIFO queues.

The differential tests run moto's SQS model twice in a fresh process, on a
clock of their own, with the same seeded random operations: once as moto
ships it and once patched; every answer must be the same. That process also
checks that :func:`uninstall` puts moto back and that :func:`install` leaves
an unknown moto version alone.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

SPEEDUPS = Path(__file__).resolve().parents[1] / "src" / "scheduled_tasks_constructs" / "local" / "moto_speedups.py"
REGION = "us-east-1"
ALL = {"MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"]}
COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
NewQueue = Callable[..., str]


# -- through boto3, on the session's server ------------------------------------------


@pytest.fixture(scope="module")
def sqs(moto_server: str) -> Any:
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
    )


@pytest.fixture
def new_queue(sqs: Any) -> NewQueue:
    def make(suffix: str = "", **attributes: Any) -> str:
        name = f"speedups-{uuid.uuid4().hex[:12]}{suffix}"
        return sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]

    return make


def arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive(sqs: Any, url: str, count: int = 10, **kwargs: Any) -> List[Dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, WaitTimeSeconds=0, **ALL, **kwargs)
    return response.get("Messages") or []


def counts(sqs: Any, url: str) -> Dict[str, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "not_visible": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
    }


def send(sqs: Any, url: str, *bodies: str, **kwargs: Any) -> List[str]:
    ids = []
    for body in bodies:
        ids.append(sqs.send_message(QueueUrl=url, MessageBody=body, **kwargs)["MessageId"])
    return ids


def bodies(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["Body"] for m in messages]


def receive_count(message: Dict[str, Any]) -> int:
    return int(message["Attributes"]["ApproximateReceiveCount"])


def test_the_embedded_server_runs_with_the_speedups() -> None:
    from scheduled_tasks_constructs.local.endpoint import EmbeddedMotoServer

    # The session's server is one of these; its process says whether install() took.
    server = EmbeddedMotoServer()
    with server as endpoint:
        assert endpoint.startswith("http://127.0.0.1:")
        assert server.speedups is True


def test_a_received_message_is_hidden_until_its_visibility_timeout_expires(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue()
    send(sqs, url, "hidden")

    first = receive(sqs, url, VisibilityTimeout=1)

    assert bodies(first) == ["hidden"] and receive_count(first[0]) == 1
    assert receive(sqs, url) == []
    assert counts(sqs, url) == {"visible": 0, "not_visible": 1, "delayed": 0}
    time.sleep(1.5)
    assert counts(sqs, url) == {"visible": 1, "not_visible": 0, "delayed": 0}
    again = receive(sqs, url, VisibilityTimeout=30)
    assert [m["MessageId"] for m in again] == [first[0]["MessageId"]]
    assert receive_count(again[0]) == 2
    assert again[0]["ReceiptHandle"] != first[0]["ReceiptHandle"]


def test_change_message_visibility_to_zero_shows_the_message_again(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    send(sqs, url, "one", "two", "three")
    first = receive(sqs, url)
    assert bodies(first) == ["one", "two", "three"]
    assert receive(sqs, url) == []

    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert bodies(receive(sqs, url, VisibilityTimeout=30)) == ["one"]

    result = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(first[1:])
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["0", "1"] and not result.get("Failed")
    again = receive(sqs, url)
    assert bodies(again) == ["two", "three"]
    assert [receive_count(m) for m in again] == [2, 2]


def test_a_longer_visibility_timeout_hides_a_visible_message(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=0)
    send(sqs, url, "m")
    # Received with no visibility timeout: visible again at once.
    first = receive(sqs, url, VisibilityTimeout=0)
    second = receive(sqs, url, VisibilityTimeout=0)
    assert bodies(first) == bodies(second) == ["m"]
    assert receive_count(second[0]) == 2

    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second[0]["ReceiptHandle"], VisibilityTimeout=60)

    assert receive(sqs, url) == []
    assert counts(sqs, url) == {"visible": 0, "not_visible": 1, "delayed": 0}


def test_receive_count_increments_and_the_first_receive_time_stays(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    send(sqs, url, "counted")
    seen = []
    for _ in range(3):
        [message] = receive(sqs, url)
        seen.append(message)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)

    assert [receive_count(m) for m in seen] == [1, 2, 3]
    assert len({m["Attributes"]["ApproximateFirstReceiveTimestamp"] for m in seen}) == 1
    assert len({m["Attributes"]["SentTimestamp"] for m in seen}) == 1
    assert len({m["ReceiptHandle"] for m in seen}) == 3


def test_a_message_moves_to_the_dead_letter_queue_after_max_receive_count(sqs: Any, new_queue: NewQueue) -> None:
    dlq = new_queue()
    url = new_queue(
        VisibilityTimeout=30, RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 2})
    )
    [poison] = send(sqs, url, "poison")
    handles_in_source_queue = []
    for expected in (1, 2):
        [message] = receive(sqs, url)
        assert message["MessageId"] == poison and receive_count(message) == expected
        handles_in_source_queue.append(message["ReceiptHandle"])
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    [healthy] = send(sqs, url, "healthy")

    # The third receive moves the poison message instead of delivering it.
    third = receive(sqs, url)

    assert [m["MessageId"] for m in third] == [healthy]
    assert counts(sqs, dlq) == {"visible": 1, "not_visible": 0, "delayed": 0}
    assert counts(sqs, url) == {"visible": 0, "not_visible": 1, "delayed": 0}
    [moved] = receive(sqs, dlq, VisibilityTimeout=30)
    assert moved["MessageId"] == poison and moved["Body"] == "poison"
    assert receive_count(moved) == 3
    # The queue no longer has it: its handles there are unknown.
    for handle in handles_in_source_queue:
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    # In moto the message keeps its receipt handles: the dead-letter queue
    # takes the first one it had in the source queue.
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=handles_in_source_queue[0])
    assert counts(sqs, dlq) == {"visible": 0, "not_visible": 0, "delayed": 0}


def test_delay_seconds_of_the_message_and_of_the_queue(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue()
    send(sqs, url, "later", DelaySeconds=1)
    send(sqs, url, "now")
    delayed_queue = new_queue(DelaySeconds=1)
    send(sqs, delayed_queue, "queue-delayed")
    send(sqs, delayed_queue, "not-delayed", DelaySeconds=0)

    assert counts(sqs, url) == {"visible": 1, "not_visible": 0, "delayed": 1}
    assert bodies(receive(sqs, url, VisibilityTimeout=60)) == ["now"]
    assert counts(sqs, delayed_queue) == {"visible": 1, "not_visible": 0, "delayed": 1}
    assert bodies(receive(sqs, delayed_queue, VisibilityTimeout=60)) == ["not-delayed"]
    time.sleep(1.5)
    assert counts(sqs, url) == {"visible": 1, "not_visible": 1, "delayed": 0}
    assert bodies(receive(sqs, url)) == ["later"]
    assert bodies(receive(sqs, delayed_queue)) == ["queue-delayed"]


def test_delete_removes_the_message_and_takes_any_of_its_receipt_handles(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    send(sqs, url, "a", "b")
    [a, b] = receive(sqs, url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"], VisibilityTimeout=0)
    [a_again] = receive(sqs, url)
    assert a_again["MessageId"] == a["MessageId"]

    # moto accepts a message's earlier receipt handle
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=b["ReceiptHandle"])

    assert counts(sqs, url) == {"visible": 0, "not_visible": 0, "delayed": 0}
    # Deleting again succeeds (as in moto); a made-up handle does not.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a_again["ReceiptHandle"])
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="x" * 185)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=b["ReceiptHandle"], VisibilityTimeout=0)
    send(sqs, url, "c")
    assert bodies(receive(sqs, url)) == ["c"]


def test_batch_calls_report_each_entry(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": f"e{i}",
                "MessageBody": f"m{i}",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}},
            }
            for i in range(10)
        ],
    )
    assert len(sent["Successful"]) == 10
    messages = receive(sqs, url)
    assert bodies(messages) == [f"m{i}" for i in range(10)]
    assert [m["MessageAttributes"]["n"]["StringValue"] for m in messages] == [str(i) for i in range(10)]

    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[:8])]
        + [{"Id": "bad", "ReceiptHandle": "y" * 185}],
    )
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": "c8", "ReceiptHandle": messages[8]["ReceiptHandle"], "VisibilityTimeout": 0}]
        + [{"Id": "gone", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0}],
    )

    assert sorted(e["Id"] for e in deleted["Successful"]) == [f"d{i}" for i in range(8)]
    assert [(e["Id"], e["Code"]) for e in deleted["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]
    assert [e["Id"] for e in changed["Successful"]] == ["c8"]
    assert [(e["Id"], e["Code"]) for e in changed["Failed"]] == [("gone", "ReceiptHandleIsInvalid")]
    assert counts(sqs, url) == {"visible": 1, "not_visible": 1, "delayed": 0}
    assert bodies(receive(sqs, url)) == ["m8"]


def test_approximate_counts_follow_every_state(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"v{i}"} for i in range(6)])
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"d{i}", "DelaySeconds": 60} for i in range(2)]
    )
    assert counts(sqs, url) == {"visible": 6, "not_visible": 0, "delayed": 2}

    received = receive(sqs, url, count=3)
    assert counts(sqs, url) == {"visible": 3, "not_visible": 3, "delayed": 2}
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert counts(sqs, url) == {"visible": 4, "not_visible": 2, "delayed": 2}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[1]["ReceiptHandle"])
    assert counts(sqs, url) == {"visible": 4, "not_visible": 1, "delayed": 2}
    all_attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert all_attributes["ApproximateNumberOfMessages"] == "4"
    assert all_attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert all_attributes["ApproximateNumberOfMessagesDelayed"] == "2"


def test_messages_come_in_moto_queue_order(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    send(sqs, url, *[f"b{i}" for i in range(6)])
    first = receive(sqs, url, count=2)
    assert bodies(first) == ["b0", "b1"]

    # A message that is visible again keeps its place in the queue.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"], VisibilityTimeout=0)
    assert bodies(receive(sqs, url, count=3)) == ["b1", "b2", "b3"]
    send(sqs, url, "b6")
    assert bodies(receive(sqs, url)) == ["b4", "b5", "b6"]


def test_purge_empties_the_queue_and_it_works_afterwards(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=30)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"p{i}"} for i in range(10)])
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=30)
    held = receive(sqs, url, count=3)

    sqs.purge_queue(QueueUrl=url)

    assert counts(sqs, url) == {"visible": 0, "not_visible": 0, "delayed": 0}
    assert receive(sqs, url) == []
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=held[0]["ReceiptHandle"])
    send(sqs, url, "after")
    [after] = receive(sqs, url)
    assert after["Body"] == "after" and receive_count(after) == 1
    sqs.delete_message(QueueUrl=url, ReceiptHandle=after["ReceiptHandle"])
    assert counts(sqs, url) == {"visible": 0, "not_visible": 0, "delayed": 0}


def test_long_polling_returns_a_message_sent_while_it_waits(sqs: Any, new_queue: NewQueue, moto_server: str) -> None:
    import boto3

    url = new_queue()
    other = boto3.client(
        "sqs",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sender = threading.Timer(0.5, lambda: other.send_message(QueueUrl=url, MessageBody="awaited"))
    sender.start()
    try:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    finally:
        sender.join()
    assert bodies(response.get("Messages") or []) == ["awaited"]


def test_retention_period_of_the_queue_is_read(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(MessageRetentionPeriod=60)
    send(sqs, url, "kept")
    assert bodies(receive(sqs, url)) == ["kept"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"]
    assert attributes == {"MessageRetentionPeriod": "60"}


def test_fifo_queue_keeps_groups_order_and_deduplication(sqs: Any, new_queue: NewQueue) -> None:
    url = new_queue(".fifo", FifoQueue="true", ContentBasedDeduplication="true", VisibilityTimeout=30)
    for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("a1", "a")):  # the second a1 is a duplicate
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)

    assert counts(sqs, url)["visible"] == 3
    [a1] = receive(sqs, url, count=1)
    assert a1["Body"] == "a1" and a1["Attributes"]["MessageGroupId"] == "a"
    # Group a has a message in flight: only group b can be delivered.
    assert bodies(receive(sqs, url)) == ["b1"]
    assert receive(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
    [a2] = receive(sqs, url)
    assert a2["Body"] == "a2"
    assert a2["Attributes"]["MessageDeduplicationId"]


def test_many_messages_leave_nothing_behind(sqs: Any, new_queue: NewQueue) -> None:
    dlq = new_queue()
    url = new_queue(
        VisibilityTimeout=30, RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 2})
    )
    for start in range(0, 300, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        )
    done: List[int] = []
    while True:
        messages = receive(sqs, url)
        if not messages:
            break
        keep = [m for m in messages if int(m["Body"]) % 50 == 7 or (int(m["Body"]) % 10 == 3 and receive_count(m) == 1)]
        gone = [m for m in messages if m not in keep]
        if gone:
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(gone)]
            )
            done.extend(int(m["Body"]) for m in gone)
        if keep:
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(keep)
                ],
            )

    poisoned = [n for n in range(300) if n % 50 == 7]
    assert sorted(done) == [n for n in range(300) if n not in poisoned]
    assert counts(sqs, url) == {"visible": 0, "not_visible": 0, "delayed": 0}
    assert counts(sqs, dlq)["visible"] == len(poisoned)
    assert sorted(int(m["Body"]) for m in receive(sqs, dlq)) == poisoned


# -- moto's model, patched and not, side by side (in a fresh process) ---------------


@pytest.fixture(scope="module")
def side_by_side() -> Dict[str, Any]:
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, __file__, "--side-by-side"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, f"side-by-side run failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


SEEDS = (1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize("seed", SEEDS)
def test_patched_model_answers_as_moto_does(side_by_side: Dict[str, Any], seed: int) -> None:
    runs = side_by_side["runs"][str(seed)]
    moto_log, patched_log = runs["moto"], runs["patched"]
    assert len(moto_log) > 300
    for i, (expected, got) in enumerate(zip(moto_log, patched_log)):
        assert got == expected, f"step {i}: {expected[0]}\nmoto:    {expected[1]}\npatched: {got[1]}"
    assert len(patched_log) == len(moto_log)


def test_the_side_by_side_runs_cover_every_behaviour(side_by_side: Dict[str, Any]) -> None:
    assert side_by_side["indexed"], "the patched runs did not use the index"
    seen = side_by_side["coverage"]
    for what in (
        "delivered",
        "redelivered",
        "moved to the dead-letter queue",
        "hidden by a visibility timeout",
        "visible again at the exact millisecond",
        "delayed",
        "deleted with an earlier receipt handle",
        "invalid receipt handle",
        "purged",
        "fifo group held back",
    ):
        assert seen.get(what, 0) > 0, f"no run covered: {what}"


def test_uninstall_puts_moto_back(side_by_side: Dict[str, Any]) -> None:
    assert side_by_side["uninstall"] == {"restored": True, "plain_lists": True, "reinstalled": True}


def test_install_leaves_an_unknown_moto_version_alone(side_by_side: Dict[str, Any]) -> None:
    assert side_by_side["unknown_version"] == {"installed": False, "unchanged": True}


def _load_speedups() -> Any:
    spec = importlib.util.spec_from_file_location("moto_speedups_under_test", SPEEDUPS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scenario(models: Any, seed: int, clock: List[float], coverage: Dict[str, int]) -> List[Any]:
    """Random SQS calls on moto's backend; every answer, in order."""
    import random

    rng = random.Random(seed)
    backend = models.sqs_backends["123456789012"][REGION]
    backend.reset()
    dlq = backend.create_queue("dlq")
    backend.create_queue(
        "main",
        VisibilityTimeout="2",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 3}),
    )
    backend.create_queue("delayed", DelaySeconds="1", VisibilityTimeout="1")
    backend.create_queue("groups.fifo", FifoQueue="true", ContentBasedDeduplication="true", VisibilityTimeout="1")
    names = ["main", "main", "main", "delayed", "groups.fifo", "dlq"]
    handles: Dict[str, List[str]] = {name: [] for name in set(names)}
    owner: Dict[str, str] = {}
    log: List[Any] = []

    def cover(what: str) -> None:
        coverage[what] = coverage.get(what, 0) + 1

    def call(what: str, action: Callable[[], Any]) -> Any:
        try:
            out = action()
        except Exception as exc:  # noqa: BLE001 - the error is part of the answer
            out = ["error", type(exc).__name__, str(exc)]
        log.append([what, out])
        return out

    def view(message: Any) -> List[Any]:
        return [
            message.id,
            message.body,
            message.receipt_handle,
            message.approximate_receive_count,
            message.sent_timestamp,
            message.approximate_first_receive_timestamp,
            message.group_id,
        ]

    for step in range(450):
        name = rng.choice(names)
        queue = backend.queues[name]
        draw = rng.random()
        if draw < 0.22:
            entries = {}
            for i in range(rng.randint(1, 10)):
                entry: Dict[str, Any] = {"Id": f"e{i}", "MessageBody": f"{step}-{i}", "MessageAttributes": {}}
                entry["DelaySeconds"] = None if name == "groups.fifo" else rng.choice([None, None, None, 0, 1, 2])
                if entry["DelaySeconds"]:
                    cover("delayed")
                if name == "groups.fifo":
                    entry["MessageGroupId"] = rng.choice("abc")
                    entry["MessageBody"] = rng.choice([entry["MessageBody"], "same"])
                entries[str(i)] = entry
            call(f"send {name}", lambda: [[m.id, m.body] for m in backend.send_message_batch(name, entries)[0]])
        elif draw < 0.48:
            count, timeout = rng.randint(1, 10), rng.choice([None, 0, 1, 2, 3])
            visible_before = len(queue.messages)
            moved_before = len(dlq._messages)
            pending_groups = {m.group_id for m in queue.pending_messages}
            out = call(
                f"receive {name}",
                lambda: [
                    view(m)
                    for m in backend.receive_message(
                        name, count, 0, queue.visibility_timeout if timeout is None else timeout, ["All"]
                    )
                ],
            )
            if out and out[0] != "error":
                for row in out:
                    handles[name].append(row[2])
                    owner[row[2]] = row[0]
                    cover("redelivered" if row[3] > 1 else "delivered")
                    if timeout:
                        cover("hidden by a visibility timeout")
                if name == "groups.fifo" and pending_groups and len(out) < min(count, visible_before):
                    cover("fifo group held back")
            if name != "dlq" and len(dlq._messages) > moved_before:
                cover("moved to the dead-letter queue")
        elif draw < 0.62:
            pool = handles[name] if rng.random() < 0.7 else sorted(owner)  # sometimes another queue's handle
            chosen = rng.sample(pool, min(len(pool), rng.randint(1, 3))) if pool else []
            if rng.random() < 0.15:
                chosen.append("z" * 185)
                cover("invalid receipt handle")
            latest = {m.receipt_handle for m in queue._messages}
            if any(h in owner and h not in latest and any(m.id == owner[h] for m in queue._messages) for h in chosen):
                cover("deleted with an earlier receipt handle")
            receipts = [{"Id": f"r{i}", "ReceiptHandle": h} for i, h in enumerate(dict.fromkeys(chosen))]
            if receipts:
                call(f"delete {name}", lambda: backend.delete_message_batch(name, receipts))
        elif draw < 0.72:
            pool = handles[name] if rng.random() < 0.7 else sorted(owner)
            chosen = rng.sample(pool, min(len(pool), rng.randint(1, 3))) if pool else []
            entries_cmv = [
                {"Id": f"c{i}", "ReceiptHandle": h, "VisibilityTimeout": rng.choice([0, 0, 1, 2])}
                for i, h in enumerate(chosen)
            ]
            if entries_cmv:
                call(f"change visibility {name}", lambda: backend.change_message_visibility_batch(name, entries_cmv))
        elif draw < 0.84:
            step_seconds = rng.choice([0.0, 0.001, 0.5, 1.0, 1.0, 2.0, 3.0])
            clock[0] += step_seconds
            now_ms = clock[0] * 1000.0
            if any(m.__dict__["visible_at"] == now_ms for q in backend.queues.values() for m in q._messages):
                cover("visible again at the exact millisecond")
            log.append(["clock", clock[0]])
        elif draw < 0.98:
            call(
                f"attributes {name}",
                lambda: {
                    "All": backend.get_queue_attributes(name, ["All"]),
                    "counts": backend.get_queue_attributes(name, COUNTS),
                    "order": [m.id for m in queue.messages],
                    "pending": sorted(m.id for m in queue.pending_messages),
                },
            )
        else:
            call(f"purge {name}", lambda: backend.purge_queue(name))
            cover("purged")
    for name in sorted(handles):
        call(f"final {name}", lambda: backend.get_queue_attributes(name, ["All"]))
        call(f"final order {name}", lambda: [m.id for m in backend.queues[name].messages])
    return log


def _side_by_side() -> Dict[str, Any]:
    """Run every scenario unpatched, then patched; check uninstall and version gating."""
    import moto
    import moto.backends as moto_backends
    import moto.core.utils
    from moto.moto_api._internal import mock_random
    from moto.sqs import models

    speedups = _load_speedups()
    datetime_time = moto.core.utils.unix_time
    clock = [1_700_000_000.0]

    def use_clock() -> None:
        # moto's own clock functions, on a clock the scenario moves (the patched
        # index reads them from the module at each call).
        models.unix_time = lambda dt=None: clock[0] if dt is None else datetime_time(dt)
        models.unix_time_millis = lambda dt=None: models.unix_time(dt) * 1000.0

    originals = {
        "messages": models.Queue.__dict__["messages"],
        "delete_message": models.Queue.__dict__["delete_message"],
        "change_message_visibility": models.SQSBackend.__dict__["change_message_visibility"],
        "list_of_moto_modules": moto_backends.list_of_moto_modules,
    }
    coverage: Dict[str, int] = {}
    runs: Dict[str, Dict[str, Any]] = {}
    for seed in SEEDS:
        runs[str(seed)] = {}
    for variant in ("moto", "patched"):
        if variant == "patched":
            assert speedups.install()
        use_clock()
        for seed in SEEDS:
            clock[0] = 1_700_000_000.0
            mock_random.seed(seed)
            runs[str(seed)][variant] = _scenario(models, seed, clock, coverage if variant == "moto" else {})
    # The patched runs went through the index (it did not fall back to moto's scans).
    indexed = all(
        type(q.__dict__["_messages"]).__name__ == "_IndexedMessages" and q.__dict__["_messages"].index.active()
        for q in models.sqs_backends["123456789012"][REGION].queues.values()
    )
    speedups.uninstall()
    restored = (
        models.Queue.__dict__["messages"] is originals["messages"]
        and models.Queue.__dict__["delete_message"] is originals["delete_message"]
        and models.SQSBackend.__dict__["change_message_visibility"] is originals["change_message_visibility"]
        and moto_backends.list_of_moto_modules is originals["list_of_moto_modules"]
        and "_messages" not in models.Queue.__dict__
        and "visible_at" not in models.Message.__dict__
        and not speedups.installed()
    )
    queues = models.sqs_backends["123456789012"][REGION].queues.values()
    plain = all(type(q.__dict__["_messages"]) is list for q in queues)
    reinstalled = speedups.install()
    speedups.uninstall()

    version = moto.__version__
    moto.__version__ = "4.2.14"
    try:
        installed = speedups.install()
    finally:
        moto.__version__ = version
    unchanged = models.Queue.__dict__["messages"] is originals["messages"] and not speedups.installed()
    return {
        "runs": runs,
        "coverage": coverage,
        "indexed": indexed,
        "uninstall": {"restored": restored, "plain_lists": plain, "reinstalled": reinstalled},
        "unknown_version": {"installed": installed, "unchanged": unchanged},
    }


if __name__ == "__main__" and sys.argv[1:] == ["--side-by-side"]:
    print(json.dumps(_side_by_side()))


def test_concurrent_dynamodb_updates_are_each_applied_whole(moto_server: str) -> None:
    # GIVEN an item that 40 clients update at once, each appending to a list and adding to a count
    import threading
    import uuid

    import boto3

    def client() -> Any:
        return boto3.client(
            "dynamodb", endpoint_url=moto_server, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )

    dynamodb = client()
    table = f"atomic-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    clients = [client() for _ in range(8)]
    finishes: List[int] = []

    def update(n: int) -> None:
        c = clients[n % len(clients)]
        c.update_item(
            TableName=table, Key={"k": {"S": "run"}},
            UpdateExpression="SET failures = list_append(if_not_exists(failures, :empty), :new) ADD done :one",
            ExpressionAttributeValues={":empty": {"L": []}, ":new": {"L": [{"N": str(n)}]}, ":one": {"N": "1"}},
        )
        try:  # and a conditional finish that only one of them may win
            c.update_item(
                TableName=table, Key={"k": {"S": "run"}}, UpdateExpression="SET finished = :n",
                ConditionExpression="attribute_not_exists(finished)", ExpressionAttributeValues={":n": {"N": str(n)}},
            )
            finishes.append(n)
        except c.exceptions.ConditionalCheckFailedException:
            pass

    threads = [threading.Thread(target=update, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN no update was lost and exactly one finish won
    item = dynamodb.get_item(TableName=table, Key={"k": {"S": "run"}}, ConsistentRead=True)["Item"]
    assert sorted(int(v["N"]) for v in item["failures"]["L"]) == list(range(40))
    assert item["done"] == {"N": "40"}
    assert len(finishes) == 1
