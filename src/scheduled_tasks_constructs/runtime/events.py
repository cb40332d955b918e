"""Parse the input that EventBridge Scheduler passes to a Lambda target.

The constructs set the schedule's target input to a JSON object whose
placeholders the Scheduler fills in at run time::

    {
        "execution_id": "<aws.scheduler.execution-id>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "schedule_arn": "<aws.scheduler.schedule-arn>",
        "attempt_number": "<aws.scheduler.attempt-number>",
        "tasks": [...]
    }

``tasks`` is present only for a fan-out schedule with static tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_PLACEHOLDER_PREFIX = "<aws.scheduler."


class MalformedEventError(ValueError):
    """An event does not have the shape a handler expects.

    The message names the field, what was expected and the type that was
    given, never the value (it may be a task payload).
    """


@dataclass(frozen=True)
class RunContext:
    """One scheduled run, as described by the Scheduler's input.

    Parameters
    ----------
    execution_id : str
        Scheduler execution id, the same for every retry of one run; the
        Lambda request id when the function was invoked outside the Scheduler.
    scheduled_time : str or None
        Time the run was scheduled for, ISO-8601 (``"2026-11-22T10:00:00Z"``).
    schedule_arn : str or None
        ARN of the schedule that started the run.
    attempt_number : int or None
        1 for the first delivery of a run, 2 for its first retry, and so on.

    Examples
    --------
    >>> run = parse_schedule_input({"execution_id": "e-1"}, fallback_id="req-1")
    >>> run.execution_id, run.attempt_number
    ('e-1', None)
    """

    execution_id: str
    scheduled_time: str | None = None
    schedule_arn: str | None = None
    attempt_number: int | None = None


def _optional_str(event: dict[str, Any], key: str) -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEventError(
            f"event field {key!r} must be a string, got {type(value).__name__}"
        )
    if not value or value.startswith(_PLACEHOLDER_PREFIX):
        # Empty, or a placeholder the Scheduler did not substitute (the
        # function was invoked by hand with the schedule's input template).
        return None
    return value


def _optional_attempt(event: dict[str, Any]) -> int | None:
    value = event.get("attempt_number")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise MalformedEventError(
            "event field 'attempt_number' must be an integer or a string of digits, "
            f"got {type(value).__name__}"
        )
    if isinstance(value, str):
        if not value or value.startswith(_PLACEHOLDER_PREFIX):
            return None
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise MalformedEventError(
                f"event field 'attempt_number' must be a string of digits, got {value[:20]!r}"
            )
        value = int(text)
    if value < 1:
        raise MalformedEventError(f"event field 'attempt_number' must be at least 1, got {value}")
    return value


def parse_schedule_input(event: Any, *, fallback_id: str) -> RunContext:
    """Read the run described by a Scheduler target input.

    Parameters
    ----------
    event : Any
        The Lambda event: a JSON object (``dict``). ``None`` is accepted and
        treated as ``{}`` (a function invoked by hand with no payload).
    fallback_id : str
        Used as ``execution_id`` when the event has none; handlers pass the
        Lambda request id, so a manual invocation is recorded as its own run.

    Returns
    -------
    RunContext
        The parsed run. Absent fields, empty strings and placeholders that
        were not substituted (``"<aws.scheduler...>"``) become ``None``.

    Raises
    ------
    MalformedEventError
        If ``event`` is not a JSON object, a field has the wrong type,
        ``attempt_number`` is not a positive integer, or there is no execution
        id and ``fallback_id`` is empty.

    Examples
    --------
    >>> run = parse_schedule_input(
    ...     {"execution_id": "e-1", "scheduled_time": "2026-11-22T10:00:00Z",
    ...      "attempt_number": "2"},
    ...     fallback_id="req-1",
    ... )
    >>> run.execution_id, run.scheduled_time, run.attempt_number
    ('e-1', '2026-11-22T10:00:00Z', 2)
    >>> parse_schedule_input({}, fallback_id="req-1").execution_id
    'req-1'
    """
    if event is None:
        event = {}
    if not isinstance(event, dict):
        raise MalformedEventError(f"event must be a JSON object, got {type(event).__name__}")
    execution_id = _optional_str(event, "execution_id")
    if execution_id is None:
        if not isinstance(fallback_id, str) or not fallback_id:
            raise MalformedEventError("event has no 'execution_id' and fallback_id is empty")
        execution_id = fallback_id
    return RunContext(
        execution_id=execution_id,
        scheduled_time=_optional_str(event, "scheduled_time"),
        schedule_arn=_optional_str(event, "schedule_arn"),
        attempt_number=_optional_attempt(event),
    )


__all__ = ["MalformedEventError", "RunContext", "parse_schedule_input"]
