"""Synthesize a CDK app as the CDK CLI does, and load its cloud assembly.

:func:`load_app` runs the app's Python file in a process of its own, the way
``cdk synth`` runs it: in the app's folder, with ``CDK_OUTDIR`` naming the
folder to write the cloud assembly to and ``CDK_CONTEXT_JSON`` holding the
context (``cdk.json``'s, ``cdk.context.json``'s, then the ``-c`` values).
Nothing in this process is patched and no construct object is read: what the
local runner knows comes from the assembly that synthesis wrote
(:mod:`.assembly`). A folder that already holds a cloud assembly
(``cdk.out``) is loaded as it is.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "AppError",
    "LoadedApp",
    "NO_BUNDLING_CONTEXT",
    "StackSummary",
    "load_app",
    "one_line",
    "parse_context",
    "resolve_app_file",
    "split_handler",
]

#: Context that stops the CDK from bundling assets (``cdk ls`` does the same).
NO_BUNDLING_CONTEXT = {"aws:cdk:bundling-stacks": []}

_PYTHON_COMMAND = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")
_RUNNER_PREFIXES = (("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("hatch", "run"))
_MAX_MESSAGE = 400
_SYNTH_TIMEOUT_SECONDS = 900
#: jsii prints a large end-of-life banner under an old Node.js unless this names its major version.
_SILENCE_END_OF_LIFE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


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


# --------------------------------------------------------------------------- loading


@dataclass
class StackSummary:
    """A synthesized stack: its name, template file and resource count."""

    name: str
    template_file: str
    resources: int


@dataclass
class LoadedApp:
    """A synthesized app: its assembly and the scheduled constructs its metadata names."""

    app_file: Optional[Path]
    outdir: Path
    assembly: Any  # CloudAssembly
    constructs: List[Any]  # ConstructEntry
    stacks: List[StackSummary]


def _cdk_json_context(folder: Path) -> Dict[str, Any]:
    context: Dict[str, Any] = {}
    for name in ("cdk.json", "cdk.context.json"):
        path = folder / name
        if not path.is_file():
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise AppError(f"{path}: cannot read it as JSON") from None
        values = document.get("context", {}) if name == "cdk.json" else document
        if isinstance(values, dict):
            context.update(values)
    return context


@functools.lru_cache(maxsize=4)
def _node_major(node: str, path: Optional[str]) -> Optional[str]:
    """The major version of the node jsii starts (``JSII_NODE``, else ``node`` on PATH), or None."""
    executable = shutil.which(node, path=path)
    if executable is None:
        return None
    try:
        done = subprocess.run(
            [executable, "-p", "process.versions.node.split('.')[0]"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    major = done.stdout.strip()
    return major if done.returncode == 0 and major.isdigit() else None


def _synthesize(app_file: Path, outdir: Path, context: Dict[str, Any]) -> None:
    env = dict(os.environ)
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps(context)
    if not env.get(_SILENCE_END_OF_LIFE):
        major = _node_major(env.get("JSII_NODE", "node"), env.get("PATH"))
        if major is not None:
            env[_SILENCE_END_OF_LIFE] = major
    try:
        done = subprocess.run(
            [sys.executable, str(app_file)],
            cwd=str(app_file.parent),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=_SYNTH_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise AppError(f"{app_file}: synthesis took over {_SYNTH_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise AppError(f"{app_file}: the app failed: {_last_error(done.stderr)}")
    if not (outdir / "manifest.json").is_file():
        raise AppError(
            f"{app_file}: the app wrote no cloud assembly to CDK_OUTDIR (does it give App() an outdir, "
            "or never call app.synth()?)"
        )


def _last_error(stderr: str) -> str:
    """The app's error: the last traceback line and what follows it, without JavaScript frames."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.lstrip().startswith(("at ", "File ", "!!")) and "jsii" not in line.lower()]
    start = 0
    for index, line in enumerate(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Failed)\b.*:", line) or line.startswith("Traceback"):
            start = index
    tail = [line.strip() for line in lines[start:] if not line.startswith("Traceback")]
    text = "; ".join(tail) or "it exited with an error"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def load_app(
    app: "str | Path",
    *,
    outdir: Optional[Path] = None,
    synthesize: bool = True,
    context: Optional[Dict[str, Any]] = None,
) -> LoadedApp:
    """Synthesize a CDK app (or take a synthesized one) and read its scheduled constructs.

    Parameters
    ----------
    app : str or pathlib.Path
        A cloud assembly folder (``cdk.out``), or what :func:`resolve_app_file`
        takes: the app's Python file, its folder or its ``cdk.json``.
    outdir : pathlib.Path, optional
        Where synthesis writes the assembly. Required unless ``app`` is an
        assembly folder.
    synthesize : bool, optional
        Bundle assets (needed to run functions). When False the assembly is
        written without bundling, which is enough for schedules. Default: True.
    context : dict, optional
        Context values, as with ``cdk -c key=value``. Default: none.

    Returns
    -------
    LoadedApp
        The assembly and its scheduled constructs (possibly none).

    Raises
    ------
    AppError
        When the app cannot be found or synthesized, or its assembly cannot
        be read; the message is one line.
    """
    from .assembly import AssemblyError, CloudAssembly

    path = Path(app)
    app_file: Optional[Path] = None
    if path.is_dir() and CloudAssembly.is_assembly(path):
        if context:
            raise AppError(f"{app}: a synthesized cloud assembly takes no context (-c); synthesize the app with it")
        directory = path
    else:
        app_file = resolve_app_file(str(app))
        if outdir is None:
            raise AppError("an outdir is needed to synthesize the app")
        merged = _cdk_json_context(app_file.parent)
        merged.update(context or {})
        if not synthesize:
            merged.update(NO_BUNDLING_CONTEXT)
        outdir.mkdir(parents=True, exist_ok=True)
        stale = outdir / "manifest.json"
        if stale.exists():
            stale.unlink()
        _synthesize(app_file, outdir.resolve(), merged)
        directory = outdir
    try:
        assembly = CloudAssembly(directory)
        constructs = assembly.scheduled_constructs()
    except AssemblyError as exc:
        raise AppError(str(exc)) from None
    stacks = [
        StackSummary(name=s.stack_name, template_file=str(s.template_file), resources=len(s.resources))
        for s in assembly.stacks
    ]
    return LoadedApp(app_file=app_file, outdir=Path(directory).resolve(), assembly=assembly, constructs=constructs, stacks=stacks)


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
