"""The local copies of a template's resources, made on a local AWS endpoint.

:class:`LocalResources` creates a resource the first time something the run
needs refers to it (a function's environment, an event source mapping, a
redrive policy, an on-failure destination), from its template properties and
nothing else:

- ``AWS::SQS::Queue``: visibility timeout, retention, delay, maximum message
  size, receive wait time, redrive policy (or none), FIFO settings. Encryption
  settings have no local effect and are left out.
- ``AWS::DynamoDB::Table`` and ``AWS::DynamoDB::GlobalTable``: key schema,
  attribute definitions, secondary indexes, time to live; billed on demand.
- ``AWS::SecretsManager::Secret``: its ``SecretString``, or a generated one
  for ``GenerateSecretString``. A construct's webhook secret holds the URL of
  the local webhook sink instead, so nothing is posted to a real chat.
- ``AWS::SNS::Topic``, ``AWS::S3::Bucket``, ``AWS::SSM::Parameter``.
- ``AWS::Lambda::Function`` and a few others are named but not created: a
  ``Ref`` or ``Arn`` to them resolves to their local name and ARN.

A resource with a name in its template keeps that name; the others get
``<stack>-<logical ID>-<run suffix>``, as CloudFormation generates one.
Given the suffix of an earlier run and ``reuse=True``, the resources that run
made are used as they are (their items, messages and secrets kept), and only
the missing ones are created: so a later ``trigger`` or ``backfill`` on the
same endpoint lands in the same run ledger.

Resources the app only imports (by name or ARN) are *external*: they are used
on the endpoint when they exist there, created from a schema the user gives
(:func:`load_external_resources`), or refused with a clear error.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .assembly import (
    AssemblyError,
    CloudAssembly,
    Intrinsics,
    StackArtifact,
    UnresolvableError,
)
from .endpoint import client

__all__ = [
    "ACCOUNT",
    "ExternalResourceError",
    "LocalResources",
    "load_external_resources",
    "name_from_arn",
]

#: The account ID of the local endpoint's ARNs (moto's default).
ACCOUNT = "123456789012"

_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
_NAMED_ONLY = {
    "AWS::Lambda::Function": ("FunctionName", "function", 64),
    "AWS::Lambda::LayerVersion": (None, "layer", 64),
    "AWS::IAM::Role": ("RoleName", "role", 64),
    "AWS::Logs::LogGroup": ("LogGroupName", "log-group", 512),
    "AWS::Scheduler::Schedule": ("Name", "schedule", 64),
    "AWS::Scheduler::ScheduleGroup": ("Name", "schedule-group", 64),
}


class ExternalResourceError(AssemblyError):
    """An imported resource is neither on the endpoint nor described by the user."""


def name_from_arn(arn: str) -> str:
    """The resource name at the end of an ARN (``table/x`` -> ``x``, ``...:queue-name`` -> ``queue-name``).

    Examples
    --------
    >>> name_from_arn("arn:aws:dynamodb:us-east-1:111122223333:table/runs")
    'runs'
    >>> name_from_arn("arn:aws:sqs:us-east-1:111122223333:tasks")
    'tasks'
    """
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    return tail.split("/", 1)[1] if tail.startswith(("table/", "function/")) else tail.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def load_external_resources(path: Optional[str]) -> Dict[str, Dict[str, Any]]:
    """Read the schema file of external resources (``--external-resources``).

    The file is JSON: ``{"tables": {NAME: CreateTable parameters},
    "queues": {NAME: {"Attributes": CreateQueue attributes}}}``. A table needs
    ``KeySchema`` and ``AttributeDefinitions``; everything else is optional.

    Parameters
    ----------
    path : str or None
        The file (None: no external resources).

    Returns
    -------
    dict
        ``{"tables": {...}, "queues": {...}}``.

    Raises
    ------
    AssemblyError
        When the file cannot be read or is not of that shape.
    """
    if not path:
        return {"tables": {}, "queues": {}}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"--external-resources {path}: cannot read it as JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or set(data) - {"tables", "queues"}:
        raise AssemblyError(f'--external-resources {path}: expected an object with "tables" and/or "queues"')
    tables = data.get("tables") or {}
    queues = data.get("queues") or {}
    for name, table in tables.items():
        if not isinstance(table, dict) or "KeySchema" not in table or "AttributeDefinitions" not in table:
            raise AssemblyError(f"--external-resources {path}: table {name!r} needs KeySchema and AttributeDefinitions")
    for name, queue in queues.items():
        if not isinstance(queue, dict) or not isinstance(queue.get("Attributes", {}), dict):
            raise AssemblyError(f'--external-resources {path}: queue {name!r} must be {{"Attributes": {{...}}}}')
    return {"tables": tables, "queues": queues}


class LocalResources:
    """The app's resources on one local endpoint, made on first use.

    Parameters
    ----------
    assembly : CloudAssembly
        The app.
    endpoint : str
        The local AWS endpoint.
    region : str
        The Region of the local resources.
    suffix : str
        Appended to generated names (one per run).
    external : dict
        The user's schemas of external resources (:func:`load_external_resources`).
    webhook_url : callable
        ``webhook_url(stack, logical_id_or_name) -> str``: the local sink URL
        a webhook secret holds.
    reuse : bool, optional
        Use a resource that already exists on the endpoint under its name (an
        earlier run's, with the same ``suffix``) instead of failing to create
        it; a webhook secret is then set to this run's sink URL. Default:
        False.
    """

    def __init__(
        self,
        assembly: CloudAssembly,
        *,
        endpoint: str,
        region: str,
        suffix: str,
        external: Dict[str, Dict[str, Any]],
        webhook_url: Callable[[str, str], str],
        reuse: bool = False,
    ) -> None:
        self.assembly = assembly
        self.reuse = reuse
        self.region = region
        self.suffix = suffix
        self.external = external
        self.webhook_secrets: Dict[Tuple[str, str], str] = {}
        self._webhook_url = webhook_url
        self._exports = assembly.exports()
        self._made: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self._creating: set = set()
        #: What was made: (kind, name, stack, logical ID), in creation order.
        self.created: List[Tuple[str, str, str, str]] = []
        self.sqs = client("sqs", endpoint, region)
        self.dynamodb = client("dynamodb", endpoint, region)
        self._endpoint = endpoint
        self._clients: Dict[str, Any] = {}
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def client(self, service: str) -> Any:
        """A client of the endpoint."""
        if service not in self._clients:
            self._clients[service] = client(service, self._endpoint, self.region)
        return self._clients[service]

    def intrinsics(self, stack: StackArtifact) -> Intrinsics:
        """An evaluator of ``stack``'s template values against these resources."""
        pseudo = dict(self.pseudo)
        pseudo["AWS::StackName"] = stack.stack_name
        pseudo["AWS::StackId"] = f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{stack.stack_name}/local"
        return Intrinsics(stack, pseudo, self.physical, self._exports)

    def locate(self, stack: StackArtifact, value: Any) -> Optional[Tuple[StackArtifact, str]]:
        """The resource a template value refers to (``Ref``, ``Fn::GetAtt``, ``Fn::ImportValue``), if any."""
        if isinstance(value, dict) and len(value) == 1:
            (name, argument), = value.items()
            if name == "Ref" and isinstance(argument, str) and stack.type_of(argument):
                return stack, argument
            if name == "Fn::GetAtt":
                target = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
                if isinstance(target, str) and stack.type_of(target):
                    return stack, target
            if name == "Fn::ImportValue":
                export = self.intrinsics(stack).resolve(argument)
                if export in self._exports:
                    other, exported = self._exports[export]
                    return self.locate(other, exported)
        return None

    # -- physical resources --------------------------------------------------------------

    def physical(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        """The local values (``Ref`` and attributes) of one resource, creating it first."""
        key = (stack.artifact_id, logical_id)
        if key in self._made:
            return self._made[key]
        if key in self._creating:
            raise UnresolvableError(f"{logical_id} refers to itself through its properties")
        self._creating.add(key)
        try:
            kind = stack.type_of(logical_id)
            make = _MAKERS.get(kind or "")
            if make is not None:
                values = make(self, stack, logical_id)
            elif kind in _NAMED_ONLY:
                values = self._named_only(stack, logical_id, kind)
            else:
                raise UnresolvableError(
                    f"{logical_id} is a {kind}, which the local runner does not create"
                )
        finally:
            self._creating.discard(key)
        self._made[key] = values
        return values

    def _name(self, stack: StackArtifact, logical_id: str, given: Any, limit: int, *, fifo: bool = False) -> str:
        if given is not None:
            return str(self.intrinsics(stack).resolve(given))
        tail = f"-{self.suffix}" + (".fifo" if fifo else "")
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{stack.stack_name}-{logical_id}")
        return base[: max(1, limit - len(tail))] + tail

    def _record(self, kind: str, name: str, stack: StackArtifact, logical_id: str) -> None:
        self.created.append((kind, name, stack.stack_name, logical_id))

    def _named_only(self, stack: StackArtifact, logical_id: str, kind: str) -> Dict[str, Any]:
        name_prop, arn_kind, limit = _NAMED_ONLY[kind]
        props = stack.properties(logical_id)
        name = self._name(stack, logical_id, props.get(name_prop) if name_prop else None, limit)
        service = {"function": "lambda", "layer": "lambda", "role": "iam", "log-group": "logs"}.get(arn_kind, "scheduler")
        if arn_kind == "role":
            arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        elif arn_kind == "log-group":
            arn = f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}:*"
        elif arn_kind == "schedule":
            arn = f"arn:aws:scheduler:{self.region}:{ACCOUNT}:schedule/default/{name}"
        elif arn_kind == "layer":
            arn = f"arn:aws:lambda:{self.region}:{ACCOUNT}:layer:{name}:1"
            return {"Ref": arn, "Arn": arn}
        else:
            arn = f"arn:aws:{service}:{self.region}:{ACCOUNT}:{arn_kind}:{name}"
        return {"Ref": name, "Arn": arn}

    def function_name(self, stack: StackArtifact, logical_id: str) -> Tuple[str, str]:
        """A function's local name and ARN."""
        values = self.physical(stack, logical_id)
        return values["Ref"], values["Arn"]

    def _queue(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        props = stack.properties(logical_id)
        ctx = self.intrinsics(stack)
        fifo = bool(ctx.resolve(props.get("FifoQueue", False)))
        name = self._name(stack, logical_id, props.get("QueueName"), 80, fifo=fifo)
        attributes: Dict[str, str] = {}
        for attribute in _QUEUE_ATTRIBUTES:
            if attribute in props:
                value = ctx.resolve(props[attribute])
                attributes[attribute] = str(value).lower() if isinstance(value, bool) else str(value)
        for policy in ("RedrivePolicy", "RedriveAllowPolicy"):
            if policy in props:
                value = ctx.resolve(props[policy])
                attributes[policy] = value if isinstance(value, str) else json.dumps(value)
        url = self._existing_queue(name) if self.reuse else None
        if url is None:
            url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            self._record("queue", name, stack, logical_id)
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _existing_queue(self, name: str) -> Optional[str]:
        try:
            return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except self.sqs.exceptions.QueueDoesNotExist:
            return None

    def _table(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        props = self.intrinsics(stack).resolve(stack.properties(logical_id))
        name = self._name(stack, logical_id, props.get("TableName"), 255)
        request: Dict[str, Any] = {
            "TableName": name,
            "KeySchema": props.get("KeySchema") or [],
            "AttributeDefinitions": props.get("AttributeDefinitions") or [],
            "BillingMode": "PAY_PER_REQUEST",
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = [
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
                for index in props.get(key) or []
            ]
            if indexes:
                request[key] = indexes
        try:
            self.dynamodb.create_table(**request)
        except self.dynamodb.exceptions.ResourceInUseException:
            if not self.reuse:
                raise
            arn = f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"
            return {"Ref": name, "Arn": arn, "StreamArn": f"{arn}/stream/local"}
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled") and ttl.get("AttributeName"):
            self.dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        self._record("table", name, stack, logical_id)
        arn = f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"
        return {"Ref": name, "Arn": arn, "StreamArn": f"{arn}/stream/local"}

    def _secret(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        props = stack.properties(logical_id)
        name = self._name(stack, logical_id, props.get("Name"), 256)
        key = (stack.artifact_id, logical_id)
        if key in self.webhook_secrets:
            value = self.webhook_secrets[key]
        elif "SecretString" in props:
            value = str(self.intrinsics(stack).resolve(props["SecretString"]))
        else:
            value = _generated_secret(self.intrinsics(stack).resolve(props.get("GenerateSecretString") or {}))
        secrets_client = self.client("secretsmanager")
        try:
            arn = secrets_client.create_secret(Name=name, SecretString=value)["ARN"]
        except secrets_client.exceptions.ResourceExistsException:
            if not self.reuse:
                raise
            if key in self.webhook_secrets:
                secrets_client.put_secret_value(SecretId=name, SecretString=value)
            arn = secrets_client.describe_secret(SecretId=name)["ARN"]
            return {"Ref": arn, "Id": arn}
        self._record("secret", name, stack, logical_id)
        return {"Ref": arn, "Id": arn}

    def _topic(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        props = stack.properties(logical_id)
        name = self._name(stack, logical_id, props.get("TopicName"), 256)
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self._record("topic", name, stack, logical_id)
        return {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _bucket(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        props = stack.properties(logical_id)
        name = self._name(stack, logical_id, props.get("BucketName"), 63).lower().replace("_", "-")
        s3 = self.client("s3")
        try:
            if self.region == "us-east-1":
                s3.create_bucket(Bucket=name)
            else:
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
            self._record("bucket", name, stack, logical_id)
        except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            if not self.reuse:
                raise
        return {
            "Ref": name,
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }

    def _parameter(self, stack: StackArtifact, logical_id: str) -> Dict[str, Any]:
        props = self.intrinsics(stack).resolve(stack.properties(logical_id))
        name = props.get("Name") or "/" + self._name(stack, logical_id, None, 1000)
        self.client("ssm").put_parameter(Name=name, Value=str(props.get("Value", "")), Type=props.get("Type", "String"), Overwrite=True)
        self._record("parameter", name, stack, logical_id)
        return {"Ref": name, "Value": props.get("Value"), "Type": props.get("Type", "String")}

    # -- external resources --------------------------------------------------------------

    def external_table(self, name: str, what: str) -> str:
        """Make sure an imported table exists locally; returns its name.

        Raises
        ------
        ExternalResourceError
            When it is neither on the endpoint nor in the user's schemas.
        """
        try:
            self.dynamodb.describe_table(TableName=name)
            return name
        except self.dynamodb.exceptions.ResourceNotFoundException:
            pass
        schema = self.external["tables"].get(name)
        if schema is None:
            raise ExternalResourceError(
                f"{what} is the table {name!r}, which the app imports (it is not in the template); "
                "it is not on the endpoint either: give its key schema with --external-resources FILE, "
                "or run with --endpoint where it exists"
            )
        request = {"BillingMode": "PAY_PER_REQUEST", **schema, "TableName": name}
        self.dynamodb.create_table(**request)
        self.created.append(("table", name, "(external)", name))
        return name

    def external_queue(self, arn_or_name: str, what: str) -> Tuple[str, str]:
        """Make sure an imported queue exists locally; returns its URL and ARN.

        Raises
        ------
        ExternalResourceError
            When it is neither on the endpoint nor in the user's schemas.
        """
        name = name_from_arn(arn_or_name)
        try:
            url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except self.sqs.exceptions.QueueDoesNotExist:
            schema = self.external["queues"].get(name)
            if schema is None:
                raise ExternalResourceError(
                    f"{what} is the queue {name!r}, which the app imports (it is not in the template); "
                    "it is not on the endpoint either: describe it with --external-resources FILE, "
                    "or run with --endpoint where it exists"
                ) from None
            url = self.sqs.create_queue(QueueName=name, Attributes=dict(schema.get("Attributes") or {}))["QueueUrl"]
            self.created.append(("queue", name, "(external)", name))
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def external_webhook_secret(self, arn: str, url: str) -> None:
        """An imported webhook secret holds the local sink URL, under its own name."""
        name = name_from_arn(arn)
        secrets_client = self.client("secretsmanager")
        try:
            secrets_client.put_secret_value(SecretId=name, SecretString=url)
        except secrets_client.exceptions.ResourceNotFoundException:
            secrets_client.create_secret(Name=name, SecretString=url)
            self.created.append(("secret", name, "(external)", name))

    def queue_url(self, arn: str) -> Optional[str]:
        """The local URL of a queue ARN (None when no such queue was made)."""
        for values in self._made.values():
            if values.get("Arn") == arn and "QueueUrl" in values:
                return values["QueueUrl"]
        if arn.startswith("arn:aws:sqs:"):
            try:
                return self.sqs.get_queue_url(QueueName=name_from_arn(arn))["QueueUrl"]
            except self.sqs.exceptions.QueueDoesNotExist:
                return None
        return None


def _generated_secret(spec: Dict[str, Any]) -> str:
    length = int(spec.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits + "!#$%&*+-.:=?@^_~"
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded) or string.ascii_letters
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if isinstance(template, str) and isinstance(key, str):
        data = json.loads(template)
        data[key] = password
        return json.dumps(data)
    return password


_MAKERS: Dict[str, Callable[[LocalResources, StackArtifact, str], Dict[str, Any]]] = {
    "AWS::SQS::Queue": LocalResources._queue,
    "AWS::DynamoDB::Table": LocalResources._table,
    "AWS::DynamoDB::GlobalTable": LocalResources._table,
    "AWS::SecretsManager::Secret": LocalResources._secret,
    "AWS::SNS::Topic": LocalResources._topic,
    "AWS::S3::Bucket": LocalResources._bucket,
    "AWS::SSM::Parameter": LocalResources._parameter,
}
