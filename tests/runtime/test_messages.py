"""The task message wire format shared by the producer and the worker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime import messages
from scheduled_tasks_constructs.runtime.events import RunContext
from scheduled_tasks_constructs.runtime.fanout import _Entry, build_messages
from scheduled_tasks_constructs.runtime.messages import (
    MessageFormatError,
    TaskMessage,
    decode_task,
    encode_task,
    message_attributes,
    message_size,
)

RUN = RunContext(execution_id="exec-1", scheduled_time="2026-11-22T10:00:00Z")

#: A body exactly as the producer has always sent it.
LEGACY_BODY = (
    '{"execution_id":"exec-1","scheduled_time":"2026-11-22T10:00:00Z",'
    '"task":{"a":[1,2],"b":"\\u00e9","name":"a"},"task_id":"exec-1/a"}'
)


def test_field_names_are_the_wire_names() -> None:
    assert (messages.TASK_ID, messages.TASK) == ("task_id", "task")
    assert (messages.EXECUTION_ID, messages.SCHEDULED_TIME) == ("execution_id", "scheduled_time")
    assert (messages.TASK_ID_ATTRIBUTE, messages.ATTRIBUTE_DATA_TYPE) == ("task_id", "String")


def test_encode_is_byte_identical_to_the_existing_format() -> None:
    task = {"name": "a", "b": "é", "a": [1, 2]}

    body = encode_task("exec-1/a", task, execution_id="exec-1", scheduled_time=RUN.scheduled_time)

    assert body == LEGACY_BODY
    assert build_messages([task], RUN) == [("exec-1/a", body)]


def test_a_message_in_the_existing_format_decodes() -> None:
    assert decode_task(LEGACY_BODY) == TaskMessage(
        task_id="exec-1/a",
        payload={"a": [1, 2], "b": "é", "name": "a"},
        execution_id="exec-1",
        scheduled_time="2026-11-22T10:00:00Z",
    )


@pytest.mark.parametrize("payload", [None, 0, "text", [1, {"x": None}], {"deep": {"n": 1.5}}])
def test_decode_inverts_encode(payload: Any) -> None:
    body = encode_task("e/0", payload, execution_id=None, scheduled_time=None)

    assert decode_task(body) == TaskMessage("e/0", payload, None, None)


def test_the_attribute_and_size_match_what_is_sent() -> None:
    body = encode_task("exec-1/a", 1, execution_id="exec-1", scheduled_time=None)
    entry = _Entry("t0", "exec-1/a", body, message_size("exec-1/a", body))

    assert entry.request_entry()["MessageAttributes"] == {
        "task_id": {"DataType": "String", "StringValue": "exec-1/a"}
    }
    assert message_attributes("exec-1/a") == entry.request_entry()["MessageAttributes"]
    attribute = len("task_id") + len("String") + len("exec-1/é".encode())
    assert message_size("exec-1/é", "{}") == 2 + attribute


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "the record has no string body"),
        ("not json", "the body is not JSON"),
        ("[1]", "the body is a JSON list, not an object"),
        ('{"task": 1}', "the body has no string 'task_id'"),
        ('{"task_id": "", "task": 1}', "the body has no string 'task_id'"),
        ('{"task_id": 7, "task": 1}', "the body has no string 'task_id'"),
        ('{"task_id": "e/0"}', "the body has no 'task'"),
        (
            '{"task_id": "e/0", "task": 1, "execution_id": 3}',
            "field 'execution_id' is int, not a string",
        ),
        (
            '{"task_id": "e/0", "task": 1, "scheduled_time": []}',
            "field 'scheduled_time' is list, not a string",
        ),
    ],
)
def test_decode_names_the_missing_or_invalid_field(body: Any, message: str) -> None:
    with pytest.raises(MessageFormatError) as caught:
        decode_task(body)

    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_encode_rejects_values_json_cannot_hold() -> None:
    with pytest.raises(ValueError):
        encode_task("e/0", float("nan"), execution_id=None, scheduled_time=None)
    with pytest.raises(TypeError):
        encode_task("e/0", {1, 2}, execution_id=None, scheduled_time=None)


def test_extra_fields_are_ignored() -> None:
    body = json.dumps({"task_id": "e/0", "task": 1, "later": True})

    assert decode_task(body).payload == 1
