"""The run ledger is read back newest first and shown as a table, a chart and JSON."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from scheduled_tasks_constructs.local.history import (
    RunRow,
    format_chart,
    format_history,
    read_runs,
    rows_as_json,
)

DAILY = "reports/daily"
SYNC = "billing/sync"


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


ITEMS: list[dict[str, Any]] = [
    {
        "run_id": s(f"{DAILY}#2026-12-01T09:00:00Z"), "schedule": s(DAILY), "slot": s("2026-12-01T09:00:00Z"),
        "status": s("succeeded"), "execution_id": s("exec-1"), "attempts": n(1),
        "started_at": s("2026-12-01T09:00:01.250Z"), "finished_at": s("2026-12-01T09:00:02.450Z"),
    },
    {
        "run_id": s(f"{DAILY}#2026-12-02T09:00:00Z"), "schedule": s(DAILY), "slot": s("2026-12-02T09:00:00Z"),
        "status": s("partially_failed"), "execution_id": s("exec-2"), "attempts": n(1),
        "started_at": s("2026-12-02T09:00:01Z"), "finished_at": s("2026-12-02T09:03:05Z"),
        "tasks_sent": n(10), "tasks_succeeded": n(8), "tasks_failed": n(2), "tasks_dead_lettered": n(1),
        "failures": {"L": [
            {"M": {"task_id": s("task-3"), "error": s("TimeoutError: upstream took 30 s")}},
            {"M": {"task_id": s("task-7"), "error": s("KeyError: 'id'")}},
        ]},
    },
    {
        "run_id": s(f"{SYNC}#manual-abc123"), "schedule": s(SYNC), "slot": s("manual-abc123"),
        "status": s("failed"), "execution_id": s("exec-3"), "attempts": n(3),
        "started_at": s("2026-12-02T12:00:00Z"), "finished_at": s("2026-12-02T12:00:30Z"),
        "error": s("ConnectionError: billing API unreachable"),
    },
    {
        "run_id": s(f"{DAILY}#2026-12-02T21:00:00Z"), "schedule": s(DAILY), "slot": s("2026-12-02T21:00:00Z"),
        "status": s("skipped"), "execution_id": s("exec-4"), "attempts": n(0),
        "started_at": s("2026-12-02T21:00:00Z"), "finished_at": s("2026-12-02T21:00:00Z"),
        "skipped_because": s("previous run still running"),
    },
    {
        "run_id": s(f"{DAILY}#2026-12-03T09:00:00Z"), "schedule": s(DAILY), "slot": s("2026-12-03T09:00:00Z"),
        "status": s("running"), "execution_id": s("exec-5"), "attempts": n(1),
        "started_at": s("2026-12-03T09:00:00.500Z"),
    },
    # Not runs: no slot.
    {"run_id": s(f"{DAILY}#watchdog"), "schedule": s(DAILY), "watching_since": s("2026-11-30T00:00:00Z")},
    {"run_id": s(f"{DAILY}#lock"), "schedule": s(DAILY), "owner": s("exec-5")},
    {"run_id": s("stray#2026-12-01T00:00:00Z"), "slot": s("2026-12-01T00:00:00Z"), "status": s("succeeded")},
]

NEWEST_FIRST = [
    f"{DAILY}#2026-12-03T09:00:00Z",
    f"{DAILY}#2026-12-02T21:00:00Z",
    f"{SYNC}#manual-abc123",
    f"{DAILY}#2026-12-02T09:00:00Z",
    f"{DAILY}#2026-12-01T09:00:00Z",
]


class PagingClient:
    """A DynamoDB client whose scans return at most two items a page."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.scans: list[dict[str, Any]] = []

    def scan(self, **request: Any) -> dict[str, Any]:
        self.scans.append(dict(request))
        return self.client.scan(Limit=2, **request)


@pytest.fixture
def ledger(moto_server: str, aws_env: None) -> Iterator[dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=moto_server, region_name="us-east-1")
    table = f"run-ledger-{uuid.uuid4().hex[:12]}"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ITEMS:
        client.put_item(TableName=table, Item=item)
    yield {"client": client, "table": table}
    client.delete_table(TableName=table)


def test_runs_are_read_newest_first_and_other_items_are_ignored(ledger) -> None:
    rows = read_runs(ledger["client"], ledger["table"])

    assert [row.run_id for row in rows] == NEWEST_FIRST
    assert rows[3] == RunRow(
        run_id=f"{DAILY}#2026-12-02T09:00:00Z", schedule=DAILY, slot="2026-12-02T09:00:00Z",
        status="partially_failed", execution_id="exec-2", attempts=1,
        started_at="2026-12-02T09:00:01Z", finished_at="2026-12-02T09:03:05Z",
        tasks_sent=10, tasks_succeeded=8, tasks_failed=2, tasks_dead_lettered=1,
        failures=(("task-3", "TimeoutError: upstream took 30 s"), ("task-7", "KeyError: 'id'")),
    )
    assert [row.duration_seconds for row in rows] == [None, 0.0, 30.0, 184.0, 1.2]


def test_limit_keeps_the_newest_runs(ledger) -> None:
    assert [row.run_id for row in read_runs(ledger["client"], ledger["table"], limit=2)] == NEWEST_FIRST[:2]
    assert [row.run_id for row in read_runs(ledger["client"], ledger["table"], limit=1)] == NEWEST_FIRST[:1]


def test_schedule_filter_keeps_that_schedule_only(ledger) -> None:
    daily = read_runs(ledger["client"], ledger["table"], schedule=DAILY)
    sync = read_runs(ledger["client"], ledger["table"], schedule=SYNC)

    assert [row.run_id for row in daily] == [run_id for run_id in NEWEST_FIRST if run_id.startswith(DAILY)]
    assert [row.run_id for row in sync] == [f"{SYNC}#manual-abc123"]
    assert read_runs(ledger["client"], ledger["table"], schedule="nobody/none") == []


def test_every_page_is_scanned(ledger) -> None:
    client = PagingClient(ledger["client"])

    rows = read_runs(client, ledger["table"], limit=20)

    assert [row.run_id for row in rows] == NEWEST_FIRST
    # Eight items, two a page: four full pages, then (maybe) an empty last one.
    assert len(client.scans) >= 4
    assert "ExclusiveStartKey" not in client.scans[0]
    assert all("ExclusiveStartKey" in request for request in client.scans[1:])


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        read_runs(object(), "unused", limit=limit)


def test_history_table(ledger) -> None:
    text = format_history(read_runs(ledger["client"], ledger["table"]))

    assert not text.endswith("\n")
    assert text.splitlines() == [
        "slot                  status             duration  attempts  sent  succeeded  failed  dead-lettered",
        "--------------------  ----------------  ---------  --------  ----  ---------  ------  -------------",
        "2026-12-03T09:00:00Z  running                   -         1     -          -       -              -",
        "2026-12-02T21:00:00Z  skipped               0.0 s         0     -          -       -              -",
        "  skipped because: previous run still running",
        "manual-abc123         failed               30.0 s         3     -          -       -              -",
        "  error: ConnectionError: billing API unreachable",
        "2026-12-02T09:00:00Z  partially_failed  3 min 4 s         1    10          8       2              1",
        "  task-3: TimeoutError: upstream took 30 s",
        "  task-7: KeyError: 'id'",
        "2026-12-01T09:00:00Z  succeeded             1.2 s         1     -          -       -              -",
    ]


def test_chart_is_oldest_first_with_bars_proportional_to_duration(ledger) -> None:
    text = format_chart(read_runs(ledger["client"], ledger["table"]), width=20)

    assert not text.endswith("\n")
    assert text.splitlines() == [
        "2026-12-01T09:00:00Z  #                     succeeded",
        "2026-12-02T09:00:00Z  !!!!!!!!!!!!!!!!!!!!  partially_failed",
        "manual-abc123         !!!                   failed",
        "2026-12-02T21:00:00Z  .                     skipped",
        "2026-12-03T09:00:00Z  ~                     running",
    ]


def test_chart_default_width_is_forty() -> None:
    rows = [
        RunRow(run_id="a/b#1", schedule="a/b", slot="2026-01-01T00:00:00Z", status="succeeded",
               started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:00:10Z"),
        RunRow(run_id="a/b#2", schedule="a/b", slot="2026-01-02T00:00:00Z", status="succeeded",
               started_at="2026-01-02T00:00:00Z", finished_at="2026-01-02T00:00:05Z"),
    ]

    assert format_chart(rows).splitlines() == [
        "2026-01-01T00:00:00Z  " + "#" * 40 + "  succeeded",
        "2026-01-02T00:00:00Z  " + "#" * 20 + " " * 20 + "  succeeded",
    ]
    with pytest.raises(ValueError, match="width"):
        format_chart(rows, width=0)


def test_no_runs() -> None:
    assert format_history([]) == "no runs recorded yet"
    assert format_chart([]) == "no runs recorded yet"
    assert rows_as_json([]) == []


def test_rows_as_json(ledger) -> None:
    rows = read_runs(ledger["client"], ledger["table"], schedule=DAILY, limit=2)
    fan_out = read_runs(ledger["client"], ledger["table"], schedule=DAILY)[2]

    assert rows_as_json(rows) == [
        {
            "run_id": f"{DAILY}#2026-12-03T09:00:00Z", "schedule": DAILY, "slot": "2026-12-03T09:00:00Z",
            "status": "running", "execution_id": "exec-5", "attempts": 1,
            "started_at": "2026-12-03T09:00:00.500Z", "finished_at": None,
            "tasks_sent": None, "tasks_succeeded": None, "tasks_failed": None, "tasks_dead_lettered": None,
            "failures": [], "error": None, "skipped_because": None, "duration_seconds": None,
        },
        {
            "run_id": f"{DAILY}#2026-12-02T21:00:00Z", "schedule": DAILY, "slot": "2026-12-02T21:00:00Z",
            "status": "skipped", "execution_id": "exec-4", "attempts": 0,
            "started_at": "2026-12-02T21:00:00Z", "finished_at": "2026-12-02T21:00:00Z",
            "tasks_sent": None, "tasks_succeeded": None, "tasks_failed": None, "tasks_dead_lettered": None,
            "failures": [], "error": None, "skipped_because": "previous run still running", "duration_seconds": 0.0,
        },
    ]
    (as_json,) = rows_as_json([fan_out])
    assert as_json["failures"] == [
        {"task_id": "task-3", "error": "TimeoutError: upstream took 30 s"},
        {"task_id": "task-7", "error": "KeyError: 'id'"},
    ]
    assert (as_json["tasks_sent"], as_json["tasks_dead_lettered"], as_json["duration_seconds"]) == (10, 1, 184.0)


def test_start_times_with_and_without_a_fraction_order_by_time() -> None:
    # As strings, "09:00:01.250Z" sorts before "09:00:01Z"; as times it is later.
    early = RunRow(run_id="a/b#manual-1", schedule="a/b", slot="manual-1", status="succeeded",
                   started_at="2026-12-02T09:00:01Z")
    late = RunRow(run_id="a/b#manual-2", schedule="a/b", slot="manual-2", status="succeeded",
                  started_at="2026-12-02T09:00:01.250Z")

    assert [line.split()[0] for line in format_chart([late, early]).splitlines()] == ["manual-1", "manual-2"]


@pytest.mark.parametrize(
    ("finished_at", "shown"),
    [
        ("2026-12-02T09:00:00.040Z", "0.0 s"),
        ("2026-12-02T09:00:59.900Z", "59.9 s"),
        ("2026-12-02T09:00:59.960Z", "1 min 0 s"),
        ("2026-12-02T09:03:04Z", "3 min 4 s"),
        ("2026-12-02T11:05:00Z", "2 h 5 min"),
    ],
)
def test_durations_are_shown_in_seconds_minutes_or_hours(finished_at: str, shown: str) -> None:
    row = RunRow(run_id="a/b#x", schedule="a/b", slot="2026-12-02T09:00:00Z", status="succeeded",
                 started_at="2026-12-02T09:00:00Z", finished_at=finished_at)

    cells = [cell.strip() for cell in format_history([row]).splitlines()[2].split("  ") if cell.strip()]
    assert cells[2] == shown
