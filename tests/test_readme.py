"""The README's code comes from the examples, and its first lines are the two commands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
_EXAMPLE_BLOCK = re.compile(r"<!-- example: (?P<path>[^ ]+) -->\n```python\n(?P<code>.*?)```", re.S)


def test_readme_starts_with_the_two_commands():
    lines = README.splitlines()
    assert lines[2:6] == [
        "```bash",
        "bash scripts/main.sh   # fresh machine: set up, synthesize both example stacks, run them locally on a moto server",
        "bash scripts/test.sh   # the test suite",
        "```",
    ]
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_example_snippets_are_taken_from_the_examples():
    blocks = list(_EXAMPLE_BLOCK.finditer(README))
    assert len(blocks) >= 3
    for block in blocks:
        source = (ROOT / block["path"]).read_text()
        assert block["code"] in source, f"README snippet no longer matches {block['path']}"


def test_no_placeholders_left():
    assert "PLACEHOLDER" not in README
