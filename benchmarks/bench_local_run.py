"""The local run at the sizes users have: one fan-out run of 1,000 and of 10,000 tasks.

The app is ``benchmarks/local_fanout_app``: a ``ScheduledTaskFanout`` whose own
producer sends ``-c tasks=N`` tasks with ``send_tasks`` and whose worker does
nothing with each task (``task_handler`` around a no-op), in batches of 10.
It is synthesized once per size into a kept folder (not timed), then each size
runs through ``scheduled-tasks run <cdk.out> --runs 1`` as a whole process on
its own embedded moto server: the synthesized functions in their own processes,
the template's queue and event source mapping. The time is the ``run``
command's wall time, and the run's own figure (the report's ``time``) is shown
beside it.

The baseline, measured in the same command: the 1,000-task run, against which
the 10,000-task run is a ratio (a flat per-task cost gives 10x). Targets (from
the issue): 10,000 tasks in under 60 s, and at most 12x the 1,000-task time.

Then the largest size again with the producer built on ``sharded_producer``
(``--shard-size``, default 2,500: four shards at 10,000), each shard an
asynchronous invocation of the producer that the local Lambda endpoint runs
from the function's own asset: every task worked, the run ledger's run
succeeded with its counts exact, each shard an invocation, and its time
against the one-producer run of the same size (target: under 60 s too).

Usage::

    .venv/bin/python benchmarks/bench_local_run.py [--sizes 1000 10000] [--concurrency 4] [--shard-size 2500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, print_header, table

APP = REPO / "benchmarks" / "local_fanout_app"
TARGET_SECONDS = 60.0
TARGET_RATIO = 12.0


def _env() -> dict:
    env = dict(os.environ)
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cli(*args: str) -> list:
    return [sys.executable, "-m", "scheduled_tasks_constructs.local.cli", *args]


def synthesize(size: int, outdir: Path, shard_size: int = 0) -> None:
    """Synthesize the app for ``size`` tasks (in shards of ``shard_size``, if any), as ``cdk synth`` runs it (not timed)."""
    env = _env()
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps({"tasks": size, **({"shard_size": shard_size} if shard_size else {})})
    subprocess.run([sys.executable, str(APP / "app.py")], cwd=APP, env=env, check=True, capture_output=True)


def run(outdir: Path, concurrency: int) -> dict:
    started = time.monotonic()
    done = subprocess.run(
        _cli("run", str(outdir), "--runs", "1", "--json", "--timeout", "900", "--concurrency", str(concurrency)),
        env=_env(),
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    if not done.stdout.strip():
        raise SystemExit(f"the run failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    (construct,) = report["constructs"]
    return {"wall": wall, "report": report, "construct": construct, "status": done.returncode}


def _report_sharded(sharded: dict, one: dict, size: int, shard_size: int) -> bool:
    """Print the sharded run beside the one-producer run of the same size; whether a target was missed."""
    construct = sharded["construct"]
    shards = -(-size // shard_size)
    (run,) = construct.get("ledger") or [{}]
    exact = run.get("status") == "succeeded" and run.get("tasks_sent") == size and run.get("tasks_succeeded") == size
    done = construct["tasks_succeeded"] == size and sharded["report"]["ok"] and exact
    print()
    print(f"The same {size:,} tasks from a sharded producer (producer_shard_size {shard_size:,}: {shards} shards)")
    print(
        table(
            ["producer", "invocations", "sent", "succeeded", "ledger run", "command wall s", "run s", "all done"],
            [
                ["one invocation", one["construct"]["invocations"], one["construct"]["tasks_sent"],
                 one["construct"]["tasks_succeeded"], (one["construct"].get("ledger") or [{}])[0].get("status", "-"),
                 one["wall"], one["construct"]["seconds"], "yes"],
                [f"{shards} shards", construct["invocations"], construct["tasks_sent"], construct["tasks_succeeded"],
                 f"{run.get('status')} ({run.get('tasks_sent')} sent, {run.get('tasks_succeeded')} succeeded)",
                 sharded["wall"], construct["seconds"], "yes" if done else "NO"],
            ],
        )
    )
    print(
        f"sharded against one invocation: command {sharded['wall'] / one['wall']:.2f}x, run "
        f"{construct['seconds'] / one['construct']['seconds']:.2f}x; {1 + shards} producer invocations expected, "
        f"{construct['invocations']} made. Not like for like: locally the shards share the machine's cores and one "
        "moto server (in AWS each is a Lambda of its own), and the sharded producer keeps the run ledger (a claim "
        "per shard, and an update per worker batch), which the one-invocation producer of this app does not"
    )
    return not done or sharded["wall"] >= TARGET_SECONDS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--shard-size", type=int, default=2500, help="0: no sharded run")
    args = parser.parse_args()
    print_header("Local run of one fan-out: tasks per run against the 1,000-task baseline")
    rows = []
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-local-run-") as scratch:
        for size in args.sizes:
            outdir = Path(scratch) / f"cdk.out-{size}"
            synthesize(size, outdir)
            result = run(outdir, args.concurrency)
            results[size] = result
            construct = result["construct"]
            ok = construct["tasks_succeeded"] == size and result["report"]["ok"]
            rows.append(
                [
                    size,
                    construct["tasks_sent"],
                    construct["tasks_succeeded"],
                    construct["worker_invocations"],
                    result["wall"],
                    construct["seconds"],
                    size / construct["seconds"] if construct["seconds"] else 0.0,
                    "yes" if ok else "NO",
                ]
            )
        largest = max(args.sizes)
        sharded = None
        if args.shard_size:
            outdir = Path(scratch) / f"cdk.out-{largest}-sharded"
            synthesize(largest, outdir, args.shard_size)
            sharded = run(outdir, args.concurrency)
    print(
        table(
            ["tasks", "sent", "succeeded", "worker invocations", "command wall s", "run s", "tasks/s", "all done"],
            rows,
        )
    )
    if sharded is not None:
        failed_sharded = _report_sharded(sharded, results[largest], largest, args.shard_size)
    else:
        failed_sharded = False
    print()
    failed = False
    base = min(args.sizes)
    for size in args.sizes:
        if size == base:
            continue
        ratio = results[size]["wall"] / results[base]["wall"]
        run_ratio = results[size]["construct"]["seconds"] / results[base]["construct"]["seconds"]
        print(
            f"{size:,} against {base:,} tasks: command {ratio:.2f}x, run {run_ratio:.2f}x "
            f"(a flat cost per task is {size / base:.0f}x; target at most {TARGET_RATIO:g}x for 10x the tasks)"
        )
        if size == 10 * base and ratio > TARGET_RATIO:
            failed = True
    if 10000 in results:
        wall = results[10000]["wall"]
        print(f"10,000 tasks: {wall:.1f} s for the whole command (target under {TARGET_SECONDS:g} s)")
        failed = failed or wall >= TARGET_SECONDS
    if any(row[-1] != "yes" for row in rows) or failed_sharded:
        failed = True
    print("targets met" if not failed else "TARGET MISSED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
