"""The alarm topic a construct creates when the user passes none."""

from __future__ import annotations

from aws_cdk import aws_sns as sns
from constructs import Construct


def alarm_topic(scope: Construct) -> sns.Topic:
    """An HTTPS-only SNS topic named ``AlarmTopic`` under ``scope``.

    It is not KMS-encrypted: CloudWatch cannot publish to a topic encrypted
    with the AWS-managed SNS key, and a customer-managed key costs a monthly
    fee. Alarm notifications carry alarm names and states only. Pass your own
    encrypted topic as ``alarm_topic`` where that matters.
    """
    return sns.Topic(scope, "AlarmTopic", enforce_ssl=True)
