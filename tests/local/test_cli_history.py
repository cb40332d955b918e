"""``scheduled-tasks history``: the run ledgers of an app's constructs, local or deployed.

Every test writes a small synthesized-looking cloud assembly (no CDK run) and
reads ledgers on the shared moto server: local ones made as
``scheduled-tasks run APP --endpoint URL`` makes them (by
:class:`~scheduled_tasks_constructs.local.resources.LocalResources`), and
"deployed" ones in a CloudFormation stack that moto holds, found by the
command's plain boto3 clients through ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import boto3
import pytest
from botocore.exceptions import ClientError

from scheduled_tasks_constructs.local import cli
from scheduled_tasks_constructs.local.assembly import CloudAssembly, ResourceRef
from scheduled_tasks_constructs.local.deployed import (
    DeployedError,
    DeployedResources,
    LocalEndpointResources,
    aws_errors,
    deployed_stack_name,
    physical_name,
    stack_region,
)
from scheduled_tasks_constructs.local.resources import LocalResources
from cli_calls import StubCloudFormation

METADATA_TYPE = "scheduled-tasks-constructs"
KEY = {
    "KeySchema": [{"AttributeName": "run_id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "run_id", "AttributeType": "S"}],
}


# --------------------------------------------------------------------------- helpers


def run_cli(argv: List[str]) -> Tuple[int, str, str]:
    """Run the command in-process; return its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("scheduled-tasks: error:")]
    assert len(errors) == 1, err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def entry(kind: str, stack: str, schedule: str, ledger: Optional[str]) -> List[Dict[str, Any]]:
    resources: Dict[str, Any] = {"schedule": {"stack": stack, "logicalId": schedule}}
    if ledger is not None:
        resources["ledger"] = {"stack": stack, "logicalId": ledger}
    return [{"type": METADATA_TYPE, "data": {"version": 1, "construct": kind, "resources": resources}}]


def schedule_resource(**extra: Any) -> Dict[str, Any]:
    return {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"}, **extra},
    }


def table_resource() -> Dict[str, Any]:
    return {"Type": "AWS::DynamoDB::Table", "Properties": {**KEY, "BillingMode": "PAY_PER_REQUEST"}}


def run_item(schedule: str, slot: str, status: str = "succeeded", seconds: int = 2, **extra: Any) -> Dict[str, Any]:
    item = {
        "run_id": {"S": f"{schedule}#{slot}"},
        "schedule": {"S": schedule},
        "slot": {"S": slot},
        "status": {"S": status},
        "attempts": {"N": "1"},
        "started_at": {"S": slot},
        "finished_at": {"S": slot.replace(":00Z", f":{seconds:02d}Z")},
    }
    item.update(extra)
    return item


def slots(count: int) -> List[str]:
    return [f"2026-12-{day:02d}T09:00:00Z" for day in range(1, count + 1)]


@pytest.fixture
def app(tmp_path: Path, write_assembly: Callable[..., Path]) -> Dict[str, Any]:
    """An app of one stack (a unique name) with two constructs, each with its schedule and ledger."""
    stack = f"Jobs{uuid.uuid4().hex[:8]}"
    (tmp_path / "cdk.out").mkdir()
    folder = write_assembly(
        tmp_path / "cdk.out",
        {
            stack: {
                "template": {
                    "Resources": {
                        "NightlySchedule": schedule_resource(),
                        "NightlyLedger": table_resource(),
                        "HourlySchedule": schedule_resource(Name="hourly-sync", GroupName="billing"),
                        "HourlyLedger": table_resource(),
                    }
                },
                "metadata": {
                    f"/{stack}/Nightly": entry("ScheduledTaskFanout", stack, "NightlySchedule", "NightlyLedger"),
                    f"/{stack}/Hourly": entry("ScheduledLambdaToTable", stack, "HourlySchedule", "HourlyLedger"),
                },
            }
        },
    )
    return {"folder": folder, "stack": stack, "nightly": f"{stack}/Nightly", "hourly": f"{stack}/Hourly"}


def dynamodb(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def local_run_tables(folder: Path, endpoint: str, *logical_ids: str) -> Dict[str, str]:
    """Make the tables as a local run does (LocalResources, a fresh run suffix); logical ID -> name."""
    assembly = CloudAssembly(folder)
    resources = LocalResources(
        assembly,
        endpoint=endpoint,
        region="us-east-1",
        suffix=uuid.uuid4().hex[:8],
        external={"tables": {}, "queues": {}},
        webhook_url=lambda stack, key: "http://127.0.0.1:9/unused",
    )
    stack = assembly.stacks[0]
    return {logical_id: str(resources.physical(stack, logical_id)["Ref"]) for logical_id in logical_ids}


def put(endpoint: str, table: str, items: List[Dict[str, Any]]) -> None:
    client = dynamodb(endpoint)
    for item in items:
        client.put_item(TableName=table, Item=item)


# --------------------------------------------------------------------------- local endpoint


@pytest.fixture
def local_app(app: Dict[str, Any], moto_server: str) -> Dict[str, Any]:
    """``app`` after a local run: its two ledgers on the moto server, with runs recorded."""
    tables = local_run_tables(app["folder"], moto_server, "NightlyLedger", "HourlyLedger")
    nightly = f"default/{app['stack']}-NightlySchedule"
    put(moto_server, tables["NightlyLedger"], [run_item(nightly, slot) for slot in slots(3)])
    put(
        moto_server,
        tables["NightlyLedger"],
        [run_item(nightly, "2026-12-04T09:00:00Z", "failed", 30, error={"S": "ValueError: no input"})],
    )
    put(moto_server, tables["HourlyLedger"], [run_item("default/hourly-sync", "2026-12-01T10:00:00Z")])
    return {**app, "tables": tables, "nightly_schedule": nightly}


def test_local_endpoint_lists_every_construct_newest_first(local_app, moto_server) -> None:
    code, out, err = run_cli(["history", str(local_app["folder"]), "--endpoint", moto_server])

    assert code == 0, err
    sections = out.strip().split("\n\n")
    assert len(sections) == 2
    hourly, nightly = sections  # in construct path order
    assert hourly.splitlines()[0] == (
        f"{local_app['hourly']}  (ScheduledLambdaToTable, run ledger {local_app['tables']['HourlyLedger']}, "
        "schedule default/hourly-sync)"
    )
    assert nightly.splitlines()[0] == (
        f"{local_app['nightly']}  (ScheduledTaskFanout, run ledger {local_app['tables']['NightlyLedger']}, "
        f"schedule {local_app['nightly_schedule']})"
    )
    rows = [line.split()[:2] for line in nightly.splitlines()[3:] if line.startswith("2026")]
    assert rows == [
        ["2026-12-04T09:00:00Z", "failed"],
        ["2026-12-03T09:00:00Z", "succeeded"],
        ["2026-12-02T09:00:00Z", "succeeded"],
        ["2026-12-01T09:00:00Z", "succeeded"],
    ]
    assert "  error: ValueError: no input" in nightly
    assert "#" not in out  # no chart when stdout is not a terminal
    assert "reading" in err


def test_local_names_are_the_names_the_local_run_gave(local_app, moto_server) -> None:
    assembly = CloudAssembly(local_app["folder"])
    found = LocalEndpointResources(assembly, endpoint=moto_server, region="us-east-1")
    by_path = {e.path: e for e in assembly.scheduled_constructs()}

    assert found.table(by_path[local_app["nightly"]])[0] == local_app["tables"]["NightlyLedger"]
    assert found.schedule_key(by_path[local_app["nightly"]]) == local_app["nightly_schedule"]
    # The runner fires every schedule in the default group, under the name its template gives.
    assert found.schedule_key(by_path[local_app["hourly"]]) == "default/hourly-sync"


def test_the_newest_local_run_wins_when_several_made_the_table(local_app, moto_server) -> None:
    newer = local_run_tables(local_app["folder"], moto_server, "NightlyLedger")["NightlyLedger"]
    put(moto_server, newer, [run_item(local_app["nightly_schedule"], "2027-01-01T09:00:00Z")])

    code, out, err = run_cli(
        ["history", str(local_app["folder"]), "--endpoint", moto_server, "--construct", local_app["nightly"], "--json"]
    )

    assert code == 0, err
    section = json.loads(out)[local_app["nightly"]]
    assert section["table"] == newer
    assert [run["slot"] for run in section["runs"]] == ["2027-01-01T09:00:00Z"]


def test_json_groups_the_runs_by_construct_path(local_app, moto_server) -> None:
    code, out, err = run_cli(["history", str(local_app["folder"]), "--endpoint", moto_server, "--json"])

    assert code == 0, err
    data = json.loads(out)
    assert list(data) == [local_app["hourly"], local_app["nightly"]]
    nightly = data[local_app["nightly"]]
    assert nightly["construct"] == "ScheduledTaskFanout"
    assert nightly["table"] == local_app["tables"]["NightlyLedger"]
    assert nightly["schedule"] == local_app["nightly_schedule"]
    assert [run["slot"] for run in nightly["runs"]] == ["2026-12-04T09:00:00Z", *reversed(slots(3))]
    assert nightly["runs"][0]["status"] == "failed"
    assert nightly["runs"][0]["duration_seconds"] == 30.0
    assert nightly["runs"][0]["error"] == "ValueError: no input"
    assert [run["slot"] for run in data[local_app["hourly"]]["runs"]] == ["2026-12-01T10:00:00Z"]


def test_count_keeps_the_newest_runs_of_each_construct(local_app, moto_server) -> None:
    code, out, err = run_cli(["history", str(local_app["folder"]), "--endpoint", moto_server, "--json", "-n", "2"])

    assert code == 0, err
    data = json.loads(out)
    assert [run["slot"] for run in data[local_app["nightly"]]["runs"]] == [
        "2026-12-04T09:00:00Z",
        "2026-12-03T09:00:00Z",
    ]
    assert len(data[local_app["hourly"]]["runs"]) == 1


def test_count_must_be_positive(local_app, moto_server) -> None:
    with pytest.raises(SystemExit) as exited, contextlib.redirect_stderr(io.StringIO()):
        cli.main(["history", str(local_app["folder"]), "--endpoint", moto_server, "-n", "0"])
    assert exited.value.code == 2


def test_construct_selects_one_construct(local_app, moto_server) -> None:
    code, out, err = run_cli(
        ["history", str(local_app["folder"]), "--endpoint", moto_server, "--construct", "*/Night*", "--chart"]
    )

    assert code == 0, err
    assert out.startswith(f"{local_app['nightly']}  (")
    assert local_app["hourly"] not in out
    chart = out.strip().split("\n\n")[1].splitlines()
    assert [line.split()[0] for line in chart] == [*slots(3), "2026-12-04T09:00:00Z"]  # oldest first
    assert chart[-1].endswith("failed") and "!" * 40 in chart[-1]
    assert "#" in chart[0]


def test_a_shared_ledger_shows_each_construct_its_own_runs(app, moto_server, tmp_path, write_assembly) -> None:
    stack = app["stack"] + "Shared"
    (tmp_path / "shared.out").mkdir()
    folder = write_assembly(
        tmp_path / "shared.out",
        {
            stack: {
                "template": {"Resources": {"A": schedule_resource(), "B": schedule_resource(), "Ledger": table_resource()}},
                "metadata": {
                    f"/{stack}/A": entry("ScheduledTaskFanout", stack, "A", "Ledger"),
                    f"/{stack}/B": entry("ScheduledTaskFanout", stack, "B", "Ledger"),
                    f"/{stack}/NoLedger": entry("ScheduledTaskFanout", stack, "B", None),
                },
            }
        },
    )
    table = local_run_tables(folder, moto_server, "Ledger")["Ledger"]
    put(moto_server, table, [run_item(f"default/{stack}-A", slot) for slot in slots(2)])
    put(moto_server, table, [run_item(f"default/{stack}-B", "2026-12-05T09:00:00Z", "skipped", 0)])

    code, out, err = run_cli(["history", str(folder), "--endpoint", moto_server, "--json"])

    assert code == 0, err
    data = json.loads(out)
    assert [run["slot"] for run in data[f"{stack}/A"]["runs"]] == list(reversed(slots(2)))
    assert [run["slot"] for run in data[f"{stack}/B"]["runs"]] == ["2026-12-05T09:00:00Z"]
    assert data[f"{stack}/NoLedger"] == {"construct": "ScheduledTaskFanout", "table": None, "schedule": None, "runs": []}


def test_no_local_run_yet_is_one_line(app, moto_server) -> None:
    code, _, err = run_cli(["history", str(app["folder"]), "--endpoint", moto_server])

    assert_one_line_error(code, err, "no run ledger on", "scheduled-tasks run APP --endpoint")


def test_profile_does_not_apply_to_a_local_endpoint(app, moto_server) -> None:
    code, _, err = run_cli(["history", str(app["folder"]), "--endpoint", moto_server, "--profile", "prod"])

    assert_one_line_error(code, err, "--profile")


def test_construct_not_in_the_app_is_one_line(local_app, moto_server) -> None:
    code, _, err = run_cli(["history", str(local_app["folder"]), "--endpoint", moto_server, "--construct", "Nope/*"])

    assert_one_line_error(code, err, "no scheduled construct matches --construct Nope/*", local_app["nightly"])


# --------------------------------------------------------------------------- deployed


@pytest.fixture
def deployed_env(aws_env: None, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fake credentials, and every plain boto3 client sent to the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server


def deploy(endpoint: str, stack_name: str, resources: Dict[str, Any]) -> Any:
    """Create a CloudFormation stack on moto; return the client."""
    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps({"Resources": resources}))
    return cloudformation


def name_the_stack(folder: Path, artifact_id: str, stack_name: str) -> None:
    """Give a stack of the assembly a deployed name of its own (``properties.stackName``)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artifacts"][artifact_id]["properties"]["stackName"] = stack_name
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_deployed_ledger_is_found_through_cloudformation(app, deployed_env) -> None:
    stack_name = f"jobs-prod-{uuid.uuid4().hex[:6]}"
    name_the_stack(app["folder"], app["stack"], stack_name)
    # moto's CloudFormation holds no AWS::Scheduler::Schedule: the stack has the ledger only.
    cloudformation = deploy(deployed_env, stack_name, {"NightlyLedger": table_resource()})
    table = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId="NightlyLedger")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    assert table.startswith(f"{stack_name}-NightlyLedger-")  # a generated name, not the logical ID
    put(deployed_env, table, [run_item("default/nightly", slot) for slot in slots(2)])
    put(deployed_env, table, [run_item("default/other", "2026-12-03T09:00:00Z", "failed")])

    code, out, err = run_cli(["history", str(app["folder"]), "--construct", app["nightly"], "--json"])

    assert code == 0, err
    section = json.loads(out)[app["nightly"]]
    assert section["table"] == table
    # The schedule cannot be named (it is not in the stack): every run of the table is listed.
    assert section["schedule"] is None
    assert [run["slot"] for run in section["runs"]] == ["2026-12-03T09:00:00Z", *reversed(slots(2))]
    assert "listing every run of the table: cannot name its schedule" in err


def test_deployed_stack_not_found_is_one_line(app, deployed_env) -> None:
    code, _, err = run_cli(["history", str(app["folder"])])

    assert_one_line_error(code, err, f"stack {app['stack']} not found in us-east-1")


def test_deployed_resource_not_in_the_stack_is_one_line(app, deployed_env) -> None:
    deploy(deployed_env, app["stack"], {"SomethingElse": table_resource()})

    code, _, err = run_cli(["history", str(app["folder"]), "--construct", app["nightly"]])

    assert_one_line_error(code, err, "NightlyLedger is not in the deployed stack", app["stack"])


def test_deployed_table_missing_is_one_line(app, deployed_env) -> None:
    cloudformation = deploy(deployed_env, app["stack"], {"NightlyLedger": table_resource()})
    table = cloudformation.describe_stack_resource(StackName=app["stack"], LogicalResourceId="NightlyLedger")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    dynamodb(deployed_env).delete_table(TableName=table)

    code, _, err = run_cli(["history", str(app["folder"]), "--construct", app["nightly"]])

    assert_one_line_error(code, err, f"the run ledger table {table} does not exist", app["nightly"])


def test_no_credentials_is_one_line(app, deployed_env, monkeypatch, tmp_path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)

    code, _, err = run_cli(["history", str(app["folder"])])

    assert_one_line_error(code, err, "no AWS credentials found")


def test_unknown_profile_is_one_line(app, deployed_env) -> None:
    code, _, err = run_cli(["history", str(app["folder"]), "--profile", f"nobody-{uuid.uuid4().hex[:6]}"])

    assert_one_line_error(code, err, "--profile")


# --------------------------------------------------------------------------- deployed.py, without a server


def test_physical_name_asks_cloudformation_or_reads_the_arn() -> None:
    stub = StubCloudFormation({"Ledger": "jobs-Ledger-1X2Y3Z"})

    assert physical_name(stub, "jobs", {"stack": "Jobs", "logicalId": "Ledger"}) == "jobs-Ledger-1X2Y3Z"
    assert physical_name(stub, "jobs", ResourceRef(stack="Jobs", logical_id="Ledger")) == "jobs-Ledger-1X2Y3Z"
    assert physical_name(stub, "jobs", {"arn": "arn:aws:dynamodb:eu-west-1:111122223333:table/runs"}) == "runs"
    imported = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":dynamodb:", {"Ref": "AWS::Region"}, ":",
                                  {"Ref": "AWS::AccountId"}, ":table/runs-external"]]}
    assert physical_name(stub, "jobs", {"arn": imported}) == "runs-external"
    assert stub.calls == [("jobs", "Ledger"), ("jobs", "Ledger")]
    with pytest.raises(DeployedError, match="known only once deployed"):
        physical_name(stub, "jobs", {"arn": {"Fn::GetAtt": ["Table", "Arn"]}})


def test_schedule_key_is_group_and_physical_name(tmp_path, write_assembly, aws_env) -> None:
    folder = write_assembly(
        tmp_path,
        {
            "Jobs": {
                "template": {
                    "Resources": {
                        "Plain": schedule_resource(),
                        "Grouped": schedule_resource(GroupName="billing"),
                        "InGroup": schedule_resource(GroupName={"Ref": "Group"}),
                        "Group": {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {}},
                    }
                },
                "metadata": {
                    f"/Jobs/{name}": entry("ScheduledTaskFanout", "Jobs", name, None)
                    for name in ("Plain", "Grouped", "InGroup")
                },
            }
        },
    )
    name_the_stack(folder, "Jobs", "jobs-prod")
    stub = StubCloudFormation(
        {"Plain": "Plain-AB12", "Grouped": "Grouped-CD34", "InGroup": "InGroup-EF56", "Group": "jobs-group-GH78"}
    )
    assembly = CloudAssembly(folder)
    found = DeployedResources(assembly, region="us-east-1")
    found.client = lambda service, stack: stub  # type: ignore[method-assign]
    keys = {e.path: found.schedule_key(e) for e in assembly.scheduled_constructs()}

    assert keys == {
        "Jobs/Plain": "default/Plain-AB12",
        "Jobs/Grouped": "billing/Grouped-CD34",
        "Jobs/InGroup": "jobs-group-GH78/InGroup-EF56",
    }
    assert {stack for stack, _ in stub.calls} == {"jobs-prod"}


def test_stack_name_and_region_come_from_the_manifest(tmp_path, write_assembly) -> None:
    folder = write_assembly(tmp_path, {"Jobs": {"template": {"Resources": {}}}, "Other": {"template": {"Resources": {}}}})
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artifacts"]["Jobs"]["properties"]["stackName"] = "jobs-prod"
    manifest["artifacts"]["Jobs"]["environment"] = "aws://111122223333/eu-west-1"
    manifest["artifacts"]["Other"]["environment"] = "aws://unknown-account/unknown-region"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    jobs, other = CloudAssembly(folder).stacks

    assert (deployed_stack_name(jobs), stack_region(jobs)) == ("jobs-prod", "eu-west-1")
    assert (deployed_stack_name(other), stack_region(other)) == ("Other", None)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("AccessDeniedException", "access denied: your credentials may not call dynamodb:Scan on table runs"),
        ("AccessDenied", "access denied: your credentials may not call dynamodb:Scan on table runs"),
        ("ResourceNotFoundException", "table runs not found"),
        ("ExpiredTokenException", "your AWS credentials were refused calling dynamodb:Scan"),
        ("ThrottlingException", "dynamodb:Scan on table runs failed: ThrottlingException"),
    ],
)
def test_aws_errors_become_one_line(code: str, fragment: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "User: arn:aws:iam::1:user/x is not\nauthorized"}}, "Scan")

    with pytest.raises(DeployedError) as raised, aws_errors("dynamodb:Scan", "table runs"):
        raise error

    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)
