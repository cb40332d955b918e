"""Local SQS benchmark: moto's SQS with and without ``local.moto_speedups``.

The cycle is what a local fan-out does to its task queue: a queue with a
``RedrivePolicy`` (``maxReceiveCount`` 3) to a dead-letter queue; N tasks
sent with ``SendMessageBatch`` of 10; then ``ReceiveMessage`` of up to 10
(``MessageSystemAttributeNames=["All"]``, ``MessageAttributeNames=["All"]``)
until the queue is empty, ``DeleteMessageBatch`` for the tasks that succeed
and ``ChangeMessageVisibilityBatch`` to 0 for the ones that fail: a task
whose number ends in 3 fails on its first delivery, one in 100 (number ending
in 07) always fails and ends in the dead-letter queue. Every run checks that
each task was deleted (at least once) or dead-lettered, and that the queues
end empty.

Each measurement runs in a fresh process (a fresh moto), with real boto3 over
HTTP to moto's server on 127.0.0.1. "process" is what the local runner does
(``EmbeddedMotoServer``: moto's ``ThreadedMotoServer`` in a process of its
own, started with ``moto_speedups.install()`` when patched); "thread" runs
the same server in a thread of the process that calls it. Unpatched moto is
measured at 1,000 and 2,500 messages only: it does work proportional to the
queue's length on every call, and 10,000 messages would take hours. Each
patched row is compared with the unpatched row of the same size, measured in
the same run (10,000 with 2,500, the largest unpatched size: a lower bound
of the speed-up).

The main table uses one client and the runner's placement ("process"). The
placement table runs the patched cycle at 10,000 messages with the server
in a thread and in its own process, with one client, and with four pollers
(threads, as the local runner's event-source mapping uses) that each hand
their batch to a worker process of their own (a pipe round trip and
``--worker-ms`` of CPU per batch, as a Lambda container would take), so that
the server competes for the two cores with the pollers and the workers.

Usage::

    .venv/bin/python benchmarks/bench_local_sqs.py            # ~15 min
    .venv/bin/python benchmarks/bench_local_sqs.py --quick    # ~3 min: unpatched at 1,000 only, no placement table

Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SRC, median, print_header, report_targets, table  # noqa: E402

SPEEDUPS = SRC / "scheduled_tasks_constructs" / "local" / "moto_speedups.py"
#: The growth target: 10 times the messages in at most this many times the time.
GROWTH_TARGET = 11.0
#: The 10,000-message cycle, with the speed-ups, takes well under this.
TEN_THOUSAND_TARGET_S = 30.0
MAX_RECEIVE_COUNT = 3

# A stand-in for a Lambda container: reads one JSON event per line, spends
# the given CPU time, answers one line.
_WORKER = """
import json, sys, time
cpu = float(sys.argv[1]) / 1000
for line in sys.stdin:
    json.loads(line)
    start = time.process_time()
    while time.process_time() - start < cpu:
        pass
    sys.stdout.write("ok\\n")
    sys.stdout.flush()
"""


# -- the measured process -------------------------------------------------------------


def load_speedups() -> Any:
    """Import ``local/moto_speedups.py`` from its file (keeps aws_cdk out of the process)."""
    spec = importlib.util.spec_from_file_location("moto_speedups", SPEEDUPS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_moto(patched: bool) -> Any:
    """moto's server on 127.0.0.1 in a thread of this process, as ``EmbeddedMotoServer`` starts it."""
    import logging

    if patched and not load_speedups().install():
        raise SystemExit("moto_speedups.install() refused this moto version")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def serve(patched: bool) -> None:
    """``--serve``: run the server until standard input closes; print its URL, then its CPU time."""
    server = start_moto(patched)
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime}), flush=True)
    server.stop()


def client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard"}),
    )


def fails(task: int, receive_count: int) -> bool:
    """Whether the task fails on this delivery."""
    return task % 100 == 7 or (task % 10 == 3 and receive_count == 1)


def cycle(spec: Dict[str, Any]) -> Dict[str, Any]:
    """``--child``: one measured cycle; returns its figures."""
    n, pollers, worker_ms = int(spec["n"]), int(spec["pollers"]), spec.get("worker_ms")
    server_process: Optional[subprocess.Popen] = None
    server = None
    if spec["placement"] == "thread":
        server = start_moto(spec["patched"])
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
    else:
        server_process = subprocess.Popen(
            [sys.executable, __file__, "--serve", "patched" if spec["patched"] else "unpatched"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server_process.stdout is not None
        url = server_process.stdout.readline().strip()
    sqs = client(url)
    dlq = sqs.create_queue(QueueName="bench-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="bench-tasks",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
        },
    )["QueueUrl"]
    calls = {"SendMessageBatch": 0, "ReceiveMessage": 0, "DeleteMessageBatch": 0, "ChangeMessageVisibilityBatch": 0}
    lock = threading.Lock()
    deleted: List[int] = []
    state = {"busy": 0}

    def count(name: str) -> None:
        with lock:
            calls[name] += 1

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    for first in range(0, n, 10):
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"task": task, "payload": "x" * 100})}
                for i, task in enumerate(range(first, min(n, first + 10)))
            ],
        )
        count("SendMessageBatch")
    sent = time.perf_counter()

    def poll() -> None:
        sqs = client(url)
        worker = (
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(worker_ms)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            if worker_ms is not None
            else None
        )
        try:
            while True:
                messages = sqs.receive_message(
                    QueueUrl=queue,
                    MaxNumberOfMessages=10,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                    WaitTimeSeconds=0,
                ).get("Messages") or []
                count("ReceiveMessage")
                if not messages:
                    with lock:
                        busy = state["busy"]
                    attributes = sqs.get_queue_attributes(
                        QueueUrl=queue,
                        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                    )["Attributes"]
                    if busy == 0 and sum(int(v) for v in attributes.values()) == 0:
                        return
                    time.sleep(0.005)
                    continue
                with lock:
                    state["busy"] += 1
                try:
                    if worker is not None:
                        assert worker.stdin is not None and worker.stdout is not None
                        worker.stdin.write(json.dumps({"Records": messages}) + "\n")
                        worker.stdin.flush()
                        worker.stdout.readline()
                    done, again = [], []
                    for message in messages:
                        task = json.loads(message["Body"])["task"]
                        received = int(message["Attributes"]["ApproximateReceiveCount"])
                        (again if fails(task, received) else done).append((task, message))
                    if done:
                        sqs.delete_message_batch(
                            QueueUrl=queue,
                            Entries=[
                                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, (_, m) in enumerate(done)
                            ],
                        )
                        count("DeleteMessageBatch")
                        with lock:
                            deleted.extend(task for task, _ in done)
                    if again:
                        sqs.change_message_visibility_batch(
                            QueueUrl=queue,
                            Entries=[
                                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                                for i, (_, m) in enumerate(again)
                            ],
                        )
                        count("ChangeMessageVisibilityBatch")
                finally:
                    with lock:
                        state["busy"] -= 1
        finally:
            if worker is not None:
                assert worker.stdin is not None
                worker.stdin.close()
                worker.wait()

    if pollers == 1:
        poll()
    else:
        threads = [threading.Thread(target=poll) for _ in range(pollers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finished = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start

    expected_dead = [t for t in range(n) if t % 100 == 7]
    dead = int(
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    left = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    # Concurrent pollers can be handed the same message twice (moto, like SQS,
    # delivers at least once): each task must have been deleted at least once.
    correct = (
        set(deleted) == {t for t in range(n) if t % 100 != 7}
        and dead == len(expected_dead)
        and all(v == "0" for v in left.values())
    )
    server_cpu = None
    if server_process is not None:
        assert server_process.stdin is not None and server_process.stdout is not None
        server_process.stdin.close()
        server_cpu = json.loads(server_process.stdout.readline())["cpu_s"]
        server_process.wait(timeout=60)
    elif server is not None:
        server.stop()
    return {
        "send_s": sent - started,
        "drain_s": finished - sent,
        "total_s": finished - started,
        "cpu_s": cpu,
        "server_cpu_s": server_cpu,
        "calls": calls,
        "correct": correct,
        "duplicates": len(deleted) - len(set(deleted)),
    }


# -- the driver -----------------------------------------------------------------------


def measure(spec: Dict[str, Any], cap_s: float) -> Optional[Dict[str, Any]]:
    """Run one cycle in a fresh process; None when it ran past ``cap_s``."""
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, timeout=cap_s
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"a measured run failed ({spec}):\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_message_ms(result: Dict[str, Any], n: int) -> float:
    return result["total_s"] / n * 1000


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Local SQS benchmark (moto with and without moto_speedups).")
    parser.add_argument("--quick", action="store_true", help="unpatched at 1,000 only; no placement table")
    parser.add_argument(
        "--unpatched-sizes", type=int, nargs="*", default=None, help="default: 1,000 and 2,500 (none: no baseline)"
    )
    parser.add_argument("--patched-sizes", type=int, nargs="*", default=[1_000, 2_500, 10_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each patched size (median)")
    parser.add_argument("--worker-ms", type=float, default=5.0, help="CPU per batch of the stand-in workers")
    parser.add_argument("--cap-s", type=float, default=1800.0, help="stop a run after this long")
    parser.add_argument("--no-placement", dest="placement", action="store_false", help="no placement table")
    parser.add_argument(
        "--server-in", dest="placement_main", choices=["process", "thread"], default="process",
        help="where the server runs for the main table (default: process, as the local runner runs it)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=["patched", "unpatched"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve == "patched")
        return 0
    if args.child:
        print(json.dumps(cycle(json.loads(args.child))))
        return 0
    unpatched_sizes = args.unpatched_sizes
    if unpatched_sizes is None:
        unpatched_sizes = [1_000] if args.quick else [1_000, 2_500]
    placement = args.placement and not args.quick

    print_header("Local SQS benchmark")
    import moto

    print(
        f"moto {moto.__version__}; messages of about 130 bytes;",
        "failures: task % 10 == 3 once, task % 100 == 7 always",
    )
    if unpatched_sizes:
        sizes = ", ".join(f"{n:,}" for n in unpatched_sizes)
        print(f"unpatched moto measured at {sizes} messages only (it slows down as the queue fills)")
    print()

    base = {"placement": args.placement_main, "pollers": 1, "worker_ms": None}
    results: Dict[tuple, Dict[str, Any]] = {}
    all_correct = True
    for n in unpatched_sizes:
        result = measure({**base, "patched": False, "n": n}, args.cap_s)
        results[("unpatched", n)] = result
        all_correct &= result is None or result["correct"]
        shown = "over the cap" if result is None else f"{result['total_s']:.1f} s"
        print(f"  measured unpatched {n:,}: {shown}", flush=True)
    for n in args.patched_sizes:
        runs = [measure({**base, "patched": True, "n": n}, args.cap_s) for _ in range(args.repeat)]
        done = [r for r in runs if r is not None]
        all_correct &= all(r["correct"] for r in done)
        if done:
            pick = sorted(done, key=lambda r: r["total_s"])[len(done) // 2]
            results[("patched", n)] = pick
            print(f"  measured patched {n:,}: {median([r['total_s'] for r in done]):.1f} s", flush=True)
    print()

    rows = []
    largest_unpatched = max((n for (v, n), r in results.items() if v == "unpatched" and r is not None), default=None)
    for (variant, n), result in sorted(results.items(), key=lambda item: (item[0][0] != "unpatched", item[0][1])):
        if result is None:
            rows.append([variant, n, f"> {args.cap_s:.0f}", "-", "-", "-", "-", "-", "-", "-"])
            continue
        total_calls = sum(result["calls"].values())
        baseline_n = n if ("unpatched", n) in results and results[("unpatched", n)] else largest_unpatched
        baseline = results.get(("unpatched", baseline_n)) if baseline_n else None
        if variant == "patched" and baseline:
            vs = f"{per_message_ms(baseline, baseline_n) / per_message_ms(result, n):.1f}x faster (vs {baseline_n:,})"
        else:
            vs = "-"
        rows.append(
            [
                variant,
                n,
                result["total_s"],
                result["send_s"],
                result["drain_s"],
                per_message_ms(result, n),
                total_calls,
                result["cpu_s"],
                "-" if result["server_cpu_s"] is None else result["server_cpu_s"],
                vs,
            ]
        )
    server_in = "its own process" if args.placement_main == "process" else "a thread of the client's process"
    print(f"Send/receive/delete cycle, one client, server in {server_in}")
    print(
        table(
            [
                "variant",
                "messages",
                "wall s",
                "send s",
                "drain s",
                "ms/message",
                "calls",
                "client CPU s",
                "server CPU s",
                "per message vs unpatched",
            ],
            rows,
        )
    )
    print("server CPU: the server's whole process (with its start); client CPU: the measuring process")
    growth_rows = []
    for variant in ("unpatched", "patched"):
        sizes = sorted(n for (v, n), r in results.items() if v == variant and r is not None)
        if len(sizes) >= 2:
            small, large = sizes[0], sizes[-1]
            ratio = results[(variant, large)]["total_s"] / results[(variant, small)]["total_s"]
            per = per_message_ms(results[(variant, large)], large) / per_message_ms(results[(variant, small)], small)
            growth_rows.append([variant, f"{large:,} / {small:,}", large / small, ratio, per])
    print()
    print("Growth (flat per-message cost: time ratio = size ratio, per-message ratio = 1)")
    print(table(["variant", "sizes", "size ratio", "time ratio", "per-message ratio"], growth_rows))

    placement_rows = []
    if placement:
        n = 10_000
        configs = [("1 client", 1, None), (f"4 pollers + workers ({args.worker_ms:g} ms CPU/batch)", 4, args.worker_ms)]
        for label, pollers, worker_ms in configs:
            figures: Dict[str, List[Dict[str, Any]]] = {"thread": [], "process": []}
            for order in (("thread", "process"), ("process", "thread")):  # interleaved
                for where in order:
                    spec = {"placement": where, "pollers": pollers, "worker_ms": worker_ms, "patched": True, "n": n}
                    result = measure(spec, args.cap_s)
                    if result is not None:
                        all_correct &= result["correct"]
                        figures[where].append(result)
            for where in ("thread", "process"):
                if not figures[where]:
                    continue
                walls = [r["total_s"] for r in figures[where]]
                server_cpu = [r["server_cpu_s"] for r in figures[where] if r["server_cpu_s"] is not None]
                placement_rows.append(
                    [
                        label,
                        where,
                        median(walls),
                        min(walls),
                        median([r["drain_s"] for r in figures[where]]),
                        median([r["cpu_s"] for r in figures[where]]),
                        median(server_cpu) if server_cpu else "-",
                        sum(r["duplicates"] for r in figures[where]),
                    ]
                )
        print()
        print(f"Where the server runs (information): patched, {n:,} messages, median of 2 interleaved runs")
        print(
            table(
                [
                    "clients",
                    "server in",
                    "wall s",
                    "min wall s",
                    "drain s",
                    "client process CPU s",
                    "server process CPU s",
                    "duplicate deliveries",
                ],
                placement_rows,
            )
        )
        print("client process CPU includes the server's when it runs in a thread of that process;")
        print("duplicate deliveries: a message handed to two pollers at once (moto delivers at least once),")
        print("in all runs of the row")

    targets = [("every run deleted each task (at least once) or dead-lettered it, and emptied its queues", all_correct)]
    patched_sizes = sorted(n for (v, n), r in results.items() if v == "patched" and r is not None)
    if 1_000 in patched_sizes and 10_000 in patched_sizes:
        ratio = results[("patched", 10_000)]["total_s"] / results[("patched", 1_000)]["total_s"]
        targets.append(
            (
                f"patched: 10,000 messages take {ratio:.2f}x the time of 1,000 (<= {GROWTH_TARGET:g}x)",
                ratio <= GROWTH_TARGET,
            )
        )
    if 10_000 in patched_sizes:
        wall = results[("patched", 10_000)]["total_s"]
        targets.append(
            (
                f"patched: the 10,000-message cycle takes {wall:.1f} s (< {TEN_THOUSAND_TARGET_S:g} s)",
                wall < TEN_THOUSAND_TARGET_S,
            )
        )
    return report_targets(targets)


if __name__ == "__main__":
    sys.exit(main())
