"""Fixtures of the local runner's tests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import pytest


def _write_assembly(folder: Path, stacks: Dict[str, Dict[str, Any]], *, metadata_file: bool = True) -> Path:
    """Write a minimal cloud assembly: ``{name: {"template", "metadata", "assets"}}`` per stack."""
    artifacts: Dict[str, Any] = {}
    for name, spec in stacks.items():
        (folder / f"{name}.template.json").write_text(json.dumps(spec["template"]))
        artifact: Dict[str, Any] = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{name}.template.json"}}
        if metadata_file:
            (folder / f"{name}.metadata.json").write_text(json.dumps(spec.get("metadata", {})))
            artifact["additionalMetadataFile"] = f"{name}.metadata.json"
        else:
            artifact["metadata"] = spec.get("metadata", {})
        artifacts[name] = artifact
        if "assets" in spec:
            (folder / f"{name}.assets.json").write_text(json.dumps({"files": spec["assets"]}))
    (folder / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return folder




@pytest.fixture
def write_assembly() -> Callable[..., Path]:
    """A function that writes a minimal cloud assembly into a folder."""
    return _write_assembly


def _synthesize_app(folder: Path, app: str, files: Dict[str, str], *, context: Optional[Dict[str, Any]] = None) -> Path:
    """Write ``app.py`` and ``files`` (dedented) into ``folder``, synthesize the app; its ``cdk.out``."""
    from scheduled_tasks_constructs.local.cdk_app import load_app

    (folder / "app.py").write_text(app)
    for name, source in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    outdir = folder / "cdk.out"
    load_app(str(folder / "app.py"), outdir=outdir, context=context)
    return outdir


@pytest.fixture(scope="session")
def synthesize_app() -> Callable[..., Path]:
    """A function that writes a CDK app and its asset files into a folder and synthesizes it (its ``cdk.out``)."""
    return _synthesize_app
