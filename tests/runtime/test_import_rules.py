"""The runtime package imports only the standard library, boto3 and botocore.

It is shipped to Lambda on its own, so it must not import ``aws_cdk``,
``constructs`` or the rest of the library, and it imports boto3 lazily to
keep cold starts light.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import scheduled_tasks_constructs.runtime as runtime

RUNTIME_DIR = Path(runtime.__file__).parent
MODULES = sorted(path for path in RUNTIME_DIR.glob("*.py"))
ALLOWED_THIRD_PARTY = {"boto3", "botocore"}


def imports_of(path: Path) -> list[tuple[ast.stmt, bool]]:
    """Every import statement of a module, and whether it is at module level."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    return [
        (node, id(node) in top_level)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def top_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [] if node.level else [str(node.module).split(".")[0]]
    return [alias.name.split(".")[0] for alias in node.names]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_only_stdlib_boto3_botocore_and_relative_imports(path: Path) -> None:
    for node, _ in imports_of(path):
        for name in top_names(node):
            assert name in sys.stdlib_module_names or name in ALLOWED_THIRD_PARTY, (
                f"{path.name}:{node.lineno} imports {name}"
            )


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_boto3_and_botocore_are_imported_lazily(path: Path) -> None:
    for node, at_module_level in imports_of(path):
        if at_module_level:
            assert not set(top_names(node)) & ALLOWED_THIRD_PARTY, (
                f"{path.name}:{node.lineno} imports boto3/botocore at import time"
            )


def test_package_init_has_no_imports() -> None:
    assert imports_of(RUNTIME_DIR / "__init__.py") == []


def test_importing_every_module_loads_neither_boto3_nor_the_cdk() -> None:
    # Load the runtime package the way Lambda does: without the library's
    # top-level __init__ (which needs aws_cdk).
    script = f"""
import importlib, json, sys, types
package = types.ModuleType("scheduled_tasks_constructs")
package.__path__ = [{str(RUNTIME_DIR.parent)!r}]
sys.modules["scheduled_tasks_constructs"] = package
for name in {[path.stem for path in MODULES]!r}:
    module = "scheduled_tasks_constructs.runtime" + ("" if name == "__init__" else "." + name)
    importlib.import_module(module)
roots = {{name.split(".")[0] for name in sys.modules}}
print(json.dumps(sorted(roots & {{"boto3", "botocore", "aws_cdk", "constructs", "jsii"}})))
"""
    output = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(output) == []
