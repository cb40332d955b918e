"""AlarmWebhook: alarm notifications from an SNS topic to Slack or Discord."""

from __future__ import annotations

from typing import Optional

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from . import _assets, _defaults, _grants, _schedule
from ._validation import Described, Problems
from .runtime import WEBHOOK_SECRET_ARN


class AlarmWebhook(Construct):
    """Posts the alarms of an SNS topic to a Slack or Discord incoming webhook.

    Slack and Discord webhooks cannot confirm an SNS subscription, so a small
    bundled function subscribes to the topic and posts one line per alarm
    state change (``ALARM: <name> - <description> (<reason>)``). The webhook
    URL stays in Secrets Manager: the function may read that one secret and
    gets its ARN, never the URL.

    Parameters
    ----------
    scope : Construct
        The parent construct.
    id : str
        The construct ID. Child IDs (``Function``, ``FunctionRole``,
        ``FunctionLogs``) are stable.
    topic : aws_sns.ITopic
        The alarm topic, e.g. a construct's ``alarm_topic``. Required.
    webhook_secret : aws_secretsmanager.ISecret
        A secret holding the Slack or Discord webhook URL (plain, or JSON with
        a ``"url"`` key). Required.
    log_retention : aws_logs.RetentionDays, optional
        Retention of the function's log group. Default: one month.

    Examples
    --------
    >>> fanout = ScheduledTaskFanout(stack, "Jobs", ...)  # doctest: +SKIP
    >>> AlarmWebhook(stack, "AlarmsToSlack",
    ...              topic=fanout.alarm_topic, webhook_secret=secret)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topic: sns.ITopic,
        webhook_secret: secretsmanager.ISecret,
        log_retention: Optional[logs.RetentionDays] = None,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(f"AlarmWebhook '{id}'")
        # jsii interfaces are not runtime-checkable: test for what is used.
        if not hasattr(topic, "add_subscription"):
            problems.add("topic", "an aws_sns.ITopic", Described(type(topic).__name__))
        if not hasattr(webhook_secret, "grant_read"):
            problems.add(
                "webhook_secret", "an aws_secretsmanager.ISecret", Described(type(webhook_secret).__name__)
            )
        if log_retention is not None and not isinstance(log_retention, logs.RetentionDays):
            problems.add("log_retention", "an aws_logs.RetentionDays", Described(type(log_retention).__name__))
        problems.raise_if_any()

        function, role, log_group = _schedule.create_function(
            self,
            "Function",
            code=_assets.runtime_code(),
            handler=_assets.handler_path("alarm_notifier"),
            memory_size=_defaults.NOTIFIER_MEMORY_MB,
            timeout=_defaults.NOTIFIER_TIMEOUT,
            log_retention=log_retention or _defaults.LOG_RETENTION,
            tracing=False,
            environment={WEBHOOK_SECRET_ARN: webhook_secret.secret_arn},
            description="Posts alarm notifications to a Slack or Discord webhook",
        )
        _grants.grant_secret_value(webhook_secret, function)
        topic.add_subscription(subscriptions.LambdaSubscription(function))
        #: The function that posts the notifications.
        self.function: lambda_.IFunction = function
        #: The function's role (it may read ``webhook_secret`` and write its logs).
        self.function_role: iam.IRole = role
        #: The function's log group.
        self.log_group: logs.ILogGroup = log_group
        #: The topic the function is subscribed to.
        self.topic: sns.ITopic = topic
