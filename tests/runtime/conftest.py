"""Fixtures for the runtime tests: boto3 clients on the moto server, queues, tables."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from scheduled_tasks_constructs.runtime.caches import reset_caches
from scheduled_tasks_constructs.runtime.worker import process_batch

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


@pytest.fixture(scope="session")
def new_client(moto_server: str) -> Callable[[str], Any]:
    """Make a new boto3 client on the moto server (for tests that hook into it)."""

    def make(service: str) -> Any:
        return boto3.client(
            service, endpoint_url=moto_server, region_name=REGION, **FAKE_CREDENTIALS
        )

    return make


@pytest.fixture(scope="session")
def sqs(new_client: Callable[[str], Any]) -> Any:
    """Shared SQS client on the moto server."""
    return new_client("sqs")


@pytest.fixture(scope="session")
def dynamodb(new_client: Callable[[str], Any]) -> Any:
    """Shared DynamoDB client on the moto server."""
    return new_client("dynamodb")


@pytest.fixture(scope="session")
def secretsmanager(new_client: Callable[[str], Any]) -> Any:
    """Shared Secrets Manager client on the moto server."""
    return new_client("secretsmanager")


def unique(prefix: str) -> str:
    """Return a resource name no other test (or xdist worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class QueuePair:
    """A queue and, when made with a redrive policy, its dead-letter queue."""

    url: str
    arn: str
    dlq_url: str | None = None


@pytest.fixture
def make_queue(sqs: Any) -> Callable[..., QueuePair]:
    """Create a uniquely named queue, optionally with a dead-letter queue."""

    def make(*, max_receive_count: int | None = None, visibility_timeout: int = 30) -> QueuePair:
        dlq_url = None
        attributes = {"VisibilityTimeout": str(visibility_timeout)}
        if max_receive_count is not None:
            dlq_url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
            )
        url = sqs.create_queue(QueueName=unique("tasks"), Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return QueuePair(url=url, arn=arn, dlq_url=dlq_url)

    return make


@pytest.fixture
def make_table(dynamodb: Any) -> Callable[[str], str]:
    """Create a uniquely named on-demand table with a string partition key."""

    def make(key: str) -> str:
        name = unique("table")
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    return make


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, moto_server: str, aws_env: None
) -> Iterator[pytest.MonkeyPatch]:
    """Environment of a handler running "in Lambda" against the moto server.

    boto3 honours ``AWS_ENDPOINT_URL``; what a container keeps between
    invocations (clients, webhook URLs) is reset before and after, through the
    public ``reset_caches``, so nothing leaks between tests.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    reset_caches()
    yield monkeypatch
    reset_caches()


class LambdaContext:
    """The part of the Lambda context object the handlers read."""

    def __init__(self, request_id: str | None = None) -> None:
        self.aws_request_id = request_id or str(uuid.uuid4())


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Build the event Lambda's SQS event source passes for received messages."""
    records = []
    for message in messages:
        attributes = {key: value for key, value in message.get("Attributes", {}).items()}
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def receive(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive up to 10 messages with their receive count and attributes."""
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        MessageAttributeNames=["All"],
    )
    return response.get("Messages", [])


@dataclass
class DrainStats:
    """What :func:`drain` did."""

    batches: int = 0
    deliveries: int = 0
    failures: int = 0
    deleted: int = 0


def drain(
    sqs: Any,
    queue: QueuePair,
    fn: Callable[[Any], Any],
    *,
    invoke: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
    max_batches: int = 2_000,
) -> DrainStats:
    """Play the Lambda SQS event source: receive, process_batch, delete successes.

    Runs until a receive returns nothing (with ``VisibilityTimeout=0`` failed
    messages come back at once, and moto moves a message to the dead-letter
    queue on the receive after its ``maxReceiveCount``-th delivery).
    ``invoke(batch_number, event)`` replaces the plain ``process_batch(event,
    fn)`` call (to deliver a batch twice, say).
    """
    stats = DrainStats()
    for number in range(max_batches):
        messages = receive(sqs, queue.url)
        if not messages:
            return stats
        event = sqs_event(messages, queue.arn)
        if invoke is None:
            response = process_batch(event, fn)
        else:
            response = invoke(number, event)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        stats.batches += 1
        stats.deliveries += len(messages)
        stats.failures += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            result = sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
            assert not result.get("Failed"), result.get("Failed")
            stats.deleted += len(done)
    raise AssertionError(f"queue not drained after {max_batches} batches")


def all_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of a queue (not one with a redrive policy)."""
    found: list[dict[str, Any]] = []
    while True:
        messages = receive(sqs, queue_url)
        if not messages:
            return found
        found.extend(messages)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


def scan_all(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item of a table, as DynamoDB attribute values."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# Helpers as fixtures, so test modules need not import this file.


@pytest.fixture
def to_event() -> Callable[[list[dict[str, Any]], str], dict[str, Any]]:
    """:func:`sqs_event`."""
    return sqs_event


@pytest.fixture
def receive_some(sqs: Any) -> Callable[[str], list[dict[str, Any]]]:
    """:func:`receive` on the shared client."""
    return lambda queue_url: receive(sqs, queue_url)


@pytest.fixture
def drain_queue(sqs: Any) -> Callable[..., DrainStats]:
    """:func:`drain` on the shared client."""
    return lambda queue, fn, **kwargs: drain(sqs, queue, fn, **kwargs)


@pytest.fixture
def queue_messages(sqs: Any) -> Callable[[str], list[dict[str, Any]]]:
    """:func:`all_messages` on the shared client."""
    return lambda queue_url: all_messages(sqs, queue_url)


@pytest.fixture
def table_items(dynamodb: Any) -> Callable[[str], list[dict[str, Any]]]:
    """:func:`scan_all` on the shared client."""
    return lambda table_name: scan_all(dynamodb, table_name)


@pytest.fixture
def lambda_context() -> type[LambdaContext]:
    """:class:`LambdaContext` (call it for a context with a new request id)."""
    return LambdaContext
