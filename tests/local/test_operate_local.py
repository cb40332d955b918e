"""The operate verbs with ``--endpoint``: on what ``scheduled-tasks run APP --endpoint URL`` made there.

A small app is synthesized once for the module: a fan-out whose worker keeps
the run ledger, on a monthly schedule in New York, and a recorder on a
nightly schedule in Berlin (a daylight-saving change every spring and
autumn). Each test first makes a run on the moto server with ``run
--endpoint``; ``trigger`` and ``backfill`` then run chosen slots through the
synthesized functions (their own assets and layers), into that run's
ledger, table and queue; ``pause``, ``resume`` and ``status`` act on the
schedule the run made on the endpoint. Nothing of the handlers is imported
here.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any, Dict, List

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from scheduled_tasks_constructs.local.cdk_app import load_app
from cli_calls import one_line_error, run_cli

pytestmark = pytest.mark.xdist_group("operate-local")

APP = '''
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import TimeZone

from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout

app = App()
stack = Stack(app, "Operate")
ScheduledTaskFanout(
    stack, "Monthly", alarms=False,
    schedule=scheduler.ScheduleExpression.cron(minute="0", hour="9", day="L", time_zone=TimeZone.AMERICA_NEW_YORK),
    tasks=[{"name": "a"}, {"name": "b"}, {"name": "c"}],
    worker_code=lambda_.Code.from_asset("worker"), worker_handler="handler.handler",
)
ScheduledLambdaToTable(
    stack, "Nightly", alarms=False,
    schedule=scheduler.ScheduleExpression.cron(minute="30", hour="2", time_zone=TimeZone.EUROPE_BERLIN),
)
app.synth()
'''

WORKER = """
    from scheduled_tasks_constructs.runtime.worker import task_handler


    @task_handler
    def handler(task):
        return task.payload["name"]
"""

MONTHLY = "Operate/Monthly"
NIGHTLY = "Operate/Nightly"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("operate-app")
    (folder / "app.py").write_text(APP)
    (folder / "worker").mkdir()
    (folder / "worker" / "handler.py").write_text(textwrap.dedent(WORKER))
    load_app(str(folder / "app.py"), outdir=folder / "cdk.out")
    return str(folder / "cdk.out")


@pytest.fixture
def local_run(assembly: str, moto_server: str):
    """A fresh ``run --endpoint`` of one construct (one slot); returns its JSON report."""

    def run(path: str, after: str) -> Dict[str, Any]:
        code, out, err = run_cli(["run", assembly, "--construct", path, "--endpoint", moto_server, "--json",
                                  "--runs", "1", "--after", after])
        assert code == 0, err
        (construct,) = json.loads(out)["constructs"]
        return construct

    return run


def ledger(moto_server: str, table: str) -> Dict[str, Dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=moto_server, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    deserialize = TypeDeserializer().deserialize
    items = [{k: deserialize(v) for k, v in item.items()} for item in client.scan(TableName=table)["Items"]]
    return {item["slot"]: item for item in items if "slot" in item}


def verb(assembly: str, moto_server: str, name: str, path: str, *extra: str) -> List[str]:
    return [name, assembly, "--construct", path, "--endpoint", moto_server, *extra]


def test_trigger_runs_the_slot_through_the_synthesized_functions_into_the_runs_ledger(
    assembly: str, moto_server: str, local_run
) -> None:
    first = local_run(MONTHLY, "2026-01-01T00:00:00Z")
    assert first["fire_times"] == ["2026-01-31T14:00:00Z"]
    table = first["resources"]["ledger"]

    code, out, err = run_cli(verb(assembly, moto_server, "trigger", MONTHLY, "--time", "2026-02-28T14:00:00Z", "--yes"))

    assert code == 0, err
    runs = ledger(moto_server, table)
    assert set(runs) == {"2026-01-31T14:00:00Z", "2026-02-28T14:00:00Z"}
    triggered = runs["2026-02-28T14:00:00Z"]
    assert (triggered["status"], triggered["tasks_sent"], triggered["tasks_succeeded"]) == ("succeeded", 3, 3)
    assert triggered["schedule"] == runs["2026-01-31T14:00:00Z"]["schedule"]
    assert "not a fire time" not in out

    code, _, err = run_cli(verb(assembly, moto_server, "trigger", MONTHLY, "--time", "2026-02-28T14:00:00Z", "--yes"))
    assert "already succeeded" in one_line_error(code, err)

    code, out, err = run_cli(verb(assembly, moto_server, "trigger", MONTHLY, "--time", "2026-02-28T14:00:00Z",
                                  "--force", "--yes"))
    assert code == 0, err
    assert ledger(moto_server, table)["2026-02-28T14:00:00Z"]["status"] == "succeeded"


def test_backfill_of_a_monthly_schedule_skips_what_succeeded(assembly: str, moto_server: str, local_run) -> None:
    first = local_run(MONTHLY, "2026-03-01T00:00:00Z")
    table = first["resources"]["ledger"]

    code, out, err = run_cli(verb(assembly, moto_server, "backfill", MONTHLY, "--from", "2026-01-01T00:00:00Z",
                                  "--to", "2026-07-01T00:00:00Z", "--yes"))

    assert code == 0, err
    assert "backfill 5 of the 6 slot(s)" in out and "1 already succeeded, skipped" in out
    assert "estimated cost of 5 run(s): $" in out and "3 tasks a run" in out
    runs = ledger(moto_server, table)
    assert sorted(runs) == ["2026-01-31T14:00:00Z", "2026-02-28T14:00:00Z", "2026-03-31T13:00:00Z",
                            "2026-04-30T13:00:00Z", "2026-05-31T13:00:00Z", "2026-06-30T13:00:00Z"]
    assert {(r["status"], r["tasks_succeeded"]) for r in runs.values()} == {("succeeded", 3)}


def test_backfill_over_a_dst_change(assembly: str, moto_server: str, local_run) -> None:
    first = local_run(NIGHTLY, "2026-03-27T00:00:00Z")
    table = first["resources"]["ledger"]

    code, out, err = run_cli(verb(assembly, moto_server, "backfill", NIGHTLY, "--from", "2026-03-27T00:00:00Z",
                                  "--to", "2026-03-31T00:00:00Z", "--yes"))

    assert code == 0, err
    # 02:30 on 29 March does not exist in Berlin: no slot that night.
    assert sorted(ledger(moto_server, table)) == ["2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"]
    assert "backfill 2 of the 3 slot(s)" in out


def test_backfill_locally_runs_one_slot_at_a_time(assembly: str, moto_server: str, local_run) -> None:
    local_run(NIGHTLY, "2026-03-27T00:00:00Z")

    code, _, err = run_cli(verb(assembly, moto_server, "backfill", NIGHTLY, "--from", "2026-03-27T00:00:00Z",
                                "--to", "2026-03-31T00:00:00Z", "--max-parallel", "2", "--yes"))

    assert "with --endpoint the local runner runs one slot at a time" in one_line_error(code, err)


def test_pause_status_resume_on_the_endpoint(assembly: str, moto_server: str, local_run) -> None:
    local_run(NIGHTLY, "2026-03-27T00:00:00Z")
    scheduler = boto3.client("scheduler", endpoint_url=moto_server, region_name="us-east-1",
                             aws_access_key_id="x", aws_secret_access_key="x")
    (listed,) = [s for s in scheduler.list_schedules()["Schedules"] if "Nightly" in s["Name"]]
    before = scheduler.get_schedule(Name=listed["Name"])
    assert before["Target"]["Input"] and before["Target"]["Arn"].startswith("arn:aws:lambda:")

    code, out, err = run_cli(verb(assembly, moto_server, "pause", NIGHTLY, "--yes"))
    assert code == 0, err
    code, out, err = run_cli(verb(assembly, moto_server, "status", NIGHTLY, "--json"))
    assert code == 0, err
    status = json.loads(out)[NIGHTLY]
    assert (status["state"], status["next_fire_times"]) == ("DISABLED", [])
    assert [r["slot"] for r in status["runs"]] == ["2026-03-27T01:30:00Z"]

    code, out, err = run_cli(verb(assembly, moto_server, "resume", NIGHTLY, "--yes"))
    assert code == 0, err
    after = scheduler.get_schedule(Name=listed["Name"])
    ignore = {"LastModificationDate", "ResponseMetadata"}
    assert {k: v for k, v in after.items() if k not in ignore} == {k: v for k, v in before.items() if k not in ignore}
    code, out, err = run_cli(verb(assembly, moto_server, "status", NIGHTLY, "--json"))
    fires = json.loads(out)[NIGHTLY]["next_fire_times"]
    assert len(fires) == 5 and all(t.endswith(("T02:30:00+01:00", "T02:30:00+02:00")) for t in fires)


def test_a_verb_before_any_run_on_the_endpoint_is_one_line(assembly: str, moto_server: str) -> None:
    scheduler = boto3.client("scheduler", endpoint_url=moto_server, region_name="us-east-1",
                             aws_access_key_id="x", aws_secret_access_key="x")
    for schedule in scheduler.list_schedules()["Schedules"]:
        if "Monthly" in schedule["Name"]:
            scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])

    code, _, err = run_cli(verb(assembly, moto_server, "trigger", MONTHLY, "--yes"))

    line = one_line_error(code, err)
    assert f"is not on {moto_server}" in line and "run APP --endpoint" in line


def test_profile_with_endpoint_is_refused(assembly: str, moto_server: str) -> None:
    code, _, err = run_cli(verb(assembly, moto_server, "status", NIGHTLY, "--profile", "ops"))

    assert "--profile applies to deployed stacks" in one_line_error(code, err)
