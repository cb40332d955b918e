"""Post task results to a Slack or Discord incoming webhook.

A webhook URL is a credential: whoever has it can post to the channel. It is
read from Secrets Manager, never logged, and never part of an error message.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

WebhookKind = Literal["slack", "discord"]
"""The webhook services a result can be posted to (the values of ``WEBHOOK_KIND``)."""

DISCORD_MAX_CONTENT = 2000
"""Longest ``content`` Discord accepts, in characters."""

WEBHOOK_URL_MAX_AGE_SECONDS = 300.0
"""Seconds a warm function keeps a webhook URL before it reads the secret again.

A rotated URL is thus picked up within this time. A post that the webhook rejects with HTTP 401,
403, 404 or 410 (the URL was revoked or rotated) drops the URL at once: the
secret is read again and, when it holds a different URL, the post is sent
once more to it."""

REVOKED_URL_STATUSES = frozenset({401, 403, 404, 410})
"""HTTP statuses that mean the webhook URL itself is no longer valid."""

_SLACK_HOSTS = frozenset({"hooks.slack.com"})
_DISCORD_HOSTS = frozenset(
    {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"}
)
_KINDS = ("slack", "discord")


class WebhookError(RuntimeError):
    """A webhook post failed.

    The message never contains the URL (it is a secret).

    Parameters
    ----------
    message : str
        What went wrong.
    status : int or None, optional
        HTTP status of the response, when there was one.

    Examples
    --------
    >>> WebhookError("webhook returned HTTP 404", status=404).status
    404
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def detect_kind(url: str) -> WebhookKind:
    """Tell a Slack webhook URL from a Discord one.

    Parameters
    ----------
    url : str
        The webhook URL.

    Returns
    -------
    {"slack", "discord"}
        ``"slack"`` for ``hooks.slack.com``; ``"discord"`` for
        ``discord.com/api/webhooks/...`` (or ``discordapp.com``).

    Raises
    ------
    ValueError
        For any other URL. The message does not contain the URL.

    Examples
    --------
    >>> detect_kind("https://hooks.slack.com/services/T000/B000/XXXX")
    'slack'
    >>> detect_kind("https://discord.com/api/webhooks/123/abc")
    'discord'
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    host = (parts.hostname or "").lower() if parts else ""
    if parts and parts.scheme in ("http", "https"):
        if host in _SLACK_HOSTS:
            return "slack"
        if host in _DISCORD_HOSTS and parts.path.startswith("/api/webhooks/"):
            return "discord"
    raise ValueError(
        "cannot tell the webhook kind from its URL: expected https://hooks.slack.com/... "
        "or https://discord.com/api/webhooks/...; set the kind explicitly "
        "(WEBHOOK_KIND) for any other URL"
    )


def build_payload(kind: str, text: str) -> dict[str, str]:
    """Build the JSON body a webhook of ``kind`` expects.

    Parameters
    ----------
    kind : {"slack", "discord"}
        Kind of webhook.
    text : str
        The message.

    Returns
    -------
    dict
        ``{"text": text}`` for Slack; ``{"content": text}`` for Discord, cut to
        2,000 characters (the last one an ellipsis) when longer.

    Raises
    ------
    ValueError
        If ``kind`` is neither ``"slack"`` nor ``"discord"``.
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> build_payload("slack", "done")
    {'text': 'done'}
    >>> len(build_payload("discord", "x" * 5000)["content"])
    2000
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if kind == "slack":
        return {"text": text}
    if kind == "discord":
        if len(text) > DISCORD_MAX_CONTENT:
            text = text[: DISCORD_MAX_CONTENT - 1] + "\u2026"
        return {"content": text}
    raise ValueError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")


def post_result(url: str, text: str, *, kind: str | None = None, timeout: float = 5.0) -> int:
    """Post ``text`` to a webhook.

    Parameters
    ----------
    url : str
        The webhook URL (``http`` or ``https``).
    text : str
        The message.
    kind : {"slack", "discord"} or None, optional
        Kind of webhook. Default: detected from the URL with
        :func:`detect_kind`.
    timeout : float, optional
        Seconds the whole post may take: connecting, sending and reading the
        response together (a server that sends its answer a byte at a time
        is cut off when they are up). Default: 5.

    Returns
    -------
    int
        The HTTP status of the response (2xx).

    Raises
    ------
    WebhookError
        On a non-2xx response (a redirect included: it is not followed), a
        network error or the timeout. The message names the status or the
        kind of error, never the URL, and the error has no ``__cause__`` or
        ``__context__`` (which could hold it).
    ValueError
        If the URL is not ``http(s)``, or ``kind`` is not given and cannot be
        detected.

    Examples
    --------
    >>> post_result(  # doctest: +SKIP
    ...     "https://hooks.slack.com/services/T000/B000/XXXX", "report ready"
    ... )
    200
    """
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("webhook URL must start with https:// or http://")
    payload = build_payload(kind or detect_kind(url), text)
    # The error is raised outside the except blocks, so that no exception
    # that may quote the URL is attached to it.
    status, failure = _post(url, json.dumps(payload).encode("utf-8"), timeout)
    if failure is not None:
        raise WebhookError(f"webhook request failed: {failure}")
    if not 200 <= status < 300:
        raise WebhookError(f"webhook returned HTTP {status}", status=status)
    return status


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str | None]:
    """POST ``body``; return the status and, when it failed, why (no URL in it).

    ``http.client`` follows no redirects. A timer shuts the connection down
    when ``timeout`` seconds have passed, whatever the server is doing.
    """
    import http.client
    import socket
    import ssl
    import threading

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return 0, "the URL is malformed"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                # The plain socket's shutdown, also under TLS: it wakes a
                # blocked read in the other thread.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout, cut_off)
    timer.daemon = True
    failure: str | None = None
    status = 0
    timer.start()
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "scheduled-tasks-constructs",
            },
        )
        response = connection.getresponse()
        status = int(response.status)
        response.read()
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # Timeouts, refused connections, resets, malformed responses.
        failure = _describe(exc)
    finally:
        timer.cancel()
        connection.close()
    if failure is not None and expired.is_set():
        return status, f"no complete response within {timeout:g} s"
    return status, failure


def _describe(reason: Any) -> str:
    # Name the kind of failure without echoing anything that may hold the URL.
    if isinstance(reason, OSError) and reason.strerror:
        return f"{type(reason).__name__} ({reason.strerror})"
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return "network error"


def webhook_url_from_secret(secret_id: str, *, client: Any) -> str:
    """Read a webhook URL from Secrets Manager.

    Parameters
    ----------
    secret_id : str
        ARN or name of the secret.
    client : Any
        A boto3 Secrets Manager client.

    Returns
    -------
    str
        The URL. The secret string is either the URL itself or a JSON object
        ``{"url": "<the URL>"}``.

    Raises
    ------
    ValueError
        If the secret has no string value, or its value is neither form. The
        message never contains the secret value.

    Examples
    --------
    >>> import boto3  # doctest: +SKIP
    >>> webhook_url_from_secret(  # doctest: +SKIP
    ...     "arn:aws:secretsmanager:...:secret:webhook", client=boto3.client("secretsmanager")
    ... )
    'https://hooks.slack.com/services/...'
    """
    response = client.get_secret_value(SecretId=secret_id)
    value = response.get("SecretString")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the webhook secret has no string value")
    value = value.strip()
    if value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            raise ValueError("the webhook secret is not valid JSON") from None
        url = document.get("url") if isinstance(document, dict) else None
        if not isinstance(url, str):
            raise ValueError('the webhook secret JSON has no string "url" field')
        value = url.strip()
    if urlsplit(value).scheme not in ("http", "https"):
        raise ValueError("the webhook secret does not hold an http(s) URL")
    return value


class _SecretUrlCache:
    """Webhook URLs read from secrets, each kept for at most ``max_age`` seconds."""

    def __init__(
        self,
        read: Callable[[str], str],
        *,
        max_age: float = WEBHOOK_URL_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.max_age = max_age
        self.clock = clock
        self.reads = 0
        self._urls: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, secret_id: str) -> str:
        now = self.clock()
        with self._lock:
            cached = self._urls.get(secret_id)
        if cached is not None and now - cached[1] < self.max_age:
            return cached[0]
        url = self.read(secret_id)
        with self._lock:
            self.reads += 1
            self._urls[secret_id] = (url, now)
        return url

    def forget(self, secret_id: str) -> None:
        with self._lock:
            self._urls.pop(secret_id, None)

    def clear(self) -> None:
        with self._lock:
            self._urls.clear()
            self.reads = 0


#: Webhook URLs of this container for the handlers that post now and then
#: (run summaries, the watchdog), created on first use.
_shared_urls: _SecretUrlCache | None = None


def _shared_url_cache() -> _SecretUrlCache:
    """The container's URL cache for run summaries and the watchdog's messages."""
    global _shared_urls
    if _shared_urls is None:
        _shared_urls = _SecretUrlCache(_read_secret_url)
    return _shared_urls


def _read_secret_url(secret_id: str) -> str:
    from . import _aws

    return webhook_url_from_secret(secret_id, client=_aws.client("secretsmanager"))


def _post_to_secret_url(
    urls: _SecretUrlCache, secret_id: str, text: str, *, kind: str | None
) -> int:
    """Post ``text`` to the URL in the secret; on a revoked URL, re-read it and post once more.

    When the secret still holds the rejected URL, the first error is raised.
    """
    url = urls.get(secret_id)
    try:
        return post_result(url, text, kind=kind)
    except WebhookError as exc:
        if exc.status not in REVOKED_URL_STATUSES:
            raise
        rejected = exc
    # Outside the except block, so that the next error carries no context.
    urls.forget(secret_id)
    fresh = urls.get(secret_id)
    if fresh == url:
        raise rejected
    return post_result(fresh, text, kind=kind)


__all__ = [
    "DISCORD_MAX_CONTENT",
    "REVOKED_URL_STATUSES",
    "WEBHOOK_URL_MAX_AGE_SECONDS",
    "WebhookError",
    "WebhookKind",
    "build_payload",
    "detect_kind",
    "post_result",
    "webhook_url_from_secret",
]
