"""Cost benchmark: the examples' default settings against the seeds' designs.

Uses the cost model in ``scheduled_tasks_constructs.cost`` to price, per month
in us-east-1, each example as deployed with the library's defaults and the
original design it replaces, under the same workload of many short tasks:

* the scheduled lambda: a run every 2 minutes (the seed's rate, 21,600 runs in
  a 30-day month), each recording one item; environments stay warm between
  runs;
* the serverless task scheduler: 30 runs a day (900 a month) of 1,000 tasks
  of 0.2 s each (256-byte messages); runs start cold.

For each pair it prints every cost line side by side, the settings that
differ and, for each line that moved, which of them moved it. A few
sensitivity rows (not targets) show how the ratio depends on the assumptions.

Usage::

    .venv/bin/python benchmarks/bench_cost.py

Target: each example's defaults cost at least 3x less than the seed's design.
Exits 1 if missed.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_cost_module, print_header, report_targets, table  # noqa: E402

cost = load_cost_module()

TARGET_RATIO = 3.0

TABLE_WORKLOAD = cost.Workload(
    runs_per_month=30 * 24 * 30, tasks_per_run=0, seconds_per_task=0.0, runs_start_cold=False
)
#: "Many short tasks": every hour, 5,000 tasks of 0.1 s (3.6 million a month).
FANOUT_WORKLOAD = cost.Workload(
    runs_per_month=24 * 30, tasks_per_run=5_000, seconds_per_task=0.1, bytes_per_task=256
)
#: A small workload, where the alarms' fixed monthly cost weighs most.
SMALL_FANOUT_WORKLOAD = cost.Workload(
    runs_per_month=30 * 30, tasks_per_run=1_000, seconds_per_task=0.2, bytes_per_task=256
)

#: Settings fields that can move each cost line.
LINE_CAUSES = {
    "schedule": ("schedule_source",),
    "function.requests": (),
    "function.duration": ("architecture", "function_memory_mb", "send_batch_size", "send_concurrency"),
    "function.init": ("architecture", "function_memory_mb"),
    "dynamodb.writes": ("table_billing",),
    "dynamodb.capacity": ("table_billing", "table_read_capacity", "table_write_capacity"),
    "sqs.send": ("send_batch_size", "queue_type"),
    "sqs.receive": ("worker_batch_size", "queue_type"),
    "sqs.delete": ("worker_batch_size", "queue_type"),
    "sqs.idle_receive": ("queue_type", "idle_pollers"),
    "worker.requests": ("worker_batch_size",),
    "worker.duration": ("architecture", "worker_memory_mb", "worker_batch_size"),
    "worker.init": ("architecture", "worker_memory_mb", "worker_environments_per_run"),
    "logs.ingestion": ("worker_batch_size",),
    "cloudwatch.alarms": ("alarms",),
}


def describe_workload(w: object) -> str:
    return (
        f"{w.runs_per_month:,.0f} runs/month x {w.tasks_per_run:,} tasks/run x "
        f"{w.seconds_per_task:g} s/task, {w.bytes_per_task} B/message, API call {w.aws_call_seconds * 1e3:g} ms, "
        f"overhead {w.handler_overhead_seconds * 1e3:g} ms/invocation, init {w.init_seconds:g} s, "
        f"runs start cold: {w.runs_start_cold}"
    )


def compare_pair(title: str, seed_settings: object, ours_settings: object, workload: object) -> float:
    seed = cost.estimate_monthly_cost(seed_settings, workload)
    ours = cost.estimate_monthly_cost(ours_settings, workload)
    print(title)
    print("-" * len(title))
    print(f"workload: {describe_workload(workload)}")
    rows = []
    for diff in cost.compare(seed, ours):
        seed_line = next((l for l in seed.lines if l.key == diff.key), None)
        ours_line = next((l for l in ours.lines if l.key == diff.key), None)
        line = seed_line or ours_line
        rows.append([
            diff.key,
            _qty(seed_line),
            f"${diff.baseline:.4f}",
            _qty(ours_line),
            f"${diff.candidate:.4f}",
            f"${diff.saving:+.4f}",
            line.unit,
        ])
    rows.append(["total", "", f"${seed.total:.4f}", "", f"${ours.total:.4f}", f"${seed.total - ours.total:+.4f}", ""])
    rows.append(["requests (all services)", _n(seed.requests), "", _n(ours.requests), "", "", ""])
    rows.append(["Lambda GB-seconds", f"{seed.gb_seconds:,.1f}", "", f"{ours.gb_seconds:,.1f}", "", "", ""])
    print(table(["line", "seed qty", "seed $", "example qty", "example $", "saving $", "unit"], rows))
    ratio = seed.total / ours.total
    print(f"seed design ${seed.total:.4f}/month vs example defaults ${ours.total:.4f}/month: "
          f"{ratio:.2f}x cheaper")
    print()
    differences = cost.settings_differences(seed_settings, ours_settings)
    print("settings that differ (seed -> example): "
          + "; ".join(f"{name} {a} -> {b}" for name, a, b in differences))
    changed = {name for name, _, _ in differences}
    print("reasons, largest first:")
    for diff in cost.compare(seed, ours):
        if abs(diff.saving) < 0.005 * seed.total:
            continue
        causes = [name for name in LINE_CAUSES.get(diff.key, ()) if name in changed]
        share = abs(diff.saving) / seed.total * 100
        verb = "saves" if diff.saving > 0 else "costs"
        print(f"  {diff.key:<18} {verb} ${abs(diff.saving):.4f} ({share:.0f}% of the seed's total)"
              + (f": {', '.join(causes)}" if causes else ""))
    print()
    return ratio


def _qty(line: object) -> str:
    if line is None:
        return "-"
    return _n(line.quantity) if line.unit != "GB" else f"{line.quantity:.4f}"


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.1f}"


def sensitivity() -> None:
    print("Sensitivity (information, not targets): seed $ / example $")
    rows = []
    fan, seed_fan = cost.SCHEDULED_TASK_FANOUT_DEFAULTS, cost.SEED_TASK_SCHEDULER
    tab, seed_tab = cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, cost.SEED_SCHEDULED_LAMBDA

    def ratio(seed_s: object, ours_s: object, w: object) -> str:
        a = cost.estimate_monthly_cost(seed_s, w).total
        b = cost.estimate_monthly_cost(ours_s, w).total
        return f"${a:.4f} / ${b:.4f} = {a / b:.2f}x"

    w = FANOUT_WORKLOAD
    rows.append(["task scheduler", "as above", ratio(seed_fan, fan, w)])
    rows.append(["task scheduler", "example without alarms (alarms=False)", ratio(seed_fan, replace(fan, alarms=0), w)])
    rows.append(["task scheduler", "example worker at 128 MB", ratio(seed_fan, replace(fan, worker_memory_mb=128), w)])
    rows.append(["task scheduler", "example worker 128 MB, no alarms",
                 ratio(seed_fan, replace(fan, worker_memory_mb=128, alarms=0), w)])
    rows.append(["task scheduler", "seed on a standard queue", ratio(replace(seed_fan, queue_type="standard"), fan, w)])
    rows.append(["task scheduler", "10,000 tasks per run", ratio(seed_fan, fan, replace(w, tasks_per_run=10_000))])
    rows.append(["task scheduler", "tasks of 0.05 s", ratio(seed_fan, fan, replace(w, seconds_per_task=0.05))])
    rows.append(["task scheduler", "tasks of 1 s", ratio(seed_fan, fan, replace(w, seconds_per_task=1.0))])
    rows.append(["task scheduler", "small: 30 runs/day x 1,000 tasks of 0.2 s",
                 ratio(seed_fan, fan, SMALL_FANOUT_WORKLOAD)])
    rows.append(["task scheduler", "small, example without alarms",
                 ratio(seed_fan, replace(fan, alarms=0), SMALL_FANOUT_WORKLOAD)])
    w = TABLE_WORKLOAD
    rows.append(["scheduled lambda", "as above", ratio(seed_tab, tab, w)])
    rows.append(["scheduled lambda", "example without alarms", ratio(seed_tab, replace(tab, alarms=0), w)])
    rows.append(["scheduled lambda", "seed table on-demand",
                 ratio(replace(seed_tab, table_billing="on_demand"), tab, w)])
    rows.append(["scheduled lambda", "seed table on-demand, example without alarms",
                 ratio(replace(seed_tab, table_billing="on_demand"), replace(tab, alarms=0), w)])
    print(table(["system", "variation", "seed / example"], rows))


def main(argv: list[str] | None = None) -> int:
    print_header("Cost benchmark")
    p = cost.DEFAULT_PRICES
    print(f"prices: {p.region}, recorded {p.as_of}; {p.source}")
    print("free tiers: not applied, on either side (they are per account and shared with everything in it)")
    print("alarms: the library's defaults create CloudWatch alarms ($0.10 each a month) that the seeds lack;"
          " they are counted")
    print()
    table_ratio = compare_pair(
        "The scheduled lambda: ScheduledLambdaToTable defaults vs the seed's design",
        cost.SEED_SCHEDULED_LAMBDA, cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, TABLE_WORKLOAD,
    )
    fanout_ratio = compare_pair(
        "The serverless task scheduler: ScheduledTaskFanout defaults vs the seed's design",
        cost.SEED_TASK_SCHEDULER, cost.SCHEDULED_TASK_FANOUT_DEFAULTS, FANOUT_WORKLOAD,
    )
    sensitivity()
    return report_targets([
        (f"the scheduled lambda: example defaults {table_ratio:.2f}x cheaper than the seed (>= {TARGET_RATIO:g}x)",
         table_ratio >= TARGET_RATIO),
        (f"the serverless task scheduler: example defaults {fanout_ratio:.2f}x cheaper than the seed "
         f"(>= {TARGET_RATIO:g}x)", fanout_ratio >= TARGET_RATIO),
    ])


if __name__ == "__main__":
    sys.exit(main())
