"""What the local runner needs to know about a construct (plain data, no CDK)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the local runner can run it.

    ``code_dir`` is the local folder of its asset code (None for code that is
    not a local folder, such as an existing function); ``handler`` is the
    ``module.function`` Lambda handler string; ``environment`` holds only
    values that are known at synth time (tokens are left out).
    """

    code_dir: Optional[str]
    handler: Optional[str]
    environment: Dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 3.0


@dataclass(frozen=True)
class RunSpec:
    """One scheduled construct: its schedule, its functions and their wiring."""

    kind: str  # "table" or "fanout"
    path: str
    expression: str
    time_zone: str
    enabled: bool
    start: Any
    end: Any
    target_input: Dict[str, Any]
    function: FunctionSpec
    worker: Optional[FunctionSpec] = None
    batch_size: int = 10
    max_receive_count: int = 3
    visibility_timeout_seconds: float = 30.0
    webhook: bool = False


def known_environment(environment: Dict[str, Any]) -> Dict[str, str]:
    """The environment variables whose values are known at synth time."""
    from aws_cdk import Token

    return {k: v for k, v in environment.items() if isinstance(v, str) and not Token.is_unresolved(v)}


def function_spec(code: Any, handler: Optional[str], environment: Dict[str, Any], timeout: Any) -> FunctionSpec:
    """Describe a function the construct created from ``code`` and ``handler``."""
    path = getattr(code, "path", None)
    return FunctionSpec(
        code_dir=str(path) if path else None,
        handler=handler,
        environment=known_environment(environment),
        timeout_seconds=float(timeout.to_seconds()) if timeout is not None else 3.0,
    )
