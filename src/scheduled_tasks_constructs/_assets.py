"""Lambda code assets built from the library's own runtime package.

The bundled handlers live in :mod:`scheduled_tasks_constructs.runtime`. In
Lambda they are imported as ``scheduled_tasks_constructs.runtime.<module>``, so
the asset is a staging folder holding that package path with an empty package
``__init__.py`` (the real one names the constructs, which need aws_cdk), and
beside ``runtime/`` the standard-library-only core modules the runtime uses
(:data:`CORE_MODULES`: the schedule arithmetic the watchdog reads).
Staging happens at synth time, never at import time, and only copies files;
the folder's name is the content hash, so the asset hash is stable.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

PACKAGE_DIR = Path(__file__).parent
RUNTIME_DIR = PACKAGE_DIR / "runtime"
#: Modules of the package root shipped with the runtime (standard library only).
CORE_MODULES = ("schedule_expressions.py",)
_STUB_INIT = '"""Lambda-side stub: only the runtime subpackage is shipped."""\n'


def _runtime_files() -> "list[Path]":
    return sorted(p for p in RUNTIME_DIR.glob("*.py") if p.is_file())


def _core_files() -> "list[Path]":
    return [PACKAGE_DIR / name for name in CORE_MODULES]


def _stage(prefix: str) -> Path:
    files = _runtime_files()
    digest = hashlib.sha256(prefix.encode())
    core = _core_files()
    for path in [*files, *core]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    root = Path(tempfile.gettempdir()) / f"scheduled-tasks-runtime-{digest.hexdigest()[:16]}"
    if root.exists():
        return root
    build = Path(tempfile.mkdtemp(prefix="scheduled-tasks-runtime-"))
    package = build / prefix / "scheduled_tasks_constructs" if prefix else build / "scheduled_tasks_constructs"
    (package / "runtime").mkdir(parents=True)
    (package / "__init__.py").write_text(_STUB_INIT)
    for path in files:
        shutil.copyfile(path, package / "runtime" / path.name)
    for path in core:
        shutil.copyfile(path, package / path.name)
    try:
        build.rename(root)
    except OSError:  # another process staged the same content first
        shutil.rmtree(build, ignore_errors=True)
    return root


def runtime_code() -> lambda_.Code:
    """Code for a function whose handler is one of the bundled runtime handlers."""
    return lambda_.Code.from_asset(str(_stage("")))


def runtime_layer_code() -> lambda_.Code:
    """Code for a layer that puts the runtime helpers on ``/opt/python``.

    The layer itself is :class:`scheduled_tasks_constructs.runtime_layer.RuntimeLayer`.
    """
    return lambda_.Code.from_asset(str(_stage("python")))


def handler_path(module: str) -> str:
    """The Lambda handler string of a bundled runtime module."""
    return f"scheduled_tasks_constructs.runtime.{module}.handler"
