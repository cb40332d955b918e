"""The wire format of task messages, shared by producers and workers.

Every task of a scheduled run travels as one SQS message. Its body is a JSON
object with these fields::

    {"execution_id": ..., "run_id": ..., "scheduled_time": ..., "task": <the task>, "task_id": ...}

(``run_id``, the run's key in the run ledger, only when the producer keeps a
ledger), and it carries one message attribute, ``task_id`` (type ``String``), that
repeats the task id so it can be read without parsing the body. The body is
compact JSON with sorted keys and ASCII escapes, so the same task always
gives the same bytes.

:func:`encode_task` writes a body and :func:`decode_task` reads one;
:func:`message_attributes` and :func:`message_size` give the attribute and
the size SQS counts. :mod:`.fanout` sends messages in this format and
:mod:`.worker` reads them; a producer or consumer of your own can use the
same functions to stay compatible.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

TASK_ID = "task_id"
"""Body field: the task's deterministic id, ``"<execution id>/<name or index>"``."""

TASK = "task"
"""Body field: the task itself (any JSON value)."""

EXECUTION_ID = "execution_id"
"""Body field: execution id of the scheduled run (a string, or absent/null)."""

SCHEDULED_TIME = "scheduled_time"
"""Body field: time the run was scheduled for, ISO-8601 (a string, or absent/null)."""

RUN_ID = "run_id"
"""Body field: the run's key in the run ledger (:mod:`.ledger`), ``"<schedule>#<slot>"`` (absent without a ledger)."""

TASK_ID_ATTRIBUTE = "task_id"
"""Name of the message attribute that holds the task id."""

ATTRIBUTE_DATA_TYPE = "String"
"""SQS data type of the ``task_id`` message attribute."""


class MessageFormatError(ValueError):
    """A message body that is not a task message.

    The message names the field that is missing or invalid, never the
    body's content.

    Examples
    --------
    >>> str(MessageFormatError("the body has no 'task'"))
    "the body has no 'task'"
    """


class TaskMessage(NamedTuple):
    """A decoded task message body.

    Attributes
    ----------
    task_id : str
        The task's id.
    payload : Any
        The task itself.
    execution_id : str or None
        Execution id of the run, when the body has one.
    scheduled_time : str or None
        Scheduled time of the run, when the body has one.
    run_id : str or None
        The run's key in the run ledger, when the body has one.

    Examples
    --------
    >>> TaskMessage("e-1/a", {"n": 1}, "e-1", None).payload
    {'n': 1}
    """

    task_id: str
    payload: Any
    execution_id: str | None
    scheduled_time: str | None
    run_id: str | None = None


def encode_task(
    task_id: str,
    payload: Any,
    *,
    execution_id: str | None,
    scheduled_time: str | None,
    run_id: str | None = None,
) -> str:
    """Return the message body of one task.

    Parameters
    ----------
    task_id : str
        The task's id.
    payload : Any
        The task: a JSON-serialisable value.
    execution_id : str or None
        Execution id of the run the task belongs to.
    scheduled_time : str or None
        Scheduled time of the run.
    run_id : str or None, optional
        The run's key in the run ledger; the body has the field only when
        given. Default: none.

    Returns
    -------
    str
        Compact JSON with sorted keys and ASCII escapes.

    Raises
    ------
    TypeError
        If ``payload`` holds a value JSON cannot represent.
    ValueError
        If ``payload`` holds NaN, an infinity or a circular reference.

    Examples
    --------
    >>> print(encode_task("e-1/a", {"n": 1}, execution_id="e-1", scheduled_time=None))
    {"execution_id":"e-1","scheduled_time":null,"task":{"n":1},"task_id":"e-1/a"}
    """
    document = {
        EXECUTION_ID: execution_id,
        SCHEDULED_TIME: scheduled_time,
        TASK: payload,
        TASK_ID: task_id,
    }
    if run_id is not None:
        document[RUN_ID] = run_id
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise MessageFormatError(f"field {key!r} is {type(value).__name__}, not a string")
    return value


def decode_task(body: str) -> TaskMessage:
    """Read a task message body.

    Parameters
    ----------
    body : str
        The SQS message body.

    Returns
    -------
    TaskMessage
        Task id, payload, execution id and scheduled time.

    Raises
    ------
    MessageFormatError
        If the body is not a string, not a JSON object, has no non-empty
        string ``task_id`` or no ``task``, or has an ``execution_id``,
        ``scheduled_time`` or ``run_id`` that is neither a string nor null.

    Examples
    --------
    >>> decode_task('{"task_id": "e-1/0", "task": {"n": 2}}')
    TaskMessage(task_id='e-1/0', payload={'n': 2}, execution_id=None, scheduled_time=None, run_id=None)
    >>> decode_task('{"task": 1}')
    Traceback (most recent call last):
        ...
    scheduled_tasks_constructs.runtime.messages.MessageFormatError: the body has no string 'task_id'
    """
    if not isinstance(body, str):
        raise MessageFormatError("the record has no string body")
    try:
        document = json.loads(body)
    except ValueError:
        raise MessageFormatError("the body is not JSON") from None
    if not isinstance(document, dict):
        raise MessageFormatError(f"the body is a JSON {type(document).__name__}, not an object")
    task_id = document.get(TASK_ID)
    if not isinstance(task_id, str) or not task_id:
        raise MessageFormatError(f"the body has no string {TASK_ID!r}")
    if TASK not in document:
        raise MessageFormatError(f"the body has no {TASK!r}")
    return TaskMessage(
        task_id=task_id,
        payload=document[TASK],
        execution_id=_optional_str(document, EXECUTION_ID),
        scheduled_time=_optional_str(document, SCHEDULED_TIME),
        run_id=_optional_str(document, RUN_ID),
    )


def message_attributes(task_id: str) -> dict[str, dict[str, str]]:
    """Return the ``MessageAttributes`` of a task's message.

    Parameters
    ----------
    task_id : str
        The task's id.

    Returns
    -------
    dict
        ``{"task_id": {"DataType": "String", "StringValue": task_id}}``.

    Examples
    --------
    >>> message_attributes("e-1/a")
    {'task_id': {'DataType': 'String', 'StringValue': 'e-1/a'}}
    """
    return {TASK_ID_ATTRIBUTE: {"DataType": ATTRIBUTE_DATA_TYPE, "StringValue": task_id}}


def message_size(task_id: str, body: str) -> int:
    """Return the size SQS counts for a task's message, in bytes.

    Parameters
    ----------
    task_id : str
        The task's id.
    body : str
        The message body.

    Returns
    -------
    int
        Bytes of the body in UTF-8 plus the ``task_id`` attribute's name,
        data type and value.

    Examples
    --------
    >>> message_size("e-1/a", "{}")
    20
    """
    return (
        len(body.encode("utf-8"))
        + len(TASK_ID_ATTRIBUTE)
        + len(ATTRIBUTE_DATA_TYPE)
        + len(task_id.encode("utf-8"))
    )


__all__ = [
    "ATTRIBUTE_DATA_TYPE",
    "EXECUTION_ID",
    "RUN_ID",
    "SCHEDULED_TIME",
    "TASK",
    "TASK_ID",
    "TASK_ID_ATTRIBUTE",
    "MessageFormatError",
    "TaskMessage",
    "decode_task",
    "encode_task",
    "message_attributes",
    "message_size",
]
