"""ScheduledTaskFanout: template assertions and exact validation errors."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from scheduled_tasks_constructs import RuntimeLayer, ScheduledTaskFanout, ScheduledTasksValidationError

HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
WORKER = {
    "worker_code": lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    "worker_handler": "index.handler",
}
TASKS = [{"name": "a"}, {"name": "b"}, 3]


def _stack() -> Stack:
    return Stack(App(), "Test")


def _id(construct, child) -> str:
    return Stack.of(construct).get_logical_id(child.node.default_child)


def _main_schedule(template: Template) -> dict:
    """The construct's schedule: the one that is not the watchdog's (``WatchdogSchedule``)."""
    (schedule,) = (s for key, s in template.find_resources("AWS::Scheduler::Schedule").items() if "Watchdog" not in key)
    return schedule


def _statements(template: Template, role_id: str) -> list:
    out = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def _actions(statement: dict) -> set:
    actions = statement["Action"]
    return set(actions if isinstance(actions, list) else [actions])


@pytest.fixture(scope="module")
def default():
    stack = _stack()
    construct = ScheduledTaskFanout(stack, "Jobs", schedule=HOURLY, tasks=TASKS, **WORKER)
    return construct, Template.from_stack(stack)


@pytest.fixture(scope="module")
def tuned():
    stack = _stack()
    secret = secretsmanager.Secret(stack, "Hook")
    construct = ScheduledTaskFanout(
        stack,
        "Jobs",
        schedule=scheduler.ScheduleExpression.cron(
            minute="0", hour="9", week_day="MON-FRI", time_zone=TimeZone.ASIA_TAIPEI
        ),
        tasks=TASKS,
        worker_timeout=Duration.seconds(120),
        batch_size=50,
        max_batching_window=Duration.seconds(20),
        max_concurrency=5,
        max_receive_count=5,
        webhook_secret=secret,
        **WORKER,
    )
    return construct, Template.from_stack(stack), secret


def test_schedule_input_carries_tasks_and_context(default):
    _, template = default
    schedule = _main_schedule(template)
    assert json.loads(schedule["Properties"]["Target"]["Input"]) == {
        "execution_id": "<aws.scheduler.execution-id>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "schedule_arn": "<aws.scheduler.schedule-arn>",
        "attempt_number": "<aws.scheduler.attempt-number>",
        "tasks": TASKS,
    }
    assert schedule["Properties"]["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 3600,
        "MaximumRetryAttempts": 3,
    }


def test_schedule_targets_the_producer_with_run_dead_letter_queue(default):
    construct, template = default
    schedule = _main_schedule(template)
    target = schedule["Properties"]["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [_id(construct, construct.producer), "Arn"]}
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [_id(construct, construct.run_dead_letter_queue), "Arn"]}
    }


def _arn(construct, child) -> dict:
    return {"Fn::GetAtt": [_id(construct, child), "Arn"]}


def _log_writing(construct, log_group) -> dict:
    return {
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Effect": "Allow",
        "Resource": _arn(construct, log_group),
    }


def test_scheduler_may_invoke_the_producer_only(default):
    construct, template = default
    producer_arn = _arn(construct, construct.producer)
    assert _statements(template, _id(construct, construct.schedule_role)) == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [{"Fn::Join": ["", [producer_arn, ":$LATEST"]]}, producer_arn],
        },
        # the Scheduler's dead-letter queue
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": _arn(construct, construct.run_dead_letter_queue)},
    ]


def test_producer_may_send_to_the_queue_only(default):
    """The bundled producer calls SendMessageBatch only (SendMessage allows it)."""
    construct, template = default
    assert _statements(template, _id(construct, construct.producer_role)) == [
        _log_writing(construct, construct.producer_log_group),
        # the on-failure destination of the asynchronous invocation
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": _arn(construct, construct.run_dead_letter_queue)},
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": _arn(construct, construct.queue)},
        # the run ledger: claim the slot, read it back (a duplicate, the lock), release the lock
        {
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            "Effect": "Allow",
            "Resource": _arn(construct, construct.ledger_table),
        },
    ]


def test_worker_may_consume_the_queue_only(default):
    """The event source mapping polls, deletes and extends with the worker's role."""
    construct, template = default
    assert _statements(template, _id(construct, construct.worker_role)) == [
        _log_writing(construct, construct.worker_log_group),
        # the run ledger: add a batch's counts, finish the run, release the lock
        {
            "Action": ["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            "Effect": "Allow",
            "Resource": _arn(construct, construct.ledger_table),
        },
        {
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            "Effect": "Allow",
            "Resource": _arn(construct, construct.queue),
        },
    ]


def test_every_role_of_the_default_construct_is_asserted(default):
    construct, template = default
    roles = {
        _id(construct, r)
        for r in (
            construct.schedule_role,
            construct.producer_role,
            construct.worker_role,
            construct.watchdog_role,
            construct.watchdog_schedule_role,
        )
    }
    assert set(template.find_resources("AWS::IAM::Role")) == roles
    assert {r["Ref"] for p in template.find_resources("AWS::IAM::Policy").values() for r in p["Properties"]["Roles"]} == roles


def test_event_source_mapping_is_the_sqs_event_sources(default):
    construct, template = default
    (mapping_id,) = template.find_resources("AWS::Lambda::EventSourceMapping")
    resolved = Stack.of(construct).resolve(construct.event_source.event_source_mapping_id)
    assert resolved == {"Ref": mapping_id}
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": _arn(construct, construct.queue),
            "FunctionName": {"Ref": _id(construct, construct.worker)},
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_customer_managed_keys_are_granted():
    """GIVEN a task queue and a run dead-letter queue encrypted with a customer-managed key."""
    stack = _stack()
    key = kms.Key(stack, "Key")
    construct = ScheduledTaskFanout(
        stack,
        "Jobs",
        schedule=HOURLY,
        tasks=TASKS,
        queue_props=sqs.QueueProps(encryption_master_key=key),
        run_dead_letter_queue=sqs.Queue(stack, "RunDlq", encryption_master_key=key),
        **WORKER,
    )
    template = Template.from_stack(stack)
    key_arn = _arn(construct, key)
    send_key = ["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]

    def key_actions(role):
        return [s["Action"] for s in _statements(template, _id(construct, role)) if s["Resource"] == key_arn]

    # THEN CDK's key grants come with each narrowed queue grant (one statement
    # for both queues: they share the key)
    assert key_actions(construct.producer_role) == [send_key]
    assert key_actions(construct.worker_role) == ["kms:Decrypt"]


def test_event_source_defaults(default):
    construct, template = default
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "EventSourceArn": {"Fn::GetAtt": [_id(construct, construct.queue), "Arn"]},
            "FunctionName": {"Ref": _id(construct, construct.worker)},
            "MaximumBatchingWindowInSeconds": Match.absent(),
            "ScalingConfig": Match.absent(),
        },
    )


def test_event_source_tuned(tuned):
    _, template, _ = tuned
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 50,
            "MaximumBatchingWindowInSeconds": 20,
            "ScalingConfig": {"MaximumConcurrency": 5},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_queue_visibility_redrive_and_dead_letter_retention(default, tuned):
    for fixture, visibility, receives in ((default, 360, 3), (tuned, 6 * 120 + 20, 5)):
        construct, template = fixture[0], fixture[1]
        resources = template.to_json()["Resources"]
        queue = resources[_id(construct, construct.queue)]["Properties"]
        assert queue["VisibilityTimeout"] == visibility
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [_id(construct, construct.dead_letter_queue), "Arn"]},
            "maxReceiveCount": receives,
        }
        assert queue["SqsManagedSseEnabled"] is True
        assert "FifoQueue" not in queue
        dlq = resources[_id(construct, construct.dead_letter_queue)]["Properties"]
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_every_queue_is_https_only(default):
    _, template = default
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == len(template.find_resources("AWS::SQS::Queue")) == 3
    for policy in policies.values():
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_functions(default):
    construct, template = default
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "scheduled_tasks_constructs.runtime.producer.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 256,
            "Timeout": 300,
            "Environment": {"Variables": {"QUEUE_URL": {"Ref": _id(construct, construct.queue)}}},
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "index.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 256,
            "Timeout": 60,
            "Layers": [{"Ref": _id(construct, construct.runtime_layer)}],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": _id(construct, construct.producer)},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
        },
    )
    for group in template.find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 30


def test_webhook_secret_arn_not_url_and_read_grant(tuned):
    construct, template, secret = tuned
    secret_id = Stack.of(construct).get_logical_id(secret.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "index.handler", "Environment": {"Variables": {"WEBHOOK_SECRET_ARN": {"Ref": secret_id}}}},
    )
    statements = _statements(template, _id(construct, construct.worker_role))
    reads = [s for s in statements if any(a.startswith("secretsmanager:") for a in _actions(s))]
    assert reads == [{"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": {"Ref": secret_id}}]


def test_alarms(default):
    construct, template = default
    assert len(construct.alarms) == 8
    template.resource_count_is("AWS::CloudWatch::Alarm", 8)
    resources = template.to_json()["Resources"]
    missed = resources[_id(construct, construct.missed_run_alarm)]["Properties"]
    assert missed["Namespace"] == "ScheduledTasks"
    assert missed["MetricName"] == "MissedRuns"
    assert missed["Dimensions"] == [
        {"Name": "Schedule", "Value": {"Fn::Join": ["", ["default/", {"Ref": _id(construct, construct.schedule)}]]}}
    ]
    assert missed["Period"] == 900  # the watchdog's interval
    errors = resources[_id(construct, construct.watchdog_errors_alarm)]["Properties"]
    assert errors["MetricName"] == "Errors"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": _id(construct, construct.watchdog_function)}}]


def test_dynamic_producer_without_tasks():
    stack = _stack()
    construct = ScheduledTaskFanout(
        stack,
        "Dyn",
        schedule=HOURLY,
        producer_code=lambda_.Code.from_inline("def handler(e, c): pass"),
        producer_handler="index.handler",
        **WORKER,
    )
    template = Template.from_stack(stack)
    schedule = _main_schedule(template)
    assert "tasks" not in json.loads(schedule["Properties"]["Target"]["Input"])
    assert construct.tasks is None
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "index.handler", "Layers": [{"Ref": _id(construct, construct.runtime_layer)}], "Timeout": 300},
    )
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)


def test_existing_queue_and_worker():
    stack = _stack()
    queue = sqs.Queue(stack, "Mine", visibility_timeout=Duration.minutes(10))
    worker = lambda_.Function(
        stack,
        "MyWorker",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
    )
    construct = ScheduledTaskFanout(
        stack, "Jobs", schedule=HOURLY, tasks=TASKS, existing_queue=queue, existing_worker=worker
    )
    assert construct.queue is queue and construct.worker is worker
    assert construct.dead_letter_queue is None and construct.dead_letter_alarm is None
    template = Template.from_stack(stack)
    # Neither the bundled producer nor an existing worker needs the runtime layer.
    template.resource_count_is("AWS::Lambda::LayerVersion", 0)
    template.resource_count_is("AWS::SQS::Queue", 2)  # theirs + the run dead-letter queue
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionName": {"Ref": _id(construct, worker)}, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )


def _my_function(stack: Stack, id: str) -> lambda_.Function:
    return lambda_.Function(
        stack,
        id,
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        environment={"STAGE": "test"},
    )


def _imported_function(stack: Stack, id: str) -> lambda_.IFunction:
    """A function imported by ARN, with its role (a queue or secret grants to that role)."""
    return lambda_.Function.from_function_attributes(
        stack,
        id,
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{id.lower()}",
        role=iam.Role.from_role_arn(stack, f"{id}Role", f"arn:aws:iam::123456789012:role/{id.lower()}"),
        same_environment=True,
    )


@pytest.fixture(scope="module")
def existing_functions():
    """GIVEN an existing producer and worker (aws_lambda.Function) and a webhook secret."""
    stack = _stack()
    secret = secretsmanager.Secret(stack, "Hook")
    producer, worker = _my_function(stack, "MyProducer"), _my_function(stack, "MyWorker")
    construct = ScheduledTaskFanout(
        stack, "Jobs", schedule=HOURLY, existing_producer=producer, existing_worker=worker, webhook_secret=secret
    )
    return construct, Template.from_stack(stack), secret


@pytest.fixture(scope="module")
def imported_functions():
    """GIVEN an imported producer and worker and a webhook secret."""
    stack = _stack()
    construct = ScheduledTaskFanout(
        stack,
        "Jobs",
        schedule=HOURLY,
        existing_producer=_imported_function(stack, "Producer"),
        existing_worker=_imported_function(stack, "Worker"),
        webhook_secret=secretsmanager.Secret(stack, "Hook"),
    )
    return construct, stack


def _environment(template: Template, construct, function) -> dict:
    resource = template.to_json()["Resources"][_id(construct, function)]
    return resource["Properties"]["Environment"]["Variables"]


def test_existing_producer_gets_the_queue_url_and_the_ledger(existing_functions):
    construct, template, secret = existing_functions
    ledger = {"Ref": _id(construct, construct.ledger_table)}
    assert _environment(template, construct, construct.producer) == {
        "STAGE": "test",
        "QUEUE_URL": {"Ref": _id(construct, construct.queue)},
        "LEDGER_TABLE_NAME": ledger,
        "OVERLAP": "skip",
        "LOCK_SECONDS": "3600",
        "MAX_ATTEMPTS": "3",
        "LEDGER_TTL_SECONDS": "7776000",
        # the producer posts the summary when it finishes a run
        "WEBHOOK_SECRET_ARN": {"Ref": _id(construct, secret)},
        "WEBHOOK_MESSAGES": "summary",
    }


def test_existing_worker_gets_the_webhook_secret_arn(existing_functions):
    construct, template, secret = existing_functions
    assert _environment(template, construct, construct.worker) == {
        "STAGE": "test",
        "WEBHOOK_SECRET_ARN": {"Ref": _id(construct, secret)},
        "WEBHOOK_MESSAGES": "summary",
        "LEDGER_TABLE_NAME": {"Ref": _id(construct, construct.ledger_table)},
        "OVERLAP": "skip",
        "LOCK_SECONDS": "3600",
        "MAX_RECEIVE_COUNT": "3",
    }


def test_existing_functions_get_no_layer_and_no_warning(existing_functions):
    construct, template, _ = existing_functions
    template.resource_count_is("AWS::Lambda::LayerVersion", 0)
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert "Layers" not in function["Properties"]
    Annotations.from_stack(Stack.of(construct)).has_no_warning("*", Match.any_value())


def test_imported_functions_get_a_warning_each(imported_functions):
    _, stack = imported_functions
    annotations = Annotations.from_stack(stack)
    ack = "[ack: scheduled-tasks-constructs:existingFunctionEnvironment]"
    annotations.has_warning(
        "/Test/Jobs",
        "existing_producer is not an aws_lambda.Function, so the construct cannot set its "
        "environment: set QUEUE_URL to the task queue's URL (queue.queue_url), LEDGER_TABLE_NAME "
        "to the run ledger's name, OVERLAP to overlap, LOCK_SECONDS to run_deadline in seconds, "
        "MAX_ATTEMPTS to function_retry_attempts + 1, LEDGER_TTL_SECONDS to ledger_retention in "
        "seconds, WEBHOOK_SECRET_ARN to the webhook secret's ARN (webhook_secret.secret_arn) and "
        f"WEBHOOK_MESSAGES to webhook_messages in existing_producer's environment yourself {ack}",
    )
    annotations.has_warning(
        "/Test/Jobs",
        "existing_worker is not an aws_lambda.Function, so the construct cannot set its "
        "environment: set WEBHOOK_SECRET_ARN to the webhook secret's ARN "
        "(webhook_secret.secret_arn), WEBHOOK_MESSAGES to webhook_messages, LEDGER_TABLE_NAME to "
        "the run ledger's name, OVERLAP to overlap, LOCK_SECONDS to run_deadline in seconds and "
        f"MAX_RECEIVE_COUNT to max_receive_count in existing_worker's environment yourself {ack}",
    )
    assert len(annotations.find_warning("*", Match.any_value())) == 2


def test_imported_worker_without_webhook_still_needs_the_ledger():
    stack = _stack()
    worker = lambda_.Function.from_function_arn(
        stack, "Worker", "arn:aws:lambda:us-east-1:123456789012:function:worker"
    )
    ScheduledTaskFanout(stack, "Jobs", schedule=HOURLY, tasks=TASKS, existing_worker=worker)
    # (CDK itself warns on the worker that its role, unknown, was not granted the queue.)
    (warning,) = Annotations.from_stack(stack).find_warning("/Test/Jobs", Match.any_value())
    assert "set LEDGER_TABLE_NAME to the run ledger's name" in warning.entry.data
    assert "WEBHOOK" not in warning.entry.data


def test_runtime_layer_is_always_available_and_shared(existing_functions):
    construct, _, _ = existing_functions
    layer = construct.runtime_layer
    assert isinstance(layer, RuntimeLayer)
    assert layer is construct.runtime_layer is RuntimeLayer.of(Stack.of(construct))
    assert layer.node.scope is Stack.of(construct) and layer.node.id == "ScheduledTasksRuntimeLayer"


# --- validation ----------------------------------------------------------------


def _error(**props) -> str:
    props.setdefault("schedule", HOURLY)
    with pytest.raises(ScheduledTasksValidationError) as info:
        ScheduledTaskFanout(_stack(), "Bad", **props)
    return str(info.value)


def test_all_problems_at_once():
    assert _error(tasks=[], batch_size=0, max_receive_count=0) == (
        "ScheduledTaskFanout 'Bad': invalid props (4):\n"
        "  - worker_code/worker_handler or existing_worker: the worker is required, got neither\n"
        "  - tasks must be a list of 1 to 1000 tasks, got 0 tasks\n"
        "  - max_receive_count must be a whole number between 1 and 1000, got 0\n"
        "  - batch_size must be a whole number between 1 and 10000, got 0"
    )


@pytest.mark.parametrize(
    "props, expected",
    [
        ({}, "tasks: required with the bundled producer (or give producer_code/producer_handler "
         "or existing_producer that builds tasks at run time), got none"),
        ({"tasks": [{1, 2}]}, "tasks[0] must be JSON-serialisable, got set (Object of type set is not JSON serializable)"),
        ({"tasks": [{"name": "x"}, {"name": "x"}]}, "tasks[1].name must be unique within tasks (tasks[0] has it too), got 'x'"),
        ({"tasks": ["x" * 9000]}, "tasks must be small enough for the schedule input (at most 8192 characters of JSON), got 9206 characters"),
        ({"tasks": TASKS, "batch_size": 100}, "max_batching_window must be at least 1 second when batch_size is over 10 (batch_size is 100), got none"),
        ({"tasks": TASKS, "max_batching_window": Duration.seconds(301)}, "max_batching_window must be between 0 seconds and 5 minutes, got 5 minutes 1 second"),
        ({"tasks": TASKS, "max_concurrency": 1}, "max_concurrency must be a whole number between 2 and 1000, got 1"),
        (
            {"tasks": TASKS, "worker_timeout": Duration.minutes(2), "queue_props": sqs.QueueProps(visibility_timeout=Duration.minutes(5))},
            "queue_props.visibility_timeout must be at least 720 seconds (6 x worker timeout 120 s + batching window 0 s), got 5 minutes",
        ),
        ({"tasks": TASKS, "queue_props": sqs.QueueProps(fifo=True)}, "queue_props.fifo: set by the construct (a standard queue with the construct's dead-letter queue), got fifo in queue_props"),
    ],
)
def test_exact_error_messages(props, expected):
    if "worker_code" not in props and "existing_worker" not in props:
        props.update(WORKER)
    assert _error(**props).splitlines()[1:] == [f"  - {expected}"]


def test_schedule_errors_are_named():
    message = _error(
        schedule=scheduler.ScheduleExpression.expression("cron(0 9 1 * MON *)"), tasks=TASKS, **WORKER
    )
    assert "schedule: " in message and "day-of-month" in message
    zone = _error(
        schedule=scheduler.ScheduleExpression.cron(minute="0", hour="9", time_zone=TimeZone.of("Mars/Olympus")),
        tasks=TASKS,
        **WORKER,
    )
    assert "schedule time zone: " in zone and "Mars/Olympus" in zone


def test_an_imported_queue_of_unknown_fifo_ness_is_accepted_as_run_dead_letter_queue():
    """An ARN without '.fifo' names a standard queue (CDK infers FIFO from the name)."""
    stack = _stack()
    queue = sqs.Queue.from_queue_arn(stack, "Dlq", "arn:aws:sqs:us-east-1:123456789012:failed")
    construct = ScheduledTaskFanout(stack, "Jobs", schedule=HOURLY, tasks=TASKS, run_dead_letter_queue=queue, **WORKER)
    assert construct.run_dead_letter_queue is queue


# --- static tasks in the schedule input ----------------------------------------

EVERY_JSON_TYPE = [
    None,
    True,
    False,
    0,
    -7,
    2**60,
    1.5,
    -0.25,
    "plain",
    "unicode é ☃ 😀 \u2028 \"quoted\" \\ /",
    "",
    [],
    {},
    [1, None, 3],
    {"limit": None, "nested": {"list": [[], {}, [None]], "flag": False}},
    {"name": "with-null", "value": None},
]


def _input_tasks(construct) -> list:
    template = Template.from_stack(Stack.of(construct))
    schedule = _main_schedule(template)
    return json.loads(schedule["Properties"]["Target"]["Input"])["tasks"]


def test_every_json_value_reaches_the_schedule_input_unchanged():
    """GIVEN tasks of every JSON type, nulls included."""
    stack = _stack()
    construct = ScheduledTaskFanout(stack, "Jobs", schedule=HOURLY, tasks=EVERY_JSON_TYPE, **WORKER)
    # THEN the input holds exactly the tasks, as a JSON round trip gives them
    assert _input_tasks(construct) == json.loads(json.dumps(EVERY_JSON_TYPE))
    assert len(_input_tasks(construct)) == len(EVERY_JSON_TYPE)


def test_the_context_placeholders_stay_in_the_input(default):
    construct, _ = default
    template = Template.from_stack(Stack.of(construct))
    schedule = _main_schedule(template)
    text = schedule["Properties"]["Target"]["Input"]
    assert isinstance(text, str)
    assert '"execution_id":"<aws.scheduler.execution-id>"' in text


def _context_chars(tasks: list) -> int:
    payload = {
        "execution_id": "<aws.scheduler.execution-id>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "schedule_arn": "<aws.scheduler.schedule-arn>",
        "attempt_number": "<aws.scheduler.attempt-number>",
        "tasks": tasks,
    }
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))


def test_unicode_tasks_at_the_input_limit_are_accepted():
    """8192 characters of JSON text, non-ASCII counted as one character each."""
    fill = 8192 - _context_chars([""])
    tasks = ["é" * fill]
    assert _context_chars(tasks) == 8192
    construct = ScheduledTaskFanout(_stack(), "Jobs", schedule=HOURLY, tasks=tasks, **WORKER)
    assert _main_schedule(Template.from_stack(Stack.of(construct)))
    assert _input_tasks(construct) == tasks


def test_unicode_tasks_over_the_input_limit_are_rejected():
    fill = 8192 - _context_chars([""])
    with pytest.raises(ScheduledTasksValidationError) as error:
        ScheduledTaskFanout(_stack(), "Jobs", schedule=HOURLY, tasks=["é" * (fill + 1)], **WORKER)
    assert str(error.value) == (
        "ScheduledTaskFanout 'Jobs': invalid props (1):\n"
        "  - tasks must be small enough for the schedule input "
        "(at most 8192 characters of JSON), got 8193 characters"
    )


def test_a_character_outside_the_basic_plane_counts_twice():
    fill = 8192 - _context_chars([""])
    with pytest.raises(ScheduledTasksValidationError) as error:
        ScheduledTaskFanout(_stack(), "Jobs", schedule=HOURLY, tasks=["é" * (fill - 1) + "😀"], **WORKER)
    assert "got 8193 characters" in str(error.value)


def test_null_tasks_with_deploy_time_values_are_rejected():
    stack = _stack()
    queue = sqs.Queue(stack, "Other")
    with pytest.raises(ScheduledTasksValidationError) as error:
        ScheduledTaskFanout(
            stack, "Jobs", schedule=HOURLY, tasks=[{"queue": queue.queue_url, "limit": None}], **WORKER
        )
    assert str(error.value) == (
        "ScheduledTaskFanout 'Jobs': invalid props (1):\n"
        "  - tasks must be free of null (None) values when it holds values "
        "known only at deploy time (CDK drops them while resolving those values), got both"
    )


def test_deploy_time_values_in_tasks_are_resolved():
    stack = _stack()
    queue = sqs.Queue(stack, "Other")
    ScheduledTaskFanout(stack, "Jobs", schedule=HOURLY, tasks=[{"queue": queue.queue_url}], **WORKER)
    schedule = _main_schedule(Template.from_stack(stack))
    assert "Fn::Join" in schedule["Properties"]["Target"]["Input"]


@pytest.fixture(scope="module")
def sharded():
    stack = _stack()
    construct = ScheduledTaskFanout(
        stack,
        "Million",
        schedule=HOURLY,
        producer_code=lambda_.Code.from_inline("def handler(e, c): pass"),
        producer_handler="index.handler",
        producer_shard_size=20_000,
        **WORKER,
    )
    return construct, Template.from_stack(stack)


def test_a_producer_of_your_own_gets_its_shard_size_and_may_invoke_itself_only(sharded):
    construct, template = sharded
    producer_id = _id(construct, construct.producer)
    assert construct.producer_shard_size == 20_000
    env = template.find_resources("AWS::Lambda::Function")[producer_id]["Properties"]["Environment"]["Variables"]
    assert env["SHARD_SIZE"] == "20000"
    policy_id = Stack.of(construct).get_logical_id(construct.producer_self_invoke_policy.node.default_child)
    policy = template.find_resources("AWS::IAM::Policy")[policy_id]["Properties"]
    assert policy["Roles"] == [{"Ref": _id(construct, construct.producer_role)}]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [producer_id, "Arn"]}}
    ]
    # No other statement of the producer's role names lambda:InvokeFunction.
    invokes = [s for s in _statements(template, _id(construct, construct.producer_role)) if "lambda:InvokeFunction" in _actions(s)]
    assert len(invokes) == 1


def test_the_self_invoke_grant_makes_no_circular_dependency(sharded):
    construct, template = sharded
    producer = template.find_resources("AWS::Lambda::Function")[_id(construct, construct.producer)]
    policy_id = Stack.of(construct).get_logical_id(construct.producer_self_invoke_policy.node.default_child)
    assert policy_id not in producer.get("DependsOn", [])
    # the assembly synthesizes (a cycle would raise here)
    assert Stack.of(construct).node.root.synth().get_stack_by_name("Test").template


def test_the_default_shard_size_with_producer_code():
    stack = _stack()
    construct = ScheduledTaskFanout(
        stack, "Dyn", schedule=HOURLY,
        producer_code=lambda_.Code.from_inline("def handler(e, c): pass"), producer_handler="index.handler", **WORKER,
    )
    assert construct.producer_shard_size == 50_000
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({"SHARD_SIZE": "50000"})}}
    )


def test_the_bundled_producer_has_no_shards_and_no_self_invoke(default):
    construct, template = default
    assert construct.producer_shard_size is None and construct.producer_self_invoke_policy is None
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert "SHARD_SIZE" not in function["Properties"].get("Environment", {}).get("Variables", {})


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"tasks": TASKS, "producer_shard_size": 1000},
            "producer_shard_size: applies to a producer of your own built from producer_code "
            "(runtime.sharding.sharded_producer), got it with the bundled producer",
        ),
        (
            {"producer_code": lambda_.Code.from_inline("x"), "producer_handler": "index.h", "producer_shard_size": 99},
            "producer_shard_size must be a whole number between 100 and 1000000, got 99",
        ),
        (
            {"producer_code": lambda_.Code.from_inline("x"), "producer_handler": "index.h", "producer_environment": {"SHARD_SIZE": "5"}},
            "SHARD_SIZE",
        ),
    ],
)
def test_bad_shard_settings_are_named(props, message):
    with pytest.raises(ScheduledTasksValidationError) as caught:
        ScheduledTaskFanout(_stack(), "Bad", schedule=HOURLY, **WORKER, **props)
    assert message in str(caught.value)
