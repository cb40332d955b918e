"""Synthesis benchmark: each example app against the same stack written by hand.

For each example, runs ``python examples/<x>/app.py`` and
``python benchmarks/handwritten/<x>_app.py`` (the same resources, written with
plain aws-cdk-lib L2 constructs) as whole processes, interleaved, and reports
the median wall time and peak memory of each and their ratio.

* Time: from process start to exit, so it includes importing aws_cdk and
  starting its node (jsii) process; as wall time and as CPU time (user +
  system of the process and its node child). The time target is checked on
  CPU time, which a busy machine does not inflate; wall time is shown beside it.
* Peak RSS: the kernel's figure for the process and its node child
  (``wait4`` ``ru_maxrss``: the largest single process), and, for
  information, the peak of the summed RSS of the process tree sampled every
  20 ms.

Each app writes to its own cloud-assembly folder, kept across its runs as in a
developer's ``cdk.out``; the first run of each (reported separately) fills
it, so later runs reuse bundled assets, such as the example's dependencies
layer, just as ``cdk synth`` does. The hand-written app gets its dependencies
layer as a folder filled beforehand, as in the original design; the benchmark
takes it from the example's bundled layer. Both run with the same
environment (``PYTHONPATH=src``, ``CDK_OUTDIR``).

Usage::

    .venv/bin/python benchmarks/bench_synth.py [--runs 5] [--only the_scheduled_lambda]

Target: each example within 10% of its hand-written app, in (CPU) time and in
peak memory. Exits 1 if missed (2 if an example app is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SRC, median, print_header, report_targets, table  # noqa: E402

HANDWRITTEN = Path(__file__).resolve().parent / "handwritten"
APPS = {
    "the_scheduled_lambda": (
        REPO / "examples" / "the_scheduled_lambda" / "app.py",
        HANDWRITTEN / "the_scheduled_lambda_app.py",
    ),
    "serverless_task_scheduler": (
        REPO / "examples" / "serverless_task_scheduler" / "app.py",
        HANDWRITTEN / "serverless_task_scheduler_app.py",
    ),
}
TARGET = 1.10


def _tree_rss_kb(root: int) -> int:
    """Summed RSS of ``root`` and its descendants, from /proc (0 when gone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_app(script: Path, outdir: Path, env: dict[str, str]) -> tuple[float, float, float, float]:
    """Run one synthesis; return (wall s, CPU s, peak RSS MiB of one process, sampled tree peak MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=str(REPO), env={**env, "CDK_OUTDIR": str(outdir)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, _tree_rss_kb(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-15:]
        raise RuntimeError(f"{script} exited with {process.returncode}:\n" + "\n".join(tail))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, peak_tree / 1024


_COUNT_JSII = """
import atexit, os, runpy, sys
from jsii._kernel.providers import process as _process
_calls = 0
_send = _process._NodeProcess.send
def _counting_send(self, *args, **kwargs):
    global _calls
    _calls += 1
    return _send(self, *args, **kwargs)
_process._NodeProcess.send = _counting_send
atexit.register(lambda: os.write(2, f"JSII_MESSAGES={_calls}\\n".encode()))
script = sys.argv[1]
sys.argv = [script]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""


def jsii_messages(script: Path, outdir: Path, env: dict[str, str]) -> int:
    """Messages the app sends to the jsii kernel (each a round trip to node); not timed."""
    result = subprocess.run(
        [sys.executable, "-c", _COUNT_JSII, str(script)], cwd=str(REPO),
        env={**env, "CDK_OUTDIR": str(outdir)}, capture_output=True, text=True, check=True,
    )
    for line in result.stderr.splitlines():
        if line.startswith("JSII_MESSAGES="):
            return int(line.split("=", 1)[1])
    raise RuntimeError(f"no jsii message count from {script}")


def resource_counts(outdir: Path) -> Counter:
    counts: Counter = Counter()
    for template in outdir.glob("*.template.json"):
        for resource in json.loads(template.read_text()).get("Resources", {}).values():
            counts[resource["Type"]] += 1
    return counts


def find_bundled_layer(outdir: Path) -> Path | None:
    """The example's bundled dependencies layer (a folder holding python/tabulate*)."""
    for candidate in sorted(outdir.glob("asset.*/python")):
        if any(candidate.glob("tabulate*")):
            return candidate.parent
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesis benchmark: examples against hand-written apps.")
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each app (median)")
    parser.add_argument("--only", choices=sorted(APPS), help="benchmark one example only")
    args = parser.parse_args(argv)

    print_header("Synthesis benchmark")
    names = [args.only] if args.only else list(APPS)
    missing = [str(APPS[n][0].relative_to(REPO)) for n in names if not APPS[n][0].exists()]
    if missing:
        print(f"example app(s) missing: {', '.join(missing)}; nothing to compare")
        return 2

    env = {k: v for k, v in os.environ.items() if k not in ("CDK_OUTDIR", "CDK_CONTEXT_JSON")}
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    rows, first_rows, targets = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        for name in names:
            example, handwritten = APPS[name]
            out_example, out_hand = Path(tmp) / f"{name}-example", Path(tmp) / f"{name}-handwritten"
            first_example = run_app(example, out_example, env)
            hand_env = dict(env)
            if name == "serverless_task_scheduler":
                layer = find_bundled_layer(out_example)
                if layer is None:
                    raise RuntimeError("the example's bundled dependencies layer was not found")
                hand_layer = Path(tmp) / "handwritten-layer"
                shutil.copytree(layer, hand_layer)
                hand_env["LAYER_DIR"] = str(hand_layer)
            first_hand = run_app(handwritten, out_hand, hand_env)
            first_rows.append([name, first_example[0], first_hand[0]])
            samples: dict[str, list[tuple[float, float, float, float]]] = {"example": [], "hand": []}
            for i in range(args.runs):  # interleaved, alternating which goes first
                order = [("example", example, out_example, env), ("hand", handwritten, out_hand, hand_env)]
                for key, script, outdir, run_env in order if i % 2 == 0 else order[::-1]:
                    samples[key].append(run_app(script, outdir, run_env))
                print(f"  ... {name}: run {i + 1} of {args.runs} done", file=sys.stderr, flush=True)
            m = {k: [median([s[j] for s in v]) for j in range(4)] for k, v in samples.items()}
            wall_ratio = m["example"][0] / m["hand"][0]
            cpu_ratio = m["example"][1] / m["hand"][1]
            rss_ratio = m["example"][2] / m["hand"][2]
            tree_ratio = m["example"][3] / m["hand"][3]
            rows.append([name, "example (library)", *m["example"]])
            rows.append(["", "hand-written L2", *m["hand"]])
            rows.append(["", "ratio", f"{wall_ratio:.3f}x", f"{cpu_ratio:.3f}x", f"{rss_ratio:.3f}x", f"{tree_ratio:.3f}x"])
            targets.append((f"{name}: synth CPU time {cpu_ratio:.3f}x the hand-written app (<= {TARGET:.2f}x); "
                            f"wall time {wall_ratio:.3f}x", cpu_ratio <= TARGET))
            targets.append((f"{name}: peak RSS {rss_ratio:.3f}x the hand-written app (<= {TARGET:.2f}x)",
                            rss_ratio <= TARGET))
            messages = (jsii_messages(example, out_example, env), jsii_messages(handwritten, out_hand, hand_env))
            rows[-3].append(messages[0])
            rows[-2].append(messages[1])
            rows[-1].append(f"{messages[0] / messages[1]:.3f}x")
            ex_counts, hand_counts = resource_counts(out_example), resource_counts(out_hand)
            diff = sorted(t for t in set(ex_counts) | set(hand_counts) if ex_counts[t] != hand_counts[t])
            print(f"{name}: {sum(ex_counts.values())} resources in the example, "
                  f"{sum(hand_counts.values())} in the hand-written app"
                  + ("; same types and counts" if not diff else "; differing: " + ", ".join(
                      f"{t} {ex_counts[t]} vs {hand_counts[t]}" for t in diff)))
    print()
    print(f"Whole-process synthesis, median of {args.runs} interleaved runs (after one first run each)")
    print(table(["app", "variant", "wall s", "CPU s", "peak RSS MiB (largest process)",
                 "peak tree RSS MiB (sampled)", "jsii round trips"], rows))
    print("jsii round trips: messages from Python to the node process (one untimed run); on a busy machine "
          "each one also waits to be scheduled, which shows in wall time more than in CPU time")
    print()
    print("First run (empty cloud-assembly folder: assets staged and bundled)")
    print(table(["app", "example wall s", "hand-written wall s"], first_rows))
    return report_targets(targets)


if __name__ == "__main__":
    sys.exit(main())
