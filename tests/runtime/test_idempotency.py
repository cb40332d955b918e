"""claim / complete / release leases against DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scheduled_tasks_constructs.runtime.idempotency import (
    DEFAULT_LEASE_SECONDS,
    LeaseLostError,
    claim,
    release,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_claim_writes_an_in_progress_lease_and_a_second_claimer_loses(
    make_table: Callable[[str], str],
    dynamodb: Any,
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    table = make_table("task_id")

    first = claim(
        table,
        "e/1",
        client=dynamodb,
        now=NOW,
        ttl_seconds=60,
        lease_seconds=30,
        attributes={"worker": "a"},
    )
    second = claim(table, "e/1", client=dynamodb, now=NOW, attributes={"worker": "b"})

    assert first and second is None
    assert first.expires_at == NOW + timedelta(seconds=30)
    assert table_items(table) == [
        {
            "task_id": {"S": "e/1"},
            "claimed_at": {"S": "2026-11-22T10:00:00.000Z"},
            "status": {"S": "IN_PROGRESS"},
            "lease_token": {"S": first.token},
            "expires_in_progress_at": {"N": str(NOW_MS + 30_000)},
            "expires_at": {"N": str(int(NOW.timestamp()) + 60)},
            "worker": {"S": "a"},
        }
    ]


def test_a_worker_that_dies_holds_the_task_only_until_its_lease_runs_out(
    make_table: Callable[[str], str], dynamodb: Any
) -> None:
    # GIVEN a worker that claimed a task with 10 s left and then died (no complete)
    table = make_table("task_id")
    assert claim(table, "e/1", client=dynamodb, now=NOW, context=FakeContext(10_000))

    # WHEN the task is redelivered before and after the lease ran out
    early = claim(table, "e/1", client=dynamodb, now=NOW + timedelta(seconds=9))
    late = claim(table, "e/1", client=dynamodb, now=NOW + timedelta(seconds=11), lease_seconds=5)

    # THEN the early redelivery is skipped and the late one runs it again
    assert early is None
    assert late
    assert late.expires_at == NOW + timedelta(seconds=16)


def test_a_completed_task_is_skipped_for_good(
    make_table: Callable[[str], str],
    dynamodb: Any,
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    table = make_table("task_id")
    lease = claim(table, "e/1", client=dynamodb, now=NOW, lease_seconds=10, ttl_seconds=600)
    assert lease

    lease.complete(now=NOW + timedelta(seconds=2))

    assert claim(table, "e/1", client=dynamodb, now=NOW + timedelta(days=1)) is None
    assert not release(table, "e/1", client=dynamodb)
    (item,) = table_items(table)
    assert item["status"] == {"S": "COMPLETED"}
    assert item["completed_at"] == {"S": "2026-11-22T10:00:02.000Z"}
    assert item["expires_at"] == {"N": str(int(NOW.timestamp()) + 602)}
    assert "expires_in_progress_at" not in item


def test_release_lets_a_retry_claim_again(make_table: Callable[[str], str], dynamodb: Any) -> None:
    table = make_table("pk")
    lease = claim(table, "e/1", client=dynamodb, key="pk")
    assert lease

    assert lease.release()

    assert claim(table, "e/1", client=dynamodb, key="pk")


def test_release_without_a_token_deletes_any_in_progress_item(
    make_table: Callable[[str], str], dynamodb: Any
) -> None:
    table = make_table("task_id")
    assert claim(table, "e/1", client=dynamodb)

    assert release(table, "e/1", client=dynamodb)
    assert not release(table, "e/1", client=dynamodb)
    assert claim(table, "e/1", client=dynamodb)


def test_a_worker_whose_lease_was_taken_over_can_neither_complete_nor_release(
    make_table: Callable[[str], str],
    dynamodb: Any,
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    # GIVEN a slow worker whose lease ran out and was taken by a second worker
    table = make_table("task_id")
    slow = claim(table, "e/1", client=dynamodb, now=NOW, lease_seconds=1)
    fast = claim(table, "e/1", client=dynamodb, now=NOW + timedelta(seconds=2))
    assert slow and fast

    # WHEN the slow worker tries to release, then to complete
    released = slow.release()
    with pytest.raises(LeaseLostError, match="^the lease on task e/1 is no longer held$"):
        slow.complete()

    # THEN the second worker's lease is untouched and it can complete
    assert not released
    (item,) = table_items(table)
    assert item["lease_token"] == {"S": fast.token}
    fast.complete()
    assert table_items(table)[0]["status"] == {"S": "COMPLETED"}


def test_claimers_one_after_another_only_the_first_wins(
    make_table: Callable[[str], str], dynamodb: Any
) -> None:
    table = make_table("task_id")

    leases = [claim(table, "e/1", client=dynamodb, now=NOW) for _ in range(5)]

    assert leases[0] and leases[1:] == [None] * 4


def test_an_item_written_before_leases_counts_as_completed(
    make_table: Callable[[str], str], dynamodb: Any
) -> None:
    table = make_table("task_id")
    dynamodb.put_item(
        TableName=table,
        Item={"task_id": {"S": "e/1"}, "claimed_at": {"S": "2026-01-01T00:00:00.000Z"}},
    )

    assert claim(table, "e/1", client=dynamodb) is None
    assert not release(table, "e/1", client=dynamodb)


def test_the_default_lease_outlives_any_invocation(
    make_table: Callable[[str], str], dynamodb: Any
) -> None:
    table = make_table("task_id")
    lease = claim(table, "e/1", client=dynamodb, now=NOW)

    assert lease and lease.expires_at == NOW + timedelta(seconds=DEFAULT_LEASE_SECONDS)
    assert DEFAULT_LEASE_SECONDS == 900


def test_other_errors_propagate(dynamodb: Any) -> None:
    with pytest.raises(ClientError):
        claim("no-such-table", "e/1", client=dynamodb)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task_id": ""}, "task_id must be a non-empty string"),
        ({"ttl_seconds": 0}, "ttl_seconds must be a positive integer, got 0"),
        ({"lease_seconds": 0}, "lease_seconds must be a positive number, got 0"),
        (
            {"lease_seconds": 5, "context": FakeContext(1000)},
            "give context or lease_seconds, not both",
        ),
        (
            {"now": datetime(2026, 1, 1)},
            "now must be a timezone-aware datetime, got a naive datetime",
        ),
        (
            {"attributes": {"task_id": "x"}},
            "attributes must not set the reserved attribute 'task_id'",
        ),
        (
            {"attributes": {"status": "x"}},
            "attributes must not set the reserved attribute 'status'",
        ),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"task_id": "e/1", **kwargs}
    task_id = arguments.pop("task_id")

    with pytest.raises(ValueError) as caught:
        claim("t", task_id, client=None, **arguments)

    assert str(caught.value) == message
