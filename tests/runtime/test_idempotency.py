"""claim / release against DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scheduled_tasks_constructs.runtime.idempotency import claim, release

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_first_claim_wins_and_later_ones_lose(
    make_table: Callable[[str], str],
    dynamodb: Any,
    table_items: Callable[[str], list[dict[str, Any]]],
) -> None:
    table = make_table("task_id")

    first = claim(
        table, "e/1", client=dynamodb, now=NOW, ttl_seconds=60, attributes={"worker": "a"}
    )
    second = claim(table, "e/1", client=dynamodb, attributes={"worker": "b"})

    assert (first, second) == (True, False)
    assert table_items(table) == [
        {
            "task_id": {"S": "e/1"},
            "claimed_at": {"S": "2026-11-22T10:00:00.000Z"},
            "expires_at": {"N": str(int(NOW.timestamp()) + 60)},
            "worker": {"S": "a"},
        }
    ]


def test_release_lets_a_retry_claim_again(make_table: Callable[[str], str], dynamodb: Any) -> None:
    table = make_table("pk")
    assert claim(table, "e/1", client=dynamodb, key="pk")

    release(table, "e/1", client=dynamodb, key="pk")

    assert claim(table, "e/1", client=dynamodb, key="pk")


def test_other_errors_propagate(dynamodb: Any) -> None:
    with pytest.raises(ClientError):
        claim("no-such-table", "e/1", client=dynamodb)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task_id": ""}, "task_id must be a non-empty string"),
        ({"ttl_seconds": 0}, "ttl_seconds must be a positive integer, got 0"),
        (
            {"now": datetime(2026, 1, 1)},
            "now must be a timezone-aware datetime, got a naive datetime",
        ),
        (
            {"attributes": {"task_id": "x"}},
            "attributes must not set the reserved attribute 'task_id'",
        ),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"task_id": "e/1", **kwargs}
    task_id = arguments.pop("task_id")

    with pytest.raises(ValueError) as caught:
        claim("t", task_id, client=None, **arguments)

    assert str(caught.value) == message
