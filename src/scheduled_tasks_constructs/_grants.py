"""The narrow grants of the constructs' roles: each allows what the code uses.

CDK's broad grants (``grant_send_messages``, ``grant_consume_messages``,
``grant_write_data``, ``grant_read``) add actions the bundled code and the
Lambda wiring never call (``sqs:GetQueueUrl``, ``dynamodb:DeleteItem``,
``secretsmanager:DescribeSecret``, ...). These grant the actions in use only,
and keep CDK's own key grants when the resource has a customer-managed key.
"""

from __future__ import annotations

from typing import Any, Optional

import jsii
from aws_cdk import Annotations, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

#: What Lambda's SQS event source mapping calls with the function's role.
SQS_EVENT_SOURCE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
#: The key actions CDK grants with ``grant_send_messages`` on a queue's key.
_QUEUE_KEY_SEND_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
#: The key actions CDK grants with ``grant_write_data`` on a table's key.
_TABLE_KEY_WRITE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
)


def grant_send(queue: sqs.IQueue, grantee: iam.IGrantable) -> None:
    """``sqs:SendMessage`` on ``queue`` (it also covers ``SendMessageBatch``)."""
    queue.grant(grantee, "sqs:SendMessage")
    if queue.encryption_master_key is not None:
        queue.encryption_master_key.grant(grantee, *_QUEUE_KEY_SEND_ACTIONS)


def grant_event_source(queue: sqs.IQueue, grantee: iam.IGrantable) -> None:
    """What an SQS event source mapping needs on ``queue`` (no ``GetQueueUrl``)."""
    queue.grant(grantee, *SQS_EVENT_SOURCE_ACTIONS)
    if queue.encryption_master_key is not None:
        queue.encryption_master_key.grant_decrypt(grantee)


def grant_put_item(table: dynamodb.ITable, grantee: iam.IGrantable) -> None:
    """``dynamodb:PutItem`` on ``table``, the one call the bundled handler makes."""
    table.grant(grantee, "dynamodb:PutItem")
    if table.encryption_key is not None:
        table.encryption_key.grant(grantee, *_TABLE_KEY_WRITE_ACTIONS)


def grant_ledger(table: dynamodb.ITable, grantee: iam.IGrantable, *, reads: bool) -> None:
    """What keeping the run ledger takes: ``UpdateItem`` and ``DeleteItem`` (the overlap lock), and ``GetItem`` with ``reads``."""
    actions = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    if reads:
        actions.insert(0, "dynamodb:GetItem")
    # To the principal only: a function imported without its role gets CDK's
    # warning to grant it yourself, as for its queue, instead of an error.
    iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[table.table_arn])
    if table.encryption_key is not None and not isinstance(grantee.grant_principal, iam.UnknownPrincipal):
        table.encryption_key.grant(grantee, *_TABLE_KEY_WRITE_ACTIONS)


def grant_watchdog(
    table: dynamodb.ITable, grantee: iam.IGrantable, schedule: scheduler.ISchedule, *, scan: bool
) -> None:
    """What the watchdog does: read runs by key, keep its own state item, and ``GetSchedule`` of the schedule it watches.

    ``BatchGetItem`` reads the runs of the slots it still watches;
    ``PutItem`` creates the state item once, ``GetItem`` and ``UpdateItem``
    keep it; ``Scan`` (only with ``scan``: a rate schedule without a start,
    whose fire times follow its creation time) finds a first run to learn
    them from. The metrics go out as log lines (no ``PutMetricData``).
    """
    actions = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    if scan:
        actions.append("dynamodb:Scan")
    iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[table.table_arn])
    if table.encryption_key is not None:
        table.encryption_key.grant(grantee, *_TABLE_KEY_WRITE_ACTIONS)
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["scheduler:GetSchedule"], resource_arns=[schedule.schedule_arn]
    )


def grant_self_invoke(scope: Construct, id: str, function: lambda_.IFunction, role: iam.IRole) -> iam.Policy:
    """Let ``function`` invoke itself (``lambda:InvokeFunction`` on its own ARN), in a policy of its own.

    Not through the role's default policy: the function depends on that
    one, and a statement naming the function's ARN there would be a
    circular dependency.
    """
    return iam.Policy(
        scope,
        id,
        roles=[role],
        statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn])],
    )


def grant_secret_value(secret: secretsmanager.ISecret, grantee: iam.IGrantable) -> None:
    """``secretsmanager:GetSecretValue`` on ``secret`` (no ``DescribeSecret``).

    The resource is the secret's full ARN, or its partial ARN followed by
    Secrets Manager's six random characters when the full ARN is unknown
    (as CDK's ``grant_read`` does); a customer-managed key may decrypt for
    the grantee through Secrets Manager only.
    """
    arn = secret.secret_full_arn or f"{secret.secret_arn}-??????"
    iam.Grant.add_to_principal_or_resource(
        grantee=grantee,
        actions=["secretsmanager:GetSecretValue"],
        resource_arns=[arn],
        resource=secret,
    )
    if secret.encryption_key is not None:
        region = Stack.of(secret).region
        secret.encryption_key.grant_decrypt(
            iam.ViaServicePrincipal(f"secretsmanager.{region}.amazonaws.com", grantee.grant_principal)
        )


@jsii.implements(lambda_.IDestination)
class SendOnlySqsDestination:
    """Lambda's on-failure destination to ``queue``, granting ``sqs:SendMessage`` only."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self, _scope: Construct, fn: lambda_.IFunction, options: Optional[Any] = None
    ) -> lambda_.DestinationConfig:
        grant_send(self.queue, fn)
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)


class ConsumeOnlySqsEventSource(event_sources.SqsEventSource):
    """``SqsEventSource`` whose function may call only what the mapping uses.

    It creates the same event source mapping as ``SqsEventSource`` (same ID
    and settings) and grants :data:`SQS_EVENT_SOURCE_ACTIONS` instead of
    ``grant_consume_messages``.
    """

    def __init__(self, queue: sqs.IQueue, **props: Any) -> None:
        super().__init__(queue, **props)
        self._consumed = queue
        self._settings = props
        self._mapping: Optional[lambda_.EventSourceMapping] = None

    def bind(self, target: lambda_.IFunction) -> None:
        self._mapping = target.add_event_source_mapping(
            f"SqsEventSource:{Names.node_unique_id(self._consumed.node)}",
            event_source_arn=self._consumed.queue_arn,
            **self._settings,
        )
        if target.role is not None:
            grant_event_source(self._consumed, target)
        else:
            # As SqsEventSource does: access then comes from a resource policy.
            Annotations.of(target).add_warning_v2(
                "@aws-cdk/aws-lambda-event-sources:sqsFunctionImportWithoutRole",
                f"Function '{target.node.path}' was imported without an IAM role so it was not "
                f"granted access to consume messages from '{self._consumed.node.path}'",
            )

    @property
    def event_source_mapping_id(self) -> str:
        """The mapping's ID (once bound)."""
        return self._bound().event_source_mapping_id

    @property
    def event_source_mapping_arn(self) -> str:
        """The mapping's ARN (once bound)."""
        return self._bound().event_source_mapping_arn

    def _bound(self) -> lambda_.EventSourceMapping:
        if self._mapping is None:
            raise RuntimeError("the SQS event source is not bound to a function yet")
        return self._mapping
