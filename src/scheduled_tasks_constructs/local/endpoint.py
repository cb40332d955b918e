"""The local AWS endpoint (an embedded moto server) and a local webhook sink.

:class:`EmbeddedMotoServer` starts moto's server on ``127.0.0.1`` and a free
port, in a process of its own, with moto's SQS patched to stay fast as queues
fill (:mod:`.moto_speedups`), and stops it when the block ends.
:func:`check_endpoint` tells whether an endpoint answers before anything is
created on it. :class:`WebhookSink` is a tiny HTTP server on ``127.0.0.1`` that
records what is posted to it, standing in for Slack or Discord.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import select
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

__all__ = [
    "EmbeddedMotoServer",
    "EndpointError",
    "WebhookSink",
    "check_endpoint",
    "check_moto_installed",
    "client",
    "fake_session",
]

#: Credentials every local call uses (moto accepts any).
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


_PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


class EndpointError(Exception):
    """The local endpoint cannot be started or reached; the message is one line."""


@functools.lru_cache(maxsize=None)
def fake_session(region: str) -> Any:
    """The process's one boto3 session with fake credentials in ``region``.

    Creating a session loads botocore's endpoint data (about 0.3 s); local
    runs share one, and hand it to handlers as boto3's default session.

    Parameters
    ----------
    region : str
        The Region.

    Returns
    -------
    boto3.session.Session
        The session.
    """
    import boto3
    import botocore.session
    from botocore.configprovider import ConstantProvider

    # Nothing from the host's AWS configuration: no profile, no config or
    # credentials file (so no endpoint or Region set there either).
    core = botocore.session.Session()
    core.get_component("config_store").set_config_provider("profile", ConstantProvider(None))
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    return boto3.session.Session(botocore_session=core, region_name=region, **FAKE_CREDENTIALS)


def client(service: str, endpoint: str, region: str, *, quick: bool = False) -> Any:
    """A boto3 client on the local endpoint with fake credentials.

    Parameters
    ----------
    service : str
        A boto3 service name.
    endpoint : str
        The endpoint URL.
    region : str
        The Region.
    quick : bool, optional
        Short timeouts and no retries (for a reachability check). Default: False.

    Returns
    -------
    Any
        A low-level boto3 client.
    """
    from botocore.config import Config

    config = (
        Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1, "mode": "standard"})
        if quick
        else Config(retries={"mode": "standard"})
    )
    return fake_session(region).client(service, endpoint_url=endpoint, config=config)


def check_endpoint(endpoint: str, region: str) -> None:
    """Raise :class:`EndpointError` unless ``endpoint`` answers SQS calls.

    Parameters
    ----------
    endpoint : str
        An ``http://`` or ``https://`` URL.
    region : str
        The Region to use.

    Raises
    ------
    EndpointError
        When the URL is malformed or nothing answers there.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"--endpoint must be an http:// or https:// URL, got {endpoint!r}")
    try:
        client("sqs", endpoint, region, quick=True).list_queues()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

        if isinstance(exc, EndpointConnectionError):
            raise EndpointError(f"cannot reach the local AWS endpoint {endpoint} (connection refused)") from None
        if isinstance(exc, ConnectTimeoutError):
            raise EndpointError(f"cannot reach the local AWS endpoint {endpoint} (connection timed out)") from None
        raise EndpointError(
            f"{endpoint} does not answer as a local AWS endpoint (SQS ListQueues failed: {type(exc).__name__})"
        ) from None


#: The embedded server's process: moto's server on 127.0.0.1 and a free port,
#: with moto_speedups installed (loaded from its file, so that the library and
#: the AWS CDK stay out of that process). It prints one JSON line, then runs
#: until its standard input closes (also when this process dies).
_SERVER_PROCESS = r"""
import importlib.util, json, logging, os, sys

def main():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        print(json.dumps({"missing": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    try:
        spec = importlib.util.spec_from_file_location("moto_speedups", sys.argv[1])
        speedups = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(speedups)
        patched = speedups.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    print(json.dumps({"endpoint": f"http://{host}:{port}", "speedups": patched}), flush=True)
    os.dup2(2, 1)  # anything moto prints from now on goes to standard error
    sys.stdout = sys.stderr
    sys.stdin.read()
    server.stop()
    return 0

sys.exit(main())
"""

_MISSING_EXTRA = (
    "the embedded moto server needs the 'local' extra: "
    "pip install 'scheduled-tasks-constructs[local]' (or give --endpoint URL)"
)
_START_TIMEOUT_SECONDS = 60.0
_STOP_TIMEOUT_SECONDS = 10.0


def check_moto_installed() -> None:
    """Raise :class:`EndpointError` naming the 'local' extra when moto's server is not installed.

    Cheap (nothing is imported), so a command can check before it synthesizes.
    """
    try:
        found = importlib.util.find_spec("moto.server") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise EndpointError(_MISSING_EXTRA)


class EmbeddedMotoServer:
    """moto's server on ``127.0.0.1`` and a free port, for the duration of a block.

    The server runs in a process of its own (the same Python), which stops
    when the block ends or when this process exits. In this process it would
    share one interpreter lock with the runner's pollers, whose boto3 calls
    take about 2 ms of CPU each while moto takes about 3 ms per call: in a
    process of its own it runs beside them on another core. Measured on two
    cores (``benchmarks/bench_local_sqs.py``, median of two runs each), a
    cycle of 10,000 messages took 18.1 s instead of 22.0 s with four pollers
    handing their batches to worker processes, and 17.8 s instead of 23.0 s
    with one client (another run: 20.3 s against 27.8 s, 20.8 s against
    24.0 s).

    Before it starts, the server's process installs
    :mod:`~scheduled_tasks_constructs.local.moto_speedups`. moto's SQS does
    work proportional to the number of messages in a queue on every call: it
    scans the whole queue for the visible messages on each ``ReceiveMessage``,
    computes the three approximate counts (three more scans) whenever it reads
    any queue attribute, which it does for every message sent and three times
    for every message received, and scans the queue for the receipt handle on
    each delete and each visibility change. A local fan-out of 2,500 tasks ran
    at about 2 tasks per second. The patches keep an index of each queue's
    messages (the visible ones in queue order, the others by the time they
    become visible, the receipt handles) that moto's own list operations and
    message setters keep up to date, so that each call costs the same whatever
    the queue's length; they also read the clock without ``datetime``, cache
    attribute name conversions, draw receipt handles in one loop (the same
    handles for the same seed) and keep the server's list of its own modules
    instead of listing its package folder on every request. SQS behaves as
    moto implements it. With a moto version the patches were not written for,
    nothing is patched and the server runs as moto ships it (:attr:`speedups`
    is then False).

    Examples
    --------
    >>> with EmbeddedMotoServer() as endpoint:  # doctest: +SKIP
    ...     print(endpoint)
    http://127.0.0.1:41235
    """

    def __init__(self) -> None:
        self._process: Optional[subprocess.Popen] = None
        self._saved_profiles: Dict[str, str] = {}
        self.endpoint: Optional[str] = None
        #: Whether moto's SQS runs with the speed-ups (set on entering the block).
        self.speedups = False

    def __enter__(self) -> str:
        check_moto_installed()
        # moto's models use botocore too: a profile of the host that its
        # configuration does not hold would fail every request.
        self._saved_profiles = {name: os.environ.pop(name) for name in _PROFILE_VARIABLES if name in os.environ}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _SERVER_PROCESS, str(Path(__file__).with_name("moto_speedups.py"))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,  # Ctrl-C in a terminal goes to the runner, which stops the server
            )
            started = self._handshake()
        except EndpointError:
            self._stop()
            raise
        except Exception as exc:  # noqa: BLE001
            self._stop()
            raise EndpointError(f"cannot start the embedded moto server: {type(exc).__name__}: {exc}") from None
        self.speedups = bool(started.get("speedups"))
        self.endpoint = str(started["endpoint"])
        return self.endpoint

    def _handshake(self) -> Dict[str, Any]:
        """The server process's first line, read within the start timeout."""
        assert self._process is not None and self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], _START_TIMEOUT_SECONDS)
        line = self._process.stdout.readline() if ready else ""
        try:
            started = json.loads(line) if line else {}
        except ValueError:
            started = {}
        if "missing" in started:
            raise EndpointError(_MISSING_EXTRA)
        if "endpoint" not in started:
            reason = started.get("error") or (
                f"it did not start within {_START_TIMEOUT_SECONDS:.0f} s" if not ready else "it exited"
            )
            raise EndpointError(f"cannot start the embedded moto server: {reason}")
        self._process.stdout.close()
        return started

    def _stop(self) -> None:
        process, self._process = self._process, None
        try:
            if process is not None:
                try:
                    if process.stdin is not None:
                        process.stdin.close()  # the server stops at the end of its input
                except OSError:
                    pass
                try:
                    process.wait(timeout=_STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout is not None and not process.stdout.closed:
                    process.stdout.close()
        finally:
            os.environ.update(self._saved_profiles)
            self._saved_profiles = {}

    def __exit__(self, *exc_info: Any) -> None:
        self._stop()


class WebhookSink:
    """A local HTTP server that records every POST (a stand-in for a chat webhook).

    Each construct gets its own path (:meth:`url_for`); :meth:`count` tells how
    many posts a path received.
    """

    def __init__(self) -> None:
        self.posts: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with sink._lock:
                    sink.posts.append({"path": self.path, "body": body})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    def url_for(self, key: str) -> str:
        """The webhook URL of one construct."""
        return f"{self.base_url}/hooks/{key}"

    def count(self, key: str) -> int:
        """How many posts the URL of ``key`` received."""
        path = f"/hooks/{key}"
        with self._lock:
            return sum(1 for post in self.posts if post["path"] == path)

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
