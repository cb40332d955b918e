"""Run Lambda handlers in this process the way Lambda runs them.

A :class:`Container` is one warm execution environment of one function: its
code folder and layer folders go on ``sys.path`` (as ``/var/task`` and
``/opt/python`` do in Lambda), its handler is imported once (the cold start)
and every invocation gets a :class:`LambdaContext`, the function's environment
variables and a fresh request id. The modules a container imports are kept
apart from the rest of the process: two functions whose handler modules share
a name (``handler.py``) do not see each other's module.

Handlers of the library's own runtime package (``scheduled_tasks_constructs
.runtime``) run from the installed package, which is what the runtime layer
holds.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterator, List, Optional

from .cdk_app import FunctionPlan, one_line, split_handler

__all__ = [
    "HandlerError",
    "Container",
    "Invocation",
    "LambdaContext",
    "patched_environ",
]

_MAX_OUTPUT_CHARS = 20_000
#: Libraries whose informational logging is noise in a handler's output.
_QUIET_LOGGERS = frozenset({"boto3", "botocore", "urllib3", "s3transfer"})


class HandlerError(Exception):
    """A handler cannot be found or imported; the message is one line."""


class LambdaContext:
    """The context object Lambda's Python runtime passes to a handler.

    Parameters
    ----------
    function_name : str
        Name of the function.
    memory_mb : int
        Its memory setting.
    timeout_seconds : float
        Its timeout; :meth:`get_remaining_time_in_millis` counts down from it.
    request_id : str
        The invocation's request id.
    region : str
        AWS Region of the ARNs.
    account : str
        Account id of the ARNs.
    clock : callable, optional
        Monotonic clock in seconds. Default: :func:`time.monotonic`.

    Examples
    --------
    >>> ctx = LambdaContext(function_name="f", memory_mb=128, timeout_seconds=3,
    ...                     request_id="r-1", region="us-east-1", account="123456789012")
    >>> ctx.invoked_function_arn
    'arn:aws:lambda:us-east-1:123456789012:function:f'
    >>> 0 < ctx.get_remaining_time_in_millis() <= 3000
    True
    """

    def __init__(
        self,
        *,
        function_name: str,
        memory_mb: int,
        timeout_seconds: float,
        request_id: str,
        region: str,
        account: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.memory_limit_in_mb = str(memory_mb)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._clock = clock
        self._deadline = clock() + float(timeout_seconds)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - self._clock()) * 1000))


@dataclass
class Invocation:
    """The outcome of one invocation.

    ``ok`` is False when the handler raised, returned something that is not
    JSON, or ran past its timeout; ``error`` then describes it on one line.
    ``output`` holds what the handler printed and logged.
    """

    request_id: str
    ok: bool
    result: Any
    error: Optional[str]
    seconds: float
    output: str


@contextlib.contextmanager
def patched_environ(values: Dict[str, Optional[str]]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore all of them.

    Parameters
    ----------
    values : dict of str to str or None
        Variables to set; a None value unsets the variable.
    """
    saved = dict(os.environ)
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _Capture(logging.Handler):
    def __init__(self, sink: io.StringIO) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink
        self.setFormatter(logging.Formatter("[%(levelname)s] %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING and record.name.split(".", 1)[0] in _QUIET_LOGGERS:
            return
        try:
            self.sink.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never fail the handler
            pass


def _top_level_names(folder: str) -> set:
    names = set()
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return names
    for entry in entries:
        if entry.name.startswith(("_", ".")) or entry.name.endswith((".dist-info", ".egg-info")):
            continue
        if entry.is_dir():
            names.add(entry.name)
        elif entry.suffix == ".py":
            names.add(entry.stem)
    return names


class Container:
    """One warm execution environment of a function.

    Parameters
    ----------
    plan : FunctionPlan
        The function.
    environment : callable
        Returns the environment variables of an invocation (called per call,
        so that they can depend on the run); a None value unsets a variable.
    region : str
        AWS Region for the context's ARNs.
    account : str
        Account id for the context's ARNs.
    owner : str
        The construct path, for messages.
    log_level : int, optional
        Lowest level of the log records kept in an invocation's output
        (library loggers such as botocore's below WARNING are dropped).
        Default: ``logging.INFO``.

    Raises
    ------
    HandlerError
        From :meth:`cold_start` when the handler cannot be imported.
    """

    def __init__(
        self,
        plan: FunctionPlan,
        *,
        environment: Callable[[], Dict[str, Optional[str]]],
        region: str,
        account: str,
        owner: str,
        log_level: int = logging.INFO,
    ) -> None:
        self.plan = plan
        self.owner = owner
        self._log_level = log_level
        self._environment = environment
        self._region = region
        self._account = account
        self._paths: List[str] = []
        if not plan.bundled and plan.code_dir:
            self._paths.append(str(Path(plan.code_dir).resolve()))
        self._paths += [str(Path(d).resolve()) for d in plan.layer_dirs]
        self._prefixes = tuple(p + os.sep for p in self._paths)
        # Names the function's own folders provide. Standard-library modules are
        # left alone: Lambda's runtime has imported them before any user code.
        names = set().union(*(_top_level_names(p) for p in self._paths)) if self._paths else set()
        self._names = names - set(sys.stdlib_module_names) - {"scheduled_tasks_constructs"}
        self._modules: Dict[str, ModuleType] = {}
        self._handler: Optional[Callable[[Any, Any], Any]] = None

    # -- module isolation ----------------------------------------------------------

    def _owns(self, module: Any) -> bool:
        if not self._prefixes:
            return False
        origin = getattr(module, "__file__", None)
        if origin:
            return str(origin).startswith(self._prefixes)
        locations = getattr(module, "__path__", None)
        try:
            return any(str(p).startswith(self._prefixes) for p in (locations or []))
        except TypeError:
            return False

    @contextlib.contextmanager
    def _active(self) -> Iterator[None]:
        if not self._paths:
            yield
            return
        saved_path = list(sys.path)
        stashed: Dict[str, ModuleType] = {}
        for name in list(sys.modules):
            top = name.split(".", 1)[0]
            if top in self._names and name not in self._modules and not self._owns(sys.modules[name]):
                stashed[name] = sys.modules.pop(name)
        for name in self._modules:
            if name in sys.modules and name not in stashed:
                stashed[name] = sys.modules[name]
        sys.modules.update(self._modules)
        sys.path[:0] = self._paths
        importlib.invalidate_caches()
        try:
            yield
        finally:
            for name, module in list(sys.modules.items()):
                if self._owns(module) or name in self._modules:
                    self._modules[name] = module
                    del sys.modules[name]
            sys.modules.update(stashed)
            sys.path[:] = saved_path

    # -- lifecycle -------------------------------------------------------------------

    def describe(self) -> str:
        """``"<construct path> <role> handler '<handler>'"``, for messages."""
        return f"{self.owner} {self.plan.role} handler {self.plan.handler!r}"

    def cold_start(self) -> None:
        """Import the handler (with the function's environment set).

        Raises
        ------
        HandlerError
            When the handler string is malformed, its module cannot be
            imported, or the name is not a callable in it.
        """
        plan = self.plan
        if not plan.handler:
            raise HandlerError(
                f"{self.owner}: the {plan.role} is an existing function whose code is not in this app, "
                "so it cannot run locally (leave the construct out with --construct)"
            )
        if not plan.bundled and not plan.code_dir:
            raise HandlerError(
                f"{self.describe()}: its code is neither a local asset folder nor inline code, "
                "so it cannot run locally (leave the construct out with --construct)"
            )
        try:
            module_name, function_name = split_handler(plan.handler)
        except ValueError as exc:
            raise HandlerError(f"{self.owner}: {exc}") from None
        where = "the installed package" if plan.bundled else plan.code_dir
        output = io.StringIO()
        with patched_environ(self._environment()), self._active(), contextlib.redirect_stdout(output):
            try:
                module = importlib.import_module(module_name)
            except BaseException as exc:  # noqa: BLE001 - any import-time failure
                if isinstance(exc, KeyboardInterrupt):
                    raise
                hint = ""
                if isinstance(exc, ImportError) and plan.layer_dirs:
                    hint = " (layer packages are installed for the Lambda platform; compiled ones may not load here)"
                raise HandlerError(
                    f"{self.describe()} cannot be imported from {where}: {one_line(exc)}{hint}"
                ) from None
        function = getattr(module, function_name, None)
        if not callable(function):
            raise HandlerError(f"{self.describe()}: module {module_name!r} has no function {function_name!r}")
        self._handler = function

    def invoke(self, event: Any, *, request_id: Optional[str] = None) -> Invocation:
        """Invoke the handler once with ``event`` (cold-starting first when needed).

        Parameters
        ----------
        event : Any
            The event; it is passed through JSON first, as Lambda does.
        request_id : str, optional
            The request id. Default: a new UUID.

        Returns
        -------
        Invocation
            What happened. A handler that raises gives ``ok=False``; the
            exception is not propagated (``KeyboardInterrupt`` and
            ``SystemExit`` excepted).
        """
        if self._handler is None:
            self.cold_start()
        assert self._handler is not None
        request_id = request_id or str(uuid.uuid4())
        plan = self.plan
        context = LambdaContext(
            function_name=plan.name,
            memory_mb=plan.memory_mb,
            timeout_seconds=plan.timeout_seconds,
            request_id=request_id,
            region=self._region,
            account=self._account,
        )
        payload = json.loads(json.dumps(event))
        output = io.StringIO()
        capture = _Capture(output)
        root = logging.getLogger()
        saved_level = root.level
        root.addHandler(capture)
        root.setLevel(self._log_level)
        started = time.monotonic()
        result: Any = None
        error: Optional[str] = None
        try:
            with patched_environ(self._environment()), self._active(), contextlib.redirect_stdout(output):
                try:
                    result = self._handler(payload, context)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - a failed invocation
                    error = one_line(exc)
        finally:
            root.removeHandler(capture)
            root.setLevel(saved_level)
        seconds = time.monotonic() - started
        if error is None:
            try:
                result = json.loads(json.dumps(result))
            except (TypeError, ValueError) as exc:
                error = f"Runtime.MarshalError: the response is not JSON ({one_line(exc)})"
                result = None
        if error is None and seconds > plan.timeout_seconds:
            error = f"Task timed out after {plan.timeout_seconds:.2f} seconds"
            result = None
        text = output.getvalue()
        if len(text) > _MAX_OUTPUT_CHARS:
            text = text[:_MAX_OUTPUT_CHARS] + "\n[output cut]\n"
        return Invocation(
            request_id=request_id,
            ok=error is None,
            result=result if error is None else None,
            error=error,
            seconds=seconds,
            output=text,
        )
