"""Cold-start benchmark: import time of the bundled handler modules.

Every handler runs in Lambda with boto3, which its first invocation imports;
so a cold start of a bundled handler costs what ``import boto3`` costs plus
what the handler module adds. This benchmark measures, in fresh Python
processes, whole-process wall time of:

* ``import boto3`` (the baseline: any hand-written handler pays it);
* ``import boto3`` and then the handler module, for each of
  ``runtime.record_run``, ``runtime.producer`` and ``runtime.worker``;
* the handler module alone (for information: the runtime imports boto3
  lazily) and an empty interpreter start.

The runtime is staged as the Lambda asset lays it out: a copy of
``src/scheduled_tasks_constructs/runtime`` under
``scheduled_tasks_constructs/runtime`` with an empty
``scheduled_tasks_constructs/__init__.py``, so importing a handler never
imports the library's root package or aws_cdk (which the benchmark checks).
Runs are interleaved, in a shuffled order each round; the median is reported,
of wall time and of CPU time (user + system). The target is checked on CPU
time, which a busy machine does not inflate; wall time is shown beside it.

Usage::

    .venv/bin/python benchmarks/bench_cold_start.py [--runs 30]

Target: each handler adds under 20% to ``import boto3``. Exits 1 if missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, print_header, report_targets, stage_runtime, table  # noqa: E402

HANDLERS = ("record_run", "producer", "worker")
TARGET_ADDED = 0.20


def _code(staged: Path, body: str) -> str:
    return f"import sys; sys.path.insert(0, {str(staged)!r}); {body}"


def _run(code: str) -> tuple[float, float]:
    """Run ``python -c code``; return (wall seconds, CPU seconds: user + system)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"python -c {code!r} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def check_isolation(staged: Path) -> list[tuple[str, bool]]:
    """Import each handler alone and report what it pulled in."""
    results = []
    for handler in HANDLERS:
        probe = _code(
            staged,
            f"import scheduled_tasks_constructs.runtime.{handler}, json; "
            "print(json.dumps({m: m in sys.modules for m in ('aws_cdk', 'constructs', 'jsii', 'boto3', 'botocore')}))",
        )
        out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
        loaded = json.loads(out.strip().splitlines()[-1])
        heavy = [m for m in ("aws_cdk", "constructs", "jsii") if loaded[m]]
        lazy = "boto3 not imported at import time" if not loaded["boto3"] else "imports boto3 at import time"
        results.append((
            f"runtime.{handler} imports no aws_cdk/constructs/jsii"
            + (f" (it imported {', '.join(heavy)})" if heavy else f"; {lazy}"),
            not heavy,
        ))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cold-start benchmark of the bundled handler modules.")
    parser.add_argument("--runs", type=int, default=30, help="runs of each variant (median)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order")
    args = parser.parse_args(argv)

    print_header("Cold-start benchmark")
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        staged = stage_runtime(Path(tmp))
        variants = {
            "python (empty)": _code(staged, "pass"),
            "import boto3 (baseline)": _code(staged, "import boto3"),
        }
        for handler in HANDLERS:
            variants[f"runtime.{handler} alone"] = _code(
                staged, f"import scheduled_tasks_constructs.runtime.{handler}"
            )
            variants[f"import boto3 + runtime.{handler}"] = _code(
                staged, f"import boto3, scheduled_tasks_constructs.runtime.{handler}"
            )
        targets = check_isolation(staged)
        for code in variants.values():  # warm the OS file cache and the bytecode caches
            _run(code)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        order = list(variants)
        rng = random.Random(args.seed)
        for _ in range(args.runs):
            rng.shuffle(order)
            for name in order:
                samples[name].append(_run(variants[name]))

    wall = {name: median([w for w, _ in values]) for name, values in samples.items()}
    cpu = {name: median([c for _, c in values]) for name, values in samples.items()}
    base_wall, base_cpu = wall["import boto3 (baseline)"], cpu["import boto3 (baseline)"]
    rows = []
    for name in variants:
        added_wall = added_cpu = ""
        if name.startswith("import boto3 + "):
            added_wall = f"{(wall[name] - base_wall) / base_wall * 100:+.1f}%"
            added_cpu = f"{(cpu[name] - base_cpu) / base_cpu * 100:+.1f}%"
        walls = [w for w, _ in samples[name]]
        rows.append([name, wall[name] * 1e3, min(walls) * 1e3, added_wall, cpu[name] * 1e3, added_cpu])
    print(f"Whole process, ms, median of {args.runs} interleaved runs "
          "(CPU = user + system time of the process: what waiting for a busy CPU does not inflate)")
    print(table(["variant", "wall ms", "min wall ms", "wall added", "CPU ms", "CPU added"], rows))
    for handler in HANDLERS:
        name = f"import boto3 + runtime.{handler}"
        added = (cpu[name] - base_cpu) / base_cpu
        targets.append((
            f"runtime.{handler} adds {added * 100:+.1f}% CPU ({(cpu[name] - base_cpu) * 1e3:+.1f} ms) to "
            f"import boto3 ({base_cpu * 1e3:.0f} ms); wall {(wall[name] - base_wall) / base_wall * 100:+.1f}%; "
            f"target under {TARGET_ADDED * 100:.0f}%",
            added < TARGET_ADDED,
        ))
    return report_targets(targets)


if __name__ == "__main__":
    sys.exit(main())
