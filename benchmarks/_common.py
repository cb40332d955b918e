"""Helpers shared by the benchmarks: machine description, tables, targets."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
from pathlib import Path
from typing import Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
RUNTIME_SRC = SRC / "scheduled_tasks_constructs" / "runtime"


def machine_description() -> str:
    """One line: CPU model, cores, memory, OS and Python version."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load_average() -> str:
    """The 1, 5 and 15-minute load averages (other work on the machine adds noise)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def command_line() -> str:
    """The command that runs this benchmark, as a user would type it."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO)
    except ValueError:
        pass
    return " ".join([".venv/bin/python", str(script), *sys.argv[1:]])


def print_header(title: str) -> None:
    """Print the benchmark's title, the command and the machine."""
    print(title)
    print("=" * len(title))
    print(f"command: {command_line()}")
    print(f"machine: {machine_description()}")
    print(f"load average at start: {load_average()}")
    print()


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain-text table; numbers right-aligned, text left-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(_is_number(row[i]) for row in cells[1:] if row[i] not in ("", "-")) for i in range(len(headers))
    ]
    lines = []
    for n, row in enumerate(cells):
        parts = [
            value.rjust(widths[i]) if numeric[i] and n else value.ljust(widths[i])
            for i, value in enumerate(row)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").rstrip("x%").lstrip("$"))
    except ValueError:
        return False
    return True


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def report_targets(targets: Sequence[tuple[str, bool]]) -> int:
    """Print every target with PASS or FAIL; return the exit code (1 if any failed)."""
    print()
    print("Targets")
    for description, passed in targets:
        print(f"  [{'PASS' if passed else 'FAIL'}] {description}")
    failed = sum(1 for _, passed in targets if not passed)
    print(f"{len(targets) - failed} of {len(targets)} targets met")
    return 1 if failed else 0


def stage_runtime(dest: Path) -> Path:
    """Lay out the runtime package as the Lambda asset does; return ``dest``.

    ``dest/scheduled_tasks_constructs/__init__.py`` is empty and
    ``dest/scheduled_tasks_constructs/runtime/`` holds a copy of the library's
    runtime modules, so importing ``scheduled_tasks_constructs.runtime.X``
    from ``dest`` never imports the library's root package (or aws_cdk).
    """
    package = dest / "scheduled_tasks_constructs"
    runtime = package / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for path in sorted(RUNTIME_SRC.glob("*.py")):
        shutil.copyfile(path, runtime / path.name)
    return dest


def load_cost_module():  # noqa: ANN201 - returns a module
    """Import ``scheduled_tasks_constructs.cost`` from its file.

    The cost model is pure Python; loading it by path keeps the library's root
    package (which imports aws_cdk and starts a node process) out of the
    benchmark's process.
    """
    import importlib.util

    name = "scheduled_tasks_constructs_cost"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SRC / "scheduled_tasks_constructs" / "cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
