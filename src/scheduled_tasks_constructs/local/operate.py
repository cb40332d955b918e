"""Operate a deployed schedule: ``pause``, ``resume`` and ``status`` of ``scheduled-tasks``.

Each verb finds the construct's schedule through CloudFormation and the
construct metadata (:class:`~.deployed.DeployedResources`), never by a
guessed name, and calls EventBridge Scheduler with the user's own
credentials (``--profile``, ``--region``; boto3's usual chain otherwise).

``pause`` and ``resume`` turn the schedule off or on with ``UpdateSchedule``,
which replaces the whole schedule: every attribute ``GetSchedule`` returns
that ``UpdateSchedule`` accepts (target, input, role, retry policy,
dead-letter queue, flexible window, time zone, start and end, KMS key,
group, action after completion, description, and any attribute a later API
version adds) is carried over as it is, and only ``State`` changes
(:func:`update_request`; the one exception, said before anything is done:
a ``StartDate`` already past, which Scheduler refuses). A schedule already in the asked state is left
alone. Each prints what it is about to do and asks on a terminal unless
``--yes``; ``--dry-run`` prints it and stops.

``status`` prints each construct's schedule: its state, expression and
zone, its next fire times (the library's schedule arithmetic) and its last
runs from the run ledger.

With ``--endpoint URL`` each acts on what an earlier ``scheduled-tasks run
APP --endpoint URL`` made on that local endpoint (the run makes each
schedule there too) instead of the deployed stacks.

IAM actions: ``cloudformation:DescribeStackResource`` on the stacks,
``scheduler:GetSchedule`` (all three), ``scheduler:UpdateSchedule`` and
``iam:PassRole`` on the schedule's role (``pause``, ``resume``: Scheduler
checks the role it is given again), ``dynamodb:Scan`` on the ledger
(``status``; and ``dynamodb:GetItem`` for a rate schedule without a start
date, :func:`rate_anchor`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .deployed import DEFAULT_GROUP, DeployedError, DeployedResources, aws_errors

__all__ = ["add_commands", "commands", "update_request"]

#: GetSchedule answers that are not schedule attributes.
_NOT_ATTRIBUTES = frozenset({"Arn", "CreationDate", "LastModificationDate", "ResponseMetadata"})


class OperateError(DeployedError):
    """A verb cannot go on (a refusal, a construct that is not unique); the message is one line."""


def update_request(
    current: Mapping[str, Any], *, state: str, accepted: Any, now: Optional[datetime] = None
) -> Tuple[Dict[str, Any], List[str]]:
    """The ``UpdateSchedule`` request that changes only ``State`` of the schedule ``current`` describes.

    Parameters
    ----------
    current : Mapping
        A ``GetSchedule`` response.
    state : str
        ``"ENABLED"`` or ``"DISABLED"``.
    accepted : Iterable of str
        The members of ``UpdateSchedule``'s input (from the client's service
        model), so that an attribute a later API version adds is carried over.
    now : datetime, optional
        The current time. Default: now.

    Returns
    -------
    tuple of (dict, list of str)
        Every attribute of ``current`` that ``UpdateSchedule`` accepts, with
        ``State`` set to ``state``; and what could not be carried over, one
        sentence each. Scheduler refuses a ``StartDate`` more than 5 minutes
        in the past, so a past one is left out (and said so): a cron
        schedule fires as before, a rate schedule then counts its interval
        from the update.

    Examples
    --------
    >>> request, notes = update_request(
    ...     {"Name": "n", "GroupName": "default", "State": "ENABLED", "Arn": "arn:...",
    ...      "ScheduleExpression": "rate(1 hour)"}, state="DISABLED",
    ...     accepted={"Name", "GroupName", "State", "ScheduleExpression"})
    >>> request, notes
    ({'Name': 'n', 'GroupName': 'default', 'State': 'DISABLED', 'ScheduleExpression': 'rate(1 hour)'}, [])
    """
    allowed = set(accepted)
    request = {key: value for key, value in current.items() if key in allowed and key not in _NOT_ATTRIBUTES}
    request["State"] = state
    notes: List[str] = []
    start = request.get("StartDate")
    moment = now or datetime.now(timezone.utc)
    if isinstance(start, datetime) and start.tzinfo is not None and start < moment + timedelta(minutes=1):
        del request["StartDate"]
        expression = str(current.get("ScheduleExpression", ""))
        effect = (
            "its rate then counts from now" if expression.startswith("rate(") else "its fire times do not change"
        )
        notes.append(
            f"StartDate {start.isoformat()} is past and UpdateSchedule refuses past start dates, so it is "
            f"left out ({effect})"
        )
    return request, notes


def add_commands(commands: Any, add_app_options: Callable[[argparse.ArgumentParser, str], None]) -> None:
    """Add ``pause``, ``resume`` and ``status`` to the subcommands of ``scheduled-tasks``."""
    for verb, doing in (("pause", "disable"), ("resume", "enable")):
        parser = commands.add_parser(
            verb,
            help=f"{doing} a deployed construct's schedule, every other attribute kept",
            description=f"{doing.capitalize()} the deployed schedule of one construct with UpdateSchedule, "
            "carrying over every other attribute GetSchedule returns. IAM actions: "
            "cloudformation:DescribeStackResource, scheduler:GetSchedule, scheduler:UpdateSchedule, "
            "iam:PassRole on the schedule's role.",
        )
        parser.add_argument("app", metavar="APP", help="the app's Python file, its folder, its cdk.json, or a cdk.out folder")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--dry-run", action="store_true", help="print what would be done and stop")
        aws_options(parser)
        add_app_options(parser, verb)
    status = commands.add_parser(
        "status",
        help="show each deployed schedule's state, next fire times and last runs",
        description="Show each construct's deployed schedule: state, expression, next fire times and the last "
        "runs of its run ledger. IAM actions: cloudformation:DescribeStackResource, scheduler:GetSchedule, "
        "dynamodb:Scan.",
    )
    status.add_argument("app", metavar="APP", help="the app's Python file, its folder, its cdk.json, or a cdk.out folder")
    status.add_argument("-n", "--count", type=int, default=5, metavar="N", help="last runs shown (default: 5)")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    aws_options(status)
    add_app_options(status, "show")


def aws_options(parser: argparse.ArgumentParser) -> None:
    """``--endpoint``, ``--profile`` and ``--region``: where a verb finds the construct's resources."""
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="act on what `run APP --endpoint URL` made on this local endpoint (default: the deployed stacks)",
    )
    parser.add_argument("--profile", metavar="P", help="AWS profile of the deployed stacks (default: boto3's)")
    parser.add_argument(
        "--region",
        metavar="R",
        help="Region (default: each stack's own, else your configuration's; with --endpoint, us-east-1)",
    )


def where_of(loaded: Any, args: argparse.Namespace) -> Any:
    """The construct's resources: on the local endpoint ``--endpoint`` names, else deployed."""
    if not getattr(args, "endpoint", None):
        return DeployedResources(loaded.assembly, profile=args.profile, region=args.region)
    from .deployed import LocalEndpointResources
    from .endpoint import check_endpoint

    if args.profile:
        raise OperateError("--profile applies to deployed stacks; leave it out with --endpoint")
    endpoint = args.endpoint.rstrip("/")
    check_endpoint(endpoint, args.region or "us-east-1")
    return LocalEndpointResources(loaded.assembly, endpoint=endpoint, region=args.region or "us-east-1")


def missing_schedule(where: Any, path: str, group: str, name: str) -> str:
    """The one line for a schedule that is not there: deleted when deployed, not made yet when local."""
    if hasattr(where, "endpoint"):
        return (
            f"{path}: the schedule {group}/{name} is not on {where.endpoint}: run "
            f"`scheduled-tasks run APP --endpoint {where.endpoint}` first"
        )
    return f"{path}: the schedule {group}/{name} does not exist (deleted?)"


def schedule_of(where: Any, entry: Any) -> tuple[Any, str, str]:
    """The Scheduler client of ``entry``'s stack, and its schedule's group and name."""
    group, _, name = where.schedule_key(entry).partition("/")
    ref = entry.resources.get("schedule")
    stack = where.assembly.stack(ref.stack) if ref is not None and ref.stack else entry.stack
    return where.client("scheduler", stack), group or DEFAULT_GROUP, name


def get_schedule(where: Any, client: Any, group: str, name: str, path: str) -> Dict[str, Any]:
    """``GetSchedule`` of the construct's schedule, without the response metadata."""
    with aws_errors(
        "scheduler:GetSchedule", f"schedule {group}/{name}", not_found=missing_schedule(where, path, group, name)
    ):
        found = client.get_schedule(GroupName=group, Name=name)
    return {key: value for key, value in found.items() if key != "ResponseMetadata"}


def confirm(question: str, args: argparse.Namespace, ask: Callable[[str], str]) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise OperateError(f"{question.rstrip('?')}: not on a terminal, so nothing asked; give --yes to go on")
    if ask(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise OperateError("not confirmed; nothing changed")


def rate_anchor(where: Any, entry: Any, key: str, schedule: Mapping[str, Any]) -> Tuple[Optional[datetime], str]:
    """The instant a rate schedule without a start date counts its interval from, and where it comes from.

    Scheduler fires such a schedule on the grid of the moment it was created
    (or last updated). The run ledger knows that grid best: the watchdog's
    ``rate_anchor``, else the oldest slot of the schedule's runs (a Scan,
    ``dynamodb:Scan``); without either, the schedule's last modification
    (else creation) time, to the second. ``(None, "")`` for any other
    schedule.
    """
    from ..schedule_expressions import ScheduleExpressionError, parse_expression

    try:
        kind = parse_expression(str(schedule.get("ScheduleExpression", ""))).kind
    except (ScheduleExpressionError, ValueError):
        return None, ""
    if kind != "rate" or schedule.get("StartDate") is not None:
        return None, ""
    if entry.resources.get("ledger") is not None:
        from ..runtime.watchdog import WATCHDOG_SUFFIX
        from .history import read_runs

        table, dynamodb = where.table(entry)
        with aws_errors("dynamodb:GetItem", f"table {table}"):
            state = dynamodb.get_item(TableName=table, Key={"run_id": {"S": key + WATCHDOG_SUFFIX}}).get("Item") or {}
        text = (state.get("rate_anchor") or {}).get("S")
        if text:
            return datetime.fromisoformat(text.replace("Z", "+00:00")), "the watchdog's anchor"
        with aws_errors("dynamodb:Scan", f"table {table}"):
            runs = read_runs(dynamodb, table, schedule=key, limit=1_000_000)
        slots = []
        for run in runs:
            try:
                slots.append(datetime.fromisoformat(str(run.slot).replace("Z", "+00:00")))
            except ValueError:
                continue  # a manual run's slot
        if slots:
            return min(slots), "its oldest run in the ledger"
    moment = schedule.get("LastModificationDate") or schedule.get("CreationDate")
    if isinstance(moment, datetime):
        return moment.astimezone(timezone.utc).replace(microsecond=0), "its last modification"
    return None, ""


def fire_time_options(schedule: Mapping[str, Any], anchor: Optional[datetime]) -> Dict[str, Any]:
    """The ``next_fire_times`` arguments of a ``GetSchedule`` answer and a rate anchor (:func:`rate_anchor`)."""
    return {
        "time_zone": str(schedule.get("ScheduleExpressionTimezone") or "UTC"),
        "start": schedule.get("StartDate"),
        "end": schedule.get("EndDate"),
        "created_at": anchor,
    }


def one_construct(loaded: Any) -> Any:
    """The one construct a verb acts on."""
    if len(loaded.constructs) != 1:
        paths = ", ".join(c.path for c in loaded.constructs)
        raise OperateError(f"give --construct PATH matching one construct (the app has: {paths})")
    return loaded.constructs[0]


def set_state(loaded: Any, args: argparse.Namespace, *, state: str, ask: Callable[[str], str] = input) -> int:
    """``pause`` (``state="DISABLED"``) or ``resume`` (``"ENABLED"``) the one construct ``--construct`` names."""
    entry = one_construct(loaded)
    where = where_of(loaded, args)
    client, group, name = schedule_of(where, entry)
    current = get_schedule(where, client, group, name, entry.path)
    verb = "pause" if state == "DISABLED" else "resume"
    if current.get("State") == state:
        print(f"{entry.path}: the schedule {group}/{name} is already {state}; nothing to do")
        return 0
    accepted = client.meta.service_model.operation_model("UpdateSchedule").input_shape.members
    request, notes = update_request(current, state=state, accepted=accepted)
    print(
        f"{entry.path}: {verb} the schedule {group}/{name} ({current.get('ScheduleExpression')} in "
        f"{current.get('ScheduleExpressionTimezone', 'UTC')}): State {current.get('State')} -> {state}, "
        "every other attribute kept" + ("" if not notes else " but: " + "; ".join(notes))
    )
    if args.dry_run:
        print("dry run: nothing changed")
        return 0
    confirm(f"{verb.capitalize()} {group}/{name}?", args, ask)
    with aws_errors(
        "scheduler:UpdateSchedule (and iam:PassRole on its role)",
        f"schedule {group}/{name}",
        not_found=missing_schedule(where, entry.path, group, name),
    ):
        client.update_schedule(**request)
    print(f"{entry.path}: {group}/{name} is {state}")
    return 0


def status(loaded: Any, args: argparse.Namespace, *, now: Optional[datetime] = None) -> Dict[str, Any]:
    """Each construct's schedule state, next fire times and last runs, by construct path."""
    from ..schedule_expressions import next_fire_times
    from .history import read_runs, rows_as_json

    moment = now or datetime.now(timezone.utc)
    where = where_of(loaded, args)
    report: Dict[str, Any] = {}
    for entry in loaded.constructs:
        client, group, name = schedule_of(where, entry)
        current = get_schedule(where, client, group, name, entry.path)
        expression = str(current.get("ScheduleExpression", ""))
        zone = str(current.get("ScheduleExpressionTimezone") or "UTC")
        fires: List[str] = []
        if current.get("State") != "DISABLED":
            anchor, _ = rate_anchor(where, entry, f"{group}/{name}", current)
            fires = [
                t.isoformat()
                for t in next_fire_times(
                    expression, after=moment.replace(microsecond=0), count=5, **fire_time_options(current, anchor)
                )
            ]
        runs: List[Dict[str, Any]] = []
        if entry.resources.get("ledger") is not None:
            table, dynamodb = where.table(entry)
            with aws_errors("dynamodb:Scan", f"table {table}"):
                runs = rows_as_json(read_runs(dynamodb, table, schedule=f"{group}/{name}", limit=args.count))
        report[entry.path] = {
            "schedule": f"{group}/{name}",
            "state": current.get("State"),
            "expression": expression,
            "time_zone": zone,
            "next_fire_times": fires,
            "runs": runs,
        }
    return report


def format_status(report: Mapping[str, Any]) -> str:
    """The text of :func:`status`: one block per construct."""
    blocks = []
    for path, item in report.items():
        lines = [f"{path}  (schedule {item['schedule']}, {item['state']})", f"  {item['expression']} in {item['time_zone']}"]
        if item["next_fire_times"]:
            lines.append("  next: " + ", ".join(item["next_fire_times"]))
        elif item["state"] == "DISABLED":
            lines.append("  next: none while disabled (resume to turn it on)")
        else:
            lines.append("  next: none (the schedule has no fire time left)")
        if item["runs"]:
            lines.append("  last runs:")
            for run in item["runs"]:
                duration = run.get("duration_seconds")
                took = f", {duration:g} s" if isinstance(duration, (int, float)) else ""
                lines.append(f"    {run['slot']}  {run['status']}{took}")
        else:
            lines.append("  last runs: none recorded")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def commands() -> Dict[str, Callable[[Any, argparse.Namespace], int]]:
    """The verbs' handlers, by name, for the CLI: each takes the loaded app and the parsed arguments."""

    def pause(loaded: Any, args: argparse.Namespace) -> int:
        return set_state(loaded, args, state="DISABLED")

    def resume(loaded: Any, args: argparse.Namespace) -> int:
        return set_state(loaded, args, state="ENABLED")

    def show(loaded: Any, args: argparse.Namespace) -> int:
        import json

        report = status(loaded, args)
        print(json.dumps(report, indent=2, default=str) if args.json else format_status(report))
        return 0

    return {"pause": pause, "resume": resume, "status": show}
