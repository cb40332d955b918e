"""The ``scheduled-tasks`` command on the example apps and on broken input.

The command runs in this process (``cli.main(argv)``) so that the AWS CDK's
runtime starts once; each example is synthesized once per module into a
module-scoped folder (reused, so the dependencies layer is bundled once).
Reports are checked against what the shared moto server holds afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Tuple

import boto3
import pytest

from scheduled_tasks_constructs.local import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TABLE_EXAMPLE = EXAMPLES / "the_scheduled_lambda"
FANOUT_EXAMPLE = EXAMPLES / "serverless_task_scheduler"
AFTER = "2026-11-22T10:00:00Z"


def run_cli(argv: List[str]) -> Tuple[int, str, str]:
    """Run the command in-process; return its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def messages_in(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("scheduled-tasks: error:")]
    assert len(errors) == 1, err
    for fragment in fragments:
        assert fragment in errors[0]


# --------------------------------------------------------------------------- example runs


@pytest.fixture(scope="module")
def table_run(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    outdir = tmp_path_factory.mktemp("table-out")
    code, out, err = run_cli(
        ["run", str(TABLE_EXAMPLE), "--endpoint", moto_server, "--json", "--after", AFTER, "--outdir", str(outdir)]
    )
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def fanout_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fanout-out")


@pytest.fixture(scope="module")
def fanout_run(moto_server: str, fanout_outdir: Path) -> Dict[str, Any]:
    code, out, err = run_cli(
        [
            "run", str(FANOUT_EXAMPLE / "cdk.json"), "--endpoint", moto_server, "--json",
            "--after", AFTER, "--outdir", str(fanout_outdir),
        ]
    )
    assert code == 0, err
    return json.loads(out)


def test_run_the_scheduled_lambda_matches_the_table(table_run: Dict[str, Any], moto_server: str) -> None:
    (construct,) = table_run["constructs"]
    assert table_run["ok"] and not table_run["embedded_endpoint"]
    assert construct["path"] == "TheScheduledLambdaStack/ScheduledLambda"
    assert construct["runs"] == construct["runs_succeeded"] == 3
    assert construct["fire_times"] == ["2026-11-22T10:02:00Z", "2026-11-22T10:04:00Z", "2026-11-22T10:06:00Z"]

    items = client("dynamodb", moto_server).scan(TableName=construct["resources"]["table"])["Items"]
    assert construct["table_items"] == len(items) == 3
    assert sorted(item["slot"]["S"] for item in items) == construct["fire_times"]
    assert {item["status"]["S"] for item in items} == {"succeeded"}
    assert all("expires_at" in item for item in items)  # the example's item_ttl reached the handler
    run_dlq = construct["resources"]["run_failure_destination"]
    assert construct["runs_dead_lettered"] == messages_in(client("sqs", moto_server), run_dlq) == 0
    assert construct["cold_starts"] == 1  # one warm container served every run


def test_run_the_task_scheduler_matches_the_queues(fanout_run: Dict[str, Any], moto_server: str) -> None:
    (construct,) = fanout_run["constructs"]
    assert fanout_run["ok"]
    assert construct["path"] == "ServerlessTaskSchedulerStack/TaskScheduler"
    assert construct["fire_times"] == ["2026-11-23T01:00:00Z", "2026-11-24T01:00:00Z", "2026-11-25T01:00:00Z"]
    assert (construct["tasks_sent"], construct["tasks_succeeded"]) == (12, 12)
    assert (construct["tasks_retried"], construct["worker_invocations"]) == (0, 3)
    assert construct["results_posted"] is None  # no webhook secret configured

    sqs = client("sqs", moto_server)
    resources = construct["resources"]
    assert construct["tasks_dead_lettered"] == messages_in(sqs, resources["dead_letter_queue"]) == 0
    assert construct["tasks_left_in_queue"] == messages_in(sqs, resources["queue"]) == 0
    assert construct["runs_dead_lettered"] == messages_in(sqs, resources["run_failure_destination"]) == 0


def test_run_posts_results_when_the_app_has_a_webhook(moto_server: str, fanout_outdir: Path) -> None:
    code, out, err = run_cli(
        [
            "run", str(FANOUT_EXAMPLE), "--endpoint", moto_server, "--json", "--runs", "1",
            "--after", AFTER, "--outdir", str(fanout_outdir), "-c", "webhook_secret_name=reports",
        ]
    )

    assert code == 0, err
    (construct,) = json.loads(out)["constructs"]
    # The default webhook_messages="summary": one message for the run, not one per task.
    assert construct["tasks_succeeded"] == 4 and construct["results_posted"] == 1


def test_run_starts_and_stops_its_own_endpoint() -> None:
    code, out, err = run_cli(["run", str(TABLE_EXAMPLE / "app.py"), "--runs", "1", "--json"])

    assert code == 0, err
    report = json.loads(out)
    assert report["embedded_endpoint"] is True
    assert report["endpoint"].startswith("http://127.0.0.1:")
    assert report["constructs"][0]["table_items"] == 1
    port = int(report["endpoint"].rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stopped


def test_run_prints_a_text_report(moto_server: str, fanout_outdir: Path) -> None:
    code, out, err = run_cli(
        ["run", str(FANOUT_EXAMPLE), "--endpoint", moto_server, "--runs", "1", "--outdir", str(fanout_outdir)]
    )

    assert code == 0, err
    assert "ServerlessTaskSchedulerStack/TaskScheduler  (ScheduledTaskFanout)" in out
    assert "tasks sent         4 (on the task queue when the producer returned)" in out
    assert "succeeded          4 (batch size 10, 1 worker invocation, up to 4 at a time)" in out
    assert "dead-letter queue  0 (max receive count 3)" in out
    assert "run 1/1 at" in err  # progress goes to stderr


# --------------------------------------------------------------------------- next


def test_next_lists_fire_times_in_the_schedule_time_zone() -> None:
    code, out, err = run_cli(["next", str(FANOUT_EXAMPLE), "--after", AFTER, "-n", "3"])

    assert code == 0, err
    assert out == textwrap.dedent(
        """\
        ServerlessTaskSchedulerStack/TaskScheduler: cron(0 9 ? * MON-FRI *) in Asia/Taipei
          2026-11-23T09:00:00+08:00  Mon
          2026-11-24T09:00:00+08:00  Tue
          2026-11-25T09:00:00+08:00  Wed
        """
    )


def test_next_for_a_rate_schedule() -> None:
    code, out, err = run_cli(["next", str(TABLE_EXAMPLE / "cdk.json"), "--after", AFTER, "-n", "2", "--json"])

    assert code == 0, err
    assert json.loads(out) == {
        "after": "2026-11-22T10:00:00+00:00",
        "schedules": [
            {
                "path": "TheScheduledLambdaStack/ScheduledLambda",
                "construct": "ScheduledLambdaToTable",
                "schedule": "rate(2 minutes)",
                "time_zone": "Etc/UTC",
                "enabled": True,
                "fire_times": ["2026-11-22T10:02:00+00:00", "2026-11-22T10:04:00+00:00"],
            }
        ],
    }


# --------------------------------------------------------------------------- test apps

FANOUT_APP = """\
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler

from scheduled_tasks_constructs import ScheduledTaskFanout

HERE = Path(__file__).parent


def build_app(outdir=None):
    app = App(outdir=outdir)
    stack = Stack(app, "{stack}")
    ScheduledTaskFanout(
        stack,
        "Fanout",
        schedule=scheduler.ScheduleExpression.expression("rate(1 hour)"),
        tasks={tasks},
        worker_code=lambda_.Code.from_asset(str(HERE / "worker")),
        worker_handler="{handler}",
        max_receive_count=2,
        batch_size=1,
    )
    return app


if __name__ == "__main__":
    build_app().synth()
"""


def write_app(folder: Path, *, stack: str, tasks: list, handler: str, worker_files: Dict[str, str]) -> Path:
    (folder / "worker").mkdir(parents=True)
    (folder / "app.py").write_text(FANOUT_APP.format(stack=stack, tasks=repr(tasks), handler=handler))
    for name, source in worker_files.items():
        (folder / "worker" / name).write_text(textwrap.dedent(source))
    return folder / "app.py"


def test_a_task_that_always_fails_is_reported_in_the_dead_letter_queue(tmp_path: Path, moto_server: str) -> None:
    app = write_app(
        tmp_path / "dlq",
        stack="AlwaysFails",
        tasks=[{"name": "ok"}, {"name": "boom"}],
        handler="handler.handler",
        worker_files={
            "handler.py": """
                from scheduled_tasks_constructs.runtime.worker import task_handler

                @task_handler
                def handler(task):
                    if task.payload["name"] == "boom":
                        raise RuntimeError("this task always fails")
                    return "ok"
            """
        },
    )

    code, out, err = run_cli(["run", str(app), "--endpoint", moto_server, "--json", "--runs", "2"])

    assert code == 1, err  # a task ended in the dead-letter queue
    (construct,) = json.loads(out)["constructs"]
    assert (construct["tasks_sent"], construct["tasks_succeeded"]) == (4, 2)
    assert (construct["tasks_retried"], construct["task_deliveries"]) == (2, 2 + 2 * 2)
    sqs = client("sqs", moto_server)
    dlq = construct["resources"]["dead_letter_queue"]
    assert construct["tasks_dead_lettered"] == messages_in(sqs, dlq) == 2
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]]
    assert {body["task_id"].rsplit("/", 1)[1] for body in bodies} == {"boom"}
    assert "RuntimeError" in err  # the worker's error line is shown


def test_main_synthesizes_every_example_then_runs_it(tmp_path: Path, moto_server: str) -> None:
    for name in ("first", "second"):
        write_app(
            tmp_path / "examples" / name,
            stack=f"Main{name.title()}",
            tasks=[{"name": "a"}, {"name": "b"}],
            handler="handler.handler",
            worker_files={"handler.py": "def handler(event, context):\n    return {'batchItemFailures': []}\n"},
        )

    code, out, err = run_cli(["main", "--examples", str(tmp_path / "examples"), "--endpoint", moto_server])

    assert code == 0, err
    for name in ("first", "second"):
        assert (tmp_path / "examples" / name / "cdk.out" / f"Main{name.title()}.template.json").is_file()
        assert f"Main{name.title()} (" in out
        assert f"Main{name.title()}/Fanout  (ScheduledTaskFanout)" in out
    assert out.count("succeeded          6 (batch size 1, 6 worker invocations, up to 4 at a time)") == 2


def test_main_without_examples(tmp_path: Path) -> None:
    code, _, err = run_cli(["main", "--examples", str(tmp_path)])
    assert_one_line_error(code, err, "no example apps")


MULTI_APP = '''\
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler

from scheduled_tasks_constructs import ScheduledLambdaToTable

INLINE = """
import os
import boto3

def handler(event, context):
    boto3.client("dynamodb").put_item(
        TableName=os.environ["AUDIT_TABLE"], Item={"pk": {"S": event["execution_id"]}}
    )
"""

app = App()
stack = Stack(app, "Multi")
audit = dynamodb.Table(
    stack, "Audit", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
)
hourly = scheduler.ScheduleExpression.rate(Duration.hours(1))
ScheduledLambdaToTable(
    stack, "Inline", schedule=hourly, code=lambda_.Code.from_inline(INLINE), handler="index.handler",
    environment={"AUDIT_TABLE": audit.table_name},
)
ScheduledLambdaToTable(
    stack, "Existing", schedule=hourly,
    existing_function=lambda_.Function(
        stack, "Own", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\\n    return None\\n"),
    ),
)
app.synth()
'''


@pytest.fixture(scope="module")
def multi_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = tmp_path_factory.mktemp("multi") / "app.py"
    app.write_text(MULTI_APP)
    return app


def test_run_inline_code_with_a_table_its_environment_names(multi_app: Path, moto_server: str) -> None:
    code, out, err = run_cli(
        ["run", str(multi_app), "--construct", "Multi/Inl*", "--endpoint", moto_server, "--runs", "2", "--json"]
    )

    assert code == 0, err
    (construct,) = json.loads(out)["constructs"]
    assert construct["path"] == "Multi/Inline"
    # The table the environment names is made from its template, on first use.
    (line,) = [line for line in err.splitlines() if line.startswith("created table Multi-Audit")]
    audit = line.split()[2]
    items = client("dynamodb", moto_server).scan(TableName=audit)["Items"]
    assert len(items) == 2  # one per run, written by the inline handler
    assert construct["table_items"] == 0  # its own table is not written by this handler


def test_an_existing_function_with_inline_code_runs(multi_app: Path, moto_server: str) -> None:
    code, out, err = run_cli(["run", str(multi_app), "--construct", "Multi/Existing", "--endpoint", moto_server, "--json"])

    assert code == 0, err
    (construct,) = json.loads(out)["constructs"]
    assert construct["runs_succeeded"] == 3 and construct["table_items"] == 0  # its handler writes nothing


def test_bad_input_construct_filter_matching_nothing(multi_app: Path) -> None:
    code, _, err = run_cli(["next", str(multi_app), "--construct", "Nope/*"])
    assert_one_line_error(code, err, "no scheduled construct matches --construct Nope/*", "Multi/Inline")


def test_bad_input_missing_app(tmp_path: Path) -> None:
    code, _, err = run_cli(["run", str(tmp_path / "nope.py")])
    assert_one_line_error(code, err, "app not found")


def test_bad_input_app_that_raises(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import aws_cdk\nraise RuntimeError('broken app\\nsecond line')\n")
    code, _, err = run_cli(["run", str(tmp_path)])
    assert_one_line_error(code, err, "the app failed: RuntimeError: broken app; second line")


def test_bad_input_app_without_scheduled_constructs(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from aws_cdk import App, Stack\n"
        "from aws_cdk import aws_sqs as sqs\n"
        "app = App()\n"
        "sqs.Queue(Stack(app, 'Plain'), 'Queue')\n"
        "app.synth()\n"
    )
    code, _, err = run_cli(["next", str(tmp_path / "app.py")])
    assert_one_line_error(code, err, "no ScheduledLambdaToTable or ScheduledTaskFanout in the app")


def test_a_handler_that_cannot_be_imported_fails_its_invocations(tmp_path: Path, moto_server: str) -> None:
    app = write_app(
        tmp_path / "bad",
        stack="BadHandler",
        tasks=["x"],
        handler="handler.handler",
        worker_files={"handler.py": "import a_module_that_is_not_installed\n"},
    )
    code, out, err = run_cli(["run", str(app), "--endpoint", moto_server, "--runs", "1"])

    # As in Lambda: every invocation fails with the init error, and the task is dead-lettered.
    assert code == 1, err
    assert (
        "worker error       2 x Runtime.ImportModuleError: Unable to import module 'handler': "
        "No module named 'a_module_that_is_not_installed'"
    ) in out
    assert "dead-letter queue  1 (max receive count 2)" in out


def test_bad_input_unreachable_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = run_cli(["run", str(TABLE_EXAMPLE), "--endpoint", f"http://127.0.0.1:{port}"])
    assert_one_line_error(code, err, f"cannot reach the local AWS endpoint http://127.0.0.1:{port}")


def test_bad_input_cdk_json_with_another_language(tmp_path: Path) -> None:
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "npx ts-node bin/app.ts"}))
    code, _, err = run_cli(["next", str(tmp_path)])
    assert_one_line_error(code, err, "is not a 'python app.py' command")


def test_help_lists_the_commands(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])

    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith("usage: scheduled-tasks [-h] COMMAND ...")
    for command_help in ("run  ", "next  ", "main  "):
        assert command_help in usage


def test_module_entry_point_runs_without_a_traceback(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    command = [sys.executable, "-m", "scheduled_tasks_constructs.local.cli", "run", str(tmp_path / "missing.py")]

    missing = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    assert missing.returncode == 2
    assert missing.stderr.startswith("scheduled-tasks: error: app not found")
    assert missing.stderr.count("\n") == 1


def test_run_without_the_local_extra_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, fanout_outdir: Path) -> None:
    # GIVEN moto is not installed (the constructs alone were installed)
    monkeypatch.setitem(sys.modules, "moto.server", None)
    # WHEN the command needs its embedded server
    code, _, err = run_cli(["run", str(TABLE_EXAMPLE), "--runs", "1", "--outdir", str(fanout_outdir / "no-moto")])
    # THEN it names the extra, in one line, before it spends time synthesizing
    assert_one_line_error(code, err, "pip install 'scheduled-tasks-constructs[local]'", "--endpoint")
    assert "synthesizing" not in err
    assert not (fanout_outdir / "no-moto").exists()


def test_synthesis_silences_the_jsii_end_of_life_banner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduled_tasks_constructs.local import cdk_app

    # GIVEN an app that records the variable jsii reads, which is not set here
    variable = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
    monkeypatch.delenv(variable, raising=False)
    app = tmp_path / "app.py"
    app.write_text(
        "import os, pathlib\n"
        "out = pathlib.Path(os.environ['CDK_OUTDIR'])\n"
        f"(out / 'seen.txt').write_text(os.environ.get({variable!r}, ''))\n"
        "(out / 'manifest.json').write_text('{}')\n"
    )
    node = subprocess.run(
        ["node", "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True, check=True
    )
    # WHEN the app is synthesized, then again with the variable set
    cdk_app._synthesize(app, tmp_path, {})
    unset = (tmp_path / "seen.txt").read_text()
    monkeypatch.setenv(variable, "18")
    cdk_app._synthesize(app, tmp_path, {})
    # THEN the app's process silences the running node's major version, unless told otherwise
    assert unset == node.stdout.strip()
    assert (tmp_path / "seen.txt").read_text() == "18"
