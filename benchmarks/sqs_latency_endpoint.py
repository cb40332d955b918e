"""A local SQS endpoint that answers every call after a fixed latency.

It stands in for SQS in the fan-out benchmark: every call succeeds after the
same injected delay (10 ms by default, about a round trip to SQS from Lambda
in the same region), so the measured time is about the client's code and its
concurrency, not about the endpoint. (A moto server slows down as its queue
fills, so it is no reference for throughput.)

It speaks just enough of the SQS AWS JSON 1.0 protocol, which boto3 uses for
SQS (``X-Amz-Target: AmazonSQS.<Operation>``): ``SendMessage``,
``SendMessageBatch``, ``GetQueueUrl`` and ``CreateQueue``. Messages are
counted, not stored. ``GET /stats`` returns the counters as JSON;
``POST /reset`` sets them to zero.

It also answers Lambda's asynchronous ``Invoke``
(``POST /2015-03-31/functions/<name>/invocations``, REST JSON, 202 after
the same latency), so that a sharded producer's dispatches of its shards go
through boto3's Lambda client as in AWS; the payloads are kept (up to
``MAX_KEPT_INVOCATIONS``) and ``GET /invocations`` returns them as a JSON
list, in arrival order (``POST /reset`` clears them too).

Run it on its own::

    python benchmarks/sqs_latency_endpoint.py --latency-ms 10

It prints its URL on the first line of standard output and stops by itself
after ``--max-seconds`` (default 1800), or when its standard input closes
(``--stop-on-stdin-eof``, which :class:`LatencyEndpoint` uses so that the
server never outlives the benchmark that started it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_LATENCY_MS = 10.0
DEFAULT_MAX_SECONDS = 1800.0
_JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_ACCOUNT = "123456789012"
MAX_KEPT_INVOCATIONS = 10_000
_INVOKE_PREFIX = "/2015-03-31/functions/"


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.calls: dict[str, int] = {}
        self.messages = 0
        self.message_bytes = 0
        self.invocations: list[Any] = []

    def add(self, operation: str, messages: int = 0, message_bytes: int = 0) -> None:
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            self.messages += messages
            self.message_bytes += message_bytes

    def snapshot(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self.lock:
            return {
                "calls": dict(self.calls),
                "messages": self.messages,
                "message_bytes": self.message_bytes,
                "server_cpu_seconds": usage.ru_utime + usage.ru_stime,
            }


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - SQS's checksum


def _queue_url(host: str, name: str) -> str:
    return f"http://{host}/{_ACCOUNT}/{name}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connections
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms ACK stall
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def _reply(self, status: int, document: Any, content_type: str = _JSON_CONTENT_TYPE) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, {"__type": f"com.amazonaws.sqs#{code}", "message": message})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.startswith("/stats"):
            self._reply(200, self.server.counters.snapshot(), "application/json")
        elif self.path.startswith("/invocations"):
            with self.server.counters.lock:
                kept = list(self.server.counters.invocations)
            self._reply(200, kept, "application/json")
        else:
            self._error(404, "NotFound", "GET /stats is the only GET path")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.startswith("/reset"):
            with self.server.counters.lock:
                self.server.counters.reset()
            self._reply(200, {}, "application/json")
            return
        if self.path.startswith(_INVOKE_PREFIX) and self.path.rstrip("/").endswith("/invocations"):
            self._invoke(raw)
            return
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith("AmazonSQS."):
            self._error(400, "InvalidAction", "only the AWS JSON 1.0 protocol is spoken here")
            return
        operation = target.split(".", 1)[1]
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._error(400, "InvalidParameterValue", "body is not JSON")
            return
        time.sleep(self.server.latency_seconds)
        host = self.headers.get("Host", "127.0.0.1")
        if operation == "SendMessageBatch":
            entries = request.get("Entries") or []
            successful = []
            size = 0
            for entry in entries:
                body = entry.get("MessageBody", "")
                size += len(body.encode("utf-8"))
                successful.append(
                    {"Id": entry.get("Id"), "MessageId": str(uuid.uuid4()), "MD5OfMessageBody": _md5(body)}
                )
            self.server.counters.add(operation, len(entries), size)
            self._reply(200, {"Successful": successful, "Failed": []})
        elif operation == "SendMessage":
            body = request.get("MessageBody", "")
            self.server.counters.add(operation, 1, len(body.encode("utf-8")))
            self._reply(200, {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": _md5(body)})
        elif operation in ("GetQueueUrl", "CreateQueue"):
            self.server.counters.add(operation)
            self._reply(200, {"QueueUrl": _queue_url(host, request.get("QueueName", "tasks"))})
        else:
            self.server.counters.add(operation)
            self._error(400, "UnsupportedOperation", f"{operation} is not implemented here")


    def _invoke(self, raw: bytes) -> None:
        """Lambda ``Invoke``: only ``InvocationType=Event`` (202, nothing run); the payload is kept."""
        time.sleep(self.server.latency_seconds)
        if self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "Event":
            self.server.counters.add("Invoke")
            self._reply(400, {"Type": "User", "message": "only InvocationType=Event is answered here"},
                        "application/json")
            return
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            self._reply(400, {"Type": "User", "message": "the payload is not JSON"}, "application/json")
            return
        counters = self.server.counters
        counters.add("Invoke")
        with counters.lock:
            if len(counters.invocations) < MAX_KEPT_INVOCATIONS:
                counters.invocations.append(payload)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port: int, latency_seconds: float) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.latency_seconds = latency_seconds
        self.counters = _Counters()


def serve(
    *, port: int = 0, latency_ms: float = DEFAULT_LATENCY_MS, max_seconds: float = DEFAULT_MAX_SECONDS,
    stop_on_stdin_eof: bool = False,
) -> None:
    """Serve until ``max_seconds`` have passed (or standard input closes).

    Parameters
    ----------
    port : int, optional
        Port on 127.0.0.1; 0 picks a free one. Default: 0.
    latency_ms : float, optional
        Delay before every answer, in milliseconds. Default: 10.
    max_seconds : float, optional
        The server stops by itself after this long. Default: 1800.
    stop_on_stdin_eof : bool, optional
        Also stop when standard input reaches end of file. Default: False.
    """
    server = _Server(port, latency_ms / 1000)
    stopper = threading.Timer(max_seconds, server.shutdown)
    stopper.daemon = True
    stopper.start()
    if stop_on_stdin_eof:
        def watch_stdin() -> None:
            sys.stdin.read()
            server.shutdown()

        threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stopper.cancel()
        server.server_close()


class LatencyEndpoint:
    """Run the endpoint in a child process for the length of a ``with`` block.

    The child is a separate interpreter, so its threads never compete with
    the benchmark for the GIL. It stops when the block ends, when the
    benchmark's process exits (its standard input closes), or after
    ``max_seconds``.

    Parameters
    ----------
    latency_ms : float, optional
        Delay before every answer, in milliseconds. Default: 10.
    max_seconds : float, optional
        Upper bound on the child's life. Default: 1800.

    Examples
    --------
    >>> with LatencyEndpoint(latency_ms=1) as endpoint:  # doctest: +SKIP
    ...     sqs = boto3.client("sqs", endpoint_url=endpoint.url, ...)
    ...     endpoint.stats()["calls"]
    """

    def __init__(self, latency_ms: float = DEFAULT_LATENCY_MS, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.latency_ms = latency_ms
        self.max_seconds = max_seconds
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "LatencyEndpoint":
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--latency-ms", str(self.latency_ms),
             "--max-seconds", str(self.max_seconds), "--stop-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.__exit__(None, None, None)
            raise RuntimeError("the SQS latency endpoint did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    def stats(self) -> dict[str, Any]:
        """The counters: ``calls`` per operation, ``messages``, ``message_bytes``."""
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as response:  # noqa: S310 - local
            return json.loads(response.read())

    def invocations(self) -> list[Any]:
        """The payloads of the asynchronous Lambda invokes received since the last reset."""
        with urllib.request.urlopen(f"{self.url}/invocations", timeout=10) as response:  # noqa: S310 - local
            return json.loads(response.read())

    def reset(self) -> None:
        """Set the counters to zero (and forget the kept invocations)."""
        request = urllib.request.Request(f"{self.url}/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - local
            pass

    def queue_url(self, name: str = "tasks") -> str:
        """A queue URL on this endpoint (every name is accepted)."""
        return f"{self.url}/{_ACCOUNT}/{name}"


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--port``, ``--latency-ms``, ``--max-seconds``, ``--stop-on-stdin-eof``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS,
                        help="delay before every answer (default: %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS,
                        help="stop after this long (default: %(default)s)")
    parser.add_argument("--stop-on-stdin-eof", action="store_true",
                        help="also stop when standard input closes")
    args = parser.parse_args(argv)
    serve(port=args.port, latency_ms=args.latency_ms, max_seconds=args.max_seconds,
          stop_on_stdin_eof=args.stop_on_stdin_eof)


if __name__ == "__main__":
    main()
