"""CONTRACTS.md is generated from synthesized templates and must match the constructs."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_MD = ROOT / "CONTRACTS.md"
REGENERATE = "python scripts/gen_contracts.py"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("contracts") / "CONTRACTS.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_contracts.py"), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"scripts/gen_contracts.py failed:\n{result.stdout}\n{result.stderr}"
    return out.read_text(encoding="utf-8")


def test_contracts_md_is_up_to_date(regenerated: str) -> None:
    committed = CONTRACTS_MD.read_text(encoding="utf-8") if CONTRACTS_MD.exists() else ""
    if regenerated != committed:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(),
                regenerated.splitlines(),
                "CONTRACTS.md (committed)",
                "CONTRACTS.md (from synthesis)",
                lineterm="",
            )
        )
        shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
        pytest.fail(f"CONTRACTS.md is out of date. Regenerate it with:\n\n    {REGENERATE}\n\n{shown}", pytrace=False)


def test_every_environment_variable_the_runtime_names_is_described(regenerated: str) -> None:
    """Each name in ``runtime.__all__`` that a construct sets has its meaning, not the fallback text."""
    from scheduled_tasks_constructs import runtime

    set_by_constructs = set(re.findall(r"^\| `([A-Z_]+)` \|", regenerated, flags=re.MULTILINE))
    assert {"TABLE_NAME", "ITEM_TTL_SECONDS", "QUEUE_URL", "WEBHOOK_SECRET_ARN"} <= set_by_constructs
    assert set_by_constructs <= set(runtime.__all__)
    assert "set by you" not in regenerated


def test_the_alarms_the_readme_counts_are_the_ones_listed() -> None:
    """README's Cost section counts 3 and 5 alarms; the default configurations have exactly those."""
    from scheduled_tasks_constructs import cost

    text = CONTRACTS_MD.read_text(encoding="utf-8")
    for construct, expected in (
        ("ScheduledLambdaToTable", cost.LIBRARY_TABLE_ALARMS),
        ("ScheduledTaskFanout", cost.LIBRARY_FANOUT_ALARMS),
    ):
        section = text.split(f"## {construct}\n", 1)[1].split("\n## ", 1)[0]
        alarms = section.split("### Alarms\n", 1)[1].split("\n### ", 1)[0]
        in_default = [line for line in alarms.splitlines() if line.startswith("| `") and "only with" not in line]
        assert len(in_default) == expected, (construct, in_default)
