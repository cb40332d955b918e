"""The skeleton both constructs share: one set of common props, one base class, one build order."""

from __future__ import annotations

import inspect
import typing

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk.assertions import Template

from scheduled_tasks_constructs import (
    CommonProps,
    ScheduledConstruct,
    ScheduledLambdaToTable,
    ScheduledTaskFanout,
)

RATE = scheduler.ScheduleExpression.rate(Duration.minutes(5))
WORKER = {
    "worker_code": lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    "worker_handler": "index.handler",
}
BUILD = {
    ScheduledLambdaToTable: {},
    ScheduledTaskFanout: {"tasks": [{"name": "a"}], **WORKER},
}
CONSTRUCTS = list(BUILD)


def _main_schedule(template: Template) -> dict:
    """The construct's schedule: the one that is not the watchdog's (``WatchdogSchedule``)."""
    (schedule,) = (s for key, s in template.find_resources("AWS::Scheduler::Schedule").items() if "Watchdog" not in key)
    return schedule


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_the_common_props_are_not_repeated_in_the_signature(construct) -> None:
    parameters = inspect.signature(construct.__init__).parameters
    assert set(CommonProps.__annotations__).isdisjoint(parameters)
    assert parameters["common"].kind is inspect.Parameter.VAR_KEYWORD
    assert issubclass(construct, ScheduledConstruct)


def test_schedule_is_the_one_required_common_prop() -> None:
    hints = typing.get_type_hints(CommonProps, include_extras=False)
    assert CommonProps.__required_keys__ == frozenset({"schedule"})
    assert set(hints) == set(CommonProps.__annotations__)


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_an_unknown_keyword_is_a_type_error_before_anything_is_built(construct) -> None:
    stack = Stack(App(), "Test")
    with pytest.raises(TypeError, match=rf"^{construct.__name__}.__init__\(\) got an unexpected keyword argument 'retries'$"):
        construct(stack, "Bad", schedule=RATE, retries=2, **BUILD[construct])
    assert stack.node.try_find_child("Bad") is None


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_a_missing_schedule_is_a_type_error(construct) -> None:
    stack = Stack(App(), "Test")
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'schedule'$"):
        construct(stack, "Bad", **BUILD[construct])
    assert stack.node.try_find_child("Bad") is None


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_common_props_given_as_one_mapping_reach_the_template(construct) -> None:
    stack = Stack(App(), "Test")
    nightly: CommonProps = {
        "schedule": scheduler.ScheduleExpression.expression("cron(0 2 * * ? *)"),
        "retry_attempts": 1,
        "max_event_age": Duration.minutes(10),
        "function_retry_attempts": 0,
        "alarms": False,
    }
    built = construct(stack, "Nightly", **BUILD[construct], **nightly)
    template = Template.from_stack(stack)
    schedule = _main_schedule(template)
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["Properties"]["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 600,
        "MaximumRetryAttempts": 1,
    }
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    (config,) = (c for key, c in configs.items() if "Watchdog" not in key)
    assert config["Properties"]["MaximumRetryAttempts"] == 0
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    # What the base class creates, both constructs have under the same names.
    assert built.schedule.node.id == "Schedule" and built.schedule_role.node.id == "ScheduleRole"
    assert built.alarm_topic is None and built.alarms == [] and built.missed_run_alarm is None
