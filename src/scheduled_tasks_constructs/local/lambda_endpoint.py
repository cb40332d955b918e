"""A local Lambda ``Invoke`` endpoint: functions of the app calling the Lambda API run the app's functions.

A function that calls Lambda itself (a sharded producer handing each shard to
an asynchronous invocation of itself, say) would otherwise reach the moto
server, which knows none of the app's functions and cannot run them. The
runner instead points each function's ``AWS_ENDPOINT_URL_LAMBDA`` (botocore
prefers it to ``AWS_ENDPOINT_URL`` for Lambda clients) at a
:class:`LambdaEndpoint`: a small threaded HTTP server on ``127.0.0.1`` that
answers the ``Invoke`` REST call as Lambda does.

- ``FunctionName`` may be a name, a full ARN or a partial ARN
  (``123456789012:function:name``), with or without a qualifier; only
  ``$LATEST`` exists locally. A function the app does not have gets
  ``ResourceNotFoundException`` (404).
- ``Event``: 202 at once, the invocation queued (:class:`AsyncInvocationQueue`)
  and run as Lambda runs asynchronous invocations: the function's
  ``EventInvokeConfig`` retries, then its on-failure destination. Payloads
  over 1 MB (:data:`ASYNC_PAYLOAD_LIMIT`) get ``RequestTooLargeException``
  (413).
- ``RequestResponse``: the function runs and its result is returned (200;
  ``X-Amz-Function-Error: Unhandled`` and the error document when it
  failed); 6 MB limit (:data:`SYNC_PAYLOAD_LIMIT`) each way.
- ``DryRun``: 204, after the permission and name checks.

Each function's URL carries its name (``<endpoint>/caller/<name>``), which is
how the endpoint knows the caller. :class:`InvokePermissions` then checks, as
IAM does for a caller in the target's own account, that the caller's role
allows ``lambda:InvokeFunction`` on the target; otherwise the answer is
``AccessDeniedException`` (403) with IAM's message. What it reads: the
caller's ``Role``, every ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy``
of the app attached to that role, the role's inline ``Policies`` and
``ManagedPolicyArns`` (of the app, or one of the few AWS managed policies in
:data:`AWS_MANAGED_INVOKE_POLICIES`). ``Effect``, ``Action``/``NotAction``
and ``Resource``/``NotResource`` with IAM's wildcards are evaluated, an
explicit ``Deny`` wins. Not modelled: ``Condition`` blocks (a statement
applies as if it had none), the target's resource-based policy
(``AWS::Lambda::Permission``), permissions boundaries, session policies,
SCPs, other AWS managed policies, and roles the app imports (their
policies are not in the app: the call is allowed and the run notes it).

Nothing here imports ``aws_cdk`` or does I/O at import time.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .assembly import AssemblyError, Intrinsics, StackArtifact, UnresolvableError
from .lambda_local import Invocation

__all__ = [
    "ASYNC_PAYLOAD_LIMIT",
    "AWS_MANAGED_INVOKE_POLICIES",
    "AppFunctions",
    "AsyncInvocationQueue",
    "FunctionAddress",
    "INVOKE_ACTION",
    "InvokePermissions",
    "LambdaBackend",
    "LambdaEndpoint",
    "LambdaError",
    "SYNC_PAYLOAD_LIMIT",
    "parse_function_name",
    "policy_decision",
]

#: Largest payload of an asynchronous (``Event``) invocation: 1 MB since October 2025 (256 KB before).
ASYNC_PAYLOAD_LIMIT = 1_048_576
#: Largest request and response payload of a synchronous (``RequestResponse``) invocation: 6 MB.
SYNC_PAYLOAD_LIMIT = 6_291_456
#: The IAM action ``Invoke`` needs.
INVOKE_ACTION = "lambda:InvokeFunction"
#: AWS managed policies known to allow ``lambda:InvokeFunction``: ARN -> their statements.
AWS_MANAGED_INVOKE_POLICIES: Dict[str, List[Dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaRole": [
        {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": ["*"]}
    ],
    "arn:aws:iam::aws:policy/AWSLambda_FullAccess": [{"Effect": "Allow", "Action": ["lambda:*"], "Resource": "*"}],
    "arn:aws:iam::aws:policy/AdministratorAccess": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

_INVOKE_PATH = re.compile(r"^(?:/caller/(?P<caller>[^/]+))?/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_QUALIFIER = re.compile(r"^(\$LATEST|[A-Za-z0-9_-]{1,128})$")
_LOG_TAIL_BYTES = 4096
_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


class LambdaError(Exception):
    """A Lambda API error answer: HTTP status, error code (``x-amzn-ErrorType``) and message.

    Parameters
    ----------
    status : int
        The HTTP status.
    code : str
        The error code, such as ``"ResourceNotFoundException"``.
    message : str
        The message.
    kind : str, optional
        The body's ``Type``: ``"User"`` (the caller's fault) or ``"Service"``. Default: ``"User"``.
    """

    def __init__(self, status: int, code: str, message: str, *, kind: str = "User") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind

    def body(self) -> bytes:
        """The JSON body Lambda sends with the error."""
        return json.dumps({"Type": self.kind, "message": self.message}).encode()


@dataclass(frozen=True)
class FunctionAddress:
    """A ``FunctionName`` (and ``Qualifier``) of an ``Invoke`` call, read as Lambda reads it.

    ``arn`` is the unqualified function ARN; ``resource`` is the ARN that IAM
    checks (the qualified one when a qualifier is given).
    """

    name: str
    qualifier: Optional[str]
    arn: str

    @property
    def resource(self) -> str:
        """The ARN the permission check is made on."""
        return f"{self.arn}:{self.qualifier}" if self.qualifier else self.arn


def parse_function_name(value: str, qualifier: Optional[str], *, region: str, account: str) -> FunctionAddress:
    """Read a ``FunctionName``: a name, a full ARN or a partial ARN, each with an optional qualifier.

    Parameters
    ----------
    value : str
        The ``FunctionName`` (URL-decoded).
    qualifier : str or None
        The ``Qualifier`` query parameter.
    region, account : str
        The endpoint's Region and account.

    Returns
    -------
    FunctionAddress
        The function's name, qualifier and ARN.

    Raises
    ------
    LambdaError
        ``InvalidParameterValueException`` (400) for a malformed name or
        conflicting qualifiers, ``ResourceNotFoundException`` (404) for an
        ARN of another Region or account (no function of the app is there).

    Examples
    --------
    >>> parse_function_name("123456789012:function:jobs:$LATEST", None, region="us-east-1", account="123456789012")
    FunctionAddress(name='jobs', qualifier='$LATEST', arn='arn:aws:lambda:us-east-1:123456789012:function:jobs')
    """
    region_part, account_part = region, account
    rest = value
    if value.startswith("arn:"):
        parts = value.split(":")
        if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
            raise _invalid_name(value)
        region_part, account_part, rest = parts[3], parts[4], ":".join(parts[6:])
    else:
        parts = value.split(":")
        if len(parts) >= 3 and parts[1] == "function":
            account_part, rest = parts[0], ":".join(parts[2:])
    name, _, in_name = rest.partition(":")
    if not _NAME.match(name) or (in_name and not _QUALIFIER.match(in_name)) or (qualifier and not _QUALIFIER.match(qualifier)):
        raise _invalid_name(value)
    if in_name and qualifier and in_name != qualifier:
        raise LambdaError(
            400,
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    arn = f"arn:aws:lambda:{region_part}:{account_part}:function:{name}"
    if region_part != region or account_part != account:
        raise LambdaError(404, "ResourceNotFoundException", f"Function not found: {arn}")
    return FunctionAddress(name=name, qualifier=(in_name or qualifier or None), arn=arn)


def _invalid_name(value: str) -> LambdaError:
    return LambdaError(
        400,
        "InvalidParameterValueException",
        f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?"
        r"-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
    )


# --------------------------------------------------------------------------- what the endpoint serves


class LambdaBackend:
    """What a :class:`LambdaEndpoint` serves: the functions, the permission check and the invocations.

    The runner's implementation runs the app's functions; tests give a stub.
    Each method may raise :class:`LambdaError` to answer with that error.
    """

    def function_arn(self, name: str) -> Optional[str]:
        """The ARN of the function called ``name`` (None: no such function)."""
        raise NotImplementedError

    def authorize(self, caller: Optional[str], resource: str) -> Optional[str]:
        """None when the function ``caller`` may invoke ``resource``; else the AccessDenied message."""
        raise NotImplementedError

    def invoke(self, name: str, event: Any, request_id: str) -> Invocation:
        """Run the function ``name`` with ``event`` now and return what happened (``RequestResponse``)."""
        raise NotImplementedError

    def enqueue(self, name: str, event: Any, request_id: str) -> None:
        """Queue an asynchronous invocation of ``name`` with ``event`` (``Event``); returns at once."""
        raise NotImplementedError


class LambdaEndpoint:
    """A threaded HTTP server on ``127.0.0.1`` (a free port) answering Lambda's ``Invoke`` for a backend.

    Parameters
    ----------
    backend : LambdaBackend
        The functions it serves.
    region : str
        The Region of its ARNs.
    account : str
        The account of its ARNs.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>``.
    """

    def __init__(self, backend: LambdaBackend, *, region: str, account: str) -> None:
        self.backend = backend
        self.region = region
        self.account = account
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                endpoint._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                endpoint._handle(self)

            def do_PUT(self) -> None:  # noqa: N802
                endpoint._handle(self)

            def do_DELETE(self) -> None:  # noqa: N802
                endpoint._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="lambda-endpoint", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def url_for(self, caller: str) -> str:
        """The endpoint URL a function called ``caller`` is given (``AWS_ENDPOINT_URL_LAMBDA``)."""
        return f"{self.url}/caller/{quote(caller, safe='')}"

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- one request ---------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        request_id = str(uuid.uuid4())
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        try:
            status, headers, payload = self._answer(request, body, request_id)
        except LambdaError as error:
            status, headers, payload = error.status, {"x-amzn-ErrorType": error.code}, error.body()
        except Exception as exc:  # a bug of the local run: say so, as Lambda's ServiceException
            error = LambdaError(500, "ServiceException", f"the local Lambda endpoint failed: {type(exc).__name__}: {exc}", kind="Service")
            status, headers, payload = error.status, {"x-amzn-ErrorType": error.code}, error.body()
        request.send_response(status)
        request.send_header("x-amzn-RequestId", request_id)
        request.send_header("Content-Type", "application/json")
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if payload:
            request.wfile.write(payload)

    def _answer(self, request: BaseHTTPRequestHandler, body: bytes, request_id: str) -> Tuple[int, Dict[str, str], bytes]:
        split = urlsplit(request.path)
        match = _INVOKE_PATH.match(split.path)
        if request.command != "POST" or match is None:
            raise LambdaError(
                400,
                "UnknownOperationException",
                f"the local run's Lambda endpoint answers Invoke only, not {request.command} {split.path}",
            )
        caller = unquote(match.group("caller")) if match.group("caller") else None
        qualifiers = parse_qs(split.query).get("Qualifier")
        address = parse_function_name(
            unquote(match.group("name")), qualifiers[0] if qualifiers else None, region=self.region, account=self.account
        )
        kind = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if kind not in _INVOCATION_TYPES:
            raise LambdaError(
                400,
                "InvalidParameterValueException",
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )
        limit = ASYNC_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            operation = "InvokeAsync" if kind == "Event" else "Invoke"
            raise LambdaError(413, "RequestTooLargeException", f"Request must be smaller than {limit} bytes for the {operation} operation")
        denied = self.backend.authorize(caller, address.resource)
        if denied is not None:
            raise LambdaError(403, "AccessDeniedException", denied)
        if self.backend.function_arn(address.name) is None or address.qualifier not in (None, "$LATEST"):
            raise LambdaError(404, "ResourceNotFoundException", f"Function not found: {address.resource}")
        try:
            event = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise LambdaError(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}") from None
        if kind == "DryRun":
            return 204, {}, b""
        if kind == "Event":
            self.backend.enqueue(address.name, event, request_id)
            return 202, {}, b""
        invocation = self.backend.invoke(address.name, event, request_id)
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if (request.headers.get("X-Amz-Log-Type") or "None") == "Tail":
            tail = invocation.output.encode("utf-8", "replace")[-_LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        if invocation.ok:
            payload = json.dumps(invocation.result).encode()
            if len(payload) <= SYNC_PAYLOAD_LIMIT:
                return 200, headers, payload
            document: Dict[str, Any] = {
                "errorMessage": f"Response payload size ({len(payload)} bytes) exceeded maximum allowed payload size ({SYNC_PAYLOAD_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        else:
            document = {"errorMessage": invocation.error_message or "", "errorType": invocation.error_type or "Unhandled"}
            document["requestId"] = invocation.request_id
            document["stackTrace"] = list(invocation.stack_trace)
        headers["X-Amz-Function-Error"] = "Unhandled"
        return 200, headers, json.dumps(document).encode()


# --------------------------------------------------------------------------- the app's functions


class AppFunctions:
    """Every ``AWS::Lambda::Function`` of the app, by the name the local run gives it.

    Parameters
    ----------
    resources : LocalResources
        The run's resources (their names; nothing is created for a function).
    """

    def __init__(self, resources: Any) -> None:
        self.resources = resources
        self._by_name: Optional[Dict[str, Tuple[StackArtifact, str, str]]] = None
        self._lock = threading.Lock()

    def _index(self) -> Dict[str, Tuple[StackArtifact, str, str]]:
        with self._lock:
            if self._by_name is None:
                index: Dict[str, Tuple[StackArtifact, str, str]] = {}
                for stack in self.resources.assembly.stacks:
                    for logical_id, resource in stack.resources.items():
                        if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::Function":
                            try:
                                name, arn = self.resources.function_name(stack, logical_id)
                            except AssemblyError:
                                continue
                            index.setdefault(str(name), (stack, logical_id, str(arn)))
                self._by_name = index
            return self._by_name

    def get(self, name: str) -> Optional[Tuple[StackArtifact, str, str]]:
        """The stack, logical ID and ARN of the function called ``name`` (None: the app has none)."""
        return self._index().get(name)


# --------------------------------------------------------------------------- the permission check


def _pattern(text: str, *, ignore_case: bool) -> "re.Pattern[str]":
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _matches(patterns: List[Any], value: str, *, ignore_case: bool) -> bool:
    return any(isinstance(p, str) and _pattern(p, ignore_case=ignore_case).match(value) for p in patterns)


def policy_decision(statements: List[Dict[str, Any]], action: str, resource: str) -> Optional[str]:
    """What identity-policy statements say about ``action`` on ``resource``: ``"Deny"``, ``"Allow"`` or None.

    An explicit ``Deny`` wins over any ``Allow``; None means no statement
    applies (an implicit deny). ``Action``/``NotAction`` match case-
    insensitively, ``Resource``/``NotResource`` case-sensitively, both with
    IAM's ``*`` and ``?`` wildcards. Resources must already be resolved to
    strings (a value that is not a string matches nothing). ``Condition``
    is not evaluated: a statement applies as if it had none.

    Parameters
    ----------
    statements : list of dict
        Policy statements (``Effect``, ``Action`` ...).
    action : str
        The action, such as ``"lambda:InvokeFunction"``.
    resource : str
        The resource ARN.

    Returns
    -------
    str or None
        ``"Deny"``, ``"Allow"`` or None.

    Examples
    --------
    >>> arn = "arn:aws:lambda:us-east-1:123456789012:function:jobs"
    >>> policy_decision([{"Effect": "Allow", "Action": "lambda:Invoke*", "Resource": [arn, arn + ":*"]}],
    ...                 "lambda:InvokeFunction", arn)
    'Allow'
    >>> policy_decision([{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn + ":*"}],
    ...                 "lambda:InvokeFunction", arn) is None
    True
    """
    decision: Optional[str] = None
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        if "NotAction" in statement:
            if _matches(_as_list(statement["NotAction"]), action, ignore_case=True):
                continue
        elif not _matches(_as_list(statement.get("Action")), action, ignore_case=True):
            continue
        if "NotResource" in statement:
            if _matches(_as_list(statement["NotResource"]), resource, ignore_case=False):
                continue
        elif not _matches(_as_list(statement.get("Resource")), resource, ignore_case=False):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "Deny"
        if effect == "Allow":
            decision = "Allow"
    return decision


class InvokePermissions:
    """Whether a function of the app may invoke a function, as its role's identity policies say.

    Parameters
    ----------
    resources : LocalResources
        The run's resources: the assembly, the local names and ARNs.

    Attributes
    ----------
    unchecked : set of str
        The callers whose role the app imports (their calls were allowed unchecked).
    """

    def __init__(self, resources: Any) -> None:
        self.resources = resources
        self.unchecked: set = set()

    def check(self, stack: StackArtifact, function_id: str, function_name: str, resource: str) -> Optional[str]:
        """None when the function ``function_id`` of ``stack`` may invoke ``resource``; else IAM's message.

        Parameters
        ----------
        stack : StackArtifact
            The caller's stack.
        function_id : str
            The caller's logical ID.
        function_name : str
            The caller's local name (its role session's name).
        resource : str
            The ARN invoked (qualified when the call names a qualifier).

        Returns
        -------
        str or None
            None (allowed), or the ``AccessDeniedException`` message.
        """
        role = self._role(stack, function_id)
        if role is None:
            self.unchecked.add(function_name)
            return None
        role_stack, role_id = role
        role_name = str(self.resources.physical(role_stack, role_id)["Ref"])
        principal = f"arn:aws:sts::{self.resources.pseudo['AWS::AccountId']}:assumed-role/{role_name}/{function_name}"
        decision = policy_decision(list(self._statements(role_stack, role_id, role_name)), INVOKE_ACTION, resource)
        if decision == "Allow":
            return None
        denied = f"User: {principal} is not authorized to perform: {INVOKE_ACTION} on resource: {resource}"
        if decision == "Deny":
            return f"{denied} with an explicit deny in an identity-based policy"
        return f"{denied} because no identity-based policy allows the {INVOKE_ACTION} action"

    def _role(self, stack: StackArtifact, function_id: str) -> Optional[Tuple[StackArtifact, str]]:
        located = self.resources.locate(stack, stack.properties(function_id).get("Role"))
        if located is None or located[0].type_of(located[1]) != "AWS::IAM::Role":
            return None
        return located

    def _statements(self, role_stack: StackArtifact, role_id: str, role_name: str) -> Iterator[Dict[str, Any]]:
        role_props = role_stack.properties(role_id)
        for policy in _as_list(role_props.get("Policies")):
            if isinstance(policy, dict):
                yield from self._document(role_stack, policy.get("PolicyDocument"))
        for arn in _as_list(role_props.get("ManagedPolicyArns")):
            located = self.resources.locate(role_stack, arn)
            if located is not None and located[0].type_of(located[1]) == "AWS::IAM::ManagedPolicy":
                continue  # read below, with the managed policies that name the role
            value = self._resolve_or_none(self._peek(role_stack), arn)
            yield from AWS_MANAGED_INVOKE_POLICIES.get(str(value), [])
        for stack in self.resources.assembly.stacks:
            for logical_id, resource in stack.resources.items():
                kind = resource.get("Type") if isinstance(resource, dict) else None
                if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                    continue
                props = stack.properties(logical_id)
                attached = any(self._is_role(stack, value, role_stack, role_id, role_name) for value in _as_list(props.get("Roles")))
                if not attached and kind == "AWS::IAM::ManagedPolicy":
                    attached = any(
                        self.resources.locate(role_stack, arn) == (stack, logical_id)
                        for arn in _as_list(role_props.get("ManagedPolicyArns"))
                    )
                if attached:
                    yield from self._document(stack, props.get("PolicyDocument"))

    def _is_role(self, stack: StackArtifact, value: Any, role_stack: StackArtifact, role_id: str, role_name: str) -> bool:
        located = self.resources.locate(stack, value)
        if located is not None:
            return located[0].artifact_id == role_stack.artifact_id and located[1] == role_id
        try:
            return self._peek(stack).resolve(value) == role_name
        except AssemblyError:
            return False

    def _document(self, stack: StackArtifact, document: Any) -> Iterator[Dict[str, Any]]:
        if not isinstance(document, dict):
            return
        ctx = self._peek(stack)
        for statement in _as_list(document.get("Statement")):
            if not isinstance(statement, dict):
                continue
            resolved = dict(statement)
            for key in ("Action", "NotAction", "Resource", "NotResource"):
                if key in statement:
                    resolved[key] = [self._resolve_or_none(ctx, value) for value in _as_list(statement[key])]
            yield resolved

    @staticmethod
    def _resolve_or_none(ctx: Intrinsics, value: Any) -> Any:
        try:
            return ctx.resolve(value)
        except AssemblyError:
            return None  # a value with no local name (a table's ARN, say) names no function

    def _peek(self, stack: StackArtifact) -> Intrinsics:
        """Template values resolved without creating anything: only functions, roles and pseudo parameters have values."""
        base = self.resources.intrinsics(stack)

        def physical(other: StackArtifact, logical_id: str) -> Dict[str, Any]:
            if other.type_of(logical_id) in ("AWS::Lambda::Function", "AWS::IAM::Role"):
                return self.resources.physical(other, logical_id)
            raise UnresolvableError(f"{logical_id} is not a function")

        return Intrinsics(stack, base.pseudo, physical, base.exports)


# --------------------------------------------------------------------------- Lambda's queue of async invocations


class AsyncInvocationQueue:
    """Lambda's internal queue of asynchronous invocations: per function, worked by a few threads at most.

    ``run(item)`` is called for every queued item, on at most ``concurrency``
    threads per key (a function) at a time; :meth:`wait` returns when every
    queued item has run, those queued meanwhile included.

    Parameters
    ----------
    run : callable
        ``run(item)`` runs one invocation (it should not raise; what it raises is dropped).
    max_items : int, optional
        Items accepted between two :meth:`wait` calls that returned with the
        queue empty; later ones are dropped and counted in ``dropped``
        (a bound on a function that keeps invoking itself). Default: 10,000.

    Examples
    --------
    >>> done = []
    >>> queue = AsyncInvocationQueue(done.append)
    >>> queue.put("fn", 1, concurrency=2), queue.put("fn", 2, concurrency=2)
    (True, True)
    >>> queue.wait(lambda: False), sorted(done)
    (True, [1, 2])
    """

    def __init__(self, run: Callable[[Any], None], *, max_items: int = 10_000) -> None:
        self._run = run
        self.max_items = max_items
        self._condition = threading.Condition()
        self._queues: Dict[str, Deque[Any]] = {}
        self._active: Dict[str, int] = {}
        self._pending = 0
        self._accepted = 0
        self._stopped = False
        #: Items not run: over ``max_items``, or still queued when the queue stopped.
        self.dropped = 0

    def put(self, key: str, item: Any, *, concurrency: int) -> bool:
        """Queue ``item`` for ``key``; False when it was dropped (stopped, or over ``max_items``)."""
        with self._condition:
            if self._stopped or self._accepted >= self.max_items:
                self.dropped += 1
                return False
            self._accepted += 1
            self._pending += 1
            self._queues.setdefault(key, deque()).append(item)
            if self._active.get(key, 0) < max(1, concurrency):
                self._active[key] = self._active.get(key, 0) + 1
                threading.Thread(target=self._work, args=(key,), name=f"lambda-async-{key}", daemon=True).start()
        return True

    def _work(self, key: str) -> None:
        while True:
            with self._condition:
                queue = self._queues.get(key)
                if self._stopped or not queue:
                    self._active[key] -= 1
                    self._condition.notify_all()
                    return
                item = queue.popleft()
            try:
                self._run(item)
            except Exception:  # noqa: BLE001 - a failed item must not stop the queue
                pass
            finally:
                with self._condition:
                    self._pending -= 1
                    self._condition.notify_all()

    @property
    def pending(self) -> int:
        """Items queued or running."""
        with self._condition:
            return self._pending

    def wait(self, out_of_time: Callable[[], bool], *, poll_seconds: float = 0.05) -> bool:
        """Block until every queued item has run (True), or ``out_of_time()`` says stop (False: :meth:`stop`)."""
        with self._condition:
            while self._pending > 0:
                if out_of_time():
                    self._stop()
                    return False
                self._condition.wait(poll_seconds)
            self._accepted = 0
            return True

    def stop(self) -> None:
        """Drop what is still queued and accept nothing more (items running finish on their own)."""
        with self._condition:
            self._stop()

    def _stop(self) -> None:
        self._stopped = True
        for queue in self._queues.values():
            self.dropped += len(queue)
            self._pending -= len(queue)
            queue.clear()
        self._condition.notify_all()
