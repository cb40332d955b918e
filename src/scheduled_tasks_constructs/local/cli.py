"""The ``scheduled-tasks`` command: run a CDK app's schedules on your machine.

``scheduled-tasks run APP`` synthesizes the app (or takes its synthesized
cloud assembly), creates the resources its scheduled constructs use on a local
AWS endpoint (an embedded moto server by default) from the templates, and
fires a few runs of every schedule through the synthesized functions: each
function's own asset and layers, in processes of their own.
``scheduled-tasks next APP`` lists the next fire times.
``scheduled-tasks history APP`` shows the runs each construct's run ledger
recorded: of the deployed stacks (with your own AWS credentials; CloudFormation
names the tables), or, with ``--endpoint URL``, of an earlier
``run APP --endpoint URL`` on that local endpoint.
``scheduled-tasks pause|resume APP --construct PATH`` turns a deployed schedule
off or on, every other attribute kept; ``status APP`` shows each deployed
schedule's state, next fire times and last runs (:mod:`.operate`);
``trigger`` and ``backfill`` run chosen slots of a schedule with the
Scheduler's input for them (:mod:`.operate_runs`). Each also works, with
``--endpoint URL``, on what an earlier ``run APP --endpoint URL`` made there.
``scheduled-tasks main`` synthesizes the example apps and runs each of them.

Also runnable as ``python -m scheduled_tasks_constructs.local.cli``.
Progress goes to stderr, reports to stdout.

Exit status: 0 when every run succeeded (``history``, ``next``: when they
could list); 1 when a run failed, a task ended in a dead-letter queue or the
time limit cut the run short; 2 for bad input (an app that is missing, fails
or has no scheduled constructs, a handler that cannot be imported, an
unreachable endpoint; for ``history``, no AWS credentials, a stack or table
that is not deployed, access denied).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence

from .reporting import format_report, shown_path

__all__ = ["build_parser", "format_report", "main"]

PROG = "scheduled-tasks"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

_DEBUG_VARIABLE = "SCHEDULED_TASKS_DEBUG"


class _BadInput(Exception):
    """A one-line error that ends the command with status 2."""


# --------------------------------------------------------------------------- arguments


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 date and time: {text!r} (e.g. 2026-11-22T10:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _positive(limit: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be between 1 and {limit}, got {value}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs", type=_positive(1000), default=3, metavar="N", help="runs of each schedule (default: 3)"
    )
    parser.add_argument(
        "--real-time",
        action="store_true",
        help="wait for each fire time instead of running at once (virtual time)",
    )
    parser.add_argument(
        "--after",
        type=_instant,
        metavar="ISO",
        help="virtual time: fire at the schedule's times after this instant (default: now)",
    )
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="an already running local AWS endpoint (default: start an embedded moto server on 127.0.0.1)",
    )
    parser.add_argument("--region", default="us-east-1", help="Region of the local resources (default: us-east-1)")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=600.0,
        metavar="SECONDS",
        help="wall-clock limit of each app's run (default: 600)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive(64),
        default=4,
        metavar="N",
        help="most worker invocations at a time per event source mapping, within the mapping's maximum "
        "concurrency (default: 4)",
    )
    parser.add_argument(
        "--external-resources",
        metavar="FILE",
        help='JSON schemas of tables and queues the app imports by name or ARN: {"tables": {NAME: '
        '{"KeySchema": ..., "AttributeDefinitions": ...}}, "queues": {NAME: {"Attributes": {...}}}}',
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="show what the functions log")


def _add_app_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """The options that choose what of an app a command looks at."""
    parser.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="context value, as with cdk -c"
    )
    parser.add_argument(
        "--construct",
        action="append",
        default=[],
        metavar="PATH",
        help=f"{verb} only the constructs whose path matches (glob, e.g. 'MyStack/*'; repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line parser of ``scheduled-tasks``.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with the ``run``, ``next``, ``history`` and ``main``
        subcommands.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the schedules of a CDK app on your machine before you deploy: "
        "ScheduledLambdaToTable and ScheduledTaskFanout constructs, their real handler code, "
        "on a local AWS endpoint (no AWS account, no Docker).",
        epilog="Exit status: 0 all runs succeeded (next, history: listed); 1 a run failed, a task ended "
        "in a dead-letter queue or --timeout cut the run short; 2 bad input.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    run = commands.add_parser(
        "run",
        help="run an app's schedules on a local AWS endpoint",
        description="Synthesize a CDK app (or take its cdk.out), create the resources its scheduled "
        "constructs use on a local AWS endpoint from the templates, and fire N runs of each schedule "
        "through the synthesized functions (their own assets and layers).",
    )
    run.add_argument(
        "app", metavar="APP", help="the app's Python file, its folder, its cdk.json, or a synthesized cdk.out folder"
    )
    _add_run_options(run)
    run.add_argument(
        "--outdir",
        metavar="DIR",
        help="synthesize into DIR and keep it; reusing it skips asset bundling (default: a temporary folder)",
    )
    _add_app_options(run, "run")

    upcoming = commands.add_parser(
        "next",
        help="list the next fire times of an app's schedules",
        description="List the next fire times of every schedule of a CDK app, in its own time zone.",
    )
    upcoming.add_argument(
        "app", metavar="APP", help="the app's Python file, its folder, its cdk.json, or a synthesized cdk.out folder"
    )
    upcoming.add_argument(
        "-n", "--count", type=_positive(1000), default=5, metavar="N", help="fire times per schedule (default: 5)"
    )
    upcoming.add_argument(
        "--after", type=_instant, metavar="ISO", help="list the fire times after this instant (default: now)"
    )
    upcoming.add_argument("--json", action="store_true", help="print the fire times as JSON")
    _add_app_options(upcoming, "list")

    history = commands.add_parser(
        "history",
        help="show the runs the run ledgers recorded, deployed or local",
        description="Show the newest runs each scheduled construct's run ledger recorded: status, "
        "duration, attempts, task counts and failures. Without --endpoint, of the deployed stacks, with "
        "your own AWS credentials: CloudFormation's DescribeStackResource names each ledger table and "
        "schedule, and the table is scanned (IAM actions: cloudformation:DescribeStackResource, "
        "dynamodb:Scan). With --endpoint, of what `run APP --endpoint URL` made on that local endpoint.",
    )
    history.add_argument(
        "app", metavar="APP", help="the app's Python file, its folder, its cdk.json, or a synthesized cdk.out folder"
    )
    history.add_argument(
        "-n", "--count", type=_positive(10_000), default=20, metavar="N",
        help="the newest N runs of each construct (default: 20)",
    )
    history.add_argument("--json", action="store_true", help="print the runs as JSON, by construct path")
    history.add_argument(
        "--chart",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="chart the run durations under each table (default: on a terminal only, so that piped "
        "output is the tables alone)",
    )
    history.add_argument(
        "--endpoint",
        metavar="URL",
        help="read the run ledgers of an earlier `run APP --endpoint URL` on this local endpoint "
        "(default: the deployed stacks)",
    )
    history.add_argument("--profile", metavar="P", help="AWS profile of the deployed stacks (default: boto3's)")
    history.add_argument(
        "--region",
        metavar="R",
        help="Region (default: each stack's own, else your AWS configuration's; with --endpoint, us-east-1)",
    )
    _add_app_options(history, "show")

    from . import operate, operate_runs

    operate.add_commands(commands, _add_app_options)
    operate_runs.add_commands(commands, _add_app_options)

    examples = commands.add_parser(
        "main",
        help="synthesize the example apps and run each locally",
        description="Synthesize every EXAMPLES/*/app.py into its cdk.out folder, then run each app "
        "locally, as `run` does.",
    )
    examples.add_argument(
        "--examples", default="examples", metavar="DIR", help="folder of the example apps (default: examples)"
    )
    _add_run_options(examples)
    return parser


# --------------------------------------------------------------------------- output


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False))


# --------------------------------------------------------------------------- commands


def _endpoint(stack: ExitStack, args: argparse.Namespace) -> tuple:
    """The endpoint URL and whether it was started here (checked when given)."""
    from .endpoint import EmbeddedMotoServer

    if args.endpoint:
        return args.endpoint.rstrip("/"), False
    endpoint = stack.enter_context(EmbeddedMotoServer())
    _progress(f"started an embedded moto server at {endpoint}")
    return endpoint, True


def _run_options(args: argparse.Namespace) -> Any:
    from .runner import RunOptions

    return RunOptions(
        runs=args.runs,
        real_time=args.real_time,
        after=args.after,
        region=args.region,
        timeout_seconds=args.timeout,
        verbose=args.verbose,
        concurrency=args.concurrency,
        external_resources=args.external_resources,
    )


def _check_run_args(args: argparse.Namespace) -> None:
    if args.real_time and args.after is not None:
        raise _BadInput("--after applies to virtual time only; leave it out with --real-time")
    if args.endpoint:
        from .endpoint import check_endpoint

        check_endpoint(args.endpoint.rstrip("/"), args.region)
    else:
        from .endpoint import check_moto_installed

        check_moto_installed()  # before synthesizing, which can take a while


def _load(
    app: str, *, outdir: Optional[Path], synthesize: bool, context: Dict[str, Any], only: Sequence[str] = ()
) -> Any:
    from .cdk_app import load_app

    loaded = load_app(app, outdir=outdir, synthesize=synthesize, context=context)
    if not loaded.constructs:
        raise _BadInput(f"{shown_path(app)}: no ScheduledLambdaToTable or ScheduledTaskFanout in the app")
    if only:
        chosen = [c for c in loaded.constructs if any(fnmatch.fnmatchcase(c.path, p) for p in only)]
        if not chosen:
            paths = ", ".join(c.path for c in loaded.constructs)
            raise _BadInput(f"no scheduled construct matches --construct {' '.join(only)} (the app has: {paths})")
        loaded.constructs = chosen
    return loaded


def _announce_load(app: str) -> None:
    """Say on stderr whether ``app`` is read (a cloud assembly) or synthesized."""
    from .assembly import CloudAssembly

    synthesized = CloudAssembly.is_assembly(Path(app))
    _progress(f"{'reading' if synthesized else 'synthesizing'} {shown_path(app)}")


def _run_loaded(loaded: Any, args: argparse.Namespace, endpoint: str, embedded: bool) -> Any:
    from .runner import run_app

    return run_app(
        loaded.assembly,
        loaded.constructs,
        endpoint=endpoint,
        options=_run_options(args),
        embedded=embedded,
        app=str(loaded.app_file or loaded.outdir),
        progress=_progress,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from .cdk_app import parse_context

    context = parse_context(args.context)
    _check_run_args(args)
    with ExitStack() as stack:
        if args.outdir:
            outdir: Optional[Path] = Path(args.outdir).resolve()
        else:
            outdir = Path(tempfile.mkdtemp(prefix="scheduled-tasks-"))
            stack.callback(shutil.rmtree, outdir, True)
        from .assembly import CloudAssembly
        from .cdk_app import resolve_app_file

        if not CloudAssembly.is_assembly(Path(args.app)):
            resolve_app_file(args.app)  # a missing or foreign app fails before anything starts
        _announce_load(args.app)
        loaded = _load(args.app, outdir=outdir, synthesize=True, context=context, only=args.construct)
        endpoint, embedded = _endpoint(stack, args)
        report = _run_loaded(loaded, args, endpoint, embedded)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(format_report(report))
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_next(args: argparse.Namespace) -> int:
    from ..schedule_expressions import ScheduleExpressionError, next_fire_times
    from .cdk_app import parse_context
    from .runner import read_schedule

    context = parse_context(args.context)
    after = args.after or datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="scheduled-tasks-") as outdir:
        loaded = _load(args.app, outdir=Path(outdir), synthesize=False, context=context, only=args.construct)
    schedules = []
    for entry in loaded.constructs:
        spec = read_schedule(entry)
        try:
            times = next_fire_times(
                spec.expression,
                after=after,
                count=args.count,
                time_zone=spec.time_zone,
                start=spec.start,
                end=spec.end,
            )
        except (ScheduleExpressionError, ValueError) as exc:
            raise _BadInput(f"{entry.path}: cannot compute the fire times of {spec.expression}: {exc}") from None
        schedules.append(
            {
                "path": entry.path,
                "construct": entry.construct,
                "schedule": spec.expression,
                "time_zone": spec.time_zone,
                "enabled": bool(spec.enabled),
                "fire_times": [t.isoformat() for t in times],
            }
        )
    if args.json:
        _print_json({"after": after.isoformat(), "schedules": schedules})
        return EXIT_OK
    lines = []
    for item in schedules:
        disabled = "" if item["enabled"] else " (disabled: it does not fire)"
        lines.append(f"{item['path']}: {item['schedule']} in {item['time_zone']}{disabled}")
        if not item["fire_times"]:
            lines.append(f"  no fire time after {after.isoformat()}")
        for text in item["fire_times"]:
            moment = datetime.fromisoformat(text)
            lines.append(f"  {text}  {moment:%a}")
    print("\n".join(lines))
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    from .cdk_app import parse_context
    from .deployed import DeployedError, DeployedResources, LocalEndpointResources, aws_errors
    from .history import format_chart, format_history, read_runs, rows_as_json

    context = parse_context(args.context)
    endpoint = args.endpoint.rstrip("/") if args.endpoint else None
    if endpoint and args.profile:
        raise _BadInput("--profile applies to deployed stacks; leave it out with --endpoint")
    if endpoint:
        from .endpoint import check_endpoint

        check_endpoint(endpoint, args.region or "us-east-1")
    _announce_load(args.app)
    with tempfile.TemporaryDirectory(prefix="scheduled-tasks-") as outdir:
        loaded = _load(args.app, outdir=Path(outdir), synthesize=False, context=context, only=args.construct)
    if endpoint:
        where = LocalEndpointResources(loaded.assembly, endpoint=endpoint, region=args.region or "us-east-1")
        missing = f"run `{PROG} run APP --endpoint {endpoint}` first"
    else:
        where = DeployedResources(loaded.assembly, profile=args.profile, region=args.region)
        missing = "deleted, or deployed in another Region or account?"
    sections = []
    for entry in loaded.constructs:
        section: Dict[str, Any] = {"path": entry.path, "construct": entry.construct, "table": None, "schedule": None}
        sections.append(section)
        if entry.resources.get("ledger") is None:
            section["note"] = "the construct's metadata names no run ledger"
            section["runs"] = []
            continue
        table, dynamodb = where.table(entry)
        try:
            section["schedule"] = where.schedule_key(entry)
        except DeployedError as exc:
            _progress(f"{entry.path}: listing every run of the table: cannot name its schedule ({exc})")
        section["table"] = table
        gone = f"{entry.path}: the run ledger table {table} does not exist ({missing})"
        with aws_errors("dynamodb:Scan", f"table {table}", not_found=gone):
            section["runs"] = read_runs(dynamodb, table, schedule=section["schedule"], limit=args.count)
    if args.json:
        _print_json(
            {
                item["path"]: {
                    "construct": item["construct"],
                    "table": item["table"],
                    "schedule": item["schedule"],
                    "runs": rows_as_json(item["runs"]),
                }
                for item in sections
            }
        )
        return EXIT_OK
    chart = sys.stdout.isatty() if args.chart is None else args.chart
    blocks = []
    for item in sections:
        about = [item["construct"]]
        if item["table"]:
            about.append(f"run ledger {item['table']}")
        if item["schedule"]:
            about.append(f"schedule {item['schedule']}")
        lines = [f"{item['path']}  ({', '.join(about)})"]
        if "note" in item:
            lines.append(item["note"])
        else:
            lines.append(format_history(item["runs"]))
            if chart and item["runs"]:
                lines += ["", format_chart(item["runs"])]
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return EXIT_OK


def _cmd_operate(args: argparse.Namespace) -> int:
    """``pause``, ``resume``, ``status``, ``trigger`` and ``backfill`` (:mod:`.operate`, :mod:`.operate_runs`)."""
    from . import operate, operate_runs
    from .cdk_app import parse_context

    context = parse_context(args.context)
    _announce_load(args.app)
    with tempfile.TemporaryDirectory(prefix="scheduled-tasks-") as outdir:
        loaded = _load(args.app, outdir=Path(outdir), synthesize=False, context=context, only=args.construct)
    return {**operate.commands(), **operate_runs.commands()}[args.command](loaded, args)


def _cmd_main(args: argparse.Namespace) -> int:
    folder = Path(args.examples)
    apps = sorted(folder.glob("*/app.py")) if folder.is_dir() else []
    if not apps:
        raise _BadInput(f"no example apps: {shown_path(folder)}/*/app.py matches nothing")
    _check_run_args(args)
    synthesized = []
    for app_file in apps:
        outdir = app_file.parent / "cdk.out"
        _progress(f"synthesizing {shown_path(app_file)} into {shown_path(outdir)}")
        synthesized.append(_load(str(app_file.resolve()), outdir=outdir.resolve(), synthesize=True, context={}))
    results = []
    with ExitStack() as stack:
        endpoint, embedded = _endpoint(stack, args)
        for loaded in synthesized:
            _progress(f"running {shown_path(loaded.app_file)} ({args.runs} runs of each schedule)")
            report = _run_loaded(loaded, args, endpoint, embedded)
            results.append((loaded, report))
    ok = all(report.ok for _, report in results)
    if args.json:
        _print_json(
            {
                "ok": ok,
                "apps": [
                    {
                        "app": str(loaded.app_file),
                        "outdir": str(loaded.outdir),
                        "stacks": [
                            {"name": s.name, "resources": s.resources, "template": s.template_file}
                            for s in loaded.stacks
                        ],
                        "run": report.to_dict(),
                    }
                    for loaded, report in results
                ],
            }
        )
        return EXIT_OK if ok else EXIT_FAILED
    blocks = []
    for loaded, _ in results:
        stacks = ", ".join(f"{s.name} ({s.resources} resources)" for s in loaded.stacks)
        blocks.append(f"Synthesized {shown_path(loaded.app_file)} into {shown_path(loaded.outdir)}: {stacks}")
    print("\n".join(blocks))
    for _, report in results:
        print()
        print(format_report(report))
    return EXIT_OK if ok else EXIT_FAILED


# --------------------------------------------------------------------------- entry point


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``scheduled-tasks`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (without the program name). Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success, 1 failed runs or tasks, 2 bad input.

    Examples
    --------
    >>> main(["next", "examples/the_scheduled_lambda", "-n", "2"])  # doctest: +SKIP
    TheScheduledLambdaStack/ScheduledLambda: rate(2 minutes) in Etc/UTC
      2026-11-22T10:02:00+00:00  Sun
      2026-11-22T10:04:00+00:00  Sun
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # --help and usage errors end here, before anything heavier loads

    from .assembly import AssemblyError
    from .cdk_app import AppError, one_line
    from .deployed import DeployedError
    from .endpoint import EndpointError
    from .runner import RunnerError

    handlers = {
        "run": _cmd_run,
        "next": _cmd_next,
        "history": _cmd_history,
        "pause": _cmd_operate,
        "resume": _cmd_operate,
        "status": _cmd_operate,
        "trigger": _cmd_operate,
        "backfill": _cmd_operate,
        "main": _cmd_main,
    }
    try:
        return handlers[args.command](args)
    except (_BadInput, AppError, AssemblyError, RunnerError, EndpointError, DeployedError) as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        if os.environ.get(_DEBUG_VARIABLE):
            raise
        print(
            f"{PROG}: error: unexpected {one_line(exc)} (set {_DEBUG_VARIABLE}=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
