"""Run a synthesized Lambda function locally the way Lambda runs it.

A :class:`FunctionImage` is what the template and the assembly say about one
``AWS::Lambda::Function``: its asset folder, its layers' folders, its handler,
memory, timeout and (resolved) environment. A :class:`Container` is one warm
execution environment of it: a process of its own
(``python -I -S`` running ``_bootstrap.py``), whose import path is exactly the
function's asset folder, its layers' folders and the packages the Lambda Python
runtime provides (boto3, botocore and their dependencies) on top of the
standard library. Nothing of the development environment is importable there;
the environment variables are exactly the function's plus those Lambda sets.

A container is reused between invocations (module state and caches survive,
as in a warm Lambda environment). A container whose init failed, that ran past
its timeout (it is killed) or whose process exited is replaced by a new one on
the next invocation, as Lambda replaces the environment. :class:`FunctionPool`
holds the warm containers of one function, up to a concurrency limit.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Dict, List, Optional

__all__ = [
    "Container",
    "FunctionImage",
    "FunctionPool",
    "Invocation",
    "LAMBDA_RUNTIME_MODULES",
    "runtime_base",
]

#: What the Lambda Python runtime puts on every function's path besides the
#: standard library: the AWS SDK and its dependencies.
LAMBDA_RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

_BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
_INIT_LIMIT_SECONDS = 10.0  # Lambda's limit on the init phase
_MAX_OUTPUT_CHARS = 20_000


def runtime_base(folder: Path) -> Path:
    """A folder holding only the modules of :data:`LAMBDA_RUNTIME_MODULES` (links to the installed ones).

    Parameters
    ----------
    folder : pathlib.Path
        Where to make it (created when missing).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in LAMBDA_RUNTIME_MODULES:
        spec = find_spec(name)
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            try:
                link.symlink_to(source, target_is_directory=source.is_dir())
            except FileExistsError:
                pass
    return folder


@dataclass
class FunctionImage:
    """One function of the template, as a container runs it.

    ``layer_dirs`` are the layers' content folders in the function's order
    (``Layers`` of the template).
    """

    name: str
    arn: str
    stack: str
    logical_id: str
    handler: str
    runtime: str
    code_dir: Path
    layer_dirs: List[Path]
    memory_mb: int
    timeout_seconds: float
    environment: Dict[str, str] = field(default_factory=dict)

    @property
    def python_version(self) -> str:
        """``"3.14"`` for ``python3.14``."""
        return self.runtime.replace("python", "", 1)

    def import_path(self, base: Path) -> List[str]:
        """``/var/task``, then ``/opt/python/lib/python3.X/site-packages`` and ``/opt/python``
        of each layer (the last layer first: its files overwrite the earlier
        layers' in ``/opt``), then the runtime's packages."""
        path = [str(self.code_dir)]
        for layer in reversed(self.layer_dirs):
            site = layer / "python" / "lib" / f"python{self.python_version}" / "site-packages"
            if site.is_dir():
                path.append(str(site))
            path.append(str(layer / "python"))
        path.append(str(base))
        return path


@dataclass
class Invocation:
    """The outcome of one invocation.

    ``ok`` is False when the handler raised, its init failed, it returned
    something that is not JSON, it ran past its timeout or its process died;
    ``error_type`` and ``error_message`` are then what Lambda reports
    (``Runtime.ImportModuleError``, ``Sandbox.Timedout``, ``KeyError`` ...).
    ``output`` is what the invocation wrote to the function's log;
    ``stack_trace`` the handler's traceback lines when it raised.
    """

    request_id: str
    ok: bool
    result: Any = None
    error_type: Optional[str] = None
    error_message: Optional[str] = None
    seconds: float = 0.0
    output: str = ""
    cold_start: bool = False
    stack_trace: List[str] = field(default_factory=list)

    @property
    def error(self) -> Optional[str]:
        """``"<errorType>: <errorMessage>"`` (None when it succeeded)."""
        if self.ok:
            return None
        return f"{self.error_type}: {self.error_message}" if self.error_message else str(self.error_type)


class _Dead(Exception):
    """The container's process ended or stopped answering."""


class Container:
    """One execution environment (a process) of a function.

    Parameters
    ----------
    image : FunctionImage
        The function.
    lambda_environment : dict
        What Lambda sets besides the function's own variables (credentials,
        Region, endpoint ...).
    base : pathlib.Path
        The runtime's packages (:func:`runtime_base`).
    log_file : pathlib.Path
        Where the process's stdout and stderr go (the function's log).
    """

    def __init__(self, image: FunctionImage, *, lambda_environment: Dict[str, str], base: Path, log_file: Path) -> None:
        self.image = image
        self.log_file = log_file
        self._lambda_environment = lambda_environment
        self._base = base
        self._process: Optional[subprocess.Popen] = None
        self._responses: Optional[int] = None
        self._buffer = b""
        self._log = None
        self.invocations = 0

    # -- process -----------------------------------------------------------------------

    def environment(self) -> Dict[str, str]:
        """The process environment: the function's variables, then what Lambda sets."""
        image = self.image
        env = dict(image.environment)
        env.update(self._lambda_environment)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": image.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(image.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{image.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": self._stream_name(),
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{image.runtime}",
                "LAMBDA_TASK_ROOT": str(image.code_dir),
                "LAMBDA_RUNTIME_DIR": str(self._base),
                "_HANDLER": image.handler,
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
                "PATH": "/usr/local/bin:/usr/bin:/bin",
            }
        )
        return env

    def _stream_name(self) -> str:
        if not hasattr(self, "_stream"):
            self._stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        return self._stream

    @property
    def alive(self) -> bool:
        """Whether the process is running and ready for an invocation."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> float:
        """Start the process and wait for its init (the cold start); returns the init seconds."""
        image = self.image
        config = {
            "path": image.import_path(self._base),
            "handler": image.handler,
            "functionName": image.name,
            "memoryMb": image.memory_mb,
            "logGroupName": f"/aws/lambda/{image.name}",
            "logStreamName": self._stream_name(),
        }
        read_end, write_end = os.pipe()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_file, "ab")
        started = time.monotonic()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", "-X", "utf8", str(_BOOTSTRAP), str(write_end), json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=str(image.code_dir),
                pass_fds=(write_end,),
                start_new_session=True,
            )
        finally:
            os.close(write_end)
        self._responses = read_end
        self._buffer = b""
        ready = self._read(time.monotonic() + _INIT_LIMIT_SECONDS)
        if not ready.get("ready"):
            raise _Dead("the runtime did not start")
        return time.monotonic() - started

    def close(self) -> None:
        """Stop the process (if running) and release its pipes."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    process.kill()
            process.wait()
            if process.stdin:
                process.stdin.close()
        if self._responses is not None:
            os.close(self._responses)
            self._responses = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _read(self, deadline: float) -> Dict[str, Any]:
        assert self._responses is not None
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([self._responses], [], [], remaining)
            if not readable:
                raise TimeoutError
            chunk = os.read(self._responses, 1 << 20)
            if not chunk:
                raise _Dead("the process exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    # -- invocations -------------------------------------------------------------------

    def invoke(self, event: Any, *, request_id: Optional[str] = None) -> Invocation:
        """Invoke the function once (starting the process first when needed).

        Parameters
        ----------
        event : Any
            The event (JSON data).
        request_id : str, optional
            The request ID. Default: a new UUID.

        Returns
        -------
        Invocation
            What happened; a failure never raises.
        """
        request_id = request_id or str(uuid.uuid4())
        image = self.image
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        started = time.monotonic()
        cold = False
        try:
            if not self.alive:
                self.close()
                cold = True
                self.start()
            assert self._process is not None and self._process.stdin is not None
            deadline = time.monotonic() + image.timeout_seconds
            request = {
                "requestId": request_id,
                "event": event,
                "deadlineMs": int((time.time() + image.timeout_seconds) * 1000),
                "invokedFunctionArn": image.arn,
            }
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            self._process.stdin.flush()
            answer = self._read(deadline)
        except TimeoutError:
            self.close()
            answer = {
                "ok": False,
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {image.timeout_seconds:.2f} seconds",
            }
        except (_Dead, BrokenPipeError, OSError, ValueError) as exc:
            code = self._process.poll() if self._process is not None else None
            self.close()
            answer = {
                "ok": False,
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited"
                + (f" with error: exit status {code}" if code else f" ({exc})"),
            }
        seconds = time.monotonic() - started
        self.invocations += 1
        if answer.get("initError"):
            self.close()  # the environment is reset; the next invocation starts a new one
        return Invocation(
            request_id=request_id,
            ok=bool(answer.get("ok")),
            result=answer.get("result"),
            error_type=answer.get("errorType"),
            error_message=answer.get("errorMessage"),
            seconds=seconds,
            output=self._output_since(offset),
            cold_start=cold,
            stack_trace=[str(line) for line in answer.get("stackTrace") or []],
        )

    def _output_since(self, offset: int) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            with open(self.log_file, "rb") as log:
                log.seek(offset)
                text = log.read(_MAX_OUTPUT_CHARS + 1).decode("utf-8", "replace")
        except OSError:
            return ""
        return text if len(text) <= _MAX_OUTPUT_CHARS else text[:_MAX_OUTPUT_CHARS] + "\n[output cut]\n"


class FunctionPool:
    """The warm containers of one function, at most ``max_containers`` at a time.

    Parameters
    ----------
    image : FunctionImage
        The function.
    lambda_environment : dict
        See :class:`Container`.
    base : pathlib.Path
        See :class:`Container`.
    log_dir : pathlib.Path
        Each container logs to ``<log_dir>/<function>/<n>.log``.
    max_containers : int, optional
        Most concurrent invocations. Default: 1.
    """

    def __init__(
        self,
        image: FunctionImage,
        *,
        lambda_environment: Dict[str, str],
        base: Path,
        log_dir: Path,
        max_containers: int = 1,
    ) -> None:
        self.image = image
        self._lambda_environment = lambda_environment
        self._base = base
        self._log_dir = log_dir / image.name
        self._idle: List[Container] = []
        self._all: List[Container] = []
        self._lock = threading.Lock()
        #: Most concurrent invocations (and warm containers).
        self.max_containers = max(1, max_containers)
        self._slots = threading.BoundedSemaphore(self.max_containers)
        self.cold_starts = 0

    def invoke(self, event: Any, *, request_id: Optional[str] = None) -> Invocation:
        """Invoke on an idle warm container, or a new one when all are busy."""
        with self._slots:
            with self._lock:
                if self._idle:
                    container = self._idle.pop()
                else:
                    container = Container(
                        self.image,
                        lambda_environment=self._lambda_environment,
                        base=self._base,
                        log_file=self._log_dir / f"{len(self._all) + 1}.log",
                    )
                    self._all.append(container)
            try:
                invocation = container.invoke(event, request_id=request_id)
            finally:
                with self._lock:
                    self._idle.append(container)
            if invocation.cold_start:
                with self._lock:
                    self.cold_starts += 1
            return invocation

    def close(self) -> None:
        """Stop every container."""
        with self._lock:
            for container in self._all:
                container.close()
            self._idle.clear()
