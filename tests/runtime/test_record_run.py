"""record_run against DynamoDB on the moto server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime import record_run as record_run_module
from scheduled_tasks_constructs.runtime.events import MalformedEventError
from scheduled_tasks_constructs.runtime.record_run import (
    PARTITION_KEY,
    RecordResult,
    handler,
    record_run,
)

NOW = datetime(2026, 11, 22, 10, 0, 3, 250_000, tzinfo=UTC)
SCHEDULE_ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"
EVENT = {
    "execution_id": "exec-1",
    "scheduled_time": "2026-11-22T10:00:00Z",
    "schedule_arn": SCHEDULE_ARN,
    "attempt_number": "1",
}
RUN_ID = "default/nightly#2026-11-22T10:00:00Z"


@pytest.fixture
def table(make_table: Callable[[str], str]) -> str:
    return make_table(PARTITION_KEY)


def test_item_has_every_attribute_and_ttl(
    table: str, dynamodb: Any, table_items: Callable[[str], list[dict[str, Any]]]
) -> None:
    result = record_run(
        table_name=table,
        event=EVENT,
        request_id="req-1",
        client=dynamodb,
        now=NOW,
        ttl_seconds=3_600,
    )

    # THEN the item is the run ledger's, keyed by schedule and slot, already succeeded
    expected = {
        "run_id": {"S": RUN_ID},
        "schedule": {"S": "default/nightly"},
        "slot": {"S": "2026-11-22T10:00:00Z"},
        "status": {"S": "succeeded"},
        "execution_id": {"S": "exec-1"},
        "attempts": {"N": "1"},
        "started_at": {"S": "2026-11-22T10:00:03.250Z"},
        "finished_at": {"S": "2026-11-22T10:00:03.250Z"},
        "request_id": {"S": "req-1"},
        "schedule_arn": {"S": SCHEDULE_ARN},
        "attempt_number": {"N": "1"},
        "expires_at": {"N": str(int(NOW.timestamp()) + 3_600)},
    }
    assert table_items(table) == [expected]
    assert result == RecordResult(
        item={
            "run_id": RUN_ID,
            "schedule": "default/nightly",
            "slot": "2026-11-22T10:00:00Z",
            "status": "succeeded",
            "execution_id": "exec-1",
            "attempts": 1,
            "started_at": "2026-11-22T10:00:03.250Z",
            "finished_at": "2026-11-22T10:00:03.250Z",
            "request_id": "req-1",
            "schedule_arn": SCHEDULE_ARN,
            "attempt_number": 1,
            "expires_at": int(NOW.timestamp()) + 3_600,
        },
        created=True,
    )


def test_no_ttl_means_no_expires_at(
    table: str, dynamodb: Any, table_items: Callable[[str], list[dict[str, Any]]]
) -> None:
    record_run(table_name=table, event=EVENT, request_id="req-1", client=dynamodb, now=NOW)

    (item,) = table_items(table)
    assert "expires_at" not in item
    assert item["run_id"] == {"S": RUN_ID}


def test_second_delivery_of_a_run_leaves_one_item(
    table: str, dynamodb: Any, table_items: Callable[[str], list[dict[str, Any]]]
) -> None:
    # GIVEN a run that was recorded
    first = record_run(table_name=table, event=EVENT, request_id="req-1", client=dynamodb, now=NOW)

    # WHEN the same run is delivered again (new request id), and retried (attempt 2)
    again = record_run(table_name=table, event=EVENT, request_id="req-2", client=dynamodb)
    retry = record_run(
        table_name=table,
        event={**EVENT, "attempt_number": "2"},
        request_id="req-3",
        client=dynamodb,
    )

    # THEN only the first call wrote, and the table holds exactly its item
    assert (first.created, again.created, retry.created) == (True, False, False)
    items = table_items(table)
    assert len(items) == 1
    assert items[0]["request_id"] == {"S": "req-1"}
    assert items[0]["attempt_number"] == {"N": "1"}


def test_without_schedule_input_the_run_is_a_manual_one_keyed_by_request_id(
    table: str, dynamodb: Any, table_items: Callable[[str], list[dict[str, Any]]]
) -> None:
    result = record_run(table_name=table, event={}, request_id="req-9", client=dynamodb, now=NOW)

    assert result.created
    assert table_items(table) == [
        {
            "run_id": {"S": "manual#manual-req-9"},
            "schedule": {"S": "manual"},
            "slot": {"S": "manual-req-9"},
            "status": {"S": "succeeded"},
            "execution_id": {"S": "req-9"},
            "attempts": {"N": "1"},
            "started_at": {"S": "2026-11-22T10:00:03.250Z"},
            "finished_at": {"S": "2026-11-22T10:00:03.250Z"},
            "request_id": {"S": "req-9"},
        }
    ]


def test_other_dynamodb_errors_propagate(dynamodb: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        record_run(table_name="no-such-table", event=EVENT, request_id="r", client=dynamodb)

    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ttl_seconds": 0}, "ttl_seconds must be a positive integer, got 0"),
        ({"ttl_seconds": 1.5}, "ttl_seconds must be a positive integer, got float"),
        (
            {"now": datetime(2026, 1, 1)},
            "now must be a timezone-aware datetime, got a naive datetime",
        ),
    ],
)
def test_invalid_arguments_raise_before_writing(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        record_run(table_name="t", event=EVENT, request_id="r", client=None, **kwargs)

    assert str(caught.value) == message


def test_malformed_event_raises(dynamodb: Any) -> None:
    with pytest.raises(MalformedEventError):
        record_run(table_name="t", event={"execution_id": 1}, request_id="r", client=dynamodb)


def test_handler_reads_table_and_ttl_from_environment(
    table: str,
    lambda_env: pytest.MonkeyPatch,
    lambda_context: Any,
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN the environment the construct sets
    lambda_env.setenv("TABLE_NAME", table)
    lambda_env.setenv("ITEM_TTL_SECONDS", "86400")
    before = datetime.now(UTC)

    # WHEN the Scheduler delivers the run twice
    first = handler(EVENT, lambda_context("req-1"))
    second = handler(EVENT, lambda_context("req-2"))

    # THEN one item, with an expiry one day after it was recorded
    assert first == {"run_id": RUN_ID, "created": True}
    assert second == {"run_id": RUN_ID, "created": False}
    (item,) = table_items(table)
    expires_at = int(item["expires_at"]["N"])
    expected = before + timedelta(days=1)
    assert abs(expires_at - expected.timestamp()) < 60
    assert item["request_id"] == {"S": "req-1"}


def test_handler_without_ttl_and_without_context(
    table: str,
    lambda_env: pytest.MonkeyPatch,
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    lambda_env.setenv("TABLE_NAME", table)
    lambda_env.delenv("ITEM_TTL_SECONDS", raising=False)

    result = handler({}, None)

    (item,) = table_items(table)
    assert result == {"run_id": item["run_id"]["S"], "created": True}
    assert "expires_at" not in item


def test_handler_reuses_one_client_per_container(
    table: str, lambda_env: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    lambda_env.setenv("TABLE_NAME", table)
    handler({"execution_id": "a"}, lambda_context())
    handler({"execution_id": "b"}, lambda_context())

    info = record_run_module._aws.client.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_handler_without_table_name_raises(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.delenv("TABLE_NAME", raising=False)

    with pytest.raises(RuntimeError, match="^environment variable TABLE_NAME is not set$"):
        handler(EVENT, None)


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_handler_rejects_bad_ttl(lambda_env: pytest.MonkeyPatch, value: str) -> None:
    lambda_env.setenv("TABLE_NAME", "t")
    lambda_env.setenv("ITEM_TTL_SECONDS", value)

    with pytest.raises(
        RuntimeError, match="^environment variable ITEM_TTL_SECONDS must be a positive integer$"
    ):
        handler(EVENT, None)


def test_handler_logs_no_environment_or_event(
    table: str,
    lambda_env: pytest.MonkeyPatch,
    lambda_context: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lambda_env.setenv("TABLE_NAME", table)
    caplog.set_level("DEBUG", logger="scheduled_tasks_constructs")

    handler(EVENT, lambda_context("req-1"))

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert RUN_ID in logged
    assert table not in logged
    assert SCHEDULE_ARN not in logged


def test_handler_publishes_the_run_metrics_once_with_run_metrics_on(
    table: str, lambda_env: pytest.MonkeyPatch, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    lambda_env.setenv("TABLE_NAME", table)
    lambda_env.setenv("RUN_METRICS", "on")

    handler(EVENT, lambda_context("req-1"))
    handler(EVENT, lambda_context("req-2"))  # a duplicate delivery publishes nothing

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(records) == 1
    assert (records[0]["RunSucceeded"], records[0]["RunDuration"]) == (1, 0.0)
    assert records[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Schedule"]]
