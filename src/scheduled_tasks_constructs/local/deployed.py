"""Find the resources of an app's scheduled constructs where they live: deployed, or on a local endpoint.

A construct's metadata (:mod:`.assembly`) names each of its resources by the
artifact ID of its stack and its logical ID, or, for a resource the app
imports, by its ARN. This module turns such a reference into the resource's
physical name, never a guessed one:

- **Deployed**: :func:`physical_name` asks CloudFormation
  (``DescribeStackResource``) for the physical ID of the logical ID in the
  stack's deployed name (the manifest's ``properties.stackName``, else the
  artifact ID: :func:`deployed_stack_name`); an imported resource's name is
  the end of its ARN. :class:`DeployedResources` does this with the user's
  own credentials (a profile, the environment, an instance role), in each
  stack's Region.
- **Local**: after ``scheduled-tasks run APP --endpoint URL``, the resources
  on that endpoint were made from the templates by
  :class:`~.resources.LocalResources`: a resource whose template gives a name
  keeps it, the others are named ``<stack>-<logical ID>-<run suffix>`` (the
  suffix, eight hexadecimal digits, changes with every run).
  :class:`LocalEndpointResources` finds that resource on the endpoint, the
  newest one when several runs made it.

Both give a construct's run ledger table and its schedule's
``"<group>/<name>"`` (what the ledger's ``schedule`` field holds); other
verbs find a construct's other resources the same way.

Nothing here imports ``boto3`` or ``aws_cdk`` when the module is imported.
AWS errors become a one-line :class:`DeployedError` (:func:`aws_errors`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .assembly import (
    AssemblyError,
    CloudAssembly,
    ConstructEntry,
    Intrinsics,
    ResourceRef,
    StackArtifact,
    UnresolvableError,
)
from .resources import ACCOUNT, name_from_arn

__all__ = [
    "DEFAULT_GROUP",
    "DeployedError",
    "DeployedResources",
    "LocalEndpointResources",
    "aws_errors",
    "deployed_stack_name",
    "local_name_prefix",
    "physical_name",
    "stack_region",
]

#: The schedule group of a schedule that names none.
DEFAULT_GROUP = "default"

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
}
#: Length of the suffix ``-<8 hexadecimal digits>`` a local run appends to generated names.
_LOCAL_SUFFIX = re.compile(r"-[0-9a-f]{8}")
_TABLE_NAME_LIMIT = 255
_SCHEDULE_NAME_LIMIT = 64


class DeployedError(Exception):
    """A resource of a construct cannot be found, or AWS refused a call; the message is one line."""


# --------------------------------------------------------------------------- the manifest


@functools.lru_cache(maxsize=16)
def _manifest_artifacts(directory: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    return artifacts if isinstance(artifacts, dict) else {}


def _artifact(stack: StackArtifact) -> dict[str, Any]:
    found = _manifest_artifacts(Path(stack.directory)).get(stack.artifact_id)
    return found if isinstance(found, dict) else {}


def deployed_stack_name(stack: StackArtifact) -> str:
    """The name CloudFormation knows a stack by: its ``properties.stackName``, else its artifact ID.

    Parameters
    ----------
    stack : StackArtifact
        A stack of the assembly.

    Returns
    -------
    str
        The deployed stack's name.
    """
    name = (_artifact(stack).get("properties") or {}).get("stackName")
    return name if isinstance(name, str) and name else stack.artifact_id


def stack_region(stack: StackArtifact) -> str | None:
    """The Region a stack's environment names (``aws://<account>/<region>``), or None when it names none.

    Parameters
    ----------
    stack : StackArtifact
        A stack of the assembly.

    Returns
    -------
    str or None
        The Region; None for an environment-agnostic stack (``unknown-region``).
    """
    environment = _artifact(stack).get("environment")
    if not isinstance(environment, str) or not environment.startswith("aws://"):
        return None
    region = environment[len("aws://"):].partition("/")[2]
    return region if region and region != "unknown-region" and "${" not in region else None


def _reference(reference: ResourceRef | Mapping[str, Any]) -> ResourceRef:
    if isinstance(reference, ResourceRef):
        return reference
    parsed = ResourceRef.parse(dict(reference), "resource reference")
    if parsed is None:
        raise DeployedError("no resource reference")
    return parsed


def _pseudo(stack: StackArtifact, region: str) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack.stack_name,
    }


def _literal(stack: StackArtifact, value: Any, region: str) -> Any:
    """A template value evaluated without any resource (pseudo parameters and parameter defaults only).

    Raises
    ------
    UnresolvableError
        When it refers to a resource.
    """

    def no_resources(_stack: StackArtifact, logical_id: str) -> dict[str, Any]:
        raise UnresolvableError(f"{logical_id} is known only once deployed")

    return Intrinsics(stack, _pseudo(stack, region), no_resources).resolve(value)


def _name_of_arn(arn: Any, what: str) -> str:
    """The resource name of an imported resource's ARN (a string, or an intrinsic of pseudo parameters)."""
    if not isinstance(arn, str):
        try:
            arn = _literal(StackArtifact("", "", Path("."), {}, {}, Path(".")), arn, "us-east-1")
        except AssemblyError:
            arn = None
        if not isinstance(arn, str):
            raise DeployedError(f"{what} is imported by an ARN that is known only once deployed; cannot name it")
    return name_from_arn(arn)


# --------------------------------------------------------------------------- AWS errors


@contextmanager
def aws_errors(action: str, target: str, *, not_found: str | None = None) -> Iterator[None]:
    """Turn the AWS errors of one call into a one-line :class:`DeployedError`.

    Parameters
    ----------
    action : str
        The IAM action of the call, ``"dynamodb:Scan"``.
    target : str
        What it was called on, ``"table runs"``.
    not_found : str, optional
        The message for ``ResourceNotFoundException`` (default: ``"<target>
        not found"``).

    Raises
    ------
    DeployedError
        For missing credentials or Region, an unknown profile, access denied
        (naming ``action``), a missing resource, an unreachable endpoint and
        any other AWS error.
    """
    from botocore import exceptions

    try:
        yield
    except exceptions.NoCredentialsError:
        raise DeployedError(
            "no AWS credentials found: configure them (aws configure, aws sso login, AWS_PROFILE) "
            "or give --profile"
        ) from None
    except exceptions.PartialCredentialsError as exc:
        raise DeployedError(f"incomplete AWS credentials: {exc}") from None
    except exceptions.NoRegionError:
        raise DeployedError("no AWS Region: give --region, or set one in your AWS configuration") from None
    except exceptions.ProfileNotFound as exc:
        raise DeployedError(f"{exc} (give an existing --profile)") from None
    except exceptions.ClientError as exc:
        error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code, message = str(error.get("Code", "")), " ".join(str(error.get("Message", "")).split())
        if code in _ACCESS_DENIED:
            raise DeployedError(f"access denied: your credentials may not call {action} on {target} ({message})") from None
        if code in _BAD_CREDENTIALS:
            raise DeployedError(f"your AWS credentials were refused calling {action}: {code}: {message}") from None
        if code == "ResourceNotFoundException":
            raise DeployedError(not_found or f"{target} not found ({message})") from None
        raise DeployedError(f"{action} on {target} failed: {code}: {message}") from None
    except exceptions.BotoCoreError as exc:
        raise DeployedError(f"{action} on {target} failed: {' '.join(str(exc).split())}") from None


# --------------------------------------------------------------------------- deployed


def physical_name(cloudformation: Any, stack_name: str, reference: ResourceRef | Mapping[str, Any]) -> str:
    """The physical name of a resource a construct's metadata names, in its deployed stack.

    Parameters
    ----------
    cloudformation : botocore.client.CloudFormation
        A CloudFormation client, in the stack's Region, with the credentials
        to call ``DescribeStackResource``.
    stack_name : str
        The deployed name of the stack that holds the resource
        (:func:`deployed_stack_name`).
    reference : ResourceRef or dict
        ``{"stack": ..., "logicalId": ...}``: the stack's
        ``DescribeStackResource`` gives its physical ID. ``{"arn": ...}``: the
        name at the end of the ARN (no call).

    Returns
    -------
    str
        The physical ID: a table's or a schedule's name, a queue's URL ...

    Raises
    ------
    DeployedError
        When the stack is not deployed, the resource is not in it, the ARN is
        known only once deployed, or CloudFormation refuses the call.
    """
    ref = _reference(reference)
    if ref.external:
        return _name_of_arn(ref.arn, "the resource")
    logical_id = str(ref.logical_id)
    region = getattr(getattr(cloudformation, "meta", None), "region_name", None)
    where = f" in {region}" if region else ""
    from botocore.exceptions import ClientError

    with aws_errors("cloudformation:DescribeStackResource", f"stack {stack_name}"):
        try:
            detail = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)
        except ClientError as exc:
            error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
            message = " ".join(str(error.get("Message", "")).split())
            if error.get("Code") == "ValidationError" and "does not exist" in message:
                if message.startswith("Resource ") or "for stack" in message:
                    raise DeployedError(
                        f"{logical_id} is not in the deployed stack {stack_name}{where} (deploy the app again?)"
                    ) from None
                raise DeployedError(
                    f"stack {stack_name} not found{where}: deploy it first, or give the --region and --profile "
                    "it is deployed with"
                ) from None
            raise
    physical = (detail.get("StackResourceDetail") or {}).get("PhysicalResourceId")
    if not physical:
        raise DeployedError(f"{logical_id} of the deployed stack {stack_name} has no physical ID yet")
    return str(physical)


class DeployedResources:
    """The deployed resources of an app's constructs, found with the user's own credentials.

    Parameters
    ----------
    assembly : CloudAssembly
        The app.
    profile : str, optional
        A profile of the AWS configuration (default: boto3's own choice).
    region : str, optional
        The Region of every stack (default: each stack's own, else the
        configuration's).

    Raises
    ------
    DeployedError
        When the profile does not exist.
    """

    def __init__(self, assembly: CloudAssembly, *, profile: str | None = None, region: str | None = None) -> None:
        import boto3
        from botocore.exceptions import ProfileNotFound

        self.assembly = assembly
        self.region = region
        try:
            self.aws = boto3.Session(profile_name=profile, region_name=region)
        except ProfileNotFound as exc:
            raise DeployedError(f"{exc} (give an existing --profile)") from None
        self._clients: dict[tuple[str, str | None], Any] = {}

    def region_of(self, stack: StackArtifact) -> str | None:
        """The Region of ``stack``: ``region`` if given, else its environment's, else the configuration's."""
        return self.region or stack_region(stack) or self.aws.region_name

    def client(self, service: str, stack: StackArtifact) -> Any:
        """A client of ``service`` in the Region of ``stack``.

        Raises
        ------
        DeployedError
            When no Region is known.
        """
        region = self.region_of(stack)
        key = (service, region)
        if key not in self._clients:
            with aws_errors(f"a {service} client", f"stack {deployed_stack_name(stack)}"):
                self._clients[key] = self.aws.client(service, region_name=region)
        return self._clients[key]

    def _stack_of(self, entry: ConstructEntry, ref: ResourceRef) -> StackArtifact:
        return self.assembly.stack(ref.stack) if ref.stack else entry.stack

    def name(self, entry: ConstructEntry, role: str) -> str:
        """The physical name of the construct's resource of ``role``.

        Raises
        ------
        DeployedError
            When the metadata names no such resource, or it cannot be found.
        """
        ref = entry.resources.get(role)
        if ref is None:
            raise DeployedError(f"{entry.path}: the construct's metadata names no {role}")
        stack = self._stack_of(entry, ref)
        if ref.external:
            return _name_of_arn(ref.arn, f"{entry.path}: the {role}")
        return physical_name(self.client("cloudformation", stack), deployed_stack_name(stack), ref)

    def table(self, entry: ConstructEntry, role: str = "ledger") -> tuple[str, Any]:
        """The name of the construct's table of ``role`` and a DynamoDB client of its Region."""
        ref = entry.resources.get(role)
        stack = self._stack_of(entry, ref) if ref is not None else entry.stack
        return self.name(entry, role), self.client("dynamodb", stack)

    def schedule_key(self, entry: ConstructEntry) -> str:
        """The construct's schedule as the run ledger records it, ``"<group>/<name>"``.

        The name is the schedule's physical ID; the group its ``GroupName``
        (a name, or a schedule group of the stack, whose physical ID it
        takes), else ``"default"``.

        Raises
        ------
        DeployedError
            When the schedule or its group cannot be found.
        """
        name = self.name(entry, "schedule")
        ref = entry.resources.get("schedule")
        assert ref is not None
        stack = self._stack_of(entry, ref)
        group = stack.properties(str(ref.logical_id)).get("GroupName") if not ref.external else None
        if group is None:
            return f"{DEFAULT_GROUP}/{name}"
        located = _located(stack, group)
        if located is not None:
            group_name = physical_name(
                self.client("cloudformation", stack),
                deployed_stack_name(stack),
                ResourceRef(stack=stack.artifact_id, logical_id=located),
            )
            return f"{group_name}/{name}"
        try:
            value = _literal(stack, group, self.region_of(stack) or "us-east-1")
        except AssemblyError as exc:
            raise DeployedError(f"{entry.path}: the schedule's group: {exc}") from None
        return f"{value}/{name}"


def _located(stack: StackArtifact, value: Any) -> str | None:
    """The logical ID of the resource of ``stack`` that ``{"Ref": ...}`` names, or None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        target = value["Ref"]
        return target if stack.type_of(target) else None
    return None


# --------------------------------------------------------------------------- local


def local_name_prefix(stack_name: str, logical_id: str, limit: int) -> str:
    """What a local run's generated name of a resource starts with, before ``-<run suffix>``.

    The local runner names a resource whose template gives no name
    ``<stack>-<logical ID>-<8 hexadecimal digits>``, characters other than
    letters, digits, ``_`` and ``-`` replaced by ``-``, cut to the
    service's name length ``limit``.

    Examples
    --------
    >>> local_name_prefix("Jobs", "Ledger1A2B3C4D", 255)
    'Jobs-Ledger1A2B3C4D'
    """
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{stack_name}-{logical_id}")
    return base[: max(1, limit - len("-12345678"))]


class LocalEndpointResources:
    """The resources a local run (``scheduled-tasks run APP --endpoint URL``) made on an endpoint.

    Parameters
    ----------
    assembly : CloudAssembly
        The app.
    endpoint : str
        The local endpoint's URL.
    region : str
        The Region of the local resources (the run's ``--region``).
    """

    def __init__(self, assembly: CloudAssembly, *, endpoint: str, region: str) -> None:
        from .endpoint import client

        self.assembly = assembly
        self.endpoint = endpoint
        self.region = region
        self.dynamodb = client("dynamodb", endpoint, region)

    def _stack_of(self, entry: ConstructEntry, ref: ResourceRef) -> StackArtifact:
        return self.assembly.stack(ref.stack) if ref.stack else entry.stack

    def table(self, entry: ConstructEntry, role: str = "ledger") -> tuple[str, Any]:
        """The local name of the construct's table of ``role`` and a DynamoDB client of the endpoint.

        A table whose template gives a name has it; otherwise the newest
        table on the endpoint named as a local run names it.

        Raises
        ------
        DeployedError
            When the metadata names no such table, or no local run made it.
        """
        ref = entry.resources.get(role)
        if ref is None:
            raise DeployedError(f"{entry.path}: the construct's metadata names no {role}")
        if ref.external:
            return _name_of_arn(self._literal_arn(entry, ref), f"{entry.path}: the {role}"), self.dynamodb
        stack = self._stack_of(entry, ref)
        logical_id = str(ref.logical_id)
        given = stack.properties(logical_id).get("TableName")
        if given is not None:
            try:
                return str(_literal(stack, given, self.region)), self.dynamodb
            except AssemblyError as exc:
                raise DeployedError(f"{entry.path}: the {role}'s table name: {exc}") from None
        prefix = local_name_prefix(stack.stack_name, logical_id, _TABLE_NAME_LIMIT)
        names = []
        request: dict[str, Any] = {}
        with aws_errors("dynamodb:ListTables", f"the endpoint {self.endpoint}"):
            while True:
                page = self.dynamodb.list_tables(**request)
                names += [n for n in page.get("TableNames", []) if _is_local_name(n, prefix)]
                if not page.get("LastEvaluatedTableName"):
                    break
                request["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
            if not names:
                raise DeployedError(
                    f"{entry.path}: no run ledger on {self.endpoint} (no table {prefix}-...): run "
                    f"`scheduled-tasks run APP --endpoint {self.endpoint}` first"
                )
            if len(names) > 1:
                created = {
                    n: self.dynamodb.describe_table(TableName=n)["Table"].get("CreationDateTime") for n in names
                }
                names.sort(key=lambda n: (created[n] is not None, created[n] or 0, n))
        return names[-1], self.dynamodb

    def client(self, service: str, stack: StackArtifact | None = None) -> Any:
        """A client of ``service`` on the endpoint (every stack of a local run is in its one Region)."""
        from .endpoint import client

        return self.dynamodb if service == "dynamodb" else client(service, self.endpoint, self.region)

    def run_suffix(self, entry: ConstructEntry) -> str | None:
        """The suffix of the newest local run of the construct on the endpoint, from its run ledger's name.

        Returns
        -------
        str or None
            The eight hexadecimal digits; None when the ledger's template
            names it (its name then carries no suffix) or the construct has
            none.

        Raises
        ------
        DeployedError
            When no local run made the ledger.
        """
        for role in ("ledger", "table"):
            ref = entry.resources.get(role)
            if ref is None or ref.external:
                continue
            if self._stack_of(entry, ref).properties(str(ref.logical_id)).get("TableName") is not None:
                continue
            name, _ = self.table(entry, role)
            return name[-8:]
        return None

    def _literal_arn(self, entry: ConstructEntry, ref: ResourceRef) -> Any:
        try:
            return _literal(entry.stack, ref.arn, self.region)
        except AssemblyError:
            return ref.arn

    def schedule_key(self, entry: ConstructEntry) -> str:
        """The construct's schedule as a local run's ledger records it, ``"default/<name>"``.

        The local runner fires every schedule as one of the ``default``
        group, named as its template says, else ``<stack>-<logical ID>``
        (cut to 64 characters).

        Raises
        ------
        DeployedError
            When the metadata names no schedule of the app, or its name is
            known only once deployed.
        """
        ref = entry.resources.get("schedule")
        if ref is None or ref.external:
            raise DeployedError(f"{entry.path}: the construct's metadata names no schedule of the app")
        stack = self._stack_of(entry, ref)
        logical_id = str(ref.logical_id)
        given = stack.properties(logical_id).get("Name")
        if given is None:
            return f"{DEFAULT_GROUP}/{f'{stack.stack_name}-{logical_id}'[:_SCHEDULE_NAME_LIMIT]}"
        try:
            return f"{DEFAULT_GROUP}/{_literal(stack, given, self.region)}"
        except AssemblyError as exc:
            raise DeployedError(f"{entry.path}: the schedule's name: {exc}") from None


def _is_local_name(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and _LOCAL_SUFFIX.fullmatch(name[len(prefix):]) is not None
