"""The watchdog and the dashboard both constructs create: resources, environment, grants, alarms, validation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template

from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout, ScheduledTasksValidationError

HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
WORKER = {
    "tasks": [{"name": "a"}],
    "worker_code": lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    "worker_handler": "index.handler",
}
CONSTRUCTS = {ScheduledLambdaToTable: {}, ScheduledTaskFanout: WORKER}


def _build(construct, **props):
    stack = Stack(App(), "Test")
    props.setdefault("schedule", HOURLY)
    built = construct(stack, "Job", **CONSTRUCTS[construct], **props)
    return built, Template.from_stack(stack).to_json()["Resources"]


def _lid(construct, child) -> str:
    return Stack.of(construct).get_logical_id(child.node.default_child)


def _policy(resources: dict, role_id: str) -> list:
    return [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.fixture(scope="module", params=list(CONSTRUCTS), ids=lambda c: c.__name__)
def default(request):
    return _build(request.param)


def test_the_watchdog_runs_every_15_minutes_in_the_watched_schedules_group_never_retried(default):
    construct, resources = default
    schedule = resources[_lid(construct, construct.watchdog_schedule)]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(15 minutes)"
    assert schedule["State"] == "ENABLED"
    assert "GroupName" not in schedule  # the watched schedule is in the default group too
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [_lid(construct, construct.watchdog_function), "Arn"]}
    assert schedule["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 0}
    assert "DeadLetterConfig" not in schedule["Target"]
    assert "Input" not in schedule["Target"]
    function = resources[_lid(construct, construct.watchdog_function)]["Properties"]
    assert function["Handler"] == "scheduled_tasks_constructs.runtime.watchdog.handler"
    assert (function["MemorySize"], function["Timeout"], function["Architectures"]) == (256, 120, ["arm64"])
    (config,) = (
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": _lid(construct, construct.watchdog_function)}
    )
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (0, 900)
    # The schedule's role may invoke the watchdog only.
    (statement,) = _policy(resources, _lid(construct, construct.watchdog_schedule_role))
    assert statement["Action"] == "lambda:InvokeFunction"
    assert {"Fn::GetAtt": [_lid(construct, construct.watchdog_function), "Arn"]} in statement["Resource"]


def test_the_watchdog_reads_the_schedule_it_watches_from_its_environment(default):
    construct, resources = default
    variables = resources[_lid(construct, construct.watchdog_function)]["Properties"]["Environment"]["Variables"]
    ledger = construct.table if isinstance(construct, ScheduledLambdaToTable) else construct.ledger_table
    assert variables == {
        "LEDGER_TABLE_NAME": {"Ref": _lid(construct, ledger)},
        "SCHEDULE_NAME": {"Fn::Join": ["", ["default/", {"Ref": _lid(construct, construct.schedule)}]]},
        "SCHEDULE_EXPRESSION": "rate(1 hour)",
        "SCHEDULE_TIME_ZONE": "Etc/UTC",
        "FLEXIBLE_WINDOW_MINUTES": "0",
        "GRACE_SECONDS": "300",
        "DEADLINE_SECONDS": "3600",
    }


def test_the_watchdog_may_read_the_ledger_by_key_keep_its_state_and_get_the_schedule(default):
    construct, resources = default
    ledger = construct.table if isinstance(construct, ScheduledLambdaToTable) else construct.ledger_table
    statements = _policy(resources, _lid(construct, construct.watchdog_role))
    dynamo = [s for s in statements if str(s["Action"]).count("dynamodb:")]
    assert dynamo == [
        {
            "Action": [
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:Scan",  # rate(1 hour) without a start: a first run shows its grid
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_lid(construct, ledger), "Arn"]},
        }
    ]
    assert {
        "Action": "scheduler:GetSchedule",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [_lid(construct, construct.schedule), "Arn"]},
    } in statements


@pytest.mark.parametrize("construct", list(CONSTRUCTS), ids=lambda c: c.__name__)
def test_a_cron_schedule_needs_no_scan(construct):
    built, resources = _build(construct, schedule=scheduler.ScheduleExpression.expression("cron(30 2 * * ? *)"))
    statements = _policy(resources, _lid(built, built.watchdog_role))
    assert not any("dynamodb:Scan" in json.dumps(s["Action"]) for s in statements)


def test_alarms_watch_the_watchdogs_metrics_of_this_schedule(default):
    construct, resources = default
    alarms = {
        "MissedRuns": construct.missed_run_alarm,
        "LateRuns": construct.late_run_alarm,
        "FailedRuns": construct.failed_run_alarm,
    }
    for metric, alarm in alarms.items():
        props = resources[_lid(construct, alarm)]["Properties"]
        assert (props["Namespace"], props["MetricName"], props["Period"]) == ("ScheduledTasks", metric, 900)
        assert props["TreatMissingData"] == "notBreaching"  # the watchdog publishes only non-zero counts
        assert props["AlarmActions"] == [{"Ref": _lid(construct, construct.alarm_topic)}]
    assert construct.alarms[-4:] == [*alarms.values(), construct.watchdog_errors_alarm]


@pytest.mark.parametrize("construct", list(CONSTRUCTS), ids=lambda c: c.__name__)
def test_watchdog_false_creates_none_of_it(construct):
    built, resources = _build(construct, watchdog=False)
    for name in (
        "watchdog_function",
        "watchdog_role",
        "watchdog_log_group",
        "watchdog_schedule",
        "watchdog_schedule_role",
        "missed_run_alarm",
        "late_run_alarm",
        "failed_run_alarm",
        "watchdog_errors_alarm",
    ):
        assert getattr(built, name) is None, name
    assert not any("Watchdog" in lid or "RunAlarm" in lid for lid in resources)
    assert len([r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]) == 1


@pytest.mark.parametrize("construct", list(CONSTRUCTS), ids=lambda c: c.__name__)
def test_interval_grace_and_group_reach_the_watchdog(construct):
    stack = Stack(App(), "Test")
    group = scheduler.ScheduleGroup(stack, "Group")
    built = construct(
        stack,
        "Job",
        schedule=HOURLY,
        schedule_group=group,
        watchdog_interval=Duration.minutes(30),
        missed_run_grace=Duration.minutes(20),
        run_deadline=Duration.minutes(90),
        time_window=scheduler.TimeWindow.flexible(Duration.minutes(10)),
        start=dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc),
        **CONSTRUCTS[construct],
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    schedule = resources[_lid(built, built.watchdog_schedule)]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(30 minutes)"
    group_name = stack.resolve(group.schedule_group_name)
    assert schedule["GroupName"] == group_name
    variables = resources[_lid(built, built.watchdog_function)]["Properties"]["Environment"]["Variables"]
    assert variables["GRACE_SECONDS"] == "1200"
    assert variables["DEADLINE_SECONDS"] == "5400"
    assert variables["FLEXIBLE_WINDOW_MINUTES"] == "10"
    assert variables["SCHEDULE_START"] == "2027-01-01T00:00:00+00:00"
    dimension = {"Fn::Join": ["", [f"{group_name}/", {"Ref": _lid(built, built.schedule)}]]}
    assert variables["SCHEDULE_NAME"] == dimension
    missed = resources[_lid(built, built.missed_run_alarm)]["Properties"]
    assert missed["Period"] == 1800
    assert missed["Dimensions"] == [{"Name": "Schedule", "Value": dimension}]
    # With a start date a rate schedule's fire times are known: no Scan.
    statements = _policy(resources, _lid(built, built.watchdog_role))
    assert not any("dynamodb:Scan" in json.dumps(s["Action"]) for s in statements)


def test_a_webhook_reaches_the_watchdog_too():
    stack = Stack(App(), "Test")
    secret = secretsmanager.Secret(stack, "Hook")
    built = ScheduledTaskFanout(stack, "Job", schedule=HOURLY, webhook_secret=secret, **WORKER)
    resources = Template.from_stack(stack).to_json()["Resources"]
    variables = resources[_lid(built, built.watchdog_function)]["Properties"]["Environment"]["Variables"]
    assert variables["WEBHOOK_SECRET_ARN"] == {"Ref": _lid(built, secret)}
    statements = _policy(resources, _lid(built, built.watchdog_role))
    assert {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": {"Ref": _lid(built, secret)}} in statements


@pytest.mark.parametrize("construct", list(CONSTRUCTS), ids=lambda c: c.__name__)
def test_no_dashboard_by_default_and_no_run_metrics(construct):
    built, resources = _build(construct)
    assert built.dashboard is None
    assert not [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            assert "RUN_METRICS" not in resource["Properties"].get("Environment", {}).get("Variables", {})


@pytest.mark.parametrize("construct", list(CONSTRUCTS), ids=lambda c: c.__name__)
def test_dashboard_shows_runs_tasks_dead_letters_durations_and_findings(construct):
    built, resources = _build(construct, dashboard=True)
    body = json.dumps(resources[_lid(built, built.dashboard)]["Properties"]["DashboardBody"])
    for metric in ("RunSucceeded", "RunPartiallyFailed", "RunFailed", "RunSkipped", "RunDuration",
                   "MissedRuns", "LateRuns", "FailedRuns", "ApproximateNumberOfMessagesVisible"):
        assert metric in body, metric
    assert ("TasksSent" in body) is (construct is ScheduledTaskFanout)
    assert "run_deadline" in body and "3600" in body
    assert "Next fire times as of" in body
    # Whoever finishes a run publishes the metrics the graphs show.
    scheduled = [
        r["Properties"] for lid, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and "Watchdog" not in lid
    ]
    assert scheduled and all(f["Environment"]["Variables"]["RUN_METRICS"] == "on" for f in scheduled)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"watchdog": "yes"}, "watchdog must be True or False, got 'yes'"),
        ({"watchdog_interval": Duration.minutes(4)}, "watchdog_interval must be between 5 minutes and 1 day, got 4 minutes"),
        ({"watchdog_interval": Duration.days(2)}, "watchdog_interval must be between 5 minutes and 1 day, got 2 days"),
        ({"watchdog_interval": Duration.seconds(330)},
         "watchdog_interval must be a whole number of minutes, got 5 minutes 30 seconds"),
        ({"missed_run_grace": Duration.days(2)}, "missed_run_grace must be between 0 seconds and 1 day, got 2 days"),
        ({"watchdog": False, "watchdog_interval": Duration.minutes(30)},
         "watchdog_interval applies only to the watchdog, got it with watchdog=False"),
        ({"watchdog": False, "missed_run_grace": Duration.minutes(1)},
         "missed_run_grace applies only to the watchdog, got it with watchdog=False"),
        ({"dashboard": 1}, "dashboard must be True or False, got 1"),
    ],
)
@pytest.mark.parametrize("construct", list(CONSTRUCTS), ids=lambda c: c.__name__)
def test_bad_watchdog_and_dashboard_props_are_named(construct, props, message):
    with pytest.raises(ScheduledTasksValidationError) as info:
        _build(construct, **props)
    assert str(info.value).splitlines()[1:] == [f"  - {message}"]
