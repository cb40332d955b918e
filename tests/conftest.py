"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if importlib.util.find_spec("scheduled_tasks_constructs") is None:
    # Not installed (e.g. a fresh checkout): import it from the source tree.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Run the local runner's embedded moto server for the test session.

    It is :class:`~scheduled_tasks_constructs.local.endpoint.EmbeddedMotoServer`,
    the server ``scheduled-tasks run`` starts: moto's server on 127.0.0.1,
    with moto's SQS patched by ``moto_speedups.install()`` so that calls do
    not slow down as queues fill (moto scans a whole queue several times per
    message received; a receive on a queue of 400 messages took about a
    second).

    Yields
    ------
    str
        Its endpoint URL, ``"http://127.0.0.1:<port>"`` (a free port).
    """
    from scheduled_tasks_constructs.local.endpoint import EmbeddedMotoServer

    with EmbeddedMotoServer() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at fake credentials in ``us-east-1`` for one test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
