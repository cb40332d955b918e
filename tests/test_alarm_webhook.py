"""AlarmWebhook: template assertions and exact validation errors."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from scheduled_tasks_constructs import AlarmWebhook, ScheduledTasksValidationError


@pytest.fixture(scope="module")
def built():
    stack = Stack(App(), "Test")
    topic = sns.Topic(stack, "Alarms")
    secret = secretsmanager.Secret(stack, "Hook")
    construct = AlarmWebhook(stack, "ToSlack", topic=topic, webhook_secret=secret)
    return construct, Template.from_stack(stack), stack, topic, secret


def test_function_gets_the_secret_arn_not_the_url(built):
    construct, template, stack, _, secret = built
    secret_id = stack.get_logical_id(secret.node.default_child)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "scheduled_tasks_constructs.runtime.alarm_notifier.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 128,
            "Timeout": 10,
            "Environment": {"Variables": {"WEBHOOK_SECRET_ARN": {"Ref": secret_id}}},
        },
    )
    assert construct.topic is built[3]


def test_subscribed_to_the_topic(built):
    construct, template, stack, topic, _ = built
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "lambda",
            "TopicArn": {"Ref": stack.get_logical_id(topic.node.default_child)},
            "Endpoint": {"Fn::GetAtt": [stack.get_logical_id(construct.function.node.default_child), "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission", {"Action": "lambda:InvokeFunction", "Principal": "sns.amazonaws.com"}
    )


def test_role_may_read_this_secret_and_write_its_logs_only(built):
    construct, template, stack, _, secret = built
    role_id = stack.get_logical_id(construct.function_role.node.default_child)
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    resources = sorted(str(s["Resource"]) for s in statements)
    assert resources == sorted(
        [
            str({"Fn::GetAtt": [stack.get_logical_id(construct.log_group.node.default_child), "Arn"]}),
            str({"Ref": stack.get_logical_id(secret.node.default_child)}),
        ]
    )
    assert _only(template, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == 30


def _only(template: Template, type_: str) -> dict:
    (resource,) = template.find_resources(type_).values()
    return resource


def test_bad_props_are_reported_together():
    with pytest.raises(ScheduledTasksValidationError) as caught:
        AlarmWebhook(Stack(App(), "Bad"), "Hook", topic="arn:aws:sns:x", webhook_secret=None)
    assert str(caught.value) == (
        "AlarmWebhook 'Hook': invalid props (2):\n"
        "  - topic must be an aws_sns.ITopic, got str\n"
        "  - webhook_secret must be an aws_secretsmanager.ISecret, got NoneType"
    )
