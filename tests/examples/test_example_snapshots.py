"""Snapshots of each example stack's template, with unstable values normalised.

An unintended change to what the examples deploy fails here. After an
intended change, read the diff, then update with ``--snapshot-update``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Template
from syrupy.extensions.json import JSONSnapshotExtension

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_HASH = re.compile(r"\b[0-9a-f]{64}\b")
#: Skip asset bundling (pip installs of the dependencies layer): hashes are normalised anyway.
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def load_example(name: str):
    """Import ``examples/<name>/app.py`` as a uniquely named module."""
    path = EXAMPLES / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def normalise(value):
    """Replace asset hashes (and anything else that varies between machines)."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        value = _HASH.sub("<asset-hash>", value)
        if value.startswith(("/", "asset.")) and "asset" in value:
            return "<asset-path>"
    return value


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(
    "example, stack_name",
    [
        ("the_scheduled_lambda", "TheScheduledLambdaStack"),
        ("serverless_task_scheduler", "ServerlessTaskSchedulerStack"),
    ],
)
def test_example_template_snapshot(example, stack_name, tmp_path, snapshot_json):
    module = load_example(example)
    # The context the CDK CLI (and `scheduled-tasks run`) synthesizes with: cdk.json's feature flags.
    context = json.loads((EXAMPLES / example / "cdk.json").read_text()).get("context", {})
    app = module.App(outdir=str(tmp_path), context={**context, **NO_BUNDLING})
    stack_class = next(
        value for value in vars(module).values() if isinstance(value, type) and value.__name__ == stack_name
    )
    stack = stack_class(app, stack_name)
    template = Template.from_stack(stack).to_json()
    assert normalise(template) == snapshot_json
