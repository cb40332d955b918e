"""``scheduled-tasks trigger`` and ``backfill`` of a 'deployed' schedule on the moto server.

The schedule and the run ledger are real Scheduler and DynamoDB resources on
the moto server, reached through ``AWS_ENDPOINT_URL``; CloudFormation's
``DescribeStackResource`` is a stub naming them (moto's CloudFormation cannot
hold an ``AWS::Scheduler::Schedule``). moto's Lambda runs code only in
Docker, so the Lambda client is the one stub of substance: it records each
invocation's event and, like the bundled handlers, writes the slot's run to
the ledger (``succeeded``, or ``failed`` for a slot told to fail). The
local-endpoint versions of the verbs, which run the synthesized functions,
are in ``test_operate_local.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import boto3
import pytest

from scheduled_tasks_constructs.local import operate_runs
from scheduled_tasks_constructs.local.deployed import DeployedResources
from cli_calls import StubCloudFormation, one_line_error, run_cli

METADATA_TYPE = "scheduled-tasks-constructs"
REGION = "us-east-1"


class FakeLambda:
    """Lambda's Invoke, recording each event and writing its slot's run to the ledger as a handler does."""

    def __init__(self, table: str, fail: Tuple[str, ...] = (), seconds: float = 0.0) -> None:
        self.table = table
        self.fail = set(fail)
        self.seconds = seconds
        self.events: List[Dict[str, Any]] = []
        self.calls: List[Dict[str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)

    def invoke(self, **request: Any) -> Dict[str, Any]:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.calls.append({k: v for k, v in request.items() if k != "Payload"})
            event = json.loads(request["Payload"])
            self.events.append(event)
        time.sleep(self.seconds)
        slot = event["scheduled_time"]
        schedule = event["schedule_arn"].split(":schedule/", 1)[1]
        status = "failed" if slot in self.fail else "succeeded"
        self.dynamodb.put_item(TableName=self.table, Item={
            "run_id": {"S": f"{schedule}#{slot}"}, "schedule": {"S": schedule}, "slot": {"S": slot},
            "status": {"S": status}, "started_at": {"S": slot},
        })
        with self.lock:
            self.in_flight -= 1
        if status == "failed":
            body = json.dumps({"errorType": "RuntimeError", "errorMessage": f"slot {slot} broke"})
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(body.encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(b"null")}


@pytest.fixture
def deployed(tmp_path: Path, write_assembly: Callable[..., Path], aws_env: None, moto_server: str,
             monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    """One fan-out construct whose schedule (cron in Berlin) and ledger are 'deployed' on the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    suffix = uuid.uuid4().hex[:8]
    stack = f"Jobs{suffix}"
    names = {"Schedule": f"nightly-{suffix}", "Ledger": f"runs-{suffix}", "Producer": f"producer-{suffix}"}
    resources = {role: {"stack": stack, "logicalId": logical}
                 for role, logical in (("schedule", "Schedule"), ("ledger", "Ledger"), ("producer", "Producer"))}
    folder = write_assembly(tmp_path, {stack: {
        "template": {"Resources": {
            "Schedule": {"Type": "AWS::Scheduler::Schedule",
                         "Properties": {"ScheduleExpression": "cron(30 2 * * ? *)", "FlexibleTimeWindow": {"Mode": "OFF"}}},
            "Ledger": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Producer": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512}},
        }},
        "metadata": {f"/{stack}/Nightly": [{"type": METADATA_TYPE, "data": {
            "version": 1, "construct": "ScheduledTaskFanout", "resources": resources}}]},
    }})
    stub = StubCloudFormation(names)
    original = DeployedResources.client

    def client(self: DeployedResources, service: str, stack_artifact: Any) -> Any:
        return stub if service == "cloudformation" else original(self, service, stack_artifact)

    monkeypatch.setattr(DeployedResources, "client", client)
    scheduler = boto3.client("scheduler", region_name=REGION)
    function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{names['Producer']}"
    scheduler.create_schedule(
        Name=names["Schedule"],
        ScheduleExpression="cron(30 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": function_arn, "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "Input": json.dumps({"tasks": [{"name": "a"}, {"name": "b"}],
                                     "execution_id": "<aws.scheduler.execution-id>",
                                     "scheduled_time": "<aws.scheduler.scheduled-time>",
                                     "schedule_arn": "<aws.scheduler.schedule-arn>",
                                     "attempt_number": "<aws.scheduler.attempt-number>",
                                     "note": "slot <aws.scheduler.scheduled-time>"})},
    )
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=names["Ledger"],
        KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    fake = FakeLambda(names["Ledger"])
    monkeypatch.setattr(operate_runs, "_lambda_client", lambda where, region: fake)
    key = f"default/{names['Schedule']}"
    yield {"folder": str(folder), "path": f"{stack}/Nightly", "names": names, "scheduler": scheduler,
           "dynamodb": dynamodb, "lambda": fake, "key": key, "function": function_arn}
    with contextlib.suppress(Exception):
        scheduler.delete_schedule(Name=names["Schedule"], GroupName="default")


def put_run(deployed: Dict[str, Any], slot: str, status: str) -> None:
    deployed["dynamodb"].put_item(TableName=deployed["names"]["Ledger"], Item={
        "run_id": {"S": f"{deployed['key']}#{slot}"}, "schedule": {"S": deployed["key"]},
        "slot": {"S": slot}, "status": {"S": status}, "started_at": {"S": slot},
    })


def ledger(deployed: Dict[str, Any]) -> Dict[str, str]:
    items = deployed["dynamodb"].scan(TableName=deployed["names"]["Ledger"])["Items"]
    return {item["slot"]["S"]: item["status"]["S"] for item in items}


def verb(deployed: Dict[str, Any], name: str, *extra: str) -> List[str]:
    return [name, deployed["folder"], "--construct", deployed["path"], *extra]


# --------------------------------------------------------------------------- trigger


def test_trigger_sends_the_schedulers_input_for_the_slot(deployed) -> None:
    code, out, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--yes"))

    assert code == 0, err
    (event,) = deployed["lambda"].events
    schedule_arn = f"arn:aws:scheduler:{REGION}:123456789012:schedule/default/{deployed['names']['Schedule']}"
    assert event["scheduled_time"] == "2026-12-01T01:30:00Z"
    assert event["note"] == "slot 2026-12-01T01:30:00Z"  # inside a longer string too
    assert event["schedule_arn"] == schedule_arn
    assert event["attempt_number"] == "1"
    assert str(uuid.UUID(event["execution_id"])) == event["execution_id"]
    assert event["tasks"] == [{"name": "a"}, {"name": "b"}]
    (call,) = deployed["lambda"].calls
    assert call == {"FunctionName": deployed["function"], "InvocationType": "RequestResponse"}
    assert ledger(deployed) == {"2026-12-01T01:30:00Z": "succeeded"}
    assert "slot 2026-12-01T01:30:00Z: ok" in out
    assert "not a fire time" not in out


def test_trigger_refuses_a_succeeded_slot_unless_forced(deployed) -> None:
    put_run(deployed, "2026-12-01T01:30:00Z", "succeeded")

    code, _, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--yes"))

    line = one_line_error(code, err)
    assert "slot 2026-12-01T01:30:00Z already succeeded" in line and "--force" in line
    assert deployed["lambda"].events == []

    code, out, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--force", "--yes"))

    assert code == 0, err
    assert [e["scheduled_time"] for e in deployed["lambda"].events] == ["2026-12-01T01:30:00Z"]
    assert "the ledger shows it succeeded" in out


def test_trigger_runs_a_failed_slot_again_and_reports_its_error(deployed) -> None:
    put_run(deployed, "2026-12-01T01:30:00Z", "failed")
    deployed["lambda"].fail = {"2026-12-01T01:30:00Z"}

    code, out, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--yes"))

    assert code == 1, err
    assert "slot 2026-12-01T01:30:00Z: failed: RuntimeError: slot 2026-12-01T01:30:00Z broke" in out


def test_trigger_defaults_to_now_and_says_when_it_is_no_fire_time(deployed, monkeypatch) -> None:
    code, out, err = run_cli(verb(deployed, "trigger", "--yes"))

    assert code == 0, err
    (event,) = deployed["lambda"].events
    slot = datetime.fromisoformat(event["scheduled_time"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - slot).total_seconds()) < 120
    assert event["scheduled_time"].endswith("Z") and "." not in event["scheduled_time"]
    if not event["scheduled_time"].endswith(":30:00Z"):
        assert "not a fire time of the schedule" in out


def test_trigger_dry_run_invokes_nothing(deployed) -> None:
    code, out, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--dry-run"))

    assert code == 0, err
    assert "trigger slot 2026-12-01T01:30:00Z of default/" in out and "dry run: nothing run" in out
    assert deployed["lambda"].events == []


# --------------------------------------------------------------------------- backfill


def test_backfill_over_a_dst_change_runs_the_slots_the_scheduler_fires(deployed) -> None:
    # 02:30 on 29 March 2026 does not exist in Berlin (skipped); 02:30 on 25 October
    # happens twice (fired once, on summer time).
    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-03-28T00:00:00Z", "--to", "2026-03-31T00:00:00Z", "--yes"))
    assert code == 0, err
    code, out2, err = run_cli(verb(deployed, "backfill", "--from", "2026-10-24T00:00:00Z", "--to", "2026-10-27T00:00:00Z", "--yes"))
    assert code == 0, err

    assert [e["scheduled_time"] for e in deployed["lambda"].events] == [
        "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z",
        "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z",
    ]
    assert "backfill 2 of the 2 slot(s)" in out and "backfill 3 of the 3 slot(s)" in out2
    assert set(ledger(deployed).values()) == {"succeeded"}


def test_backfill_skips_succeeded_slots_runs_the_rest_oldest_first_and_prices_them(deployed, monkeypatch) -> None:
    slots = [f"2026-12-0{day}T01:30:00Z" for day in range(1, 7)]
    put_run(deployed, slots[1], "succeeded")
    put_run(deployed, slots[3], "failed")
    put_run(deployed, slots[4], "running")

    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-07T00:00:00Z", "--yes"))

    assert code == 0, err
    assert [e["scheduled_time"] for e in deployed["lambda"].events] == [s for s in slots if s != slots[1]]
    assert "backfill 5 of the 6 slot(s)" in out and "1 already succeeded, skipped (--force runs them)" in out
    expected, basis = operate_runs.run_cost(
        _assembly(deployed), _entry(deployed), 5, {"tasks": [{"name": "a"}, {"name": "b"}]}
    )
    assert expected > 0 and "2 tasks a run" in basis
    assert f"estimated cost of 5 run(s): ${expected:.6f}" in out
    assert ledger(deployed) == {slot: "succeeded" for slot in slots}


def _assembly(deployed: Dict[str, Any]) -> Any:
    from scheduled_tasks_constructs.local.assembly import CloudAssembly

    return CloudAssembly(Path(deployed["folder"]))


def _entry(deployed: Dict[str, Any]) -> Any:
    (entry,) = _assembly(deployed).scheduled_constructs()
    return entry


def test_backfill_cost_follows_the_templates_memory(deployed) -> None:
    from scheduled_tasks_constructs import cost

    dollars, _ = operate_runs.run_cost(_assembly(deployed), _entry(deployed), 1000, {"tasks": [{}] * 10})
    settings = cost.SCHEDULED_TASK_FANOUT_DEFAULTS
    import dataclasses

    at_256 = cost.estimate_monthly_cost(
        dataclasses.replace(settings, watchdog_interval_minutes=None, alarms=0),
        cost.Workload(runs_per_month=1000, tasks_per_run=10, seconds_per_task=0.1),
    )
    fixed = ("schedule", "cloudwatch.", "sqs.idle_receive")
    default = sum(line.dollars for line in at_256.lines if not line.key.startswith(fixed))
    assert dollars > default  # the template's producer has 512 MB, the default 256


def test_backfill_force_runs_succeeded_slots_too(deployed) -> None:
    put_run(deployed, "2026-12-01T01:30:00Z", "succeeded")

    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-03T00:00:00Z",
                                  "--force", "--yes"))

    assert code == 0, err
    assert [e["scheduled_time"] for e in deployed["lambda"].events] == ["2026-12-01T01:30:00Z", "2026-12-02T01:30:00Z"]
    assert "1 already succeeded, run again (--force)" in out


def test_backfill_of_a_monthly_schedule(deployed) -> None:
    deployed["scheduler"].update_schedule(
        Name=deployed["names"]["Schedule"], ScheduleExpression="cron(0 9 L * ? *)",
        ScheduleExpressionTimezone="America/New_York", FlexibleTimeWindow={"Mode": "OFF"},
        Target=deployed["scheduler"].get_schedule(Name=deployed["names"]["Schedule"])["Target"],
    )

    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-01-01T00:00:00Z", "--to", "2026-07-01T00:00:00Z", "--yes"))

    assert code == 0, err
    # The last day of each month at 09:00 in New York: EST (UTC-5) until 8 March, then EDT (UTC-4).
    assert [e["scheduled_time"] for e in deployed["lambda"].events] == [
        "2026-01-31T14:00:00Z", "2026-02-28T14:00:00Z", "2026-03-31T13:00:00Z",
        "2026-04-30T13:00:00Z", "2026-05-31T13:00:00Z", "2026-06-30T13:00:00Z",
    ]


def test_backfill_over_the_slot_cap_is_refused(deployed) -> None:
    code, _, err = run_cli(verb(deployed, "backfill", "--from", "2026-01-01T00:00:00Z", "--to", "2026-03-01T00:00:00Z",
                                "--max-slots", "30", "--yes"))

    line = one_line_error(code, err)
    assert "more than 30 slots of cron(30 2 * * ? *)" in line and "--max-slots" in line
    assert deployed["lambda"].events == []

    code, _, err = run_cli(verb(deployed, "backfill", "--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z", "--yes"))
    assert f"more than {operate_runs.DEFAULT_MAX_SLOTS} slots" in one_line_error(code, err)


def test_backfill_keeps_at_most_max_parallel_in_flight(deployed) -> None:
    deployed["lambda"].seconds = 0.2

    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-07T00:00:00Z",
                                  "--max-parallel", "2", "--yes"))

    assert code == 0, err
    assert deployed["lambda"].most_in_flight == 2
    lines = [line for line in out.splitlines() if ": slot " in line]
    assert lines == [f"{deployed['path']}: slot 2026-12-0{day}T01:30:00Z: ok" for day in range(1, 7)]


def test_backfill_one_at_a_time_by_default(deployed) -> None:
    deployed["lambda"].seconds = 0.05

    code, _, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-04T00:00:00Z", "--yes"))

    assert code == 0, err
    assert deployed["lambda"].most_in_flight == 1


def test_backfill_reports_failed_slots_with_exit_status_1(deployed) -> None:
    deployed["lambda"].fail = {"2026-12-02T01:30:00Z"}

    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-04T00:00:00Z", "--yes"))

    assert code == 1, err
    assert "2 of 3 slot(s) ok; failed: 2026-12-02T01:30:00Z" in out
    assert ledger(deployed)["2026-12-02T01:30:00Z"] == "failed"


def test_backfill_dry_run_prints_the_count_and_cost_and_runs_nothing(deployed) -> None:
    code, out, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-04T00:00:00Z",
                                  "--dry-run"))

    assert code == 0, err
    assert "backfill 3 of the 3 slot(s)" in out and "estimated cost of 3 run(s): $" in out
    assert "dry run: nothing run" in out
    assert deployed["lambda"].events == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "2026-12-02T00:00:00Z", "--to", "2026-12-01T00:00:00Z"], "is not after --from"),
        (["--from", "2026-12-01T00:00:00Z", "--to", "2026-12-02T00:00:00Z", "--max-parallel", "0"],
         "--max-parallel must be 1 or more, got 0"),
        (["--from", "2026-12-01T00:00:00Z", "--to", "2026-12-02T00:00:00Z", "--max-slots", "0"],
         "--max-slots must be 1 or more, got 0"),
    ],
)
def test_backfill_bad_input_is_one_line(deployed, extra, message) -> None:
    code, _, err = run_cli(verb(deployed, "backfill", *extra, "--yes"))

    assert message in one_line_error(code, err)


def test_without_yes_off_a_terminal_nothing_runs(deployed, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code, _, err = run_cli(verb(deployed, "backfill", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-02T00:00:00Z"))

    assert "give --yes to go on" in one_line_error(code, err)
    assert deployed["lambda"].events == []


# --------------------------------------------------------------------------- errors


def test_a_deleted_schedule_is_one_line(deployed) -> None:
    deployed["scheduler"].delete_schedule(Name=deployed["names"]["Schedule"], GroupName="default")

    for name in ("trigger", "backfill"):
        extra = ["--from", "2026-12-01T00:00:00Z", "--to", "2026-12-02T00:00:00Z"] if name == "backfill" else []
        code, _, err = run_cli(verb(deployed, name, *extra, "--yes"))
        assert f"the schedule default/{deployed['names']['Schedule']} does not exist (deleted?)" in one_line_error(code, err)


def test_access_denied_names_the_missing_action(deployed, monkeypatch) -> None:
    from botocore.exceptions import ClientError

    def refuse(**request: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "Invoke")

    monkeypatch.setattr(deployed["lambda"], "invoke", refuse)

    code, _, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--yes"))

    assert "access denied: your credentials may not call lambda:InvokeFunction" in one_line_error(code, err)


def test_no_credentials_is_one_line(deployed, monkeypatch) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                     "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code, _, err = run_cli(verb(deployed, "trigger", "--time", "2026-12-01T01:30:00Z", "--yes"))

    assert "no AWS credentials found" in one_line_error(code, err)
