"""``scheduled-tasks pause``, ``resume`` and ``status`` against schedules on the moto server.

The app is a small written cloud assembly; the command's own boto3 clients
reach the moto server through ``AWS_ENDPOINT_URL``. moto's CloudFormation
cannot hold an ``AWS::Scheduler::Schedule``, so ``DescribeStackResource`` is
answered by a stub naming the schedule and the ledger (the real lookup is
tested against moto in ``test_cli_history.py``); everything else is real
Scheduler and DynamoDB calls.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List

import boto3
import pytest

from scheduled_tasks_constructs.local.deployed import DeployedResources
from scheduled_tasks_constructs.local.operate import update_request
from cli_calls import StubCloudFormation, one_line_error, run_cli

METADATA_TYPE = "scheduled-tasks-constructs"


def entry(kind: str, stack: str, schedule: str, ledger: str) -> List[Dict[str, Any]]:
    resources = {"schedule": {"stack": stack, "logicalId": schedule}, "ledger": {"stack": stack, "logicalId": ledger}}
    return [{"type": METADATA_TYPE, "data": {"version": 1, "construct": kind, "resources": resources}}]


@pytest.fixture
def deployed(tmp_path: Path, write_assembly: Callable[..., Path], aws_env: None, moto_server: str,
             monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    """An app of two constructs whose schedules and ledger are 'deployed' on the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    suffix = uuid.uuid4().hex[:8]
    stack = f"Jobs{suffix}"
    group = f"billing-{suffix}"
    names = {"NightlySchedule": f"nightly-{suffix}", "HourlySchedule": f"hourly-{suffix}", "Ledger": f"runs-{suffix}"}
    schedule_props = {"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"}}
    folder = write_assembly(
        tmp_path,
        {
            stack: {
                "template": {
                    "Resources": {
                        "NightlySchedule": {"Type": "AWS::Scheduler::Schedule",
                                            "Properties": {**schedule_props, "GroupName": group}},
                        "HourlySchedule": {"Type": "AWS::Scheduler::Schedule", "Properties": schedule_props},
                        "Ledger": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
                    }
                },
                "metadata": {
                    f"/{stack}/Nightly": entry("ScheduledTaskFanout", stack, "NightlySchedule", "Ledger"),
                    f"/{stack}/Hourly": entry("ScheduledLambdaToTable", stack, "HourlySchedule", "Ledger"),
                },
            }
        },
    )
    stub = StubCloudFormation(names)
    original = DeployedResources.client

    def client(self: DeployedResources, service: str, stack_artifact: Any) -> Any:
        return stub if service == "cloudformation" else original(self, service, stack_artifact)

    monkeypatch.setattr(DeployedResources, "client", client)
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    scheduler.create_schedule_group(Name=group)
    nightly = {
        "Name": names["NightlySchedule"],
        "GroupName": group,
        "ScheduleExpression": "cron(30 2 * * ? *)",
        "ScheduleExpressionTimezone": "Europe/Berlin",
        "Description": "nightly reports",
        "StartDate": datetime(2027, 1, 1, tzinfo=timezone.utc),
        "EndDate": datetime(2030, 1, 1, tzinfo=timezone.utc),
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "State": "ENABLED",
        "Target": {
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:producer",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"tasks": [{"name": "a"}], "scheduled_time": "<aws.scheduler.scheduled-time>"}),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3},
            "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:run-dlq"},
        },
    }
    scheduler.create_schedule(**nightly)
    scheduler.create_schedule(
        Name=names["HourlySchedule"],
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="DISABLED",
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:record", "RoleArn": "arn:aws:iam::123456789012:role/s"},
    )
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=names["Ledger"],
        KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for day, status in ((1, "succeeded"), (2, "failed")):
        slot = f"2026-12-0{day}T01:30:00Z"
        dynamodb.put_item(TableName=names["Ledger"], Item={
            "run_id": {"S": f"{group}/{names['NightlySchedule']}#{slot}"},
            "schedule": {"S": f"{group}/{names['NightlySchedule']}"}, "slot": {"S": slot},
            "status": {"S": status}, "started_at": {"S": slot}, "finished_at": {"S": slot.replace(":00Z", ":42Z")},
        })
    yield {"folder": str(folder), "stack": stack, "group": group, "names": names, "scheduler": scheduler,
           "nightly": f"{stack}/Nightly", "hourly": f"{stack}/Hourly"}
    for name, in_group in ((names["NightlySchedule"], group), (names["HourlySchedule"], "default")):
        with contextlib.suppress(Exception):
            scheduler.delete_schedule(Name=name, GroupName=in_group)


def get(deployed: Dict[str, Any], group: str = "") -> Dict[str, Any]:
    found = deployed["scheduler"].get_schedule(
        Name=deployed["names"]["NightlySchedule"], GroupName=group or deployed["group"]
    )
    return {key: value for key, value in found.items() if key != "ResponseMetadata"}


def test_pause_then_resume_changes_the_state_and_nothing_else(deployed) -> None:
    before = get(deployed)

    code, out, err = run_cli(["pause", deployed["folder"], "--construct", deployed["nightly"], "--yes"])

    assert code == 0, err
    assert "State ENABLED -> DISABLED, every other attribute kept" in out
    paused = get(deployed)
    assert paused["State"] == "DISABLED"
    ignore = {"State", "LastModificationDate"}
    assert {k: v for k, v in paused.items() if k not in ignore} == {k: v for k, v in before.items() if k not in ignore}
    # Every attribute the create gave is there to be compared: the test would see one dropped.
    assert {"Target", "FlexibleTimeWindow", "StartDate", "EndDate", "KmsKeyArn", "Description",
            "ScheduleExpressionTimezone", "GroupName"} <= set(before)
    assert before["Target"]["DeadLetterConfig"] and before["Target"]["RetryPolicy"] and before["Target"]["Input"]

    code, out, err = run_cli(["resume", deployed["folder"], "--construct", deployed["nightly"], "--yes"])

    assert code == 0, err
    resumed = get(deployed)
    assert {k: v for k, v in resumed.items() if k != "LastModificationDate"} == {
        k: v for k, v in before.items() if k != "LastModificationDate"
    }


def test_a_schedule_already_in_the_state_is_left_alone(deployed) -> None:
    code, out, err = run_cli(["resume", deployed["folder"], "--construct", deployed["nightly"], "--yes"])

    assert code == 0, err
    assert f"the schedule {deployed['group']}/{deployed['names']['NightlySchedule']} is already ENABLED" in out


def test_dry_run_prints_and_changes_nothing(deployed) -> None:
    code, out, err = run_cli(["pause", deployed["folder"], "--construct", deployed["nightly"], "--dry-run"])

    assert code == 0, err
    assert "dry run: nothing changed" in out
    assert get(deployed)["State"] == "ENABLED"


def test_without_yes_and_not_on_a_terminal_nothing_is_changed(deployed, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code, _, err = run_cli(["pause", deployed["folder"], "--construct", deployed["nightly"]])

    assert "give --yes to go on" in one_line_error(code, err)
    assert get(deployed)["State"] == "ENABLED"


def test_a_verb_needs_one_construct(deployed) -> None:
    code, _, err = run_cli(["pause", deployed["folder"], "--yes"])

    line = one_line_error(code, err)
    assert "give --construct PATH matching one construct" in line and deployed["nightly"] in line


def test_a_deleted_schedule_is_one_line(deployed) -> None:
    deployed["scheduler"].delete_schedule(Name=deployed["names"]["NightlySchedule"], GroupName=deployed["group"])

    code, _, err = run_cli(["pause", deployed["folder"], "--construct", deployed["nightly"], "--yes"])

    line = one_line_error(code, err)
    assert f"the schedule {deployed['group']}/{deployed['names']['NightlySchedule']} does not exist (deleted?)" in line


def test_access_denied_names_the_action(deployed, monkeypatch) -> None:
    from botocore.exceptions import ClientError

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "UpdateSchedule")

    original = DeployedResources.client

    def client(self: DeployedResources, service: str, stack: Any) -> Any:
        made = original(self, service, stack)
        if service == "scheduler":
            monkeypatch.setattr(type(made), "update_schedule", refuse, raising=False)
        return made

    monkeypatch.setattr(DeployedResources, "client", client)

    code, _, err = run_cli(["pause", deployed["folder"], "--construct", deployed["nightly"], "--yes"])

    assert "access denied: your credentials may not call scheduler:UpdateSchedule" in one_line_error(code, err)
    assert get(deployed)["State"] == "ENABLED"


def test_status_shows_state_next_fire_times_and_last_runs(deployed) -> None:
    code, out, err = run_cli(["status", deployed["folder"], "--json"])

    assert code == 0, err
    report = json.loads(out)
    nightly, hourly = report[deployed["nightly"]], report[deployed["hourly"]]
    assert nightly["schedule"] == f"{deployed['group']}/{deployed['names']['NightlySchedule']}"
    assert (nightly["state"], nightly["expression"], nightly["time_zone"]) == (
        "ENABLED", "cron(30 2 * * ? *)", "Europe/Berlin"
    )
    assert len(nightly["next_fire_times"]) == 5
    assert all(t.endswith(("T02:30:00+01:00", "T02:30:00+02:00")) for t in nightly["next_fire_times"])
    assert [(r["slot"], r["status"]) for r in nightly["runs"]] == [
        ("2026-12-02T01:30:00Z", "failed"), ("2026-12-01T01:30:00Z", "succeeded")
    ]
    assert (hourly["state"], hourly["next_fire_times"], hourly["runs"]) == ("DISABLED", [], [])

    code, out, err = run_cli(["status", deployed["folder"], "--construct", deployed["hourly"]])
    assert code == 0, err
    assert "next: none while disabled (resume to turn it on)" in out
    assert "last runs: none recorded" in out


def test_update_request_carries_what_update_schedule_accepts() -> None:
    client = boto3.client("scheduler", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    accepted = client.meta.service_model.operation_model("UpdateSchedule").input_shape.members
    current = {
        "Arn": "arn:aws:scheduler:us-east-1:1:schedule/default/n",
        "CreationDate": "t",
        "LastModificationDate": "t",
        "Name": "n",
        "GroupName": "default",
        "ScheduleExpression": "rate(1 hour)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "NONE",
        "State": "ENABLED",
        "Target": {"Arn": "a", "RoleArn": "r"},
    }

    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    request, notes = update_request(current, state="DISABLED", accepted=accepted, now=now)

    assert request == {**{k: v for k, v in current.items() if k not in {"Arn", "CreationDate", "LastModificationDate"}},
                       "State": "DISABLED"}
    assert notes == []
    # Scheduler refuses a past StartDate: it is left out, and said so.
    past = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for expression, effect in (("rate(1 hour)", "its rate then counts from now"),
                               ("cron(0 9 * * ? *)", "its fire times do not change")):
        request, notes = update_request({**current, "ScheduleExpression": expression, "StartDate": past},
                                        state="DISABLED", accepted=accepted, now=now)
        assert "StartDate" not in request
        assert notes == [f"StartDate 2026-01-01T00:00:00+00:00 is past and UpdateSchedule refuses past start "
                         f"dates, so it is left out ({effect})"]
