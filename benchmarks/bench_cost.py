"""Cost benchmark: the examples' default settings against the seeds' designs.

Uses the cost model in ``scheduled_tasks_constructs.cost`` to price, per month
in us-east-1, each example as deployed with the library's defaults and the
original design it replaces, under the same workload of many short tasks:

* the scheduled lambda: a run every 2 minutes (the seed's rate, 21,600 runs in
  a 30-day month), each recording one item; environments stay warm between
  runs;
* the serverless task scheduler: hourly runs (720 a month) of 5,000 tasks of
  0.1 s each (256-byte messages); runs start cold. A smaller workload (30
  runs a day of 1,000 tasks of 0.2 s) is priced beside it.

For each pair it prints every cost line side by side, the settings that
differ and, for each line that moved, which of them moved it; then, for each
example, what its run ledger and watchdog add (against the same defaults with
``ledger=False``, no watchdog and the alarms ``watchdog=False`` leaves), and
what the watchdog costs a ``ScheduledLambdaToTable`` at a few schedules down
to ``rate(1 minute)``, the most frequent one; and one run of a million tasks
(sharded, as ``producer_shard_size`` does by default for a producer of your
own) against the seed's design: the cost of producing and of consuming per
million tasks, and the run's modelled wall time (``throughput``). A few sensitivity rows (not
targets) show how the ratio depends on the assumptions, among them the
watchdog's first design, which scanned the whole ledger and published its
metrics on every check.

Usage::

    .venv/bin/python benchmarks/bench_cost.py

Target: for the same work as the seed (the defaults without the run ledger
and the watchdog, which the seeds do not have), each example costs at least
3x less than the seed's design; what the ledger and the watchdog add is
printed beside it, not a target. Exits 1 if missed.
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
#: rate(1 minute), the most frequent schedule: 730 hours x 60 runs; environments stay warm.
EVERY_MINUTE_WORKLOAD = cost.Workload(
    runs_per_month=730 * 60, tasks_per_run=0, seconds_per_task=0.0, runs_start_cold=False
)

#: The watchdog's first design, for comparison: it scanned the whole ledger on
#: every check (then evaluated up to 10,000 slots of 35 days) instead of reading
#: its open window by key, and published its three metrics on every check,
#: zeros included, instead of only findings.
SCANNING_WATCHDOG = dict(watchdog_ledger_read="scan", watchdog_publishes_zeros=True)

WATCHDOG_KEYS = (
    "watchdog.schedule", "watchdog.requests", "watchdog.duration", "watchdog.init",
    "watchdog.reads", "watchdog.writes", "cloudwatch.metrics",
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
    "ledger.writes": ("ledger", "ledger_producer_writes", "ledger_batch_writes", "ledger_finish_writes"),
    "watchdog.schedule": ("watchdog_interval_minutes",),
    "watchdog.requests": ("watchdog_interval_minutes",),
    "watchdog.duration": ("watchdog_interval_minutes", "watchdog_memory_mb", "watchdog_aws_calls"),
    "watchdog.init": ("watchdog_interval_minutes", "watchdog_memory_mb"),
    "watchdog.reads": ("watchdog_interval_minutes", "watchdog_ledger_read", "watchdog_state_reads"),
    "watchdog.writes": ("watchdog_interval_minutes", "watchdog_state_writes"),
    "cloudwatch.metrics": ("watchdog_interval_minutes", "watchdog_publishes_zeros", "dashboard"),
    "cloudwatch.dashboard": ("dashboard",),
    "logs.ingestion": ("worker_batch_size", "watchdog_interval_minutes"),
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


def without_ledger_and_watchdog(settings: object) -> object:
    """``settings`` with no ledger, no watchdog and the alarms ``watchdog=False`` leaves."""
    return replace(
        settings,
        name=f"{settings.name}, no ledger or watchdog",
        ledger=False,
        watchdog_interval_minutes=None,
        alarms=settings.alarms - cost.LIBRARY_WATCHDOG_ALARMS,
    )


def ledger_and_watchdog(title: str, settings: object, workload: object) -> float:
    """Print what the ledger and the watchdog add to ``settings``; return the dollars a month."""
    ours = cost.estimate_monthly_cost(settings, workload)
    base = cost.estimate_monthly_cost(without_ledger_and_watchdog(settings), workload)
    print(title)
    print("-" * len(title))
    rows = []
    for diff in reversed(cost.compare(base, ours)):  # largest addition first
        if abs(diff.saving) < 5e-5:
            continue
        line = next((l for l in ours.lines if l.key == diff.key), None)
        rows.append([diff.key, _qty(line), line.unit if line else "", f"${-diff.saving:.4f}"])
    added = ours.total - base.total
    rows.append(["total added", "", "", f"${added:.4f}"])
    print(table(["line", "example qty", "unit", "added $"], rows))
    alarms = ours.dollars("cloudwatch.alarms") - base.dollars("cloudwatch.alarms")
    print(f"the ledger and the watchdog add ${added:.4f}/month to ${base.total:.4f}: "
          f"${alarms:.4f} of it for their {cost.LIBRARY_WATCHDOG_ALARMS} alarms, "
          f"${added - alarms:.4f} for the rest")
    print()
    return added


def watchdog_by_schedule() -> None:
    """What the watchdog costs a ScheduledLambdaToTable at a few schedules."""
    title = "The watchdog of a ScheduledLambdaToTable (library defaults), by schedule"
    print(title)
    print("-" * len(title))
    print("watchdog $: its schedule, requests, duration, init, reads, writes, metrics and log lines; "
          "ledger + watchdog $: that plus their alarms")
    tab = cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS
    schedules = [
        ("rate(1 minute)", 730 * 60),
        ("rate(2 minutes) (the example, 30-day month)", 30 * 24 * 30),
        ("rate(1 hour)", 730),
        ("cron, daily", 730 / 24),
    ]
    rows = []
    for label, runs in schedules:
        w = replace(EVERY_MINUTE_WORKLOAD, runs_per_month=runs)
        rows.append(_watchdog_row(label, tab, w))
    for months in (1, 12):
        w = replace(EVERY_MINUTE_WORKLOAD, ledger_age_months=months)
        age = "a 1-month-old ledger" if months == 1 else f"a {months}-month-old ledger"
        rows.append(_watchdog_row(f"rate(1 minute), the first watchdog (Scan, zeros), {age}",
                                  replace(tab, **SCANNING_WATCHDOG), w))
    print(table(["schedule", "runs/month", "watchdog reads (units)", "watchdog $", "ledger + watchdog $",
                 "total $"], rows))
    print()


def _watchdog_row(label: str, settings: object, workload: object) -> list[object]:
    ours = cost.estimate_monthly_cost(settings, workload)
    base = cost.estimate_monthly_cost(without_ledger_and_watchdog(settings), workload)
    logs = ours.dollars("logs.ingestion") - base.dollars("logs.ingestion")
    watchdog = sum(ours.dollars(key) for key in WATCHDOG_KEYS) + logs
    reads = ours.line("watchdog.reads").quantity
    return [label, _n(workload.runs_per_month), _n(reads), f"${watchdog:.4f}", f"${ours.total - base.total:.4f}",
            f"${ours.total:.4f}"]


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
    rows.append(["task scheduler", "example without ledger and watchdog",
                 ratio(seed_fan, without_ledger_and_watchdog(fan), w)])
    rows.append(["task scheduler", "example with the first watchdog (Scan, zeros published)",
                 ratio(seed_fan, replace(fan, **SCANNING_WATCHDOG), w)])
    rows.append(["task scheduler", "example with a dashboard", ratio(seed_fan, replace(fan, dashboard=True), w)])
    w = TABLE_WORKLOAD
    rows.append(["scheduled lambda", "as above", ratio(seed_tab, tab, w)])
    rows.append(["scheduled lambda", "example without alarms", ratio(seed_tab, replace(tab, alarms=0), w)])
    rows.append(["scheduled lambda", "seed table on-demand",
                 ratio(replace(seed_tab, table_billing="on_demand"), tab, w)])
    rows.append(["scheduled lambda", "seed table on-demand, example without alarms",
                 ratio(replace(seed_tab, table_billing="on_demand"), replace(tab, alarms=0), w)])
    rows.append(["scheduled lambda", "example without ledger and watchdog",
                 ratio(seed_tab, without_ledger_and_watchdog(tab), w)])
    rows.append(["scheduled lambda", "example with the first watchdog (Scan, zeros), 1-month-old ledger",
                 ratio(seed_tab, replace(tab, **SCANNING_WATCHDOG), replace(w, ledger_age_months=1))])
    rows.append(["scheduled lambda", "example with the first watchdog (Scan, zeros), 12-month-old ledger",
                 ratio(seed_tab, replace(tab, **SCANNING_WATCHDOG), w)])
    rows.append(["scheduled lambda", "example with a dashboard", ratio(seed_tab, replace(tab, dashboard=True), w)])
    rows.append(["scheduled lambda", "rate(1 minute)", ratio(seed_tab, tab, EVERY_MINUTE_WORKLOAD)])
    print(table(["system", "variation", "seed / example"], rows))


#: One run of a million tasks of 0.1 s.
MILLION_WORKLOAD = cost.Workload(runs_per_month=1, tasks_per_run=1_000_000, seconds_per_task=0.1, bytes_per_task=256)
LAMBDA_LIMIT_SECONDS = 900


def per_million() -> tuple[float, float]:
    """A million tasks in one run, sharded, against the seed; returns (seed $ / ours $, ours' modelled run seconds)."""
    # The run-time model imports the cost model as part of the package (which imports no aws_cdk for it).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from scheduled_tasks_constructs import throughput
    n = MILLION_WORKLOAD.tasks_per_run
    shard = cost.LIBRARY_PRODUCER_SHARD_SIZE
    send = throughput.estimate_send(n, shard_size=shard, memory_mb=cost.LIBRARY_PRODUCER_MEMORY_MB)
    run = throughput.estimate_run(n, seconds_per_task=MILLION_WORKLOAD.seconds_per_task, send=send)
    ours_settings = replace(
        cost.SCHEDULED_TASK_FANOUT_DEFAULTS,
        producer_shard_size=shard,
        worker_environments_per_run=run.peak_concurrency,  # each environment the event source scales to starts cold
    )
    seed_send_seconds = n * MILLION_WORKLOAD.aws_call_seconds  # one SendMessage per task, one at a time
    title = "A million tasks in one run: produced in shards and consumed, against the seed's design"
    print(title)
    print("-" * len(title))
    print(f"workload: {describe_workload(MILLION_WORKLOAD)}; per run, so these are the costs per million tasks")
    groups = {
        "producing": ("schedule", "function.", "sqs.send"),
        "consuming": ("sqs.receive", "sqs.delete", "worker."),
        "run ledger": ("ledger.",),
    }
    rows = []
    totals = {}
    for label, settings in (("seed design", cost.SEED_TASK_SCHEDULER), ("ScheduledTaskFanout, sharded", ours_settings)):
        estimate = cost.estimate_monthly_cost(settings, MILLION_WORKLOAD)
        sums = {g: sum(l.dollars for l in estimate.lines if l.key.startswith(keys)) for g, keys in groups.items()}
        totals[label] = sum(sums.values())
        requests = next(l.quantity for l in estimate.lines if l.key == "function.requests")
        rows.append([label, f"{requests:,.0f}", f"${sums['producing']:.4f}", f"${sums['consuming']:.4f}",
                     f"${sums['run ledger']:.4f}", f"${totals[label]:.4f}"])
    print(table(["design", "producer invocations", "producing $", "consuming $", "run ledger $", "per million $"], rows))
    ratio = totals["seed design"] / totals["ScheduledTaskFanout, sharded"]
    print(f"per million tasks: seed ${totals['seed design']:.4f} vs sharded ${totals['ScheduledTaskFanout, sharded']:.4f}: "
          f"{ratio:.2f}x cheaper (monthly fixed costs, idle polling, alarms and the watchdog, left out)")
    print(f"modelled run (throughput): send {send.seconds:.1f} s in {send.shards} shards of {shard:,} at "
          f"{cost.LIBRARY_PRODUCER_MEMORY_MB} MB (bound {send.bound_seconds:.1f} s; CPU-bound: {send.cpu_bound}); "
          f"worked off after {run.seconds:.0f} s end to end, {run.peak_concurrency} worker invocations at the peak, "
          f"the event source at its cap after {run.seconds_to_full_concurrency} s")
    print(f"the seed's producer: {n:,} SendMessage calls one at a time take {seed_send_seconds:,.0f} s, over "
          f"Lambda's {LAMBDA_LIMIT_SECONDS} s limit: it cannot send a million tasks in one invocation at all")
    print()
    return ratio, run.seconds


def main(argv: list[str] | None = None) -> int:
    print_header("Cost benchmark")
    p = cost.DEFAULT_PRICES
    print(f"prices: {p.region}, recorded {p.as_of}; {p.source}")
    print("free tiers: not applied, on either side (they are per account and shared with everything in it)")
    print("alarms: the library's defaults create CloudWatch alarms ($0.10 each a month) that the seeds lack;"
          " they are counted")
    print(f"run ledger and watchdog: the examples' defaults keep a run ledger and check it every "
          f"{cost.LIBRARY_WATCHDOG_INTERVAL_MINUTES} minutes ({cost.LIBRARY_WATCHDOG_ALARMS} of the alarms are "
          f"the watchdog's); the seeds have neither; they are counted")
    print()
    table_ratio = compare_pair(
        "The scheduled lambda: ScheduledLambdaToTable defaults vs the seed's design",
        cost.SEED_SCHEDULED_LAMBDA, cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, TABLE_WORKLOAD,
    )
    fanout_ratio = compare_pair(
        "The serverless task scheduler: ScheduledTaskFanout defaults vs the seed's design",
        cost.SEED_TASK_SCHEDULER, cost.SCHEDULED_TASK_FANOUT_DEFAULTS, FANOUT_WORKLOAD,
    )
    ledger_and_watchdog(
        "What the run ledger and the watchdog add: ScheduledLambdaToTable, a run every 2 minutes",
        cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, TABLE_WORKLOAD,
    )
    ledger_and_watchdog(
        "What the run ledger and the watchdog add: ScheduledTaskFanout, hourly runs of 5,000 tasks",
        cost.SCHEDULED_TASK_FANOUT_DEFAULTS, FANOUT_WORKLOAD,
    )
    ledger_and_watchdog(
        "What the run ledger and the watchdog add: ScheduledTaskFanout, 30 runs a day of 1,000 tasks",
        cost.SCHEDULED_TASK_FANOUT_DEFAULTS, SMALL_FANOUT_WORKLOAD,
    )
    watchdog_by_schedule()
    million_ratio, million_seconds = per_million()
    sensitivity()
    like_for_like = []
    for seed, ours, workload in (
        (cost.SEED_SCHEDULED_LAMBDA, cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS, TABLE_WORKLOAD),
        (cost.SEED_TASK_SCHEDULER, cost.SCHEDULED_TASK_FANOUT_DEFAULTS, FANOUT_WORKLOAD),
    ):
        seed_total = cost.estimate_monthly_cost(seed, workload).total
        like_for_like.append(seed_total / cost.estimate_monthly_cost(without_ledger_and_watchdog(ours), workload).total)
    return report_targets([
        (f"the scheduled lambda, the seed's work (no ledger, no watchdog): {like_for_like[0]:.2f}x cheaper than "
         f"the seed (>= {TARGET_RATIO:g}x); with them: {table_ratio:.2f}x", like_for_like[0] >= TARGET_RATIO),
        (f"the serverless task scheduler, the seed's work (no ledger, no watchdog): {like_for_like[1]:.2f}x "
         f"cheaper than the seed (>= {TARGET_RATIO:g}x); with them: {fanout_ratio:.2f}x",
         like_for_like[1] >= TARGET_RATIO),
        (f"a million tasks in one run, sharded: {million_ratio:.2f}x cheaper per million than the seed "
         f"(>= {TARGET_RATIO:g}x), worked off in {million_seconds:.0f} s modelled", million_ratio >= TARGET_RATIO),
    ])


if __name__ == "__main__":
    sys.exit(main())
