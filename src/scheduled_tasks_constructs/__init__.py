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

from ._validation import ScheduledTasksValidationError
from .alarm_webhook import AlarmWebhook
from .dependencies_layer import DependenciesLayer
from .runtime_layer import RuntimeLayer
from .scheduled_lambda_to_table import ScheduledLambdaToTable
from .scheduled_task_fanout import ScheduledTaskFanout

__all__ = [
    "AlarmWebhook",
    "DependenciesLayer",
    "RuntimeLayer",
    "ScheduledTaskFanout",
    "ScheduledLambdaToTable",
    "ScheduledTasksValidationError",
]
