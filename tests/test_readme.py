"""The README's code comes from the examples, and its first lines are the two commands.

An excerpt is a marker-delimited region of an example file::

    # [readme:<name>]
    ...
    # [/readme:<name>]

and the README shows it, dedented, right after ``<!-- example: <path>#<name> -->``.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
_EXAMPLE_BLOCK = re.compile(
    r"<!-- example: (?P<path>[^ #]+)#(?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)```", re.S
)
_ANY_EXAMPLE_MARKER = re.compile(r"<!-- example: [^\n]*-->")


def region(path: Path, name: str) -> str:
    """The lines between ``# [readme:<name>]`` and ``# [/readme:<name>]`` in ``path``, dedented."""
    source = path.read_text()
    start = re.compile(rf"^[ \t]*# \[readme:{re.escape(name)}\][ \t]*\n", re.M)
    end = re.compile(rf"^[ \t]*# \[/readme:{re.escape(name)}\][ \t]*\n?", re.M)
    starts, ends = list(start.finditer(source)), list(end.finditer(source))
    assert len(starts) == 1 and len(ends) == 1, f"{path}: need exactly one [readme:{name}] ... [/readme:{name}]"
    assert starts[0].end() <= ends[0].start(), f"{path}: [/readme:{name}] comes before [readme:{name}]"
    return textwrap.dedent(source[starts[0].end() : ends[0].start()])


def test_readme_starts_with_the_two_commands():
    lines = README.splitlines()
    assert lines[2:6] == [
        "```bash",
        "bash scripts/main.sh   # fresh machine: set up, synthesize both example stacks, run them locally on a moto server",
        "bash scripts/test.sh   # the test suite",
        "```",
    ]
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_example_marker_names_a_region():
    markers = _ANY_EXAMPLE_MARKER.findall(README)
    blocks = _EXAMPLE_BLOCK.findall(README)
    assert len(markers) == len(blocks) >= 3, (
        "every '<!-- example: ... -->' must be '<!-- example: <path>#<name> -->' followed by a python block"
    )


@pytest.mark.parametrize(
    "path, name, code",
    [(m["path"], m["name"], m["code"]) for m in _EXAMPLE_BLOCK.finditer(README)],
    ids=[f"{m['path']}#{m['name']}" for m in _EXAMPLE_BLOCK.finditer(README)],
)
def test_example_excerpt_is_its_region_whole(path, name, code):
    assert code == region(ROOT / path, name), (
        f"README excerpt {path}#{name} differs from the region in the example; copy it again"
    )


def test_the_worker_excerpt_shows_the_whole_handler_module():
    """The README's worker is the whole function and the handler Lambda calls, not its first lines."""
    (code,) = [m["code"] for m in _EXAMPLE_BLOCK.finditer(README) if m["path"].endswith("tasks/handler.py")]
    assert "def run(task: Task) -> str:" in code
    assert code.rstrip().endswith("handler = task_handler(run, post_results=True)")


def test_no_placeholders_left():
    assert "PLACEHOLDER" not in README


def _layout_table() -> dict[str, str]:
    """The README's layout table: each row's first cell mapped to its job."""
    section = README[README.index("| module | its one job |") :]
    rows: dict[str, str] = {}
    for line in section.splitlines()[2:]:
        line = line.strip()
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|", 1)]
        rows[cells[0]] = cells[1]
    return rows


def test_the_layout_table_names_every_module_of_the_package():
    # GIVEN every module of the package and the README's layout table
    package = ROOT / "src" / "scheduled_tasks_constructs"
    rows = _layout_table()
    named_files = set(re.findall(r"`([\w/]+\.py)`", " ".join(rows)))
    runtime_row = next(job for cell, job in rows.items() if cell == "`runtime/`")
    runtime_names = set(re.findall(r"`(\w+)`", runtime_row))
    # WHEN each module is looked up; THEN it is named, with its job, exactly once
    missing = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.endswith("/__init__.py"):
            continue
        if relative.startswith("runtime/"):
            if path.stem not in runtime_names:
                missing.append(relative)
        elif relative not in named_files:
            missing.append(relative)
    assert missing == []
    stale = {name for name in named_files if not (package / name).is_file()}
    assert stale == set()
