"""CLI start-up benchmark: a cold ``scheduled-tasks --help``.

``--help`` is what a user types first, and every other command pays the same
start-up before it does anything. The constructs import ``aws_cdk``, whose
jsii runtime starts a node process (about 2 s); the command must not. This
benchmark measures, in fresh processes, whole-process wall and CPU time of:

* ``python -c pass`` (the baseline: an empty interpreter start);
* ``python -m scheduled_tasks_constructs.local.cli --help``;
* the installed console script, ``scheduled-tasks --help`` (when it is next to
  this Python, as in ``.venv/bin``);
* ``from scheduled_tasks_constructs import ScheduledTaskFanout`` (for
  information: what every import of the package cost while its root imported
  the constructs eagerly, ``--help`` included).

Runs are interleaved, in a shuffled order each round, after one warm-up run
of each (so the OS file cache and the bytecode caches are warm: "cold" means
a fresh process). Each run's standard error is checked to be empty, with
``JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION`` unset: the command prints
no jsii banner.

Usage::

    .venv/bin/python benchmarks/bench_cli_help.py [--runs 20]

Target: the median wall time of ``scheduled-tasks --help`` is under 0.5 s.
Exits 1 if missed.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, print_header, report_targets, table  # noqa: E402

TARGET_SECONDS = 0.5
BASELINE = "python -c pass (baseline)"
MODULE = "python -m ...local.cli --help"
SCRIPT = "scheduled-tasks --help"
CDK = "import the constructs (information)"


def _environment() -> dict:
    env = dict(os.environ)
    env.pop("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", None)
    return env


def _run(command: list[str], env: dict) -> tuple[float, float, str]:
    """Run ``command``; return (wall seconds, CPU seconds: user + system, its stderr)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert process.stderr is not None
    stderr = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {code}: {stderr.strip()}")
    return wall, usage.ru_utime + usage.ru_stime, stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start-up benchmark of a cold `scheduled-tasks --help`.")
    parser.add_argument("--runs", type=int, default=20, help="runs of each variant (median)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order")
    parser.add_argument("--skip-cdk", action="store_true", help="leave out the row that imports the constructs")
    args = parser.parse_args(argv)

    print_header("CLI start-up benchmark")
    variants = {
        BASELINE: [sys.executable, "-c", "pass"],
        MODULE: [sys.executable, "-m", "scheduled_tasks_constructs.local.cli", "--help"],
    }
    script = Path(sys.executable).with_name("scheduled-tasks")
    if script.is_file():
        variants[SCRIPT] = [str(script), "--help"]
    if not args.skip_cdk:
        variants[CDK] = [sys.executable, "-c", "from scheduled_tasks_constructs import ScheduledTaskFanout"]
    env = _environment()
    for command in variants.values():  # warm the OS file cache and the bytecode caches
        _run(command, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    banners: dict[str, int] = {name: 0 for name in variants}
    order = list(variants)
    rng = random.Random(args.seed)
    for _ in range(args.runs):
        rng.shuffle(order)
        for name in order:
            wall, cpu, stderr = _run(variants[name], env)
            samples[name].append((wall, cpu))
            banners[name] += bool(stderr.strip())

    wall = {name: median([w for w, _ in values]) for name, values in samples.items()}
    cpu = {name: median([c for _, c in values]) for name, values in samples.items()}
    rows = []
    for name in variants:
        walls = [w for w, _ in samples[name]]
        added = "" if name == BASELINE else f"{(wall[name] - wall[BASELINE]) * 1e3:+.0f}"
        rows.append([name, wall[name] * 1e3, min(walls) * 1e3, added, cpu[name] * 1e3, banners[name]])
    print(f"Whole process, ms, median of {args.runs} interleaved runs "
          "(CPU = user + system time; stderr = runs that wrote anything to it)")
    print(table(["variant", "wall ms", "min wall ms", "wall added", "CPU ms", "stderr"], rows))

    measured = SCRIPT if SCRIPT in variants else MODULE
    targets = [
        (
            f"{measured}: median wall {wall[measured]:.3f} s ({wall[BASELINE] * 1e3:.0f} ms of it an empty "
            f"interpreter start); target under {TARGET_SECONDS} s",
            wall[measured] < TARGET_SECONDS,
        ),
        (
            f"{measured}: nothing on stderr (no jsii banner) in {args.runs} runs",
            banners[measured] == 0 and banners[MODULE] == 0,
        ),
    ]
    return report_targets(targets)


if __name__ == "__main__":
    sys.exit(main())
