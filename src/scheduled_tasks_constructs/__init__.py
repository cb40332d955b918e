"""Scheduled tasks for the AWS CDK: cron and Airflow-style jobs without a server.

Two L3 constructs wrap EventBridge Scheduler, Lambda, SQS and DynamoDB with the
roles, grants, retries, dead-letter queues and alarms already right:

- :class:`ScheduledLambdaToTable`: a schedule invokes a function that records
  each run in a DynamoDB table.
- :class:`ScheduledTaskFanout`: a schedule invokes a "send tasks" function that
  puts tasks on an SQS queue; a "run task" function works them off.

Lambda-side helpers live in :mod:`scheduled_tasks_constructs.runtime`; the
:class:`RuntimeLayer` ships them to functions of your own.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._skeleton import CommonProps, ScheduledConstruct
    from ._validation import ScheduledTasksValidationError
    from .alarm_webhook import AlarmWebhook
    from .dependencies_layer import DependenciesLayer
    from .runtime_layer import RuntimeLayer
    from .scheduled_lambda_to_table import ScheduledLambdaToTable
    from .scheduled_task_fanout import ScheduledTaskFanout

__all__ = [
    "AlarmWebhook",
    "CommonProps",
    "DependenciesLayer",
    "RuntimeLayer",
    "ScheduledConstruct",
    "ScheduledTaskFanout",
    "ScheduledLambdaToTable",
    "ScheduledTasksValidationError",
]

# The constructs import aws_cdk, which starts the jsii runtime (a node
# process, about 2 s). They are imported on first use (PEP 562), so that the
# runtime, cost, schedule_expressions and local modules import without it.
_MODULES = {
    "AlarmWebhook": ".alarm_webhook",
    "CommonProps": "._skeleton",
    "DependenciesLayer": ".dependencies_layer",
    "RuntimeLayer": ".runtime_layer",
    "ScheduledConstruct": "._skeleton",
    "ScheduledLambdaToTable": ".scheduled_lambda_to_table",
    "ScheduledTaskFanout": ".scheduled_task_fanout",
    "ScheduledTasksValidationError": "._validation",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
