"""Load a CDK app in-process and describe its scheduled constructs.

The app's Python file runs in this process, with its folder on ``sys.path``
and as the working directory, the way ``cdk synth`` would run it. Synthesis
is intercepted: every :class:`aws_cdk.App` the app creates writes into the
``outdir`` given here, whatever the app asks for. When the file defines
``build_app`` it is called (``build_app(outdir=...)``); otherwise the file
runs as ``__main__``.

The constructs found (:class:`~scheduled_tasks_constructs.ScheduledLambdaToTable`
and :class:`~scheduled_tasks_constructs.ScheduledTaskFanout`) are described by
:class:`ConstructPlan` objects: their run spec plus what only the synthesized
template knows (layers, asynchronous retry attempts, table keys, environment).

``aws_cdk`` is imported when an app is loaded, never at import time.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import runpy
import shlex
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

__all__ = [
    "AppError",
    "ConstructPlan",
    "FunctionPlan",
    "LoadedApp",
    "NO_BUNDLING_CONTEXT",
    "StackSummary",
    "TablePlan",
    "load_app",
    "one_line",
    "parse_context",
    "resolve_app_file",
    "split_handler",
    "table_plan_from_template",
]

#: Lambda's default number of retries of a failed asynchronous invocation.
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2

#: Context that stops the CDK from bundling assets (``cdk ls`` does the same).
NO_BUNDLING_CONTEXT = {"aws:cdk:bundling-stacks": []}

_PYTHON_COMMAND = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")
_RUNNER_PREFIXES = (("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("hatch", "run"))
_MAX_MESSAGE = 400


class AppError(Exception):
    """A CDK app could not be found, loaded or synthesized; the message is one line."""


def one_line(exc: BaseException, limit: int = _MAX_MESSAGE) -> str:
    """Describe an exception on one line: its type and its message's useful lines.

    Parameters
    ----------
    exc : BaseException
        Any exception.
    limit : int, optional
        Longest result, in characters. Default: 400.

    Returns
    -------
    str
        ``"<Type>: <message lines joined with '; '>"``, without JavaScript stack
        frames, cut to ``limit`` characters.

    Examples
    --------
    >>> one_line(ValueError("bad value\\n  - schedule: wrong"))
    'ValueError: bad value; - schedule: wrong'
    """
    lines = []
    for raw in str(exc).splitlines():
        line = raw.strip()
        if not line or line.startswith("at ") or line.startswith("File "):
            continue
        lines.append(line)
    text = "; ".join(lines)
    result = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return result if len(result) <= limit else result[: limit - 3] + "..."


# --------------------------------------------------------------------------- finding the app


def resolve_app_file(app: str) -> Path:
    """Find the Python file of a CDK app.

    Parameters
    ----------
    app : str
        A Python file, a folder holding ``cdk.json`` (or ``app.py``), or a
        ``cdk.json`` whose ``"app"`` command is ``python app.py``-like.

    Returns
    -------
    pathlib.Path
        The absolute path of the app's Python file.

    Raises
    ------
    AppError
        When nothing usable is found; the message says what was expected.
    """
    path = Path(app).expanduser()
    if not path.exists():
        raise AppError(f"app not found: {app} (give a CDK app's Python file, its folder or its cdk.json)")
    if path.is_dir():
        if (path / "cdk.json").is_file():
            return _from_cdk_json(path / "cdk.json")
        if (path / "app.py").is_file():
            return (path / "app.py").resolve()
        raise AppError(f"{app}: no cdk.json or app.py in this folder")
    if path.name == "cdk.json" or path.suffix == ".json":
        return _from_cdk_json(path)
    if path.suffix != ".py":
        raise AppError(f"{app}: not a Python file (give the app's .py file, its folder or its cdk.json)")
    return path.resolve()


def _from_cdk_json(cdk_json: Path) -> Path:
    try:
        document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AppError(f"{cdk_json}: cannot read it as JSON ({one_line(exc)})") from None
    command = document.get("app") if isinstance(document, dict) else None
    if not isinstance(command, str) or not command.strip():
        raise AppError(f'{cdk_json}: no "app" command')
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    for prefix in _RUNNER_PREFIXES:
        if tuple(words[: len(prefix)]) == prefix:
            words = words[len(prefix):]
            break
    script = None
    if words and _PYTHON_COMMAND.match(os.path.basename(words[0])):
        rest = words[1:]
        while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):
            rest = rest[1:]
        if rest and rest[0].endswith(".py"):
            script = rest[0]
    if script is None:
        raise AppError(
            f"{cdk_json}: the app command {command!r} is not a 'python app.py' command; "
            "pass the app's Python file instead"
        )
    path = (cdk_json.parent / script).resolve()
    if not path.is_file():
        raise AppError(f"{cdk_json}: the app command names {script}, which does not exist")
    return path


def _defines_build_app(app_file: Path) -> bool:
    try:
        tree = ast.parse(app_file.read_text(encoding="utf-8"), filename=str(app_file))
    except SyntaxError as exc:
        raise AppError(f"{app_file}: the app failed: {one_line(exc)}") from None
    except OSError as exc:
        raise AppError(f"{app_file}: cannot read it ({one_line(exc)})") from None
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "build_app"
        for node in tree.body
    )


# --------------------------------------------------------------------------- plans


@dataclass
class TablePlan:
    """A DynamoDB table to create locally (keys and indexes from the template)."""

    logical_id: Optional[str]
    key_schema: List[Dict[str, str]]
    attribute_definitions: List[Dict[str, str]]
    global_secondary_indexes: List[Dict[str, Any]] = field(default_factory=list)
    local_secondary_indexes: List[Dict[str, Any]] = field(default_factory=list)
    ttl_attribute: Optional[str] = None


@dataclass
class FunctionPlan:
    """A function as the local runner runs it."""

    role: str  # "function", "producer" or "worker"
    handler: Optional[str]
    code_dir: Optional[str]
    logical_id: Optional[str]
    name: str
    memory_mb: int
    timeout_seconds: float
    async_retry_attempts: int
    environment: Dict[str, Any]  # template values (literals or Ref/GetAtt), else spec values
    layer_dirs: List[str]
    bundled: bool  # a handler of the library's own runtime package

    @property
    def runnable(self) -> bool:
        """Whether the code is available locally (an asset folder or a bundled handler)."""
        return bool(self.handler) and (self.bundled or bool(self.code_dir))


@dataclass
class ConstructPlan:
    """One scheduled construct, ready to run locally."""

    path: str
    class_name: str
    spec: Any  # scheduled_tasks_constructs._spec.RunSpec
    stack_name: str
    schedule_name: str
    function: FunctionPlan  # the scheduled function (producer of a fan-out)
    worker: Optional[FunctionPlan] = None
    table: Optional[TablePlan] = None
    resource_logical_ids: Dict[str, Optional[str]] = field(default_factory=dict)
    #: The synthesized template of the construct's stack (empty when not synthesized).
    template: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class StackSummary:
    """A synthesized stack: its name, template file and resource count."""

    name: str
    template_file: str
    resources: int


@dataclass
class LoadedApp:
    """A loaded CDK app: its scheduled constructs and, when synthesized, its stacks."""

    app_file: Path
    outdir: Path
    synthesized: bool
    stacks: List[StackSummary]
    constructs: List[ConstructPlan]


# --------------------------------------------------------------------------- loading


@contextmanager
def _app_process_state(app_dir: Path, app_file: Path) -> Iterator[None]:
    """cwd, sys.path and sys.argv as ``python app.py`` sees them; restored after."""
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    saved_argv = list(sys.argv)
    before = set(sys.modules)
    os.chdir(app_dir)
    sys.path.insert(0, str(app_dir))
    sys.argv = [str(app_file)]
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        sys.argv = saved_argv
        # The app's own modules must not shadow the handlers' modules later.
        prefix = str(app_dir) + os.sep
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            origin = getattr(module, "__file__", None) or ""
            if origin.startswith(prefix):
                del sys.modules[name]


@contextmanager
def _intercepted_apps(outdir: Path, context: Dict[str, Any], synthesize: bool) -> Iterator[List[Any]]:
    """Patch ``aws_cdk.App`` so every app writes to ``outdir`` and is recorded."""
    import aws_cdk

    created: List[Any] = []
    original_init = aws_cdk.App.__init__
    original_synth = aws_cdk.App.synth

    def init(self: Any, **kwargs: Any) -> None:
        kwargs["outdir"] = str(outdir)
        merged = dict(kwargs.get("context") or {})
        merged.update(context)
        kwargs["context"] = merged
        original_init(self, **kwargs)
        created.append(self)

    def synth(self: Any, **kwargs: Any) -> Any:
        self._stc_synthesized = original_synth(self, **kwargs) if synthesize else None
        return self._stc_synthesized

    aws_cdk.App.__init__ = init  # type: ignore[method-assign]
    aws_cdk.App.synth = synth  # type: ignore[method-assign]
    try:
        yield created
    finally:
        aws_cdk.App.__init__ = original_init  # type: ignore[method-assign]
        aws_cdk.App.synth = original_synth  # type: ignore[method-assign]


def load_app(
    app_file: Path,
    *,
    outdir: Path,
    synthesize: bool = True,
    context: Optional[Dict[str, Any]] = None,
) -> LoadedApp:
    """Run a CDK app in this process and describe its scheduled constructs.

    Parameters
    ----------
    app_file : pathlib.Path
        The app's Python file (see :func:`resolve_app_file`).
    outdir : pathlib.Path
        Where the cloud assembly is written (assets included).
    synthesize : bool, optional
        Synthesize the app (needed to run it: layer assets and template
        details come from the assembly). When False, the construct tree is
        built without bundling assets, which is enough for schedules.
        Default: True.
    context : dict, optional
        Extra context values, as with ``cdk -c key=value``. Default: none.

    Returns
    -------
    LoadedApp
        The constructs found (possibly none) and the synthesized stacks.

    Raises
    ------
    AppError
        When the app cannot be imported, creates no ``App``, or fails to
        build or synthesize; the message is one line.
    """
    app_file = Path(app_file).resolve()
    extra = dict(context or {})
    if not synthesize:
        extra.update(NO_BUNDLING_CONTEXT)
    has_build_app = _defines_build_app(app_file)
    try:
        import aws_cdk  # noqa: F401  (starts the jsii runtime)

        from .. import ScheduledLambdaToTable, ScheduledTaskFanout
    except Exception as exc:  # noqa: BLE001
        raise AppError(f"cannot import the AWS CDK: {one_line(exc)}") from None

    outdir.mkdir(parents=True, exist_ok=True)
    app: Any = None
    with _app_process_state(app_file.parent, app_file), _intercepted_apps(outdir, extra, synthesize) as created:
        try:
            if has_build_app:
                module = _import_file(app_file)
                build_app = getattr(module, "build_app")
                try:
                    app = build_app(outdir=str(outdir))
                except TypeError as exc:
                    if "outdir" not in str(exc):
                        raise
                    app = build_app()
            else:
                runpy.run_path(str(app_file), run_name="__main__")
            if not isinstance(app, aws_cdk.App):
                synthesized = [a for a in created if hasattr(a, "_stc_synthesized")]
                app = (synthesized or created or [None])[-1]
            if app is None:
                raise AppError(f"{app_file}: the app created no aws_cdk.App")
            if synthesize and getattr(app, "_stc_synthesized", None) is None:
                app.synth()
        except AppError:
            raise
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise AppError(f"{app_file}: the app exited with status {exc.code}") from None
            if app is None and created:
                app = created[-1]
            if app is None:
                raise AppError(f"{app_file}: the app created no aws_cdk.App") from None
        except Exception as exc:  # noqa: BLE001 - the app's own error, reported on one line
            raise AppError(f"{app_file}: the app failed: {one_line(exc)}") from None

        assembly = getattr(app, "_stc_synthesized", None)
        stacks = _stack_summaries(assembly) if assembly is not None else []
        try:
            found = [
                c
                for c in app.node.find_all()
                if isinstance(c, (ScheduledLambdaToTable, ScheduledTaskFanout))
            ]
            plans = [_plan(c, synthesized=assembly is not None) for c in found]
        except AppError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise AppError(f"{app_file}: cannot read the scheduled constructs: {one_line(exc)}") from None
    return LoadedApp(
        app_file=app_file,
        outdir=outdir,
        synthesized=assembly is not None,
        stacks=stacks,
        constructs=plans,
    )


def _import_file(app_file: Path) -> Any:
    name = f"_scheduled_tasks_app_{uuid.uuid4().hex[:12]}"
    spec = importlib.util.spec_from_file_location(name, app_file)
    if spec is None or spec.loader is None:
        raise AppError(f"{app_file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _stack_summaries(assembly: Any) -> List[StackSummary]:
    summaries = []
    for stack in assembly.stacks_recursively:
        template = stack.template or {}
        summaries.append(
            StackSummary(
                name=stack.stack_name,
                template_file=str(stack.template_full_path),
                resources=len(template.get("Resources", {})),
            )
        )
    return summaries


# --------------------------------------------------------------------------- reading constructs


def _logical_id(stack: Any, resource: Any) -> Optional[str]:
    node = getattr(resource, "node", None)
    child = node.default_child if node is not None else None
    if child is None or not hasattr(child, "logical_id"):
        return None
    try:
        value = stack.resolve(child.logical_id)
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, str) else None


def _template(stack: Any) -> Dict[str, Any]:
    from aws_cdk import Stage

    path = Path(Stage.of(stack).outdir) / stack.template_file
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _asset_dir(outdir: Path, code: Any) -> Optional[Path]:
    """The staged folder of a Lambda code/content asset (``asset.<hash>``)."""
    if not isinstance(code, dict):
        return None
    key = code.get("S3Key")
    if not isinstance(key, str):
        return None
    digest = key.rsplit("/", 1)[-1].split(".", 1)[0]
    candidate = outdir / f"asset.{digest}"
    if candidate.is_dir():
        return candidate
    for manifest in outdir.glob("*.assets.json"):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        except (OSError, ValueError):
            continue
        source = files.get(digest, {}).get("source", {})
        if isinstance(source.get("path"), str) and (outdir / source["path"]).is_dir():
            return outdir / source["path"]
    return None


def _layer_dirs(template: Dict[str, Any], outdir: Path, function_id: Optional[str]) -> List[str]:
    resources = template.get("Resources", {})
    function = resources.get(function_id or "", {})
    dirs: List[str] = []
    for ref in function.get("Properties", {}).get("Layers", []) or []:
        layer_id = ref.get("Ref") if isinstance(ref, dict) else None
        layer = resources.get(layer_id or "", {})
        if layer.get("Type") != "AWS::Lambda::LayerVersion":
            continue
        folder = _asset_dir(outdir, layer.get("Properties", {}).get("Content"))
        if folder is None:
            continue
        python = folder / "python"
        if (python / "scheduled_tasks_constructs").is_dir():
            continue  # the runtime helpers layer: the installed package is used instead
        dirs.append(str(python if python.is_dir() else folder))
    return dirs


def _async_retries(template: Dict[str, Any], function_id: Optional[str]) -> int:
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Lambda::EventInvokeConfig":
            continue
        props = resource.get("Properties", {})
        if props.get("FunctionName") == {"Ref": function_id}:
            value = props.get("MaximumRetryAttempts")
            if isinstance(value, int):
                return value
    return DEFAULT_ASYNC_RETRY_ATTEMPTS


def _local_name(*parts: str, limit: int = 64) -> str:
    text = "-".join(p for p in parts if p)
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return text[:limit] or "function"


def _function_plan(
    role: str,
    spec: Any,
    *,
    stack: Any,
    resource: Any,
    template: Dict[str, Any],
    outdir: Optional[Path],
) -> FunctionPlan:
    logical_id = _logical_id(stack, resource) if resource is not None else None
    props = template.get("Resources", {}).get(logical_id or "", {}).get("Properties", {})
    environment: Dict[str, Any] = dict(spec.environment)
    environment.update(props.get("Environment", {}).get("Variables", {}) or {})
    layers: List[str] = []
    if outdir is not None:
        layers += [d for d in _layer_dirs(template, outdir, logical_id) if d not in layers]
    memory = props.get("MemorySize")
    handler = spec.handler
    code_dir = spec.code_dir
    inline = (props.get("Code") or {}).get("ZipFile")
    if code_dir is None and isinstance(inline, str) and outdir is not None and logical_id:
        # Inline code: Lambda writes it to index.py (handler "index.<function>").
        folder = outdir / "inline-code" / logical_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.py").write_text(inline, encoding="utf-8")
        code_dir = str(folder)
    return FunctionPlan(
        role=role,
        handler=handler,
        code_dir=code_dir,
        logical_id=logical_id,
        name=_local_name(stack.stack_name, logical_id or role),
        memory_mb=memory if isinstance(memory, int) else 128,
        timeout_seconds=float(spec.timeout_seconds),
        async_retry_attempts=_async_retries(template, logical_id) if role != "worker" else 0,
        environment=environment,
        layer_dirs=layers,
        bundled=bool(handler) and handler.startswith("scheduled_tasks_constructs."),
    )


def table_plan_from_template(logical_id: Optional[str], props: Dict[str, Any]) -> TablePlan:
    """A local table from an ``AWS::DynamoDB::Table``'s properties (keys, indexes, TTL).

    Parameters
    ----------
    logical_id : str or None
        The table's logical ID.
    props : dict
        Its template properties; without keys, the bundled handler's key
        (``run_id``, a string) is used.

    Returns
    -------
    TablePlan
        The table to create.
    """
    from ..runtime.record_run import PARTITION_KEY

    key_schema = props.get("KeySchema") or [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]
    definitions = props.get("AttributeDefinitions") or [{"AttributeName": PARTITION_KEY, "AttributeType": "S"}]

    def index(raw: Dict[str, Any]) -> Dict[str, Any]:
        return {k: raw[k] for k in ("IndexName", "KeySchema", "Projection") if k in raw}

    ttl = props.get("TimeToLiveSpecification") or {}
    return TablePlan(
        logical_id=logical_id,
        key_schema=[{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in key_schema],
        attribute_definitions=[
            {"AttributeName": d["AttributeName"], "AttributeType": d["AttributeType"]} for d in definitions
        ],
        global_secondary_indexes=[index(i) for i in props.get("GlobalSecondaryIndexes", []) or []],
        local_secondary_indexes=[index(i) for i in props.get("LocalSecondaryIndexes", []) or []],
        ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
    )


def _table_plan(stack: Any, table: Any, template: Dict[str, Any]) -> TablePlan:
    logical_id = _logical_id(stack, table)
    props = template.get("Resources", {}).get(logical_id or "", {}).get("Properties", {})
    return table_plan_from_template(logical_id, props)


def _plan(construct: Any, *, synthesized: bool) -> ConstructPlan:
    from aws_cdk import Stack, Stage

    spec = getattr(construct, "_run_spec", None)
    path = construct.node.path
    if spec is None:
        raise AppError(f"{path}: this version of the construct does not describe its run (no run spec)")
    stack = Stack.of(construct)
    template = _template(stack) if synthesized else {}
    outdir = Path(Stage.of(stack).outdir) if synthesized else None
    schedule_id = _logical_id(stack, getattr(construct, "schedule", None))
    ids: Dict[str, Optional[str]] = {
        "dead_letter_queue": _logical_id(stack, getattr(construct, "dead_letter_queue", None)),
    }
    if spec.kind == "fanout":
        ids["queue"] = _logical_id(stack, getattr(construct, "queue", None))
        ids["run_dead_letter_queue"] = _logical_id(stack, getattr(construct, "run_dead_letter_queue", None))
        function = _function_plan(
            "producer", spec.function, stack=stack, resource=getattr(construct, "producer", None),
            template=template, outdir=outdir,
        )
        worker = _function_plan(
            "worker", spec.worker, stack=stack, resource=getattr(construct, "worker", None),
            template=template, outdir=outdir,
        )
        table = None
    else:
        table = _table_plan(stack, construct.table, template)
        ids["table"] = table.logical_id
        function = _function_plan(
            "function", spec.function, stack=stack, resource=getattr(construct, "function", None),
            template=template, outdir=outdir,
        )
        worker = None
    return ConstructPlan(
        path=path,
        class_name=type(construct).__name__,
        spec=spec,
        stack_name=stack.stack_name,
        schedule_name=_local_name(stack.stack_name, schedule_id or "Schedule"),
        function=function,
        worker=worker,
        table=table,
        resource_logical_ids=ids,
        template=template,
    )


def parse_context(pairs: List[str]) -> Dict[str, Any]:
    """Turn ``key=value`` strings (as given to ``cdk -c``) into a context dict.

    Parameters
    ----------
    pairs : list of str
        ``"key=value"`` strings; a value that is valid JSON is decoded.

    Returns
    -------
    dict
        The context.

    Raises
    ------
    AppError
        When a pair has no ``=`` or an empty key.

    Examples
    --------
    >>> parse_context(["stage=dev", "replicas=2"])
    {'stage': 'dev', 'replicas': 2}
    """
    context: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AppError(f"context must be key=value, got {pair!r}")
        try:
            context[key.strip()] = json.loads(value)
        except ValueError:
            context[key.strip()] = value
    return context


def split_handler(handler: str) -> Tuple[str, str]:
    """Split a Lambda handler string ``"package.module.function"``.

    Parameters
    ----------
    handler : str
        The handler string.

    Returns
    -------
    tuple of str
        The module name and the function name.

    Raises
    ------
    ValueError
        When there is no module part.

    Examples
    --------
    >>> split_handler("tasks.handler.run")
    ('tasks.handler', 'run')
    """
    module, _, function = handler.rpartition(".")
    if not module or not function:
        raise ValueError(f"handler {handler!r} is not of the form module.function")
    return module, function.strip()
