"""Reset what a Lambda container keeps between invocations.

A container keeps its boto3 clients (one per service, made on first use) and
the webhook URLs it has read from secrets (each for at most
``WEBHOOK_URL_MAX_AGE_SECONDS``). Code that runs several handlers in one
process, such as tests, resets them here instead of reaching into the
modules that hold them.
"""

from __future__ import annotations

import sys

#: Modules that keep a webhook URL cache, and its name there.
_WEBHOOK_URL_CACHES = (("worker", "_webhook_urls"), ("alarm_notifier", "_webhook_urls"), ("webhook", "_shared_urls"))


def reset_caches() -> None:
    """Forget every cached boto3 client and every cached webhook URL.

    The next call makes its client again from the current environment
    (``AWS_ENDPOINT_URL``, ``AWS_REGION``, ...) and reads its webhook URL from
    its secret again. A handler module that is not imported yet has nothing
    cached, so it is not imported here.

    Examples
    --------
    >>> from scheduled_tasks_constructs.runtime import _aws
    >>> from scheduled_tasks_constructs.runtime.caches import reset_caches
    >>> reset_caches()
    >>> _aws.client.cache_info().currsize
    0
    """
    from . import _aws

    cache_clear = getattr(_aws.client, "cache_clear", None)
    if callable(cache_clear):
        cache_clear()
    package = __name__.rsplit(".", 1)[0]
    for name, attribute in _WEBHOOK_URL_CACHES:
        module = sys.modules.get(f"{package}.{name}")
        urls = getattr(module, attribute, None)
        if urls is not None:
            urls.clear()


__all__ = ["reset_caches"]
