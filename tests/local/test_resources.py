"""Local resources are made from their template properties, and imported ones are never guessed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest

from scheduled_tasks_constructs.local.assembly import CloudAssembly, UnresolvableError
from scheduled_tasks_constructs.local.resources import ExternalResourceError, LocalResources, load_external_resources

TEMPLATE = {
    "Resources": {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}},
        "Tasks": {"Type": "AWS::SQS::Queue", "Properties": {
            "VisibilityTimeout": 360, "DelaySeconds": 2, "ReceiveMessageWaitTimeSeconds": 1,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 4},
        }},
        "Fifo": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True, "ContentBasedDeduplication": True}},
        "Named": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "fixed-${AWS::Region}-NAME"}}},
        "Runs": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "at", "AttributeType": "N"},
                                     {"AttributeName": "kind", "AttributeType": "S"}],
            "GlobalSecondaryIndexes": [{"IndexName": "byKind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "ALL"}, "ProvisionedThroughput": {"ReadCapacityUnits": 1}}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "BillingMode": "PROVISIONED",
        }},
        "Hook": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "https://hooks.slack.com/services/REAL"}},
        "Generated": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "GenerateSecretString": {"SecretStringTemplate": "{\"user\": \"app\"}", "GenerateStringKey": "password", "PasswordLength": 12}}},
        "Cluster": {"Type": "AWS::RDS::DBCluster", "Properties": {}},
    }
}


@pytest.fixture
def resources(tmp_path: Path, moto_server: str, write_assembly) -> LocalResources:
    write_assembly(tmp_path, {"S": {"template": TEMPLATE}})
    return LocalResources(
        CloudAssembly(tmp_path), endpoint=moto_server, region="us-east-1", suffix=uuid.uuid4().hex[:8],
        external=load_external_resources(None), webhook_url=lambda stack, key: "http://127.0.0.1:1/hooks/x",
    )


def stack_of(resources: LocalResources):
    return resources.assembly.stack("S")


def attributes(resources: LocalResources, url: str) -> Dict[str, str]:
    return resources.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_a_queue_gets_its_template_attributes_and_its_redrive_policy(resources: LocalResources) -> None:
    values = resources.physical(stack_of(resources), "Tasks")

    got = attributes(resources, values["QueueUrl"])
    assert (got["VisibilityTimeout"], got["DelaySeconds"], got["ReceiveMessageWaitTimeSeconds"]) == ("360", "2", "1")
    redrive = json.loads(got["RedrivePolicy"])
    dlq = resources.physical(stack_of(resources), "Dlq")
    assert redrive == {"deadLetterTargetArn": dlq["Arn"], "maxReceiveCount": 4}
    assert attributes(resources, dlq["QueueUrl"])["MessageRetentionPeriod"] == "1209600"
    assert values["QueueName"].startswith("S-Tasks-") and values["Ref"] == values["QueueUrl"]
    assert [c[:2] for c in resources.created] == [("queue", dlq["QueueName"]), ("queue", values["QueueName"])]


def test_a_queue_without_a_redrive_policy_gets_none(resources: LocalResources) -> None:
    values = resources.physical(stack_of(resources), "Dlq")
    assert "RedrivePolicy" not in attributes(resources, values["QueueUrl"])


def test_names_given_in_the_template_are_kept_and_fifo_queues_end_in_fifo(resources: LocalResources) -> None:
    assert resources.physical(stack_of(resources), "Named")["QueueName"] == "fixed-us-east-1-NAME"
    fifo = resources.physical(stack_of(resources), "Fifo")
    assert fifo["QueueName"].endswith(".fifo")
    assert attributes(resources, fifo["QueueUrl"])["FifoQueue"] == "true"


def test_a_table_gets_its_key_schema_indexes_and_ttl(resources: LocalResources) -> None:
    name = resources.physical(stack_of(resources), "Runs")["Ref"]

    table = resources.dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == TEMPLATE["Resources"]["Runs"]["Properties"]["KeySchema"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["byKind"]
    ttl = resources.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    with pytest.raises(resources.dynamodb.exceptions.ClientError, match="key"):
        resources.dynamodb.put_item(TableName=name, Item={"run_id": {"S": "x"}})  # the real keys are required


def test_a_webhook_secret_holds_the_local_sink_and_others_their_template_value(resources: LocalResources) -> None:
    resources.webhook_secrets[("S", "Hook")] = "http://127.0.0.1:1/hooks/local"
    secrets = resources.client("secretsmanager")

    hook = resources.physical(stack_of(resources), "Hook")["Ref"]
    generated = resources.physical(stack_of(resources), "Generated")["Ref"]

    assert secrets.get_secret_value(SecretId=hook)["SecretString"] == "http://127.0.0.1:1/hooks/local"
    value = json.loads(secrets.get_secret_value(SecretId=generated)["SecretString"])
    assert value["user"] == "app" and len(value["password"]) == 12


def test_a_resource_type_the_runner_does_not_make_is_named_in_the_error(resources: LocalResources) -> None:
    with pytest.raises(UnresolvableError, match="Cluster is a AWS::RDS::DBCluster, which the local runner does not create"):
        resources.physical(stack_of(resources), "Cluster")


def test_external_resources_come_from_the_endpoint_or_the_users_schema(resources: LocalResources, tmp_path: Path) -> None:
    with pytest.raises(ExternalResourceError, match="'not-here'.*--external-resources FILE"):
        resources.external_table("not-here", "the run table")
    with pytest.raises(ExternalResourceError, match="queue 'nowhere'"):
        resources.external_queue("arn:aws:sqs:us-east-1:111122223333:nowhere", "the task queue")

    schema = tmp_path / "external.json"
    name = f"ext-{uuid.uuid4().hex[:6]}"
    schema.write_text(json.dumps({
        "tables": {name: {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                          "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}},
        "queues": {name: {"Attributes": {"VisibilityTimeout": "77"}}},
    }))
    resources.external = load_external_resources(str(schema))

    assert resources.external_table(name, "the run table") == name
    assert resources.dynamodb.describe_table(TableName=name)["Table"]["KeySchema"][0]["AttributeName"] == "pk"
    url, arn = resources.external_queue(f"arn:aws:sqs:us-east-1:111122223333:{name}", "the task queue")
    assert attributes(resources, url)["VisibilityTimeout"] == "77" and arn.endswith(f":{name}")
    assert resources.external_table(name, "again") == name  # now on the endpoint: used as it is


@pytest.mark.parametrize(
    "content, message",
    [
        ("{nope", "cannot read it as JSON"),
        (json.dumps({"buckets": {}}), 'expected an object with "tables"'),
        (json.dumps({"tables": {"t": {"KeySchema": []}}}), "needs KeySchema and AttributeDefinitions"),
        (json.dumps({"queues": {"q": {"Attributes": []}}}), "must be"),
    ],
)
def test_a_bad_external_resources_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(Exception, match=message):
        load_external_resources(str(path))
