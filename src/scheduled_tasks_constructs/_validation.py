"""The one validation path of the library.

A construct collects every problem with its props in a :class:`Problems` and
raises once, so a user sees all of them in one synth. Values that are
unresolved tokens are skipped: they are only known at deploy time.
"""

from __future__ import annotations

import math
import re
from typing import Any, List, Optional

from aws_cdk import Duration, Token


class ScheduledTasksValidationError(ValueError):
    """Raised at synth time when a construct's props are invalid or conflict.

    The message names every bad prop, what is allowed and what was given.

    Attributes
    ----------
    problems : list of str
        One line per problem.
    """

    def __init__(self, construct: str, problems: List[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{construct}: invalid props ({len(self.problems)}):\n{lines}")


def is_token(value: Any) -> bool:
    """Return True when ``value`` is (or holds) a token resolved only at deploy time."""
    if value is None:
        return False
    if isinstance(value, Duration):
        return bool(value.is_unresolved())
    if isinstance(value, float) and not math.isfinite(value):
        return False  # NaN and infinity never reach jsii: they stop its kernel
    if isinstance(value, (str, int, float)):
        return Token.is_unresolved(value)
    return False


class Described(str):
    """A description of a given value, shown as is (not quoted) in a message."""


def _fmt(value: Any) -> str:
    if isinstance(value, Described):
        return str(value)
    if isinstance(value, Duration):
        return value.to_human_string()
    if isinstance(value, str):
        return repr(value)
    return str(value)


class Problems:
    """Collects problems with props; :meth:`raise_if_any` raises them all at once."""

    def __init__(self, construct: str) -> None:
        self.construct = construct
        self.items: List[str] = []

    def add(self, prop: str, allowed: str, given: Any) -> None:
        """Record ``"<prop> must be <allowed>, got <given>"``."""
        self.items.append(f"{prop} must be {allowed}, got {_fmt(given)}")

    def add_message(self, message: str) -> None:
        """Record a problem phrased by the caller (for conflicts between props)."""
        self.items.append(message)

    def integer_range(self, prop: str, value: Optional[float], low: int, high: int) -> None:
        """Check an optional whole number lies in ``[low, high]``."""
        if value is None or is_token(value):
            return
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not float(value).is_integer()
            or not low <= value <= high
        ):
            self.add(prop, f"a whole number between {low} and {high}", value)

    def boolean(self, prop: str, value: Any) -> None:
        """Check an optional flag is ``True`` or ``False`` (a string such as ``"no"`` would read as true)."""
        if value is None or isinstance(value, bool) or is_token(value):
            return
        self.add(prop, "True or False", value if isinstance(value, (str, int, float)) else Described(type(value).__name__))

    def interface(self, prop: str, value: Any, attribute: str, allowed: str) -> bool:
        """Check an optional construct is of the kind ``allowed`` names, by the ``attribute`` it must have.

        jsii interfaces are not runtime-checkable, so the test is for what the
        construct uses (``queue_arn`` of an ``IQueue``, ``topic_arn`` of an
        ``ITopic`` ...). Returns True when ``value`` is None or fits.
        """
        if value is None:
            return True
        if isinstance(value, (str, bytes, int, float, bool)) or not hasattr(value, attribute):
            self.add(prop, allowed, Described(type(value).__name__))
            return False
        return True

    def duration_range(
        self,
        prop: str,
        value: Optional[Duration],
        low: Duration,
        high: Duration,
        *,
        whole_seconds: bool = True,
    ) -> None:
        """Check an optional duration lies in ``[low, high]`` (and is whole seconds)."""
        if value is None or is_token(value):
            return
        if not isinstance(value, Duration):
            self.add(prop, "an aws_cdk.Duration", Described(type(value).__name__))
            return
        millis = value.to_milliseconds()
        if whole_seconds and millis % 1000:
            human = value.to_human_string()
            # The human form of a long duration drops its milliseconds.
            self.add(
                prop,
                "a whole number of seconds",
                value if "milli" in human else Described(f"{human} and {int(millis % 1000)} millis"),
            )
        elif not low.to_milliseconds() <= millis <= high.to_milliseconds():
            self.add(
                prop,
                f"between {low.to_human_string()} and {high.to_human_string()}",
                value,
            )

    def name(self, prop: str, value: Optional[str], pattern: str, allowed: str) -> None:
        """Check an optional name matches ``pattern`` (the service's own rule), in full."""
        if value is None or is_token(value):
            return
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            self.add(prop, allowed, value if isinstance(value, str) else Described(type(value).__name__))

    def exclusive(self, **props: Any) -> None:
        """Record a conflict when more than one of the given props is set."""
        given = [name for name, value in props.items() if value is not None]
        if len(given) > 1:
            names = ", ".join(given)
            self.add_message(f"{names}: give at most one of them, got {len(given)}")

    def raise_if_any(self) -> None:
        """Raise :class:`ScheduledTasksValidationError` when any problem was recorded."""
        if self.items:
            raise ScheduledTasksValidationError(self.construct, self.items)
