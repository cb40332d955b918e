"""The local AWS endpoint (an embedded moto server) and a local webhook sink.

:class:`EmbeddedMotoServer` starts moto's server on ``127.0.0.1`` and a free
port, in a thread of this process, and stops it when the block ends.
:func:`check_endpoint` tells whether an endpoint answers before anything is
created on it. :class:`WebhookSink` is a tiny HTTP server on ``127.0.0.1`` that
records what is posted to it, standing in for Slack or Discord.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

__all__ = ["EmbeddedMotoServer", "EndpointError", "WebhookSink", "check_endpoint", "client", "fake_session"]

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
        from botocore.exceptions import EndpointConnectionError, ConnectTimeoutError

        if isinstance(exc, EndpointConnectionError):
            raise EndpointError(f"cannot reach the local AWS endpoint {endpoint} (connection refused)") from None
        if isinstance(exc, ConnectTimeoutError):
            raise EndpointError(f"cannot reach the local AWS endpoint {endpoint} (connection timed out)") from None
        raise EndpointError(
            f"{endpoint} does not answer as a local AWS endpoint (SQS ListQueues failed: {type(exc).__name__})"
        ) from None


class EmbeddedMotoServer:
    """moto's server on ``127.0.0.1`` and a free port, for the duration of a block.

    Examples
    --------
    >>> with EmbeddedMotoServer() as endpoint:  # doctest: +SKIP
    ...     print(endpoint)
    http://127.0.0.1:41235
    """

    def __init__(self) -> None:
        self._server: Any = None
        self._saved_level: Optional[int] = None
        self._saved_profiles: Dict[str, str] = {}
        self.endpoint: Optional[str] = None

    def __enter__(self) -> str:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise EndpointError(
                "the embedded moto server needs the 'local' extra: "
                "pip install 'scheduled-tasks-constructs[local]' (or give --endpoint URL)"
            ) from None
        except Exception as exc:  # noqa: BLE001
            raise EndpointError(f"cannot start the embedded moto server: {type(exc).__name__}: {exc}") from None
        # moto's models use botocore too: a profile of the host that its
        # configuration does not hold would fail every request.
        self._saved_profiles = {name: os.environ.pop(name) for name in _PROFILE_VARIABLES if name in os.environ}
        werkzeug = logging.getLogger("werkzeug")
        self._saved_level = werkzeug.level
        werkzeug.setLevel(logging.ERROR)  # no access log line per request
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        try:
            self._server.start()
            host, port = self._server.get_host_and_port()
        except Exception as exc:  # noqa: BLE001
            werkzeug.setLevel(self._saved_level)
            os.environ.update(self._saved_profiles)
            raise EndpointError(f"cannot start the embedded moto server: {type(exc).__name__}: {exc}") from None
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if self._server is not None:
                self._server.stop()
        finally:
            if self._saved_level is not None:
                logging.getLogger("werkzeug").setLevel(self._saved_level)
            os.environ.update(self._saved_profiles)


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
