"""``runtime.caches.reset_caches``: the public way to forget what a container keeps."""

from __future__ import annotations

import pytest

from scheduled_tasks_constructs.runtime import _aws, alarm_notifier, webhook, worker
from scheduled_tasks_constructs.runtime.caches import reset_caches


def _fill(cache: object, secret_id: str) -> None:
    cache.read = lambda _secret: "https://hooks.example/abc"  # type: ignore[attr-defined]
    cache.get(secret_id)  # type: ignore[attr-defined]


def test_reset_forgets_clients_and_every_handlers_webhook_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a cached client and a cached webhook URL in each handler that keeps one
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    first = _aws.client("sqs")
    caches = [worker._webhook_urls, alarm_notifier._webhook_urls, webhook._shared_url_cache()]
    for cache in caches:
        monkeypatch.setattr(cache, "read", cache.read)
        _fill(cache, "arn:secret")
        assert cache.reads == 1

    # WHEN the caches are reset
    reset_caches()

    # THEN the next call makes a new client and every URL is read again
    assert _aws.client.cache_info().currsize == 0
    assert _aws.client("sqs") is not first
    for cache in caches:
        assert cache.reads == 0
        cache.get("arn:secret")
        assert cache.reads == 1
    reset_caches()


def test_reset_works_before_any_handler_kept_anything() -> None:
    # GIVEN nothing cached yet (a fresh process); WHEN reset; THEN no error and still empty
    reset_caches()
    reset_caches()
    assert _aws.client.cache_info().currsize == 0
