"""The run ledger against the moto server: one item per slot, exact counts, finished exactly once."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduled_tasks_constructs.runtime import ledger
from scheduled_tasks_constructs.runtime.events import RunContext
from scheduled_tasks_constructs.runtime.fanout import EnqueueError
from scheduled_tasks_constructs.runtime.ledger import BatchCounts, LedgerConfig

ARN = "arn:aws:scheduler:us-east-1:111111111111:schedule/default/nightly"
T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def run_at(moment: datetime, execution_id: str = "e-1") -> RunContext:
    return RunContext(execution_id, moment.strftime("%Y-%m-%dT%H:%M:%SZ"), ARN, 1)


def item(dynamodb: Any, table: str, run_id: str) -> dict[str, Any]:
    got = dynamodb.get_item(TableName=table, Key={"run_id": {"S": run_id}}, ConsistentRead=True)
    return {k: ledger._aws.plain(v) for k, v in got.get("Item", {}).items()}


@pytest.fixture
def config(make_table: Callable[[str], str]) -> LedgerConfig:
    return LedgerConfig(table_name=make_table("run_id"), overlap="skip", lock_seconds=600, max_attempts=3, max_receive_count=3)


def test_a_first_delivery_starts_the_run_on_its_slot_item(dynamodb: Any, config: LedgerConfig) -> None:
    # WHEN the first delivery of the 02:00 slot starts
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    # THEN it does the work, on the item keyed by schedule and slot
    assert (start.outcome, start.should_work) == ("started", True)
    assert start.run_id == "default/nightly#2026-12-02T02:00:00Z"
    stored = item(dynamodb, config.table_name, start.run_id)
    assert {k: stored[k] for k in ("schedule", "slot", "status", "execution_id", "attempts", "started_at")} == {
        "schedule": "default/nightly",
        "slot": "2026-12-02T02:00:00Z",
        "status": "running",
        "execution_id": "e-1",
        "attempts": 1,
        "started_at": "2026-12-02T02:00:00.000Z",
    }


def test_a_duplicate_delivery_of_a_running_slot_does_no_work(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN a delivery working on the slot
    first = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    # WHEN the Scheduler delivers the same slot again while it works
    again = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-2", now=T0 + timedelta(seconds=5))
    # THEN the second does nothing and the item still counts one attempt
    assert again.outcome == "duplicate" and not again.should_work
    assert item(dynamodb, config.table_name, first.run_id)["attempts"] == 1


def test_a_retry_after_a_failure_takes_the_run_over(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN a delivery that failed before the last attempt
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    assert ledger.fail_sending(dynamodb, config, start.run_id, ValueError("boom"), attempts=1, now=T0) is None
    assert item(dynamodb, config.table_name, start.run_id)["error"] == "ValueError: boom"
    # WHEN Lambda retries it
    retry = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-2", now=T0 + timedelta(minutes=1))
    # THEN the retry does the work, as the run's second attempt, with the old error cleared
    assert retry.outcome == "retry"
    stored = item(dynamodb, config.table_name, start.run_id)
    assert (stored["attempts"], stored["status"], "error" in stored) == (2, "running", False)


def test_the_last_failed_attempt_fails_the_run_and_releases_the_lock(dynamodb: Any, config: LedgerConfig) -> None:
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    # WHEN the last attempt fails
    done = ledger.finish_run(dynamodb, config, start.run_id, error=RuntimeError("no db"), attempts=3, now=T0 + timedelta(seconds=9))
    # THEN the run is failed, with its error, and the next slot is not skipped
    assert done is not None and (done["status"], done["error"], done["finished_at"]) == (
        "failed", "RuntimeError: no db", "2026-12-02T02:00:09.000Z")
    nxt = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(days=1), "e-2"), request_id="req-3", now=T0 + timedelta(days=1))
    assert nxt.outcome == "started"


def test_a_slot_whose_previous_run_still_runs_is_skipped(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN the 02:00 run still running
    ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    # WHEN the 02:05 slot fires (within the run's 600 s lock)
    later = T0 + timedelta(minutes=5)
    skipped = ledger.start_run(dynamodb, config, run_at(later, "e-2"), request_id="req-2", now=later)
    # THEN it is recorded as skipped, naming the run that holds the lock, and does no work
    assert (skipped.outcome, skipped.should_work) == ("skipped", False)
    stored = item(dynamodb, config.table_name, skipped.run_id)
    assert (stored["status"], stored["skipped_because"]) == ("skipped", "default/nightly#2026-12-02T02:00:00Z")


def test_with_overlap_allowed_both_slots_run(dynamodb: Any, make_table: Callable[[str], str]) -> None:
    config = LedgerConfig(table_name=make_table("run_id"), overlap="allow")
    ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    later = T0 + timedelta(hours=1)
    assert ledger.start_run(dynamodb, config, run_at(later, "e-2"), request_id="req-2", now=later).outcome == "started"


def test_a_lock_held_past_its_time_does_not_skip_later_slots(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN a run that died holding the lock (lock_seconds is 600)
    ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    # WHEN a slot fires within the lock's 600 s it is skipped; THEN one at its end runs
    soon = T0 + timedelta(minutes=5)
    assert ledger.start_run(dynamodb, config, run_at(soon, "e-2"), request_id="r2", now=soon).outcome == "skipped"
    much_later = T0 + timedelta(minutes=10)
    assert ledger.start_run(dynamodb, config, run_at(much_later, "e-3"), request_id="r3", now=much_later).outcome == "started"


def test_the_lock_runs_from_the_slot_not_from_the_clock(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN slots delivered all at T0, an hour before their time (as a local run over virtual time does)
    ledger.start_run(dynamodb, config, run_at(T0 + timedelta(hours=1)), request_id="req-1", now=T0)
    # WHEN the slot 5 minutes after it and the one 11 minutes after it arrive at once
    soon = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(hours=1, minutes=5), "e-2"), request_id="r2", now=T0)
    later = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(hours=1, minutes=11), "e-3"), request_id="r3", now=T0)
    # THEN the 600 s lock is measured between slots, not by the wall clock
    assert (soon.outcome, later.outcome) == ("skipped", "started")
    # and a slot delivered a day late (Scheduler's retries) is not skipped by a lock taken an hour before it
    slot = T0 + timedelta(hours=3)
    ledger.start_run(dynamodb, config, run_at(T0 + timedelta(hours=2)), request_id="r4", now=T0 + timedelta(hours=2))
    assert ledger.start_run(dynamodb, config, run_at(slot, "e-5"), request_id="r5", now=T0 + timedelta(days=1)).outcome == "started"


def test_counts_add_up_and_the_last_batch_finishes_the_run_exactly_once(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN a run whose producer sent 25 tasks
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    assert ledger.finish_sending(dynamodb, config, start.run_id, sent=25, now=T0) is None
    # WHEN 25 workers report one task each at once, two of them the task's last failure
    finished: list[dict[str, Any]] = []
    lock = threading.Lock()

    def report(index: int) -> None:
        if index < 2:
            batch = BatchCounts(dead_lettered=1, failures=[(f"e-1/{index}", "KeyError: 'id'")])
        else:
            batch = BatchCounts(succeeded=1, failed=1 if index == 5 else 0)
        done = ledger.record_batch(dynamodb, config, {start.run_id: batch}, now=T0 + timedelta(minutes=2))
        with lock:
            finished.extend(done)

    threads = [threading.Thread(target=report, args=(i,)) for i in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN the counts are exact and exactly one update finished the run
    assert len(finished) == 1
    stored = item(dynamodb, config.table_name, start.run_id)
    assert {k: stored[k] for k in ("status", "tasks_sent", "tasks_succeeded", "tasks_failed", "tasks_dead_lettered")} == {
        "status": "partially_failed",
        "tasks_sent": 25,
        "tasks_succeeded": 23,
        "tasks_failed": 1,
        "tasks_dead_lettered": 2,
    }
    assert sorted(f["task_id"] for f in stored["failures"]) == ["e-1/0", "e-1/1"]


def test_the_producer_finishes_a_run_the_workers_already_worked_off(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN workers that finished all 3 tasks before the producer reported its count
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    assert ledger.record_batch(dynamodb, config, {start.run_id: BatchCounts(succeeded=3)}, now=T0) == []
    # WHEN the producer says it sent 3; THEN that call finishes the run
    done = ledger.finish_sending(dynamodb, config, start.run_id, sent=3, now=T0 + timedelta(seconds=2))
    assert done is not None and done["status"] == "succeeded"


def test_a_run_with_no_tasks_succeeds_when_sending_is_done(dynamodb: Any, config: LedgerConfig) -> None:
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    done = ledger.finish_sending(dynamodb, config, start.run_id, sent=0, now=T0)
    assert done is not None and (done["status"], done["tasks_sent"]) == ("succeeded", 0)


def test_failures_keep_only_the_first_few(dynamodb: Any, config: LedgerConfig) -> None:
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    ledger.finish_sending(dynamodb, config, start.run_id, sent=20, now=T0)
    for index in range(8):
        batch = BatchCounts(dead_lettered=1, failures=[(f"t{index}", "E")])
        ledger.record_batch(dynamodb, config, {start.run_id: batch}, now=T0)
    stored = item(dynamodb, config.table_name, start.run_id)
    assert stored["tasks_dead_lettered"] == 8
    assert [f["task_id"] for f in stored["failures"]] == ["t0", "t1", "t2", "t3", "t4"]


def test_counts_for_a_run_missing_from_the_ledger_are_dropped_with_a_warning(
    dynamodb: Any, config: LedgerConfig, caplog: pytest.LogCaptureFixture
) -> None:
    assert ledger.record_batch(dynamodb, config, {"default/x#2026": BatchCounts(succeeded=1)}) == []
    assert "not in the ledger" in caplog.text
    assert item(dynamodb, config.table_name, "default/x#2026") == {}


def test_a_ttl_sets_expires_at(dynamodb: Any, make_table: Callable[[str], str]) -> None:
    config = LedgerConfig(table_name=make_table("run_id"), ttl_seconds=86_400)
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    assert item(dynamodb, config.table_name, start.run_id)["expires_at"] == int(T0.timestamp()) + 86_400


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEDGER_TABLE_NAME": "t", "OVERLAP": "queue"}, "OVERLAP must be skip or allow, got 'queue'"),
        ({"LEDGER_TABLE_NAME": "t", "MAX_ATTEMPTS": "0"}, "MAX_ATTEMPTS must be a whole number of at least 1, got '0'"),
    ],
)
def test_a_bad_environment_is_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        LedgerConfig.from_env(env)


def test_the_environment_sets_the_config() -> None:
    assert LedgerConfig.from_env({}) is None
    assert LedgerConfig.from_env(
        {"LEDGER_TABLE_NAME": "runs", "OVERLAP": "allow", "LOCK_SECONDS": "90", "MAX_ATTEMPTS": "1", "MAX_RECEIVE_COUNT": "4"}
    ) == LedgerConfig("runs", "allow", 90, 1, 4, None)


# --------------------------------------------------------------------------- the handlers, end to end


def _fanout_event(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "execution_id": "exec-l",
        "scheduled_time": "2026-12-02T02:00:00Z",
        "schedule_arn": ARN,
        "attempt_number": "1",
        "tasks": tasks,
    }


@pytest.fixture
def ledger_env(lambda_env: pytest.MonkeyPatch, make_table: Callable[[str], str]) -> pytest.MonkeyPatch:
    lambda_env.setenv("LEDGER_TABLE_NAME", make_table("run_id"))
    lambda_env.setenv("MAX_RECEIVE_COUNT", "2")
    lambda_env.setenv("MAX_ATTEMPTS", "3")
    return lambda_env


def test_a_fanout_run_is_counted_finished_and_summarised_once(
    ledger_env: pytest.MonkeyPatch,
    make_queue: Callable[..., Any],
    lambda_context: Any,
    drain_queue: Callable[..., Any],
    dynamodb: Any,
    secretsmanager: Any,
    httpserver: Any,
) -> None:
    from scheduled_tasks_constructs.runtime import producer

    # GIVEN a producer and workers that keep the ledger and post one summary per run
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    secret = secretsmanager.create_secret(Name=f"hook-{T0.timestamp()}-{id(httpserver)}", SecretString=httpserver.url_for("/hook"))
    ledger_env.setenv("WEBHOOK_SECRET_ARN", secret["ARN"])
    ledger_env.setenv("WEBHOOK_KIND", "slack")
    ledger_env.setenv("WEBHOOK_MESSAGES", "summary")
    queue = make_queue(max_receive_count=2, visibility_timeout=0)
    ledger_env.setenv("QUEUE_URL", queue.url)
    tasks = [{"name": f"ok-{i}"} for i in range(12)] + [{"name": "bad-1"}, {"name": "bad-2"}]

    # WHEN the slot is delivered twice and the queue is worked off
    sent = producer.handler(_fanout_event(tasks), lambda_context("req-1"))
    again = producer.handler(_fanout_event(tasks), lambda_context("req-2"))

    def work(task: Any) -> str:
        if task.payload["name"].startswith("bad"):
            raise LookupError(f"no customer {task.payload['name']}")
        return "done"

    drain_queue(queue, work)

    # THEN one run item holds the exact counts, and one summary was posted
    run_id = "default/nightly#2026-12-02T02:00:00Z"
    assert (sent["outcome"], sent["sent"], again["outcome"], again["sent"]) == ("started", 14, "duplicate", 0)
    stored = item(dynamodb, os.environ["LEDGER_TABLE_NAME"], run_id)
    assert {k: stored[k] for k in ("status", "attempts", "tasks_sent", "tasks_succeeded", "tasks_failed", "tasks_dead_lettered")} == {
        "status": "partially_failed",
        "attempts": 1,
        "tasks_sent": 14,
        "tasks_succeeded": 12,
        "tasks_failed": 2,
        "tasks_dead_lettered": 2,
    }
    assert sorted(f["task_id"] for f in stored["failures"]) == ["exec-l/bad-1", "exec-l/bad-2"]
    assert {f["error"] for f in stored["failures"]} == {"LookupError: no customer bad-1", "LookupError: no customer bad-2"}
    posts = [request.get_json() for request, _ in httpserver.log]
    assert len(posts) == 1
    text = posts[0]["text"]
    assert text.startswith("default/nightly 2026-12-02T02:00:00Z: partially_failed in ")
    assert "tasks: 14 sent, 12 succeeded, 2 dead-lettered (2 failed attempts)" in text
    assert "exec-l/bad-1: LookupError: no customer bad-1" in text


def test_a_producer_that_fails_on_its_last_attempt_fails_the_run(
    ledger_env: pytest.MonkeyPatch, lambda_context: Any, dynamodb: Any
) -> None:
    from scheduled_tasks_constructs.runtime import producer

    # GIVEN a queue that does not exist, so every send fails
    ledger_env.setenv("QUEUE_URL", "http://127.0.0.1:1/000000000000/missing")
    ledger_env.setenv("MAX_ATTEMPTS", "2")
    event = _fanout_event([{"name": "a"}])
    # WHEN Lambda delivers the run twice (its one retry)
    for request in ("req-1", "req-2"):
        with pytest.raises(EnqueueError):
            producer.handler(event, lambda_context(request))
    # THEN the run is failed after the second, with both attempts counted
    stored = item(dynamodb, os.environ["LEDGER_TABLE_NAME"], "default/nightly#2026-12-02T02:00:00Z")
    assert (stored["status"], stored["attempts"]) == ("failed", 2)
    assert stored["error"].startswith("EnqueueError")


# --------------------------------------------------------------------------- track_run


TABLE_EVENT = {
    "execution_id": "exec-t",
    "scheduled_time": "2026-12-02T02:00:00Z",
    "schedule_arn": ARN,
    "attempt_number": "1",
}


def test_track_run_records_a_success(ledger_env: pytest.MonkeyPatch, lambda_context: Any, dynamodb: Any) -> None:
    calls = []

    @ledger.track_run
    def handler(event: Any, context: Any) -> str:
        calls.append(event["execution_id"])
        return "refreshed"

    # WHEN the slot is delivered, then delivered again
    assert handler(TABLE_EVENT, lambda_context("req-1")) == "refreshed"
    again = handler(TABLE_EVENT, lambda_context("req-2"))
    # THEN the code ran once and the run succeeded once
    assert calls == ["exec-t"]
    assert again == {"run_id": "default/nightly#2026-12-02T02:00:00Z", "outcome": "duplicate"}
    stored = item(dynamodb, os.environ["LEDGER_TABLE_NAME"], again["run_id"])
    assert (stored["status"], stored["attempts"], "claimed_by" in stored) == ("succeeded", 1, False)


def test_track_run_keeps_a_failure_for_the_retry_and_fails_the_last(
    ledger_env: pytest.MonkeyPatch, lambda_context: Any, dynamodb: Any
) -> None:
    @ledger.track_run
    def handler(event: Any, context: Any) -> None:
        raise ConnectionError("warehouse down")

    run_id = "default/nightly#2026-12-02T02:00:00Z"
    table = os.environ["LEDGER_TABLE_NAME"]
    # WHEN Lambda makes its three attempts (MAX_ATTEMPTS is 3)
    statuses = []
    for attempt in range(3):
        with pytest.raises(ConnectionError):
            handler(TABLE_EVENT, lambda_context(f"req-{attempt}"))
        statuses.append(item(dynamodb, table, run_id)["status"])
    # THEN the run stays running for the retries and fails on the last one, with its error
    assert statuses == ["running", "running", "failed"]
    stored = item(dynamodb, table, run_id)
    assert (stored["attempts"], stored["error"]) == (3, "ConnectionError: warehouse down")


def test_track_run_skips_a_slot_while_the_previous_run_runs(
    ledger_env: pytest.MonkeyPatch, lambda_context: Any, dynamodb: Any
) -> None:
    inner: list[Any] = []

    @ledger.track_run
    def handler(event: Any, context: Any) -> str:
        if not inner:
            # the 02:00 run is still working when the 02:05 slot fires
            inner.append(handler({**TABLE_EVENT, "execution_id": "exec-u", "scheduled_time": "2026-12-02T02:05:00Z"}, lambda_context("req-2")))
        return "done"

    assert handler(TABLE_EVENT, lambda_context("req-1")) == "done"
    assert inner == [{"run_id": "default/nightly#2026-12-02T02:05:00Z", "outcome": "skipped"}]
    table = os.environ["LEDGER_TABLE_NAME"]
    assert item(dynamodb, table, "default/nightly#2026-12-02T02:05:00Z")["status"] == "skipped"
    assert item(dynamodb, table, "default/nightly#2026-12-02T02:00:00Z")["status"] == "succeeded"
    # and the lock is released, so the next slot runs
    assert handler({**TABLE_EVENT, "execution_id": "exec-v", "scheduled_time": "2026-12-02T02:10:00Z"}, lambda_context("req-3")) == "done"


def emf_lines(output: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]


def test_run_metrics_are_published_once_by_the_finisher_only_with_run_metrics_on(
    dynamodb: Any, config: LedgerConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN RUN_METRICS is off (the default): finishing a run publishes nothing
    monkeypatch.delenv("RUN_METRICS", raising=False)
    quiet = ledger.start_run(dynamodb, config, run_at(T0 - timedelta(hours=1)), request_id="r0", now=T0 - timedelta(hours=1))
    ledger.finish_run(dynamodb, config, quiet.run_id, attempts=1, now=T0 - timedelta(minutes=59))
    assert emf_lines(capsys.readouterr().out) == []

    # GIVEN RUN_METRICS=on and a fan-out run of 3 tasks, one dead-lettered
    monkeypatch.setenv("RUN_METRICS", "on")
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    ledger.finish_sending(dynamodb, config, start.run_id, sent=3, now=T0)
    ledger.record_batch(dynamodb, config, {start.run_id: BatchCounts(succeeded=2)}, now=T0 + timedelta(seconds=30))
    # WHEN the last batch finishes it, and a late duplicate update arrives
    ledger.record_batch(
        dynamodb, config, {start.run_id: BatchCounts(dead_lettered=1, failures=[("e-1/2", "boom")])},
        now=T0 + timedelta(seconds=42),
    )
    assert ledger._finish(dynamodb, config.table_name, start.run_id, "succeeded", T0, release=False) is None

    # THEN one record: status, duration and counts, under the schedule's dimension
    (record,) = emf_lines(capsys.readouterr().out)
    assert record["Schedule"] == "default/nightly"
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ScheduledTasks"
    assert {k: record[k] for k in ("RunPartiallyFailed", "RunDuration", "TasksSent", "TasksSucceeded",
                                   "TasksFailed", "TasksDeadLettered")} == {
        "RunPartiallyFailed": 1,
        "RunDuration": 42.0,
        "TasksSent": 3,
        "TasksSucceeded": 2,
        "TasksFailed": 0,
        "TasksDeadLettered": 1,
    }

    # AND a skipped slot publishes RunSkipped
    nxt = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(hours=1), "e-2"), request_id="r2",
                           now=T0 + timedelta(hours=1))
    overlapped = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(hours=1, minutes=5), "e-3"),
                                  request_id="r3", now=T0 + timedelta(hours=1, minutes=5))
    assert nxt.should_work and overlapped.outcome == "skipped"
    (skipped,) = emf_lines(capsys.readouterr().out)
    assert skipped["RunSkipped"] == 1 and "TasksSent" not in skipped


def test_a_late_duplicate_of_a_finished_slot_gives_the_overlap_lock_back(dynamodb: Any, config: LedgerConfig) -> None:
    # GIVEN a run that finished, and a duplicate delivery of its slot arriving afterwards
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    ledger.finish_run(dynamodb, config, start.run_id, attempts=1, now=T0 + timedelta(seconds=5))
    late = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-2", now=T0 + timedelta(seconds=30))
    assert late.outcome == "duplicate"
    # THEN no lock is left behind, and the next slot runs
    assert item(dynamodb, config.table_name, "default/nightly#lock") == {}
    following = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(minutes=5), "e-2"), request_id="req-3",
                                 now=T0 + timedelta(minutes=5))
    assert following.outcome == "started"


def test_a_duplicate_while_the_run_works_keeps_its_lock(dynamodb: Any, config: LedgerConfig) -> None:
    start = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-1", now=T0)
    again = ledger.start_run(dynamodb, config, run_at(T0), request_id="req-2", now=T0 + timedelta(seconds=5))
    assert again.outcome == "duplicate"
    assert item(dynamodb, config.table_name, "default/nightly#lock")["holder"] == start.run_id
    overlapped = ledger.start_run(dynamodb, config, run_at(T0 + timedelta(minutes=5), "e-2"), request_id="req-3",
                                  now=T0 + timedelta(minutes=5))
    assert overlapped.outcome == "skipped"
