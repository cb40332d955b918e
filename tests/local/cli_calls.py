"""Calling the ``scheduled-tasks`` command in-process, and a stand-in CloudFormation, for the operate verbs' tests."""

from __future__ import annotations

import contextlib
import io
from typing import Any, Dict, List, Tuple

from scheduled_tasks_constructs.local import cli


def run_cli(argv: List[str]) -> Tuple[int, str, str]:
    """``cli.main(argv)``: its exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def one_line_error(code: int, err: str) -> str:
    """The one error line of a command that failed with exit status 2 (and no traceback)."""
    assert code == 2, err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("scheduled-tasks: error:")]
    return line


class StubCloudFormation:
    """CloudFormation's ``DescribeStackResource``, answering from ``{logical ID: physical ID}``; ``calls`` keeps each."""

    def __init__(self, physical: Dict[str, str]) -> None:
        self.physical = physical
        self.calls: List[Tuple[str, str]] = []

    def describe_stack_resource(self, *, StackName: str, LogicalResourceId: str) -> Dict[str, Any]:  # noqa: N803
        self.calls.append((StackName, LogicalResourceId))
        return {"StackResourceDetail": {"PhysicalResourceId": self.physical[LogicalResourceId]}}
