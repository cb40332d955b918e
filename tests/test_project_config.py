"""The generated project files are exactly what .projenrc.py produces.

.projenrc.py is the single source of the project configuration
(pyproject.toml, .gitignore, .projen/tasks.json, LICENSE ...). This test runs it
in a temporary copy of the repository and compares every file projen writes
(the list is .projen/files.json) with the committed one, byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "PROJEN_DISABLE_POST=1 .venv/bin/python .projenrc.py"

# Large or machine-local folders that projen neither reads nor writes.
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "cdk.out",
    "dist",
    "build",
    "__pycache__",
    ".pytest_cache",
    "*.egg-info",
    ".local-run",
)


def _generated_files(root: Path) -> list[str]:
    return json.loads((root / ".projen" / "files.json").read_text(encoding="utf-8"))["files"]


def _run_projenrc(workdir: Path) -> None:
    env = dict(os.environ, PROJEN_DISABLE_POST="1", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    result = subprocess.run(
        [sys.executable, ".projenrc.py"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f".projenrc.py failed:\n{result.stdout}\n{result.stderr}"


def test_projenrc_reproduces_the_committed_generated_files(tmp_path: Path) -> None:
    # GIVEN a copy of the repository
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=_NOT_COPIED, symlinks=True)
    committed = _generated_files(ROOT)

    # WHEN .projenrc.py runs in it
    _run_projenrc(copy)

    # THEN it writes the same set of files, with the same bytes
    regenerated = _generated_files(copy)
    assert sorted(regenerated) == sorted(committed), (
        f"the set of generated files changed; run `{REGENERATE}` and commit the result"
    )
    stale = [
        name
        for name in committed
        if not (ROOT / name).is_file() or (ROOT / name).read_bytes() != (copy / name).read_bytes()
    ]
    assert not stale, (
        f"generated files differ from what .projenrc.py produces: {stale}; "
        f"edit .projenrc.py (never the generated files), run `{REGENERATE}` and commit the result"
    )

