"""The run ledger's infrastructure: the table, the functions' environment and grants, the props' errors, the warnings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from scheduled_tasks_constructs import ScheduledLambdaToTable, ScheduledTaskFanout, ScheduledTasksValidationError

RATE = scheduler.ScheduleExpression.rate(Duration.minutes(5))
WORKER = {
    "worker_code": lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    "worker_handler": "index.handler",
}


def fanout(stack: Stack, **props: Any) -> ScheduledTaskFanout:
    props.setdefault("schedule", RATE)
    props.setdefault("tasks", [{"name": "a"}])
    return ScheduledTaskFanout(stack, "Fanout", **WORKER, **props)


def function_env(template: Template, description_word: str) -> dict[str, Any]:
    for resource in template.find_resources("AWS::Lambda::Function").values():
        props = resource["Properties"]
        if description_word in props.get("Description", ""):
            return props["Environment"]["Variables"]
    raise AssertionError(f"no function whose description has {description_word!r}")


def policy_actions(template: Template, role_word: str) -> list[list[str]]:
    found = []
    for logical_id, resource in template.find_resources("AWS::IAM::Policy").items():
        if role_word in logical_id:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                found.append(sorted(actions) if isinstance(actions, list) else [actions])
    return found


@pytest.fixture(scope="module")
def default_fanout() -> tuple[ScheduledTaskFanout, Template]:
    stack = Stack(App(), "Test")
    construct = fanout(stack)
    return construct, Template.from_stack(stack)


def test_the_fanout_creates_its_run_ledger_keyed_by_run_with_ttl(default_fanout) -> None:
    construct, template = default_fanout
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "KeySchema": [{"AttributeName": "run_id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
            "DeletionPolicy": "Retain",
        },
    )
    assert construct.ledger_table.node.path == "Test/Fanout/Ledger"


def test_producer_and_worker_get_the_ledger_environment(default_fanout) -> None:
    _, template = default_fanout
    ledger = {"Ref": Match.string_like_regexp("FanoutLedger")}
    producer = function_env(template, "Sends the tasks")
    assert producer["OVERLAP"] == "skip" and producer["LOCK_SECONDS"] == "3600"
    assert (producer["MAX_ATTEMPTS"], producer["LEDGER_TTL_SECONDS"]) == ("3", str(90 * 86400))
    assert "WEBHOOK_SECRET_ARN" not in producer
    worker = function_env(template, "Runs the tasks")
    assert worker["MAX_RECEIVE_COUNT"] == "3" and worker["OVERLAP"] == "skip"
    assert set(worker) == {"LEDGER_TABLE_NAME", "OVERLAP", "LOCK_SECONDS", "MAX_RECEIVE_COUNT"}
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Description": Match.string_like_regexp("Sends the tasks"), "Environment": {"Variables": Match.object_like({"LEDGER_TABLE_NAME": ledger})}},
    )


def test_the_producer_may_read_and_update_the_ledger_and_the_worker_only_update(default_fanout) -> None:
    _, template = default_fanout
    assert ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"] in policy_actions(template, "Producer")
    worker = policy_actions(template, "Worker")
    assert ["dynamodb:DeleteItem", "dynamodb:UpdateItem"] in worker
    assert not any("dynamodb:GetItem" in actions or "dynamodb:Scan" in actions for actions in worker)


def test_a_webhook_gets_one_summary_per_run_by_default_from_whichever_function_finishes() -> None:
    stack = Stack(App(), "Test")
    secret = secretsmanager.Secret(stack, "Hook")
    fanout(stack, webhook_secret=secret)
    template = Template.from_stack(stack)
    for word in ("Sends the tasks", "Runs the tasks"):
        env = function_env(template, word)
        assert env["WEBHOOK_MESSAGES"] == "summary" and "WEBHOOK_SECRET_ARN" in env
    assert ["secretsmanager:GetSecretValue"] in policy_actions(template, "Producer")


def test_per_task_messages_keep_the_producer_away_from_the_secret() -> None:
    stack = Stack(App(), "Test")
    secret = secretsmanager.Secret(stack, "Hook")
    fanout(stack, webhook_secret=secret, webhook_messages="per_task")
    template = Template.from_stack(stack)
    assert "WEBHOOK_SECRET_ARN" not in function_env(template, "Sends the tasks")
    assert ["secretsmanager:GetSecretValue"] not in policy_actions(template, "Producer")
    assert function_env(template, "Runs the tasks")["WEBHOOK_MESSAGES"] == "per_task"


def test_a_ledger_you_bring_is_used_and_none_is_created() -> None:
    stack = Stack(App(), "Test")
    table = dynamodb.Table(stack, "Runs", partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.STRING))
    construct = fanout(stack, existing_ledger_table=table, overlap="allow", run_deadline=Duration.minutes(20), ledger_retention=Duration.days(7))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    assert construct.ledger_table is table
    env = function_env(template, "Sends the tasks")
    assert (env["OVERLAP"], env["LOCK_SECONDS"], env["LEDGER_TTL_SECONDS"]) == ("allow", "1200", "604800")
    assert env["LEDGER_TABLE_NAME"]["Ref"].startswith("Runs")


def test_ledger_table_props_override_the_defaults() -> None:
    stack = Stack(App(), "Test")
    fanout(stack, ledger_table_props=dynamodb.TableProps(removal_policy=RemovalPolicy.DESTROY))
    Template.from_stack(stack).has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})


def test_an_existing_queue_of_this_app_gives_the_worker_its_redrive_count() -> None:
    stack = Stack(App(), "Test")
    dlq = sqs.Queue(stack, "Dlq")
    queue = sqs.Queue(stack, "Tasks", visibility_timeout=Duration.minutes(6), dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=7))
    fanout(stack, existing_queue=queue)
    assert function_env(Template.from_stack(stack), "Runs the tasks")["MAX_RECEIVE_COUNT"] == "7"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"overlap": "queue"}, "overlap must be one of 'skip', 'allow', got 'queue'"),
        ({"run_deadline": Duration.seconds(10)}, "run_deadline must be between 1 minute and 7 days, got 10 seconds"),
        ({"webhook_messages": "summary"}, "webhook_messages: needs webhook_secret, got no webhook_secret"),
        ({"ledger_retention": Duration.hours(1)}, "ledger_retention must be between 1 day and 36500 days, got 1 hour"),
        (
            {"ledger_table_props": dynamodb.TableProps(partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))},
            "ledger_table_props.partition_key: set by the construct, got partition_key in ledger_table_props",
        ),
    ],
)
def test_bad_ledger_props_name_the_prop(props: dict[str, Any], message: str) -> None:
    stack = Stack(App(), "Test")
    with pytest.raises(ScheduledTasksValidationError) as error:
        fanout(stack, **props)
    assert f"  - {message}" in str(error.value)


def test_a_ledger_you_bring_with_another_key_is_refused() -> None:
    stack = Stack(App(), "Test")
    table = dynamodb.Table(stack, "Runs", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING))
    with pytest.raises(ScheduledTasksValidationError, match="existing_ledger_table must be a table whose partition key is the string 'run_id' \\(the run ledger writes it\\), got partition key 'id'"):
        fanout(stack, existing_ledger_table=table)


# --------------------------------------------------------------------------- synth-time warnings


def test_a_daily_0230_in_berlin_warns_of_the_gap_and_the_fold() -> None:
    stack = Stack(App(), "Test")
    ScheduledLambdaToTable(
        stack, "Nightly", schedule=scheduler.ScheduleExpression.cron(minute="30", hour="2", time_zone=TimeZone.EUROPE_BERLIN)
    )
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/Test/Nightly", Match.string_like_regexp("falls in a daylight-saving gap on 20"))
    annotations.has_warning("/Test/Nightly", Match.string_like_regexp("falls in a daylight-saving fold on 20"))


def test_an_at_in_the_past_warns_that_it_never_fires_and_a_plain_schedule_is_quiet() -> None:
    stack = Stack(App(), "Test")
    fanout(stack, schedule=scheduler.ScheduleExpression.at(datetime(2020, 1, 1, 9, 0, tzinfo=UTC), TimeZone.ETC_UTC))
    quiet = Stack(App(), "Quiet")
    fanout(quiet)
    Annotations.from_stack(stack).has_warning("/Test/Fanout", Match.string_like_regexp("never fires"))
    assert Annotations.from_stack(quiet).find_warning("*", Match.any_value()) == []
    assert datetime.now(UTC).year >= 2026
