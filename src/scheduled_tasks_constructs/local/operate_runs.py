"""Run slots of a schedule by hand: ``trigger`` and ``backfill`` of ``scheduled-tasks``.

A slot is one scheduled time of a schedule. Both verbs invoke the schedule's
target with exactly the input the Scheduler sends for that slot: the target
``Input`` of ``GetSchedule`` with its ``<aws.scheduler.*>`` placeholders
filled in as the Scheduler fills them (a new execution ID, the slot as
``scheduled-time``, the schedule's ARN, attempt 1), so the run lands in the
run ledger under that slot like a scheduled one, and its tasks get the task
IDs a scheduled run's would.

- ``trigger APP --construct PATH [--time T]`` runs the slot ``T`` (default:
  now). A slot the ledger shows ``succeeded`` is refused unless ``--force``.
- ``backfill APP --construct PATH --from T1 --to T2`` runs every slot the
  schedule fires in ``[T1, T2)`` (the library's schedule arithmetic: its
  time zone and daylight-saving rules, start and end dates; a rate schedule
  without a start date counts from its last modification, as Scheduler
  does), minus the slots the ledger shows ``succeeded`` unless ``--force``,
  oldest first, at most ``--max-parallel`` at a time (default 1), at most
  ``--max-slots`` of them (default 100; more is an error, never a cut).
  Before asking, it prints the slot count and what that many runs cost by
  the cost model (:mod:`scheduled_tasks_constructs.cost`).

Deployed (the default), the function is invoked synchronously
(``RequestResponse``), so a failure shows at once with its error and
nothing is retried behind your back: a failed slot is run again by running
it again (the ledger lets a failed slot re-run). With ``--endpoint URL``
the slots run on what an earlier ``scheduled-tasks run APP --endpoint URL``
made there: the same run ledger, queue and table, the synthesized functions
with their own assets and layers, invoked as ``run`` invokes them
(asynchronously, with Lambda's retries), one slot at a time.

IAM actions (deployed): ``cloudformation:DescribeStackResource`` on the
stacks, ``scheduler:GetSchedule``, ``dynamodb:BatchGetItem`` on the ledger,
``lambda:InvokeFunction`` on the schedule's target.
"""

from __future__ import annotations

import argparse
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .deployed import aws_errors
from .operate import (
    OperateError,
    aws_options,
    confirm,
    fire_time_options,
    get_schedule,
    one_construct,
    rate_anchor,
    schedule_of,
    where_of,
)
from .reporting import iso_z
from .scheduler import fill_placeholders

__all__ = ["DEFAULT_MAX_SLOTS", "add_commands", "commands", "run_cost", "slot_event", "slots_between"]

#: Slots one ``backfill`` runs at most unless ``--max-slots`` says more.
DEFAULT_MAX_SLOTS = 100
#: What a backfill's cost estimate assumes a task takes, when nothing says.
ASSUMED_SECONDS_PER_TASK = 0.1
#: Seconds to wait for one synchronous invocation (Lambda's limit is 900).
_INVOKE_READ_TIMEOUT = 910
_BATCH_GET_KEYS = 100


def _instant(text: str) -> datetime:
    """``--time``, ``--from``, ``--to``: ISO 8601; without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-12-01T09:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def add_commands(commands: Any, add_app_options: Callable[[argparse.ArgumentParser, str], None]) -> None:
    """Add ``trigger`` and ``backfill`` to the subcommands of ``scheduled-tasks``."""
    iam = (
        "IAM actions: cloudformation:DescribeStackResource, scheduler:GetSchedule, dynamodb:BatchGetItem, "
        "lambda:InvokeFunction."
    )
    trigger = commands.add_parser(
        "trigger",
        help="run one slot of a construct's schedule now, with the Scheduler's input for it",
        description="Invoke the schedule's target with exactly the input the Scheduler sends for slot T, so the "
        "run lands in the run ledger under that slot. A slot that succeeded is refused unless --force. " + iam,
    )
    trigger.add_argument("--time", type=_instant, metavar="T", help="the slot, ISO 8601 (default: now)")
    backfill = commands.add_parser(
        "backfill",
        help="run every slot a construct's schedule fires in [T1, T2) that has not succeeded",
        description="Run every slot the schedule fires from T1 (included) to T2 (excluded), in its time zone, "
        "minus the slots the run ledger shows succeeded (unless --force), oldest first. " + iam,
    )
    backfill.add_argument("--from", dest="start", type=_instant, required=True, metavar="T1", help="first instant, ISO 8601")
    backfill.add_argument("--to", dest="stop", type=_instant, required=True, metavar="T2", help="end instant (excluded)")
    backfill.add_argument(
        "--max-parallel", type=int, default=1, metavar="N", help="slots in flight at once (default: 1)"
    )
    backfill.add_argument(
        "--max-slots",
        type=int,
        default=DEFAULT_MAX_SLOTS,
        metavar="N",
        help=f"refuse a range of more slots than this (default: {DEFAULT_MAX_SLOTS})",
    )
    for parser, verb in ((trigger, "trigger"), (backfill, "backfill")):
        parser.add_argument("app", metavar="APP", help="the app's Python file, its folder, its cdk.json, or a cdk.out folder")
        parser.add_argument("--force", action="store_true", help="run slots the ledger shows succeeded too")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--dry-run", action="store_true", help="print what would be done and stop")
        aws_options(parser)
        add_app_options(parser, verb)


# --------------------------------------------------------------------------- slots


def slots_between(
    schedule: Mapping[str, Any], start: datetime, stop: datetime, *, cap: int, anchor: Optional[datetime] = None
) -> List[datetime]:
    """The slots ``schedule`` fires in ``[start, stop)``, oldest first, in UTC.

    Parameters
    ----------
    schedule : Mapping
        A ``GetSchedule`` answer: ``ScheduleExpression``,
        ``ScheduleExpressionTimezone``, ``StartDate``, ``EndDate``.
    start, stop : datetime
        The range (timezone-aware); ``start`` is included, ``stop`` is not.
    cap : int
        The most slots allowed.
    anchor : datetime, optional
        What a rate expression without a start date counts from
        (:func:`~.operate.rate_anchor`).

    Returns
    -------
    list of datetime
        The slots, each to the second.

    Raises
    ------
    OperateError
        When the range is empty or reversed, the expression cannot be read,
        or it holds more than ``cap`` slots.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> spring = {"ScheduleExpression": "cron(30 2 * * ? *)", "ScheduleExpressionTimezone": "Europe/Berlin"}
    >>> [iso_z(t) for t in slots_between(spring, datetime(2026, 3, 28, tzinfo=timezone.utc),
    ...                                  datetime(2026, 3, 31, tzinfo=timezone.utc), cap=10)]
    ['2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z']

    (02:30 on 29 March does not exist in Berlin: the Scheduler skips it.)
    """
    from ..schedule_expressions import ScheduleExpressionError, next_fire_times

    if stop <= start:
        raise OperateError(f"--to {iso_z(stop)} is not after --from {iso_z(start)}: the range [T1, T2) is empty")
    expression = str(schedule.get("ScheduleExpression", ""))
    try:
        times = next_fire_times(
            expression, after=start - timedelta(microseconds=1), count=cap + 1, **fire_time_options(schedule, anchor)
        )
    except (ScheduleExpressionError, ValueError) as exc:
        raise OperateError(f"cannot compute the fire times of {expression}: {exc}") from None
    slots = [t.astimezone(timezone.utc) for t in times if t < stop]
    if len(slots) > cap:
        raise OperateError(
            f"more than {cap} slots of {expression} in [{iso_z(start)}, {iso_z(stop)}): over the cap (--max-slots "
            f"{cap}); narrow the range or raise --max-slots"
        )
    return slots


def _is_fire_time(schedule: Mapping[str, Any], moment: datetime, anchor: Optional[datetime]) -> bool:
    from ..schedule_expressions import ScheduleExpressionError, next_fire_times

    try:
        found = next_fire_times(
            str(schedule.get("ScheduleExpression", "")),
            after=moment - timedelta(seconds=1),
            count=1,
            **fire_time_options(schedule, anchor),
        )
    except (ScheduleExpressionError, ValueError):
        return False
    return bool(found) and found[0] == moment


def slot_event(schedule: Mapping[str, Any], slot: datetime, *, execution_id: Optional[str] = None) -> Any:
    """The event the Scheduler sends the target for ``slot``: its ``Input``, placeholders filled in.

    Parameters
    ----------
    schedule : Mapping
        A ``GetSchedule`` answer (``Arn``, ``Target.Input``).
    slot : datetime
        The scheduled time.
    execution_id : str, optional
        The execution ID (default: a new UUID, as the Scheduler makes one
        per invocation).

    Returns
    -------
    object
        The input parsed as JSON (a string when it is not JSON); ``{}`` for a
        target without an input.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> slot_event({"Arn": "arn:s", "Target": {"Input": '{"at": "<aws.scheduler.scheduled-time>"}'}},
    ...            datetime(2026, 12, 1, 9, tzinfo=timezone.utc), execution_id="e-1")
    {'at': '2026-12-01T09:00:00Z'}
    """
    text = str((schedule.get("Target") or {}).get("Input") or "{}")
    values = {
        "execution_id": execution_id or str(uuid.uuid4()),
        "scheduled_time": iso_z(slot),
        "schedule_arn": str(schedule.get("Arn", "")),
        "attempt_number": "1",
    }
    filled = fill_placeholders(text, values)
    try:
        return json.loads(filled)
    except ValueError:
        return filled


# --------------------------------------------------------------------------- the ledger


def _ledger_statuses(where: Any, entry: Any, key: str, slots: Sequence[datetime]) -> Dict[str, str]:
    """The ledger's status of each slot that has an item, by ``iso_z(slot)``."""
    if entry.resources.get("ledger") is None or not slots:
        return {}
    table, dynamodb = where.table(entry)
    ids = [f"{key}#{iso_z(slot)}" for slot in slots]
    found: Dict[str, str] = {}
    with aws_errors("dynamodb:BatchGetItem", f"table {table}", not_found=f"{entry.path}: the run ledger table {table} does not exist"):
        for first in range(0, len(ids), _BATCH_GET_KEYS):
            request: Dict[str, Any] = {
                table: {
                    "Keys": [{"run_id": {"S": run_id}} for run_id in ids[first : first + _BATCH_GET_KEYS]],
                    "ProjectionExpression": "run_id, #s",
                    "ExpressionAttributeNames": {"#s": "status"},
                }
            }
            for _ in range(100):
                page = dynamodb.batch_get_item(RequestItems=request)
                for item in page.get("Responses", {}).get(table, []):
                    slot = item["run_id"]["S"].rpartition("#")[2]
                    found[slot] = (item.get("status") or {}).get("S", "")
                request = page.get("UnprocessedKeys") or {}
                if not request:
                    break
    return found


# --------------------------------------------------------------------------- cost


def run_cost(assembly: Any, entry: Any, runs: int, event: Any) -> tuple[float, str]:
    """What ``runs`` runs of the construct cost by the cost model, and the assumptions, in words.

    The construct kind's library defaults, with the scheduled function's and
    the worker's memory as the template sets them; the tasks a run holds are
    the ``tasks`` of the input when it lists them (else none are counted),
    each assumed to take :data:`ASSUMED_SECONDS_PER_TASK`. Only what a run
    costs is counted: the Scheduler's invocation (a backfill invokes
    directly), and what costs the same a month with or without the runs
    (the watchdog, the idle receives of the queue's pollers, metrics, alarms
    and dashboards) are left out.
    """
    from .. import cost

    fanout = entry.construct == "ScheduledTaskFanout"
    settings = cost.SCHEDULED_TASK_FANOUT_DEFAULTS if fanout else cost.SCHEDULED_LAMBDA_TO_TABLE_DEFAULTS
    memory = {}
    for role, field in (("producer" if fanout else "function", "function_memory_mb"), ("worker", "worker_memory_mb")):
        ref = entry.resources.get(role)
        if ref is not None and not ref.external:
            stack = assembly.stack(ref.stack) if ref.stack else entry.stack
            props = stack.properties(str(ref.logical_id))
            if isinstance(props.get("MemorySize"), int):
                memory[field] = props["MemorySize"]
    # What the same runs cost whether or not they are backfilled is left out.
    settings = replace(settings, watchdog_interval_minutes=None, alarms=0, **memory)
    tasks = event.get("tasks") if isinstance(event, dict) else None
    count = len(tasks) if fanout and isinstance(tasks, list) else 0
    workload = cost.Workload(runs_per_month=runs, tasks_per_run=count, seconds_per_task=ASSUMED_SECONDS_PER_TASK)
    estimate = cost.estimate_monthly_cost(settings, workload)
    fixed = ("schedule", "cloudwatch.", "sqs.idle_receive")  # the pollers' idle receives cost the same a month
    dollars = sum(line.dollars for line in estimate.lines if not line.key.startswith(fixed))
    what = f"{count} tasks a run, {ASSUMED_SECONDS_PER_TASK:g} s a task assumed" if fanout else "the run's own work not counted"
    return dollars, f"cost model at the construct's memory sizes, {what}; fixed monthly costs left out"


# --------------------------------------------------------------------------- running slots


@dataclass
class _Plan:
    entry: Any
    where: Any
    schedule: Dict[str, Any]
    group: str
    name: str
    slots: List[datetime]


def _plan(loaded: Any, args: argparse.Namespace) -> _Plan:
    entry = one_construct(loaded)
    where = where_of(loaded, args)
    client, group, name = schedule_of(where, entry)
    schedule = get_schedule(where, client, group, name, entry.path)
    target = str((schedule.get("Target") or {}).get("Arn", ""))
    if not target.startswith("arn:aws:lambda:") and ":lambda:" not in target:
        raise OperateError(f"{entry.path}: the schedule's target {target or '(none)'} is not a Lambda function")
    return _Plan(entry, where, schedule, group, name, [])


def _describe(plan: _Plan) -> str:
    schedule = plan.schedule
    return (
        f"{plan.group}/{plan.name} ({schedule.get('ScheduleExpression')} in "
        f"{schedule.get('ScheduleExpressionTimezone') or 'UTC'}, {schedule.get('State')})"
    )


def _lambda_client(where: Any, region: Optional[str]) -> Any:
    """A Lambda client that waits out a whole invocation and never repeats one."""
    from botocore.config import Config

    config = Config(read_timeout=_INVOKE_READ_TIMEOUT, retries={"total_max_attempts": 1})
    with aws_errors("a lambda client", f"Region {region}"):
        return where.aws.client("lambda", region_name=region, config=config)


def _invoke_deployed(plan: _Plan, max_parallel: int) -> List[tuple[datetime, bool, str]]:
    """Invoke the deployed target once per slot, synchronously, oldest first, ``max_parallel`` at a time."""
    stack = plan.entry.stack
    ref = plan.entry.resources.get("schedule")
    if ref is not None and ref.stack:
        stack = plan.where.assembly.stack(ref.stack)
    region = str(plan.schedule["Target"]["Arn"]).split(":")[3]
    lambda_client = _lambda_client(plan.where, region or plan.where.region_of(stack))
    function = plan.schedule["Target"]["Arn"]

    def run(slot: datetime) -> tuple[datetime, bool, str]:
        event = slot_event(plan.schedule, slot)
        with aws_errors("lambda:InvokeFunction", f"function {function}"):
            answer = lambda_client.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
        payload = answer["Payload"].read().decode("utf-8", "replace")
        if answer.get("FunctionError"):
            try:
                error = json.loads(payload)
                text = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
            except (ValueError, AttributeError):
                text = payload[:200]
            return slot, False, " ".join(text.split())[:300]
        return slot, True, "ok"

    results = []
    with ThreadPoolExecutor(max_workers=max_parallel) as pool:
        for slot, ok, text in pool.map(run, plan.slots):
            print(f"{plan.entry.path}: slot {iso_z(slot)}: {'ok' if ok else 'failed: ' + text}", flush=True)
            results.append((slot, ok, text))
    return results


def _run_local(plan: _Plan, args: argparse.Namespace, loaded: Any) -> bool:
    """Run the slots on the local endpoint, on the resources of the earlier run there."""
    import sys

    from .reporting import format_report
    from .runner import RunOptions, run_app

    suffix = plan.where.run_suffix(plan.entry)
    report = run_app(
        loaded.assembly,
        [plan.entry],
        endpoint=plan.where.endpoint,
        options=RunOptions(
            slots=plan.slots,
            resume_suffix=suffix or uuid.uuid4().hex[:8],
            region=plan.where.region,
            timeout_seconds=getattr(args, "timeout", 600.0),
        ),
        app=str(loaded.app_file or loaded.outdir),
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(format_report(report))
    return bool(report.ok)


def _go(plan: _Plan, args: argparse.Namespace, loaded: Any, ask: Callable[[str], str], question: str) -> int:
    if args.dry_run:
        print("dry run: nothing run")
        return 0
    if not plan.slots:
        print(f"{plan.entry.path}: nothing to run")
        return 0
    confirm(question, args, ask)
    if hasattr(plan.where, "endpoint"):
        return 0 if _run_local(plan, args, loaded) else 1
    results = _invoke_deployed(plan, getattr(args, "max_parallel", 1))
    failed = [slot for slot, ok, _ in results if not ok]
    print(f"{plan.entry.path}: {len(results) - len(failed)} of {len(results)} slot(s) ok" + (
        f"; failed: {', '.join(iso_z(s) for s in failed)}" if failed else ""
    ))
    return 1 if failed else 0


def trigger(loaded: Any, args: argparse.Namespace, *, ask: Callable[[str], str] = input, now: Optional[datetime] = None) -> int:
    """``trigger``: run the slot ``--time`` (default: now) of the one construct ``--construct`` names."""
    plan = _plan(loaded, args)
    slot = (args.time or now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    status = _ledger_statuses(plan.where, plan.entry, f"{plan.group}/{plan.name}", [slot]).get(iso_z(slot))
    if status == "succeeded" and not args.force:
        raise OperateError(
            f"{plan.entry.path}: slot {iso_z(slot)} already succeeded (the run ledger says so); give --force to run it again"
        )
    plan.slots = [slot]
    notes = []
    anchor, _ = rate_anchor(plan.where, plan.entry, f"{plan.group}/{plan.name}", plan.schedule)
    if not _is_fire_time(plan.schedule, slot, anchor):
        notes.append("not a fire time of the schedule: the ledger records it as a slot of its own")
    if status:
        notes.append(f"the ledger shows it {status}")
    print(
        f"{plan.entry.path}: trigger slot {iso_z(slot)} of {_describe(plan)} with the Scheduler's input for it"
        + ("" if not notes else " (" + "; ".join(notes) + ")")
    )
    return _go(plan, args, loaded, ask, f"Run slot {iso_z(slot)}?")


def backfill(loaded: Any, args: argparse.Namespace, *, ask: Callable[[str], str] = input) -> int:
    """``backfill``: run the slots in ``[--from, --to)`` that have not succeeded, oldest first."""
    if args.max_parallel < 1:
        raise OperateError(f"--max-parallel must be 1 or more, got {args.max_parallel}")
    if args.max_slots < 1:
        raise OperateError(f"--max-slots must be 1 or more, got {args.max_slots}")
    plan = _plan(loaded, args)
    if hasattr(plan.where, "endpoint") and args.max_parallel != 1:
        raise OperateError(
            f"--max-parallel {args.max_parallel}: with --endpoint the local runner runs one slot at a time; leave it out"
        )
    anchor, source = rate_anchor(plan.where, plan.entry, f"{plan.group}/{plan.name}", plan.schedule)
    if anchor is not None:
        print(f"{plan.entry.path}: the rate counts from {iso_z(anchor)} ({source}), as the schedule has no start date")
    slots = slots_between(plan.schedule, args.start, args.stop, cap=args.max_slots, anchor=anchor)
    statuses = _ledger_statuses(plan.where, plan.entry, f"{plan.group}/{plan.name}", slots)
    succeeded = [slot for slot in slots if statuses.get(iso_z(slot)) == "succeeded"]
    plan.slots = slots if args.force else [slot for slot in slots if slot not in succeeded]
    first_last = f": {iso_z(plan.slots[0])} to {iso_z(plan.slots[-1])}" if plan.slots else ""
    skipped = (
        f"; {len(succeeded)} already succeeded, " + ("run again (--force)" if args.force else "skipped (--force runs them)")
        if succeeded
        else ""
    )
    print(
        f"{plan.entry.path}: backfill {len(plan.slots)} of the {len(slots)} slot(s) of {_describe(plan)} in "
        f"[{iso_z(args.start)}, {iso_z(args.stop)}){first_last}{skipped}; oldest first, at most {args.max_parallel} "
        "at a time"
    )
    if plan.slots:
        dollars, basis = run_cost(plan.where.assembly, plan.entry, len(plan.slots), slot_event(plan.schedule, plan.slots[0]))
        shown = f"{dollars:.6f}" if dollars < 0.01 else f"{dollars:.2f}"
        print(f"{plan.entry.path}: estimated cost of {len(plan.slots)} run(s): ${shown} ({basis})")
    return _go(plan, args, loaded, ask, f"Run {len(plan.slots)} slot(s)?")


def commands() -> Dict[str, Callable[[Any, argparse.Namespace], int]]:
    """The verbs' handlers, by name, for the CLI: each takes the loaded app and the parsed arguments."""
    return {"trigger": trigger, "backfill": backfill}
