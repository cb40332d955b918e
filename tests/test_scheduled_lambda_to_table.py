"""ScheduledLambdaToTable: template assertions and exact validation errors."""

from __future__ import annotations

import datetime as dt

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from scheduled_tasks_constructs import RuntimeLayer, ScheduledLambdaToTable, ScheduledTasksValidationError

RATE_2_MIN = scheduler.ScheduleExpression.rate(Duration.minutes(2))


def _stack() -> Stack:
    return Stack(App(), "Test")


def _only(template: Template, type_: str) -> dict:
    """The one resource of ``type_`` that is not the watchdog's (its child IDs start with ``Watchdog``)."""
    resources = {key: value for key, value in template.find_resources(type_).items() if "Watchdog" not in key}
    assert len(resources) == 1, resources
    return next(iter(resources.values()))


@pytest.fixture(scope="module")
def default() -> "tuple[ScheduledLambdaToTable, Template]":
    stack = _stack()
    construct = ScheduledLambdaToTable(stack, "Runs", schedule=RATE_2_MIN)
    return construct, Template.from_stack(stack)


@pytest.fixture(scope="module")
def custom() -> "tuple[ScheduledLambdaToTable, Template]":
    stack = _stack()
    construct = ScheduledLambdaToTable(
        stack,
        "Runs",
        schedule=scheduler.ScheduleExpression.cron(
            minute="30", hour="9", week_day="MON-FRI", time_zone=TimeZone.ASIA_TAIPEI
        ),
        schedule_enabled=True,
        schedule_description="weekday mornings",
        time_window=scheduler.TimeWindow.flexible(Duration.minutes(10)),
        start=dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc),
        end=dt.datetime(2028, 1, 1, tzinfo=dt.timezone.utc),
        retry_attempts=5,
        max_event_age=Duration.minutes(30),
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        memory_size=512,
        timeout=Duration.seconds(10),
        environment={"STAGE": "test"},
        log_retention=logs.RetentionDays.ONE_WEEK,
        tracing=True,
        function_retry_attempts=0,
        function_max_event_age=Duration.minutes(5),
        table_props=dynamodb.TableProps(removal_policy=RemovalPolicy.DESTROY),
        item_ttl=Duration.days(30),
    )
    return construct, Template.from_stack(stack)


# --- schedule and target -----------------------------------------------------


def test_schedule_rate_and_utc(default):
    _, template = default
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(2 minutes)",
            "ScheduleExpressionTimezone": "Etc/UTC",
            "State": "ENABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
        },
    )


def test_target_retry_policy_and_dead_letter_queue(default):
    construct, template = default
    schedule = _only(template, "AWS::Scheduler::Schedule")["Properties"]
    assert schedule["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 3600,
        "MaximumRetryAttempts": 3,
    }
    dlq_id = Stack.of(construct).get_logical_id(construct.dead_letter_queue.node.default_child)
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}


def test_target_input_carries_scheduler_context(default):
    _, template = default
    schedule = _only(template, "AWS::Scheduler::Schedule")["Properties"]
    assert schedule["Target"]["Input"] == (
        '{"execution_id":"<aws.scheduler.execution-id>",'
        '"scheduled_time":"<aws.scheduler.scheduled-time>",'
        '"schedule_arn":"<aws.scheduler.schedule-arn>",'
        '"attempt_number":"<aws.scheduler.attempt-number>"}'
    )


def test_custom_schedule_props(custom):
    _, template = custom
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(30 9 ? * MON-FRI *)",
            "ScheduleExpressionTimezone": "Asia/Taipei",
            "Description": "weekday mornings",
            "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
            "StartDate": "2027-01-01T00:00:00.000Z",
            "EndDate": "2028-01-01T00:00:00.000Z",
            "Target": Match.object_like(
                {"RetryPolicy": {"MaximumEventAgeInSeconds": 1800, "MaximumRetryAttempts": 5}}
            ),
        },
    )


def test_disabled_schedule_keeps_the_missed_run_alarm():
    """The watchdog asks the schedule whether it is disabled, so the alarm stays for when it is enabled."""
    stack = _stack()
    construct = ScheduledLambdaToTable(stack, "Runs", schedule=RATE_2_MIN, schedule_enabled=False)
    template = Template.from_stack(stack)
    schedule_id = stack.get_logical_id(construct.schedule.node.default_child)
    assert template.to_json()["Resources"][schedule_id]["Properties"]["State"] == "DISABLED"
    watchdog_schedule_id = stack.get_logical_id(construct.watchdog_schedule.node.default_child)
    assert template.to_json()["Resources"][watchdog_schedule_id]["Properties"]["State"] == "ENABLED"
    assert construct.missed_run_alarm is not None
    assert construct.dead_letter_alarm is not None


# --- IAM ---------------------------------------------------------------------


def _policy_of(template: Template, role_logical_id: str) -> list:
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_scheduler_role_may_invoke_this_function_only(default):
    construct, template = default
    stack = Stack.of(construct)
    role_id = stack.get_logical_id(construct.schedule_role.node.default_child)
    fn_id = stack.get_logical_id(construct.function.node.default_child)
    dlq_id = stack.get_logical_id(construct.dead_letter_queue.node.default_child)
    fn_arn = {"Fn::GetAtt": [fn_id, "Arn"]}
    assert _policy_of(template, role_id) == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [{"Fn::Join": ["", [fn_arn, ":$LATEST"]]}, fn_arn],
        },
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]}},
    ]


def test_scheduler_role_trust_is_scoped_to_account_and_group(default):
    construct, template = default
    role_id = Stack.of(construct).get_logical_id(construct.schedule_role.node.default_child)
    trust = template.to_json()["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    condition = statement["Condition"]["StringEquals"]
    assert condition["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert "schedule-group/default" in str(condition["aws:SourceArn"])


def test_function_may_put_items_in_this_table_only(default):
    """The bundled handler calls PutItem only: its role allows nothing else there."""
    construct, template = default
    stack = Stack.of(construct)
    role_id = stack.get_logical_id(construct.function_role.node.default_child)
    logs_id = stack.get_logical_id(construct.log_group.node.default_child)
    table_id = stack.get_logical_id(construct.table.node.default_child)
    dlq_id = stack.get_logical_id(construct.dead_letter_queue.node.default_child)
    assert _policy_of(template, role_id) == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logs_id, "Arn"]},
        },
        # the on-failure destination of the asynchronous invocation
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]}},
        {"Action": "dynamodb:PutItem", "Effect": "Allow", "Resource": [{"Fn::GetAtt": [table_id, "Arn"]}]},
    ]


def test_every_role_of_the_default_construct_is_asserted(default):
    construct, template = default
    stack = Stack.of(construct)
    roles = {
        stack.get_logical_id(r.node.default_child)
        for r in (construct.function_role, construct.schedule_role, construct.watchdog_role, construct.watchdog_schedule_role)
    }
    assert set(template.find_resources("AWS::IAM::Role")) == roles
    assert {r["Ref"] for p in template.find_resources("AWS::IAM::Policy").values() for r in p["Properties"]["Roles"]} == roles


def test_function_from_your_code_may_write_to_the_table(custom):
    construct, template = custom
    stack = Stack.of(construct)
    role_id = stack.get_logical_id(construct.function_role.node.default_child)
    table_id = stack.get_logical_id(construct.table.node.default_child)
    dynamo = [s for s in _policy_of(template, role_id) if any(a.startswith("dynamodb:") for a in _actions(s))]
    assert dynamo == [
        {
            "Action": [
                "dynamodb:BatchWriteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
            ],
            "Effect": "Allow",
            "Resource": [{"Fn::GetAtt": [table_id, "Arn"]}],
        },
        # the run ledger's reads (runtime.ledger.track_run)
        {"Action": "dynamodb:GetItem", "Effect": "Allow", "Resource": [{"Fn::GetAtt": [table_id, "Arn"]}]},
    ]


def test_customer_managed_keys_are_granted_to_the_bundled_function():
    """GIVEN a table and a dead-letter queue encrypted with a customer-managed key."""
    stack = _stack()
    key = kms.Key(stack, "Key")
    construct = ScheduledLambdaToTable(
        stack,
        "Runs",
        schedule=scheduler.ScheduleExpression.rate(Duration.hours(1)),
        table_props=dynamodb.TableProps(
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key
        ),
        dead_letter_queue=sqs.Queue(stack, "Dlq", encryption_master_key=key),
    )
    template = Template.from_stack(stack)
    role_id = stack.get_logical_id(construct.function_role.node.default_child)
    key_arn = {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}
    key_statements = [s for s in _policy_of(template, role_id) if s["Resource"] == key_arn]
    # THEN the key may encrypt what the function sends and writes (CDK's key grants)
    assert [s["Action"] for s in key_statements] == [
        ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
    ]


def _actions(statement: dict) -> list:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def test_no_managed_policies(default):
    _, template = default
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


# --- function ----------------------------------------------------------------


def test_default_function(default):
    construct, template = default
    stack = Stack.of(construct)
    table_id = stack.get_logical_id(construct.table.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "scheduled_tasks_constructs.runtime.record_run.handler",
            "MemorySize": 128,
            "Timeout": 30,
            "Environment": {"Variables": {"TABLE_NAME": {"Ref": table_id}}},
            "TracingConfig": Match.absent(),
        },
    )


def test_log_group_has_finite_retention(default, custom):
    assert _only(default[1], "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 30
    assert _only(custom[1], "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 7


def test_async_invocation_retries_and_on_failure_destination(default):
    construct, template = default
    dlq_id = Stack.of(construct).get_logical_id(construct.dead_letter_queue.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [dlq_id, "Arn"]}}},
        },
    )


def test_custom_function(custom):
    construct, template = custom
    table_id = Stack.of(construct).get_logical_id(construct.table.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "index.handler",
            "MemorySize": 512,
            "Timeout": 10,
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": {
                    "STAGE": "test",
                    "TABLE_NAME": {"Ref": table_id},
                    "ITEM_TTL_SECONDS": "2592000",
                }
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 300},
    )


def test_default_function_has_no_layer(default):
    construct, template = default
    fn = template.to_json()["Resources"][Stack.of(construct).get_logical_id(construct.function.node.default_child)]
    assert "Layers" not in fn["Properties"]  # the bundled handler's asset holds the runtime package
    template.resource_count_is("AWS::Lambda::LayerVersion", 0)


def test_function_from_your_code_has_exactly_the_runtime_layer(custom):
    construct, template = custom
    stack = Stack.of(construct)
    layer = stack.node.find_child("ScheduledTasksRuntimeLayer")
    assert construct.runtime_layer is layer and isinstance(layer, RuntimeLayer)
    layer_id = stack.get_logical_id(layer.node.default_child)
    assert layer_id.startswith("ScheduledTasksRuntimeLayer")
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    fn = template.to_json()["Resources"][stack.get_logical_id(construct.function.node.default_child)]
    assert fn["Properties"]["Layers"] == [{"Ref": layer_id}]


def _my_function(stack: Stack, id: str = "Mine") -> lambda_.Function:
    return lambda_.Function(
        stack,
        id,
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        environment={"STAGE": "test"},
    )


@pytest.fixture(scope="module")
def existing_function() -> "tuple[ScheduledLambdaToTable, Template, lambda_.Function]":
    """GIVEN an existing aws_lambda.Function, a created table with item_ttl."""
    stack = _stack()
    fn = _my_function(stack)
    construct = ScheduledLambdaToTable(
        stack, "Runs", schedule=RATE_2_MIN, existing_function=fn, item_ttl=Duration.days(7)
    )
    return construct, Template.from_stack(stack), fn


@pytest.fixture(scope="module")
def imported_function() -> "tuple[ScheduledLambdaToTable, Stack]":
    """GIVEN a function imported by ARN (the construct cannot change it).

    It is imported with its role: the table cannot grant to a function
    imported without one (``Function.from_function_arn``).
    """
    stack = _stack()
    fn = lambda_.Function.from_function_attributes(
        stack,
        "Imported",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:record-runs",
        role=iam.Role.from_role_arn(stack, "ImportedRole", "arn:aws:iam::123456789012:role/record-runs"),
        same_environment=True,
    )
    construct = ScheduledLambdaToTable(
        stack, "Runs", schedule=RATE_2_MIN, existing_function=fn, item_ttl=Duration.days(7)
    )
    return construct, stack


def test_existing_function_gets_the_table_name_and_ttl(existing_function):
    construct, template, fn = existing_function
    stack = Stack.of(construct)
    table_id = stack.get_logical_id(construct.table.node.default_child)
    resource = template.to_json()["Resources"][stack.get_logical_id(fn.node.default_child)]
    assert resource["Properties"]["Environment"] == {
        "Variables": {
            "STAGE": "test",
            "TABLE_NAME": {"Ref": table_id},
            "ITEM_TTL_SECONDS": "604800",
            # the run ledger's settings, for runtime.ledger.track_run
            "LEDGER_TABLE_NAME": {"Ref": table_id},
            "OVERLAP": "skip",
            "LOCK_SECONDS": "3600",
            "MAX_ATTEMPTS": "3",
            "LEDGER_TTL_SECONDS": "604800",
        }
    }
    # No layer is added to a function you bring; the runtime layer is not even created.
    assert "Layers" not in resource["Properties"]
    template.resource_count_is("AWS::Lambda::LayerVersion", 0)
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())


def test_imported_function_gets_a_warning_instead(imported_function):
    construct, stack = imported_function
    Annotations.from_stack(stack).has_warning(
        "/Test/Runs",
        "existing_function is not an aws_lambda.Function, so the construct cannot set its "
        "environment: set TABLE_NAME to the table's name (table.table_name), ITEM_TTL_SECONDS "
        "to item_ttl in seconds, LEDGER_TABLE_NAME to the run ledger's name, OVERLAP to overlap, "
        "LOCK_SECONDS to run_deadline in seconds, MAX_ATTEMPTS to function_retry_attempts + 1 and "
        "LEDGER_TTL_SECONDS to item_ttl in seconds in existing_function's environment yourself "
        "[ack: scheduled-tasks-constructs:existingFunctionEnvironment]",
    )
    assert len(Annotations.from_stack(stack).find_warning("*", Match.any_value())) == 1


def test_existing_singleton_function_gets_the_table_name():
    stack = _stack()
    fn = lambda_.SingletonFunction(
        stack,
        "Single",
        uuid="4c1e8a3e-0000-4000-8000-000000000001",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
    )
    construct = ScheduledLambdaToTable(stack, "Runs", schedule=RATE_2_MIN, existing_function=fn)
    table_id = stack.get_logical_id(construct.table.node.default_child)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": {"TABLE_NAME": {"Ref": table_id}}}}
    )


def test_runtime_layer_for_an_existing_function_is_the_stacks_one(existing_function):
    construct, _, _ = existing_function
    assert construct.runtime_layer is RuntimeLayer.of(Stack.of(construct))


def test_existing_function_and_table_are_used_and_granted():
    stack = _stack()
    fn = _my_function(stack)
    table = dynamodb.Table(
        stack, "MyTable", partition_key=dynamodb.Attribute(name="run_id", type=dynamodb.AttributeType.STRING)
    )
    construct = ScheduledLambdaToTable(
        stack, "Runs", schedule=RATE_2_MIN, existing_function=fn, existing_table=table
    )
    template = Template.from_stack(stack)
    assert construct.function is fn and construct.table is table
    assert construct.function_role is None and construct.log_group is None
    template.resource_count_is("AWS::Lambda::Function", 2)  # yours and the watchdog
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    fn_role = stack.get_logical_id(fn.role.node.default_child)
    table_id = stack.get_logical_id(table.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": {"STAGE": "test", "TABLE_NAME": {"Ref": table_id}}}}
    )
    statements = _policy_of(template, fn_role)
    assert any(
        "dynamodb:PutItem" in _actions(s) and s["Resource"] == [{"Fn::GetAtt": [table_id, "Arn"]}]
        for s in statements
    )


# --- table -------------------------------------------------------------------


def test_default_table(default):
    _, template = default
    table = _only(template, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["KeySchema"] == [{"AttributeName": "run_id", "KeyType": "HASH"}]
    assert "TimeToLiveSpecification" not in props


def test_table_overrides_and_ttl(custom):
    _, template = custom
    table = _only(template, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


# --- queue, alarms, attributes ------------------------------------------------


def test_dead_letter_queue_is_encrypted_https_only_and_keeps_14_days(default):
    _, template = default
    queue = _only(template, "AWS::SQS::Queue")["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    policy = _only(template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Statement"]
    )


def test_alarms_notify_the_topic(default):
    construct, template = default
    topic_id = Stack.of(construct).get_logical_id(construct.alarm_topic.node.default_child)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 6 == len(construct.alarms)
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_missed_run_alarm_watches_the_watchdogs_metric(default):
    construct, template = default
    stack = Stack.of(construct)
    schedule_id = stack.get_logical_id(construct.schedule.node.default_child)
    resources = template.to_json()["Resources"]
    for alarm, metric in (
        (construct.missed_run_alarm, "MissedRuns"),
        (construct.late_run_alarm, "LateRuns"),
        (construct.failed_run_alarm, "FailedRuns"),
    ):
        props = resources[stack.get_logical_id(alarm.node.default_child)]["Properties"]
        assert props["Namespace"] == "ScheduledTasks"
        assert props["MetricName"] == metric
        assert props["Dimensions"] == [
            {"Name": "Schedule", "Value": {"Fn::Join": ["", ["default/", {"Ref": schedule_id}]]}}
        ]
        assert props["Statistic"] == "Sum"
        assert props["Period"] == 900  # the watchdog's interval, whatever the schedule's gaps
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["Threshold"] == 1
        assert props["EvaluationPeriods"] == 1
        assert props["TreatMissingData"] == "notBreaching"


def test_watchdog_reads_the_weekday_cron_as_the_scheduler_does(custom):
    construct, template = custom
    stack = Stack.of(construct)
    function_id = stack.get_logical_id(construct.watchdog_function.node.default_child)
    variables = template.to_json()["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    schedule_id = stack.get_logical_id(construct.schedule.node.default_child)
    assert variables["SCHEDULE_EXPRESSION"] == "cron(30 9 ? * MON-FRI *)"
    assert variables["SCHEDULE_TIME_ZONE"] == "Asia/Taipei"
    assert variables["FLEXIBLE_WINDOW_MINUTES"] == "10"
    assert variables["SCHEDULE_START"] == "2027-01-01T00:00:00+00:00"
    assert variables["SCHEDULE_END"] == "2028-01-01T00:00:00+00:00"
    assert variables["SCHEDULE_NAME"] == {"Fn::Join": ["", ["default/", {"Ref": schedule_id}]]}
    # The missed-run alarm no longer needs a window as long as the weekend: the watchdog counts slots.
    alarm_id = stack.get_logical_id(construct.missed_run_alarm.node.default_child)
    assert template.to_json()["Resources"][alarm_id]["Properties"]["Period"] == 900


def test_alarms_off_and_own_topic():
    stack = _stack()
    off = ScheduledLambdaToTable(stack, "Off", schedule=RATE_2_MIN, alarms=False)
    topic = sns.Topic(stack, "Mine")
    mine = ScheduledLambdaToTable(stack, "Mine2", schedule=RATE_2_MIN, alarm_topic=topic)
    assert off.alarms == [] and off.alarm_topic is None
    assert mine.alarm_topic is topic
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::CloudWatch::Alarm", 6)


def test_every_created_resource_is_an_attribute(default):
    construct, _ = default
    for name in (
        "schedule",
        "schedule_role",
        "function",
        "function_role",
        "log_group",
        "table",
        "dead_letter_queue",
        "alarm_topic",
        "dead_letter_alarm",
        "errors_alarm",
        "missed_run_alarm",
    ):
        assert getattr(construct, name) is not None, name


# --- validation ----------------------------------------------------------------


def _error(**props) -> str:
    props.setdefault("schedule", RATE_2_MIN)
    with pytest.raises(ScheduledTasksValidationError) as info:
        ScheduledLambdaToTable(_stack(), "Bad", **props)
    return str(info.value)


def test_every_problem_is_reported_at_once():
    message = _error(
        retry_attempts=200,
        max_event_age=Duration.hours(25),
        memory_size=64,
        item_ttl=Duration.seconds(30),
    )
    assert message == (
        "ScheduledLambdaToTable 'Bad': invalid props (4):\n"
        "  - retry_attempts must be a whole number between 0 and 185, got 200\n"
        "  - max_event_age must be between 1 minute and 1 day, got 1 day 1 hour\n"
        "  - memory_size must be a whole number between 128 and 10240, got 64\n"
        "  - item_ttl must be between 1 minute and 36500 days, got 30 seconds"
    )


#: Resources of another app, standing in for what a user brings (the construct raises before using them).
_ELSEWHERE = Stack(App(), "Elsewhere")
_RUNS = dynamodb.Table.from_table_name(_ELSEWHERE, "Runs", "runs")
_ALARMS = sns.Topic.from_topic_arn(_ELSEWHERE, "Alarms", "arn:aws:sns:us-east-1:123456789012:alarms")


@pytest.mark.parametrize(
    "props, expected",
    [
        (
            {"code": lambda_.Code.from_inline("x")},
            "code and handler: give both or neither, got code only",
        ),
        (
            {"table_props": dynamodb.TableProps(), "existing_table": _RUNS},
            "existing_table, table_props: give at most one of them, got 2",
        ),
        (
            {"function_retry_attempts": 3},
            "function_retry_attempts must be a whole number between 0 and 2, got 3",
        ),
        (
            {"environment": {"TABLE_NAME": "x"}},
            "environment must be free of the names the construct sets (TABLE_NAME, "
            "ITEM_TTL_SECONDS, LEDGER_TABLE_NAME, OVERLAP, LOCK_SECONDS, MAX_ATTEMPTS, "
            "LEDGER_TTL_SECONDS, RUN_METRICS), got 'TABLE_NAME'",
        ),
        (
            {
                "table_props": dynamodb.TableProps(
                    partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
                )
            },
            "table_props.partition_key: set by the construct, got partition_key in table_props",
        ),
        (
            {
                "start": dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc),
                "end": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
            },
            "end must be after start (2027-01-01T00:00:00+00:00), got '2026-01-01T00:00:00+00:00'",
        ),
        ({"alarms": False, "alarm_topic": _ALARMS}, "alarm_topic: needs alarms, got alarms=False"),
        ({"timeout": Duration.minutes(16)}, "timeout must be between 1 second and 15 minutes, got 16 minutes"),
    ],
)
def test_exact_error_messages(props, expected):
    assert _error(**props).splitlines()[1:] == [f"  - {expected}"]


def test_an_imported_queue_of_unknown_fifo_ness_is_accepted_as_dead_letter_queue():
    """An ARN without '.fifo' names a standard queue (CDK infers FIFO from the name)."""
    stack = _stack()
    queue = sqs.Queue.from_queue_arn(stack, "Dlq", "arn:aws:sqs:us-east-1:123456789012:failed")
    construct = ScheduledLambdaToTable(stack, "Runs", schedule=RATE_2_MIN, dead_letter_queue=queue)
    assert construct.dead_letter_queue is queue
