"""Which part of the package may import which, and what importing a module costs.

The package has three layers: the core (the constructs, ``cost`` and
``schedule_expressions``), ``runtime`` (Lambda code; its own import rules are
in ``tests/runtime/test_import_rules.py``) and ``local`` (the local runner and
the ``scheduled-tasks`` command). The core never imports ``local``, and the
modules that need no AWS CDK import without starting its runtime (a node
process), because the package root imports the constructs on first use.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE_DIR = SRC / "scheduled_tasks_constructs"
PACKAGE = "scheduled_tasks_constructs"

#: Importing any of these must not load the AWS CDK or jsii.
LIGHT_MODULES = [
    f"{PACKAGE}.cost",
    f"{PACKAGE}.throughput",
    f"{PACKAGE}.schedule_expressions",
    f"{PACKAGE}.runtime.worker",
    f"{PACKAGE}.runtime.sharding",
    f"{PACKAGE}.local.cli",
]
HEAVY = ("aws_cdk", "jsii", "constructs")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, name: str, is_package: bool = False) -> Iterator[str]:
    """Every module that the code of module ``name`` imports, relative imports made absolute."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            # `from . import local` imports the submodule `local`
            yield from (f"{module}.{alias.name}" for alias in node.names)


def imports_of(path: Path) -> Iterator[str]:
    return imported_modules(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def core_files() -> List[Path]:
    return sorted(
        path
        for path in PACKAGE_DIR.rglob("*.py")
        if path.relative_to(PACKAGE_DIR).parts[0] not in ("local", "runtime")
    )


def test_the_core_has_modules_to_check() -> None:
    names = {module_name(path) for path in core_files()}
    assert {f"{PACKAGE}", f"{PACKAGE}._schedule", f"{PACKAGE}._alarms", f"{PACKAGE}.schedule_expressions"} <= names


@pytest.mark.parametrize("path", core_files(), ids=lambda path: path.relative_to(PACKAGE_DIR).as_posix())
def test_construct_code_does_not_import_the_local_tooling(path: Path) -> None:
    local = f"{PACKAGE}.local"
    offending = sorted({name for name in imports_of(path) if name == local or name.startswith(local + ".")})
    assert offending == [], f"{path.name} imports {offending}: the local runner is tooling, not core"


@pytest.mark.parametrize(
    ("line", "name", "is_package"),
    [
        ("from .local import cli", f"{PACKAGE}._schedule", False),
        ("from . import local", f"{PACKAGE}._schedule", False),
        ("from .local.runner import run_app", f"{PACKAGE}._alarms", False),
        ("from ..local import cli", f"{PACKAGE}.sub.module", False),
        ("from .local import cli", PACKAGE, True),
        (f"import {PACKAGE}.local.cli", f"{PACKAGE}._schedule", False),
        (f"from {PACKAGE} import local", f"{PACKAGE}._schedule", False),
    ],
)
def test_every_spelling_of_an_import_of_local_is_seen(line: str, name: str, is_package: bool) -> None:
    local = f"{PACKAGE}.local"
    assert any(found == local or found.startswith(local + ".") for found in imported_modules(line, name, is_package))


def test_an_import_of_a_sibling_is_not_taken_for_local() -> None:
    found = list(imported_modules("from . import _defaults, localize\nfrom .locals import x\n", f"{PACKAGE}._schedule"))
    assert not any(name == f"{PACKAGE}.local" or name.startswith(f"{PACKAGE}.local.") for name in found)


def test_the_package_root_names_each_export_for_static_tools() -> None:
    # The root imports its exports lazily; under TYPE_CHECKING it imports them
    # normally, which is what griffe (API.md) and type checkers read.
    tree = ast.parse((PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"))
    checked: set = set()
    exported: Optional[list] = None
    lazy: Optional[dict] = None
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            checked |= {alias.name for stmt in node.body if isinstance(stmt, ast.ImportFrom) for alias in stmt.names}
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "__all__":
                exported = ast.literal_eval(node.value)
            elif node.targets[0].id == "_MODULES":
                lazy = ast.literal_eval(node.value)
    assert exported is not None and lazy is not None
    assert checked == set(exported) == set(lazy)


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_importing_a_module_that_needs_no_cdk_does_not_start_it(module: str) -> None:
    done = run_python(
        f"import json, sys, {module}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))\n"
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_constructs_still_import_from_the_package_root() -> None:
    done = run_python(
        "import sys\n"
        "import scheduled_tasks_constructs as package\n"
        "assert 'aws_cdk' not in sys.modules\n"
        "from scheduled_tasks_constructs import ScheduledTaskFanout, ScheduledTasksValidationError\n"
        "assert ScheduledTaskFanout.__module__ == 'scheduled_tasks_constructs.scheduled_task_fanout'\n"
        "assert 'aws_cdk' in sys.modules\n"
        "assert set(package.__all__) <= set(dir(package))\n"
        "try:\n"
        "    package.NotAName\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "module 'scheduled_tasks_constructs' has no attribute 'NotAName'"


def test_help_starts_no_node_and_prints_no_banner() -> None:
    done = run_python(
        "import sys\n"
        "from scheduled_tasks_constructs.local import cli\n"
        "try:\n"
        "    cli.main(['--help'])\n"
        "finally:\n"
        "    print('heavy:', sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii'}))\n"
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: scheduled-tasks")
    assert done.stdout.rstrip().endswith("heavy: []")
    assert done.stderr == ""
