"""API.md is generated from the docstrings and must match the source."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT / "API.md"
REGENERATE = "python scripts/gen_api_docs.py  (or the projen task: projen docs)"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("api") / "API.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_api_docs.py"), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"scripts/gen_api_docs.py failed:\n{result.stdout}\n{result.stderr}"
    return out.read_text(encoding="utf-8")


def test_api_md_is_up_to_date(regenerated: str) -> None:
    committed = API_MD.read_text(encoding="utf-8") if API_MD.exists() else ""
    if regenerated != committed:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(), regenerated.splitlines(), "API.md (committed)", "API.md (from source)", lineterm=""
            )
        )
        shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
        pytest.fail(f"API.md is out of date. Regenerate it with:\n\n    {REGENERATE}\n\n{shown}", pytrace=False)


def test_api_md_documents_the_public_api_only(regenerated: str) -> None:
    headings = re.findall(r"^#{2,6} `([\w.]+)`$", regenerated, flags=re.MULTILINE)
    assert "scheduled_tasks_constructs" in headings
    private = [name for name in headings if any(part.startswith("_") for part in name.split("."))]
    assert not private, f"private names in API.md: {private}"
    # Of the local tooling, only its contract with a synthesized app is documented.
    contract = ("scheduled_tasks_constructs.local.assembly", "scheduled_tasks_constructs.local.resources")
    internal = [
        name for name in headings
        if name.startswith("scheduled_tasks_constructs.local") and not name.startswith(contract)
    ]
    assert not internal, f"local tooling beyond the assembly contract is documented: {internal}"
    resources = [name for name in headings if name.startswith(contract[1] + ".")]
    assert sorted(resources) == [
        f"{contract[1]}.{name}" for name in ("ExternalResourceError", "load_external_resources", "name_from_arn")
    ]
