"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("scheduled_tasks_constructs") is None:
    # Not installed (e.g. a fresh checkout): import it from the source tree.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _fast_unix_time(original: Callable[..., float]) -> Callable[..., float]:
    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else original(dt)

    return unix_time


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Run a moto server on 127.0.0.1 for the test session.

    moto's SQS asks for the current time, through ``datetime``, for every
    queued message on every send and receive, which makes a receive on a
    queue of 400 messages take about a second. While the server runs, its
    SQS models get an equivalent ``unix_time`` built on ``time.time()``
    (about 20 times faster); the server itself is unchanged.

    Yields
    ------
    str
        Its endpoint URL, ``"http://127.0.0.1:<port>"`` (a free port).
    """
    import moto.sqs.models as sqs_models
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        if callable(getattr(sqs_models, "unix_time", None)):
            fast = _fast_unix_time(sqs_models.unix_time)
            patch.setattr(sqs_models, "unix_time", fast)
            patch.setattr(sqs_models, "unix_time_millis", lambda dt=None: fast(dt) * 1000.0)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at fake credentials in ``us-east-1`` for one test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
