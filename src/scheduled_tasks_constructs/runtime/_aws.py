"""Lazily created, per-container boto3 clients and environment helpers (private).

``boto3`` is imported on first use, not at import time, so that importing a
handler module stays cheap. Each client is created once per Lambda container
and reused by later invocations.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

#: Attempts per call, the first included, of the clients :func:`client` makes.
MAX_ATTEMPTS = 5


#: Connections a client keeps open at least (botocore's default).
MIN_POOL_CONNECTIONS = 10


@functools.cache
def client(service_name: str, *, parameter_validation: bool = True, max_pool_connections: int = MIN_POOL_CONNECTIONS) -> Any:
    """Return the cached boto3 client for ``service_name``.

    The client uses botocore's ``standard`` retry mode with up to
    :data:`MAX_ATTEMPTS` attempts per call: it alone retries whole calls
    that fail on throttling, a server error or the network. Region, credentials
    and endpoint come from the usual environment variables (``AWS_REGION``,
    ``AWS_ENDPOINT_URL``, ...), which Lambda sets.

    Parameters
    ----------
    service_name : str
        A boto3 service name such as ``"sqs"`` or ``"dynamodb"``.
    parameter_validation : bool, optional
        Whether botocore checks every request against the service model
        (CPU on every call; off for requests this library builds and checks
        itself). Default: ``True``.
    max_pool_connections : int, optional
        Connections kept open: at least the calls a caller has in flight, so
        that none waits for a connection or opens a new one. Default: 10.

    Returns
    -------
    Any
        A low-level boto3 client.
    """
    import boto3
    from botocore.config import Config

    make_client: Any = boto3.client  # any service name, not only the typed ones
    config = Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        parameter_validation=parameter_validation,
        max_pool_connections=max(MIN_POOL_CONNECTIONS, max_pool_connections),
    )
    return make_client(service_name, config=config)


def required_env(name: str) -> str:
    """Return the value of environment variable ``name``.

    Parameters
    ----------
    name : str
        Name of the variable.

    Returns
    -------
    str
        Its value.

    Raises
    ------
    RuntimeError
        If the variable is not set or empty. The message names the variable,
        never a value.
    """
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def request_id_of(context: Any) -> str:
    """Return the Lambda request id of ``context``, or a new UUID without one.

    Parameters
    ----------
    context : Any
        The Lambda context object (``None`` when a handler is called locally).

    Returns
    -------
    str
        ``context.aws_request_id`` when present, else a random UUID.
    """
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str) and request_id:
        return request_id
    import uuid

    return str(uuid.uuid4())


def error_code(exc: BaseException) -> str | None:
    """Return the AWS error code of a botocore ``ClientError``, else ``None``.

    Parameters
    ----------
    exc : BaseException
        Any exception.

    Returns
    -------
    str or None
        ``exc.response["Error"]["Code"]`` when it exists.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str):
            return code
    return None


def utc(now: datetime | None) -> datetime:
    """``now`` in UTC (the current time when None); a naive datetime is a ``ValueError``."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime, got a naive datetime")
    return now.astimezone(UTC)


def iso(moment: datetime) -> str:
    """An instant as ISO-8601 in UTC, to the millisecond, with a ``Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value (``{"S": "x"}``, ``{"N": "2"}``, ...) as a plain Python value.

    Examples
    --------
    >>> plain({"L": [{"N": "2"}, {"S": "x"}, {"BOOL": True}]})
    [2, 'x', True]
    """
    ((tag, inner),) = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        return int(inner) if inner.lstrip("-").isdigit() else float(inner)
    if tag == "NULL":
        return None
    if tag == "BOOL":
        return bool(inner)
    if tag in ("SS", "NS"):
        return set(inner)
    if tag == "L":
        return [plain(item) for item in inner]
    if tag == "M":
        return {key: plain(item) for key, item in inner.items()}
    return inner


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python values (see :func:`plain`)."""
    return {key: plain(value) for key, value in item.items()}
