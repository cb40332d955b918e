"""Read a synthesized CDK app (a cloud assembly, ``cdk.out``) as the local runner does.

Everything the local runner knows about an app comes from here, and from
nothing else: the stack templates, the staged asset folders, and the construct
metadata that :class:`~scheduled_tasks_constructs.ScheduledLambdaToTable` and
:class:`~scheduled_tasks_constructs.ScheduledTaskFanout` publish for it.

The construct metadata (version 1)
----------------------------------
Each scheduled construct adds one metadata entry of type
``"scheduled-tasks-constructs"`` to its node. Synthesis writes it, resolved,
into its stack's metadata: the ``metadata`` of the stack's artifact in
``manifest.json``, or the file its ``additionalMetadataFile`` names
(``<Stack>.metadata.json``), under the key ``"/<construct path>"``::

    {"type": "scheduled-tasks-constructs",
     "data": {"version": 1,
              "construct": "ScheduledTaskFanout",
              "resources": {
                  "schedule": {"stack": "Jobs", "logicalId": "FanoutSchedule1A2B3C4D"},
                  "producer": {"stack": "Jobs", "logicalId": "FanoutProducer5E6F7A8B"},
                  "worker": {"arn": "arn:aws:lambda:us-east-1:111122223333:function:w"},
                  ...}}}

``resources`` maps a role to a reference: ``{"stack": <artifact ID>,
"logicalId": <logical ID>}`` for a resource of this app (in any of its
stacks), ``{"arn": <ARN>}`` for one the app imports by name or ARN (the ARN
may be an intrinsic such as ``{"Fn::Join": ...}``). A role without a resource
is left out. The roles are ``schedule``, ``function``, ``table`` and
``deadLetterQueue`` for a ``ScheduledLambdaToTable``; ``schedule``,
``producer``, ``worker``, ``queue``, ``deadLetterQueue``,
``runDeadLetterQueue``, ``eventSourceMapping`` and ``webhookSecret`` for a
``ScheduledTaskFanout``. Everything else (the schedule's expression and
input, a function's code, layers and environment, a queue's redrive policy, a
mapping's batch size) is read from the templates. A change of this shape that
readers must know of raises the version; this runner refuses a newer one.

A :class:`CloudAssembly` lists its stacks (nested stages included), and
:meth:`CloudAssembly.scheduled_constructs` the constructs found in their
metadata. :class:`Intrinsics` evaluates the CloudFormation intrinsic functions
of a template value (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub`` ...)
against the physical resources the runner made.

Nothing here imports ``aws_cdk``: an assembly is plain JSON and folders.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

__all__ = [
    "AssemblyError",
    "CloudAssembly",
    "ConstructEntry",
    "Intrinsics",
    "METADATA_TYPE",
    "METADATA_VERSION",
    "ResourceRef",
    "StackArtifact",
    "UnresolvableError",
]

#: The construct metadata type the library's constructs publish.
METADATA_TYPE = "scheduled-tasks-constructs"
#: The highest metadata version this runner reads.
METADATA_VERSION = 1

_STACK = "aws:cloudformation:stack"
_NESTED_ASSEMBLY = "cdk:cloud-assembly"
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class AssemblyError(Exception):
    """The cloud assembly cannot be read, or says something this runner cannot run; one line."""


class UnresolvableError(AssemblyError):
    """A template value refers to something that has no local value."""


@dataclass(frozen=True)
class ResourceRef:
    """A resource a construct's metadata names.

    Either one of the app (``stack`` is the artifact ID of the stack holding
    it, ``logical_id`` its logical ID) or one the app imports by name or ARN
    (``arn`` set, possibly still an intrinsic such as ``{"Fn::Join": ...}``).
    """

    stack: Optional[str] = None
    """Artifact ID of the stack that defines the resource (None for an imported one)."""
    logical_id: Optional[str] = None
    """The resource's logical ID in that stack (None for an imported one)."""
    arn: Any = None
    """ARN of an imported resource, possibly an unresolved intrinsic (None for one of the app)."""

    @property
    def external(self) -> bool:
        """True for a resource that is not defined in this app."""
        return self.logical_id is None

    @classmethod
    def parse(cls, value: Any, where: str) -> Optional["ResourceRef"]:
        """Read a metadata reference (``None``, ``{stack, logicalId}`` or ``{arn}``)."""
        if value is None:
            return None
        if isinstance(value, dict) and isinstance(value.get("logicalId"), str) and isinstance(value.get("stack"), str):
            return cls(stack=value["stack"], logical_id=value["logicalId"])
        if isinstance(value, dict) and "arn" in value:
            return cls(arn=value["arn"])
        raise AssemblyError(f"{where}: not a resource reference: {json.dumps(value)[:200]}")


@dataclass
class StackArtifact:
    """One stack of the assembly: its template, metadata and assets.

    Attributes
    ----------
    artifact_id : str
        The stack's artifact ID in ``manifest.json``.
    stack_name : str
        Its CloudFormation stack name.
    directory : pathlib.Path
        The assembly folder that holds it.
    template : dict
        The template.
    metadata : dict
        Construct path -> metadata entries.
    template_file : pathlib.Path
        The template's file.
    """

    artifact_id: str
    stack_name: str
    directory: Path
    template: Dict[str, Any]
    metadata: Dict[str, List[Dict[str, Any]]]
    template_file: Path

    @property
    def resources(self) -> Dict[str, Any]:
        """The template's ``Resources``."""
        return self.template.get("Resources", {}) or {}

    def resource(self, logical_id: str) -> Dict[str, Any]:
        """One resource of the template (``{}`` when there is none of that ID)."""
        found = self.resources.get(logical_id)
        return found if isinstance(found, dict) else {}

    def properties(self, logical_id: str) -> Dict[str, Any]:
        """The ``Properties`` of one resource (``{}`` when it has none)."""
        return self.resource(logical_id).get("Properties", {}) or {}

    def type_of(self, logical_id: str) -> Optional[str]:
        """The CloudFormation type of one resource (None when it is not in the template)."""
        return self.resource(logical_id).get("Type")

    def asset_folder(self, code: Any, *, scratch: Path) -> Path:
        """The local folder of a Lambda ``Code``/``Content`` property.

        The S3 key names the asset by its hash; the stack's asset manifest
        says where synthesis staged it (a folder, or a zip file that is
        extracted into ``scratch``). Inline code (``ZipFile``) is written to
        ``index.py``, as Lambda does.

        Raises
        ------
        AssemblyError
            When the code is a container image, an S3 object that is not an
            asset of this app, or its staged folder is missing.
        """
        if not isinstance(code, dict):
            raise AssemblyError("the code property is not an object")
        if isinstance(code.get("ZipFile"), str):
            folder = scratch / "inline" / hashlib.sha256(code["ZipFile"].encode()).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "index.py").write_text(code["ZipFile"], encoding="utf-8")
            return folder
        if "ImageUri" in code:
            raise AssemblyError("its code is a container image, which the local runner does not run")
        key = code.get("S3Key")
        if not isinstance(key, str):
            raise AssemblyError(f"its code is an S3 object that is not an asset of this app ({json.dumps(code)[:160]})")
        digest = key.rsplit("/", 1)[-1].split(".", 1)[0]
        source = self._asset_sources().get(digest)
        if source is None:
            raise AssemblyError(f"its code ({key}) is not an asset of this app")
        path = self.directory / source["path"]
        if path.is_dir():
            return path
        if path.is_file() and zipfile.is_zipfile(path):
            folder = scratch / "zip" / digest
            if not folder.is_dir():
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(folder)
            return folder
        raise AssemblyError(f"its asset {source['path']} is missing from the assembly (synthesize again)")

    def _asset_sources(self) -> Dict[str, Dict[str, Any]]:
        sources: Dict[str, Dict[str, Any]] = {}
        for manifest in self.directory.glob("*.assets.json"):
            try:
                files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
            except (OSError, ValueError):
                continue
            for digest, entry in files.items():
                source = entry.get("source", {}) if isinstance(entry, dict) else {}
                if isinstance(source.get("path"), str):
                    sources[digest] = source
        return sources


@dataclass
class ConstructEntry:
    """One scheduled construct, as its metadata describes it.

    Attributes
    ----------
    path : str
        The construct's path (``"Stack/Construct"``).
    construct : str
        Its class: ``"ScheduledLambdaToTable"`` or ``"ScheduledTaskFanout"``.
    stack : StackArtifact
        The stack it belongs to.
    resources : dict
        Role -> :class:`ResourceRef` (a missing role: no such resource).
    data : dict
        The metadata entry's data, as written.
    """

    path: str
    construct: str
    stack: StackArtifact
    resources: Dict[str, Optional[ResourceRef]] = field(default_factory=dict)
    data: Dict[str, Any] = field(default_factory=dict, repr=False)


class CloudAssembly:
    """A synthesized app: the stacks of ``manifest.json``, nested stages included.

    Parameters
    ----------
    directory : pathlib.Path
        The assembly folder (it holds ``manifest.json``).

    Raises
    ------
    AssemblyError
        When there is no readable ``manifest.json`` there.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).resolve()
        """The assembly folder."""
        self.stacks: List[StackArtifact] = list(self._read(self.directory))
        """Every stack, nested stages' included, in manifest order."""

    @staticmethod
    def is_assembly(directory: Path) -> bool:
        """Whether ``directory`` holds a cloud assembly."""
        return (Path(directory) / "manifest.json").is_file()

    def _read(self, directory: Path) -> Iterator[StackArtifact]:
        manifest_file = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AssemblyError(f"{manifest_file}: cannot read the cloud assembly ({type(exc).__name__})") from None
        for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
            kind = artifact.get("type")
            properties = artifact.get("properties") or {}
            if kind == _NESTED_ASSEMBLY and isinstance(properties.get("directoryName"), str):
                yield from self._read(directory / properties["directoryName"])
            elif kind == _STACK:
                template_file = directory / properties.get("templateFile", f"{artifact_id}.template.json")
                try:
                    template = json.loads(template_file.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    raise AssemblyError(f"{template_file}: cannot read the stack's template") from None
                metadata = dict(artifact.get("metadata") or {})
                extra = artifact.get("additionalMetadataFile")
                if isinstance(extra, str):
                    try:
                        metadata.update(json.loads((directory / extra).read_text(encoding="utf-8")))
                    except (OSError, ValueError):
                        raise AssemblyError(f"{directory / extra}: cannot read the stack's metadata") from None
                yield StackArtifact(
                    artifact_id=artifact_id,
                    stack_name=properties.get("stackName") or artifact.get("displayName") or artifact_id,
                    directory=directory,
                    template=template,
                    metadata=metadata,
                    template_file=template_file,
                )

    def stack(self, artifact_id: str) -> StackArtifact:
        """The stack of that artifact ID."""
        for stack in self.stacks:
            if stack.artifact_id == artifact_id:
                return stack
        raise AssemblyError(f"no stack {artifact_id!r} in the assembly")

    def scheduled_constructs(self) -> List[ConstructEntry]:
        """Every construct that published :data:`METADATA_TYPE` metadata, in path order.

        Raises
        ------
        AssemblyError
            When an entry has a version newer than :data:`METADATA_VERSION`
            or is malformed.
        """
        found: List[ConstructEntry] = []
        for stack in self.stacks:
            for path, entries in stack.metadata.items():
                for entry in entries or []:
                    if not isinstance(entry, dict) or entry.get("type") != METADATA_TYPE:
                        continue
                    data = entry.get("data")
                    where = f"{path.lstrip('/')}: construct metadata"
                    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
                        raise AssemblyError(f"{where} has no version")
                    if data["version"] > METADATA_VERSION:
                        raise AssemblyError(
                            f"{where} is version {data['version']}; this runner reads up to "
                            f"{METADATA_VERSION} (upgrade scheduled-tasks-constructs)"
                        )
                    resources = data.get("resources") or {}
                    found.append(
                        ConstructEntry(
                            path=path.lstrip("/"),
                            construct=str(data.get("construct", "")),
                            stack=stack,
                            resources={role: ResourceRef.parse(ref, f"{where}.{role}") for role, ref in resources.items()},
                            data=data,
                        )
                    )
        return sorted(found, key=lambda entry: entry.path)

    def exports(self) -> Dict[str, Tuple[StackArtifact, Any]]:
        """Every stack output with an export name: name -> (stack, value)."""
        exports: Dict[str, Tuple[StackArtifact, Any]] = {}
        for stack in self.stacks:
            for output in (stack.template.get("Outputs") or {}).values():
                name = (output.get("Export") or {}).get("Name") if isinstance(output, dict) else None
                if isinstance(name, str):
                    exports[name] = (stack, output.get("Value"))
        return exports


# --------------------------------------------------------------------------- intrinsics


class Intrinsics:
    """Evaluate CloudFormation intrinsic functions of one stack's template values.

    Parameters
    ----------
    stack : StackArtifact
        The stack whose template the values come from.
    pseudo : dict
        ``AWS::Region``, ``AWS::AccountId``, ``AWS::Partition`` ... values.
    physical : callable
        ``physical(stack, logical_id) -> dict`` gives a resource's local
        values: ``"Ref"`` and its ``Fn::GetAtt`` attributes (creating the
        resource first when needed). It raises :class:`UnresolvableError`
        for a resource with no local value.
    exports : dict, optional
        Export name -> (stack, value) for ``Fn::ImportValue``.

    Examples
    --------
    >>> stack = StackArtifact("S", "S", Path("."), {"Resources": {}}, {}, Path("t"))
    >>> Intrinsics(stack, {"AWS::Region": "us-east-1"}, lambda s, i: {"Ref": i}).resolve(
    ...     {"Fn::Join": ["-", [{"Ref": "AWS::Region"}, {"Ref": "Queue"}]]})
    'us-east-1-Queue'
    """

    def __init__(
        self,
        stack: StackArtifact,
        pseudo: Dict[str, str],
        physical: Callable[[StackArtifact, str], Dict[str, Any]],
        exports: Optional[Dict[str, Tuple[StackArtifact, Any]]] = None,
    ) -> None:
        self.stack = stack
        """The stack whose values are evaluated."""
        self.pseudo = dict(pseudo)
        """Pseudo parameter values (``AWS::StackName`` defaults to the stack's name)."""
        self.pseudo.setdefault("AWS::StackName", stack.stack_name)
        self.physical = physical
        """Gives a resource's local values (see Parameters)."""
        self.exports = exports or {}
        """Export name -> (stack, value), for ``Fn::ImportValue``."""

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated (``AWS::NoValue`` entries dropped)."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value if not _is_no_value(v)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), = value.items()
            handler = _FUNCTIONS.get(name)
            if handler is not None:
                return handler(self, argument)
            if name.startswith("Fn::") or name == "Condition":
                raise UnresolvableError(f"the intrinsic {name} is not supported by the local runner")
        return {k: self.resolve(v) for k, v in value.items() if not _is_no_value(v)}

    def ref(self, name: str) -> Any:
        """What ``{"Ref": name}`` evaluates to: a pseudo parameter, a parameter's default or a resource's ``Ref``."""
        if name in self.pseudo:
            return self.pseudo[name]
        if name.startswith("AWS::"):
            raise UnresolvableError(f"the pseudo parameter {name} has no local value")
        if name in (self.stack.template.get("Parameters") or {}):
            default = self.stack.template["Parameters"][name].get("Default")
            if default is None:
                raise UnresolvableError(f"the parameter {name} has no default")
            return default
        return self._attribute(name, "Ref")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """What ``{"Fn::GetAtt": [logical_id, attribute]}`` evaluates to."""
        return self._attribute(logical_id, attribute)

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if not self.stack.type_of(logical_id):
            raise UnresolvableError(f"{logical_id} is not a resource of stack {self.stack.stack_name}")
        values = self.physical(self.stack, logical_id)
        if attribute not in values:
            raise UnresolvableError(
                f"{logical_id} ({self.stack.type_of(logical_id)}) has no local value for {attribute}"
            )
        return values[attribute]


def _is_no_value(value: Any) -> bool:
    return value == {"Ref": "AWS::NoValue"}


def _fn_ref(ctx: Intrinsics, argument: Any) -> Any:
    return ctx.ref(str(argument))


def _fn_get_att(ctx: Intrinsics, argument: Any) -> Any:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    logical_id, attribute = ctx.resolve(argument[0]), ctx.resolve(argument[1])
    return ctx.get_att(str(logical_id), str(attribute))


def _fn_join(ctx: Intrinsics, argument: Any) -> str:
    separator, parts = argument
    return str(separator).join(str(part) for part in ctx.resolve(parts))


def _fn_sub(ctx: Intrinsics, argument: Any) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
    values = {k: ctx.resolve(v) for k, v in (variables or {}).items()}

    def substitute(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in values:
            return str(values[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return str(ctx.get_att(logical_id, attribute))
        return str(ctx.ref(name))

    return _SUB_VARIABLE.sub(substitute, str(text))


def _fn_select(ctx: Intrinsics, argument: Any) -> Any:
    index, values = ctx.resolve(argument[0]), ctx.resolve(argument[1])
    return values[int(index)]


def _fn_split(ctx: Intrinsics, argument: Any) -> List[str]:
    separator, text = argument
    return str(ctx.resolve(text)).split(str(separator))


def _fn_import_value(ctx: Intrinsics, argument: Any) -> Any:
    name = ctx.resolve(argument)
    if name not in ctx.exports:
        raise UnresolvableError(f"no stack of the app exports {name!r}")
    stack, value = ctx.exports[name]
    return Intrinsics(stack, ctx.pseudo | {"AWS::StackName": stack.stack_name}, ctx.physical, ctx.exports).resolve(value)


_FUNCTIONS: Dict[str, Callable[[Intrinsics, Any], Any]] = {
    "Ref": _fn_ref,
    "Fn::GetAtt": _fn_get_att,
    "Fn::Join": _fn_join,
    "Fn::Sub": _fn_sub,
    "Fn::Select": _fn_select,
    "Fn::Split": _fn_split,
    "Fn::ImportValue": _fn_import_value,
}
