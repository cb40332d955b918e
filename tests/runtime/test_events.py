"""Parsing the Scheduler's target input."""

from __future__ import annotations

import pytest

from scheduled_tasks_constructs.runtime.events import (
    MalformedEventError,
    RunContext,
    parse_schedule_input,
)

SCHEDULE_ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"


def test_full_input_is_parsed() -> None:
    event = {
        "execution_id": "exec-1",
        "scheduled_time": "2026-11-22T10:00:00Z",
        "schedule_arn": SCHEDULE_ARN,
        "attempt_number": "2",
        "tasks": [],
    }

    run = parse_schedule_input(event, fallback_id="req-1")

    assert run == RunContext(
        execution_id="exec-1",
        scheduled_time="2026-11-22T10:00:00Z",
        schedule_arn=SCHEDULE_ARN,
        attempt_number=2,
    )


@pytest.mark.parametrize("event", [None, {}, {"execution_id": ""}, {"execution_id": None}])
def test_missing_execution_id_falls_back_to_request_id(event: object) -> None:
    run = parse_schedule_input(event, fallback_id="req-1")

    assert run == RunContext(execution_id="req-1")


def test_unsubstituted_placeholders_count_as_missing() -> None:
    event = {
        "execution_id": "<aws.scheduler.execution-id>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "schedule_arn": "<aws.scheduler.schedule-arn>",
        "attempt_number": "<aws.scheduler.attempt-number>",
    }

    assert parse_schedule_input(event, fallback_id="req-1") == RunContext("req-1")


def test_integer_attempt_number_is_accepted() -> None:
    assert parse_schedule_input({"attempt_number": 3}, fallback_id="r").attempt_number == 3


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["not", "an", "object"], "event must be a JSON object, got list"),
        ("text", "event must be a JSON object, got str"),
        ({"execution_id": 5}, "event field 'execution_id' must be a string, got int"),
        ({"scheduled_time": 1.5}, "event field 'scheduled_time' must be a string, got float"),
        ({"schedule_arn": ["a"]}, "event field 'schedule_arn' must be a string, got list"),
        (
            {"attempt_number": "first"},
            "event field 'attempt_number' must be a string of digits, got 'first'",
        ),
        (
            {"attempt_number": True},
            "event field 'attempt_number' must be an integer or a string of digits, got bool",
        ),
        ({"attempt_number": "0"}, "event field 'attempt_number' must be at least 1, got 0"),
        (
            {"attempt_number": "²"},
            "event field 'attempt_number' must be a string of digits, got '²'",
        ),
    ],
)
def test_wrong_types_raise_clear_errors(event: object, message: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        parse_schedule_input(event, fallback_id="req-1")

    assert str(caught.value) == message


def test_no_execution_id_and_no_fallback_raises() -> None:
    with pytest.raises(MalformedEventError, match="no 'execution_id' and fallback_id is empty"):
        parse_schedule_input({}, fallback_id="")


def test_malformed_event_error_is_a_value_error() -> None:
    assert issubclass(MalformedEventError, ValueError)
