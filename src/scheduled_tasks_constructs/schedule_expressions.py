"""Schedule arithmetic for EventBridge Scheduler expressions, in pure Python.

This module parses and validates the three expression types of Amazon
EventBridge Scheduler and computes when a schedule fires, without calling AWS:

* ``rate(value unit)``: every ``value`` minutes, hours or days;
* ``cron(minutes hours day-of-month month day-of-week year)``: wall-clock
  times in the schedule's time zone;
* ``at(yyyy-mm-ddThh:mm:ss)``: once, at a wall-clock time in the schedule's
  time zone.

The constructs validate their schedules with it and size their missed-run
alarm from its fire times; the local runner and the ``scheduled-tasks``
command fire and list schedules with it. It depends on the standard library
only (``zoneinfo`` for time zones), so importing it starts no AWS CDK. The
cron evaluator is our own: the cron libraries we checked do not follow
EventBridge's rules. ``pyawscron`` 1.0.7 raises on ``0 0 29 2 ? *`` and on
``L`` alone in day-of-week, works in UTC only and validates nothing;
``croniter`` 7.0 reads ``0 12 ? * 3#2 *`` with Unix day numbers (Sunday = 0)
and so gives the second Wednesday where AWS means the second Tuesday;
``cronsim`` 2.8 takes five-field Unix cron only (no ``?``, no year).

Rules followed
--------------
Sources: the EventBridge Scheduler User Guide, "Schedule types on EventBridge
Scheduler" (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html),
and the EventBridge "Cron expressions reference"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html).

Rate expressions
    ``value`` is a positive whole number; ``unit`` is ``minutes``, ``hours`` or
    ``days``. The singular ``minute``, ``hour`` and ``day`` are accepted only
    with the value 1 (``rate(1 hour)``, as the AWS CDK writes it);
    ``rate(1 days)`` is accepted too, as the User Guide itself uses it.
    The guide says a rate schedule uses "the ``StartDate`` property to set the
    first occurrence of the schedule", and that without a ``StartDate`` it
    "starts invoking the target immediately". So the fire times here are
    ``anchor, anchor + interval, anchor + 2 * interval, ...`` where the anchor
    is the start date when given, else the creation instant (``created_at``),
    else the ``after`` instant of the query (which is then taken as the
    creation instant, so the first fire time returned is ``after + interval``).
    The interval is an absolute duration: the guide says that for
    ``rate(1 days)`` a day "represents a 24-hour duration on the clock", also
    across a daylight-saving change.

Cron expressions
    Exactly six fields separated by white space (the User Guide's prose calls
    the year optional, but its table, the EventBridge reference and the AWS
    CDK all use six fields):

    ============  ===============  ===============
    Field         Values           Wildcards
    ============  ===============  ===============
    minutes       0-59             , - * /
    hours         0-23             , - * /
    day-of-month  1-31             , - * ? / L W
    month         1-12 or JAN-DEC  , - * /
    day-of-week   1-7 or SUN-SAT   , - * ? L #
    year          1970-2199        , - * /
    ============  ===============  ===============

    * Exactly one of day-of-month and day-of-week is ``?``; the other one
      alone selects the days (no Unix-style OR).
    * Day-of-week 1 is Sunday and 7 is Saturday; names are case-insensitive.
    * ``a-b`` is a range with ``a <= b`` (ranges that wrap around, such as
      ``FRI-MON``, are not documented by AWS and are rejected here: write
      ``FRI-SAT,SUN-MON``). ``*/n``, ``a/n`` and ``a-b/n`` are steps; the step is
      at most 59 for minutes, 23 for hours, 31 for day-of-month, 12 for month
      and 229 for year. ``/`` is not allowed in day-of-week (it is not in the
      documented wildcards of that field).
    * Day-of-month ``L`` is the last day of the month, ``nW`` the weekday
      (Monday to Friday) nearest to day ``n`` within the same month (``1W`` on
      a Saturday the 1st is Monday the 3rd; ``31W`` on a Sunday the 31st is
      Friday the 29th; no match in a month that has no day ``n``), ``LW`` the
      last weekday of the month. These forms stand alone in the field.
    * Day-of-week ``L`` alone is 7 (Saturday); ``nL`` is the last day ``n`` of
      the month (``5L``: last Thursday); ``n#k`` the ``k``-th day ``n`` of the
      month (``3#2``: second Tuesday; no match in a month without one). These
      forms stand alone: AWS says ``"3#1,6#3"`` is not valid.
    * Fire times have whole minutes (seconds are zero). AWS invokes a target
      "with 60 second precision", within the minute of each fire time.

One-time expressions
    ``at(yyyy-mm-ddThh:mm:ss)``: a wall-clock time in the schedule's time zone.
    The guide says "EventBridge Scheduler ignores the ``StartDate`` and
    ``EndDate`` you specify" for one-time schedules, and so do the functions
    here.

Start and end dates
    The API reference of ``CreateSchedule`` describes ``StartDate`` as the date
    "after which the schedule can begin invoking its target" and says that
    invocations "might occur on, or after" it, and ``EndDate`` as the date
    "before which the schedule can invoke its target". Here a recurring fire
    time ``t`` is kept when ``start <= t < end``.

Time zones and daylight saving time
    Cron and at expressions are evaluated in the schedule's IANA time zone.
    The section "Daylight savings time on EventBridge Scheduler" of the guide
    says: "When time shifts forward in the Spring, if a cron expression falls
    on a non-existent date and time, your schedule invocation is skipped. When
    time shifts backwards in the Fall, your schedule runs only once and does
    not repeat its invocation." Its example (``cron(30 2 * * ? *)``) runs
    "only once at 2:30 a.m. before the shift occurs". So, for cron:

    * a wall-clock time inside a spring-forward gap does not fire at all (it
      is not moved to the next valid time);
    * a wall-clock time repeated by a fall-back fires once, at its first
      occurrence (``fold=0``, still on summer time); every wall-clock minute of
      the repeated hour is skipped the second time round, so
      ``cron(0/15 * * * ? *)`` has a 75-minute gap in New York on the night of
      2026-11-01.

    The guide says nothing about an ``at`` time inside a gap. Here such a time
    is moved forward by the length of the gap (``at(2026-03-08T02:30:00)`` in
    America/New_York fires at 03:30 EDT), so that a one-time schedule is never
    silently lost; a repeated ``at`` time fires at its first occurrence.
    Rate schedules are fixed durations and do not shift with the clock.

Examples
--------
>>> from datetime import datetime, timezone
>>> after = datetime(2026, 3, 7, 12, 0, tzinfo=timezone.utc)
>>> [t.isoformat() for t in next_fire_times(
...     "cron(30 2 * * ? *)", after=after, count=2, time_zone="America/New_York")]
['2026-03-09T02:30:00-04:00', '2026-03-10T02:30:00-04:00']
>>> validate_expression("cron(0 12 1 * MON *)")
["cron day-of-month and day-of-week: exactly one must be '?', got '1' and 'MON'"]
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterator, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "DayOfMonthRule",
    "DayOfWeekRule",
    "MAX_YEAR",
    "MIN_YEAR",
    "ParsedSchedule",
    "ScheduleExpressionError",
    "next_fire_times",
    "parse_expression",
    "validate_expression",
    "validate_time_zone",
]

MIN_YEAR = 1970
"""First year a cron expression can name."""

MAX_YEAR = 2199
"""Last year a cron expression can name; searches for fire times end with it."""

_UTC = timezone.utc

_EXPRESSION_SHAPES = (
    "rate(value unit), cron(minutes hours day-of-month month day-of-week year) "
    "or at(yyyy-mm-ddThh:mm:ss)"
)
_RATE_UNITS = {
    "minute": "minutes",
    "minutes": "minutes",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
}
_UNIT_DELTAS = {
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
}
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_DAY_NAMES = {
    name: number
    for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}
_WRAPPER = re.compile(r"^(rate|cron|at)\((.*)\)$", re.DOTALL)
_AT_BODY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})$")
_DOM_SPECIAL = re.compile(r"^(?:(L)|(L)W|([0-9]{1,2})W)$", re.IGNORECASE)
_DOW_DAY = r"([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)"
_DOW_LAST = re.compile(rf"^(?:L|{_DOW_DAY}L)$", re.IGNORECASE)
_DOW_NTH = re.compile(rf"^{_DOW_DAY}#([1-5])$", re.IGNORECASE)


class ScheduleExpressionError(ValueError):
    """Raised when a schedule expression is not valid for EventBridge Scheduler.

    Each problem names the part of the expression that is wrong, what is
    allowed there and what was given.

    Parameters
    ----------
    problems : list of str
        One message per problem; the exception message joins them with "; ".

    Attributes
    ----------
    problems : list of str
        One message per problem.

    Examples
    --------
    >>> try:
    ...     parse_expression("rate(0 minutes)")
    ... except ScheduleExpressionError as error:
    ...     print(error.problems)
    ["rate value must be a positive whole number, got '0'"]
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class DayOfMonthRule:
    """How the day-of-month field of a cron expression selects days.

    Parameters
    ----------
    kind : {"any", "days", "last", "last_weekday", "nearest_weekday"}
        ``"any"`` for ``?``; ``"days"`` for values, ranges, steps and ``*``;
        ``"last"`` for ``L``; ``"last_weekday"`` for ``LW``;
        ``"nearest_weekday"`` for ``nW``.
    days : tuple of int, default ()
        The day numbers for ``"days"`` (sorted), or ``(n,)`` for
        ``"nearest_weekday"``.

    Examples
    --------
    >>> parse_expression("cron(0 9 15W * ? *)").day_of_month
    DayOfMonthRule(kind='nearest_weekday', days=(15,))
    """

    kind: Literal["any", "days", "last", "last_weekday", "nearest_weekday"]
    days: tuple[int, ...] = ()


@dataclass(frozen=True)
class DayOfWeekRule:
    """How the day-of-week field of a cron expression selects days.

    Parameters
    ----------
    kind : {"any", "days", "last", "nth"}
        ``"any"`` for ``?``; ``"days"`` for values, names, ranges, ``*`` and a
        lone ``L`` (Saturday); ``"last"`` for ``nL``; ``"nth"`` for ``n#k``.
    days : tuple of int, default ()
        Day numbers, 1 = Sunday to 7 = Saturday (sorted); one day for
        ``"last"`` and ``"nth"``.
    nth : int or None, default None
        ``k`` of ``n#k`` (1 to 5).

    Examples
    --------
    >>> parse_expression("cron(0 9 ? * 3#2 *)").day_of_week
    DayOfWeekRule(kind='nth', days=(3,), nth=2)
    """

    kind: Literal["any", "days", "last", "nth"]
    days: tuple[int, ...] = ()
    nth: int | None = None


@dataclass(frozen=True)
class ParsedSchedule:
    """A schedule expression, parsed.

    Parameters
    ----------
    kind : {"rate", "cron", "at"}
        The expression type.
    expression : str
        The expression as given.
    rate_value : int or None, default None
        For ``rate``: the number of units.
    rate_unit : {"minutes", "hours", "days"} or None, default None
        For ``rate``: the unit, always plural.
    at : datetime or None, default None
        For ``at``: the naive wall-clock time, read in the schedule's time zone.
    minutes, hours, months, years : tuple of int, default ()
        For ``cron``: the selected values of those fields, sorted.
    day_of_month : DayOfMonthRule or None, default None
        For ``cron``: the day-of-month field.
    day_of_week : DayOfWeekRule or None, default None
        For ``cron``: the day-of-week field.

    Examples
    --------
    >>> parsed = parse_expression("rate(2 hours)")
    >>> parsed.kind, parsed.rate_value, parsed.rate_unit, parsed.interval
    ('rate', 2, 'hours', datetime.timedelta(seconds=7200))
    >>> parse_expression("cron(0/20 8-9 ? * MON-FRI *)").minutes
    (0, 20, 40)
    """

    kind: Literal["rate", "cron", "at"]
    expression: str
    rate_value: int | None = None
    rate_unit: Literal["minutes", "hours", "days"] | None = None
    at: datetime | None = None
    minutes: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    day_of_month: DayOfMonthRule | None = None
    months: tuple[int, ...] = ()
    day_of_week: DayOfWeekRule | None = None
    years: tuple[int, ...] = ()

    @property
    def interval(self) -> timedelta | None:
        """The fixed interval of a ``rate`` schedule; None for ``cron`` and ``at``."""
        if self.kind != "rate" or self.rate_value is None or self.rate_unit is None:
            return None
        return self.rate_value * _UNIT_DELTAS[self.rate_unit]


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    allowed: str
    names: dict[str, int] | None
    max_step: int | None  # None: '/' is not allowed in the field


_MINUTES = _Field("minutes", 0, 59, "0-59", None, 59)
_HOURS = _Field("hours", 0, 23, "0-23", None, 23)
_DAY_OF_MONTH = _Field("day-of-month", 1, 31, "1-31", None, 31)
_MONTH = _Field("month", 1, 12, "1-12 or JAN-DEC", _MONTH_NAMES, 12)
_DAY_OF_WEEK = _Field("day-of-week", 1, 7, "1-7 or SUN-SAT", _DAY_NAMES, None)
_YEAR = _Field("year", MIN_YEAR, MAX_YEAR, f"{MIN_YEAR}-{MAX_YEAR}", None, MAX_YEAR - MIN_YEAR)


def _value(token: str, field: _Field) -> int | None:
    """Return the number a token stands for, or None when it is not valid in ``field``."""
    if token.isascii() and token.isdigit():
        number = int(token)
    elif field.names is not None and token.upper() in field.names:
        number = field.names[token.upper()]
    else:
        return None
    return number if field.low <= number <= field.high else None


def _parse_list(text: str, field: _Field, problems: list[str]) -> tuple[int, ...]:
    """Parse ``, - * /`` syntax; append a message per bad item to ``problems``."""
    selected: set[int] = set()
    for item in text.split(","):
        if item == "":
            problems.append(f"cron {field.name}: a list item is empty, got {text!r}")
            continue
        base, step = item, 1
        if "/" in item:
            if field.max_step is None:
                problems.append(
                    f"cron {field.name}: '/' is not allowed here "
                    f"(allowed wildcards: , - * ? L #), got {text!r}"
                )
                continue
            base, _, step_text = item.partition("/")
            if not (step_text.isascii() and step_text.isdigit()) or not (
                1 <= int(step_text) <= field.max_step
            ):
                problems.append(
                    f"cron {field.name}: the step after '/' must be a whole number "
                    f"from 1 to {field.max_step}, got {item!r}"
                )
                continue
            step = int(step_text)
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low_value, high_value = _value(first, field), _value(last, field)
            bad = [t for t, v in ((first, low_value), (last, high_value)) if v is None]
            if bad:
                for token in bad:
                    problems.append(
                        f"cron {field.name}: values must be in {field.allowed}, got {token!r}"
                    )
                continue
            assert low_value is not None and high_value is not None
            if low_value > high_value:
                problems.append(
                    f"cron {field.name}: a range must go from low to high "
                    f"(ranges do not wrap around), got {base!r}"
                )
                continue
            low, high = low_value, high_value
        else:
            single = _value(base, field)
            if single is None:
                problems.append(
                    f"cron {field.name}: values must be in {field.allowed}, got {base!r}"
                )
                continue
            low, high = single, (field.high if "/" in item else single)
        selected.update(range(low, high + 1, step))
    return tuple(sorted(selected))


def _parse_plain(text: str, field: _Field, problems: list[str]) -> tuple[int, ...]:
    if text == "?":
        problems.append(
            f"cron {field.name}: '?' is only allowed in day-of-month and day-of-week, got '?'"
        )
        return ()
    return _parse_list(text, field, problems)


def _parse_day_of_month(text: str, problems: list[str]) -> DayOfMonthRule:
    if text == "?":
        return DayOfMonthRule("any")
    if "L" in text.upper() or "W" in text.upper():
        match = _DOM_SPECIAL.match(text)
        if match is None:
            problems.append(
                "cron day-of-month: 'L' and 'W' must stand alone, as L, LW or a day "
                f"followed by W such as 15W, got {text!r}"
            )
            return DayOfMonthRule("days")
        if match.group(1):
            return DayOfMonthRule("last")
        if match.group(2):
            return DayOfMonthRule("last_weekday")
        day = int(match.group(3))
        if not 1 <= day <= 31:
            problems.append(f"cron day-of-month: the day before 'W' must be in 1-31, got {text!r}")
            return DayOfMonthRule("days")
        return DayOfMonthRule("nearest_weekday", (day,))
    return DayOfMonthRule("days", _parse_list(text, _DAY_OF_MONTH, problems))


def _parse_day_of_week(text: str, problems: list[str]) -> DayOfWeekRule:
    if text == "?":
        return DayOfWeekRule("any")
    if "#" in text:
        match = _DOW_NTH.match(text)
        if match is None:
            problems.append(
                "cron day-of-week: '#' must stand alone as day#n, with the day in 1-7 or "
                f"SUN-SAT and n in 1-5, such as 3#2, got {text!r}"
            )
            return DayOfWeekRule("days")
        day = _value(match.group(1), _DAY_OF_WEEK)
        assert day is not None
        return DayOfWeekRule("nth", (day,), int(match.group(2)))
    if "L" in text.upper():
        match = _DOW_LAST.match(text)
        if match is None:
            problems.append(
                "cron day-of-week: 'L' must stand alone, as L (Saturday) or a day "
                f"followed by L such as 5L or FRIL, got {text!r}"
            )
            return DayOfWeekRule("days")
        if match.group(1) is None:
            return DayOfWeekRule("days", (7,))
        day = _value(match.group(1), _DAY_OF_WEEK)
        assert day is not None
        return DayOfWeekRule("last", (day,))
    return DayOfWeekRule("days", _parse_list(text, _DAY_OF_WEEK, problems))


def _parse_rate(body: str, expression: str, problems: list[str]) -> ParsedSchedule | None:
    parts = body.split()
    if len(parts) != 2:
        problems.append(
            "rate expression must be rate(value unit) such as rate(5 minutes), "
            f"got {expression!r}"
        )
        return None
    value_text, unit_text = parts
    value: int | None = None
    if value_text.isascii() and value_text.isdigit() and int(value_text) > 0:
        value = int(value_text)
    else:
        problems.append(f"rate value must be a positive whole number, got {value_text!r}")
    unit = _RATE_UNITS.get(unit_text)
    if unit is None:
        problems.append(
            "rate unit must be minutes, hours or days (minute, hour or day when the "
            f"value is 1), got {unit_text!r}"
        )
    elif value is not None and value != 1 and unit_text != unit:
        problems.append(
            f"rate unit must be plural when the value is not 1 ({unit!r}), got {body!r}"
        )
    if value is not None and unit is not None:
        try:
            value * _UNIT_DELTAS[unit]
        except OverflowError:
            problems.append(
                f"rate value is too large for a {unit[:-1]} interval, got {value_text!r}"
            )
    if problems:
        return None
    assert value is not None and unit is not None
    return ParsedSchedule(
        "rate", expression, rate_value=value, rate_unit=unit  # type: ignore[arg-type]
    )


def _parse_cron(body: str, expression: str, problems: list[str]) -> ParsedSchedule | None:
    fields = body.split()
    if len(fields) != 6:
        problems.append(
            "cron expression must have 6 fields (minutes hours day-of-month month "
            f"day-of-week year), got {len(fields)} in {expression!r}"
        )
        return None
    minute_text, hour_text, dom_text, month_text, dow_text, year_text = fields
    minutes = _parse_plain(minute_text, _MINUTES, problems)
    hours = _parse_plain(hour_text, _HOURS, problems)
    day_of_month = _parse_day_of_month(dom_text, problems)
    months = _parse_plain(month_text, _MONTH, problems)
    day_of_week = _parse_day_of_week(dow_text, problems)
    years = _parse_plain(year_text, _YEAR, problems)
    if (dom_text == "?") == (dow_text == "?"):
        problems.append(
            "cron day-of-month and day-of-week: exactly one must be '?', "
            f"got {dom_text!r} and {dow_text!r}"
        )
    if problems:
        return None
    return ParsedSchedule(
        "cron",
        expression,
        minutes=minutes,
        hours=hours,
        day_of_month=day_of_month,
        months=months,
        day_of_week=day_of_week,
        years=years,
    )


def _parse_at(body: str, expression: str, problems: list[str]) -> ParsedSchedule | None:
    match = _AT_BODY.match(body)
    if match is None:
        problems.append(
            "at expression must be at(yyyy-mm-ddThh:mm:ss) such as "
            f"at(2026-11-22T10:00:00), got {expression!r}"
        )
        return None
    try:
        moment = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        problems.append(
            "at date and time must exist on the calendar (month 1-12, a day of that month, "
            f"hour 0-23, minute and second 0-59), got {body!r}"
        )
        return None
    return ParsedSchedule("at", expression, at=moment)


def _collect(expression: object) -> tuple[ParsedSchedule | None, list[str]]:
    problems: list[str] = []
    if not isinstance(expression, str):
        return None, [f"schedule expression must be a string, got {type(expression).__name__}"]
    match = _WRAPPER.match(expression)
    if match is None:
        return None, [f"schedule expression must be {_EXPRESSION_SHAPES}, got {expression!r}"]
    kind, body = match.groups()
    parser = {"rate": _parse_rate, "cron": _parse_cron, "at": _parse_at}[kind]
    return parser(body, expression, problems), problems


@lru_cache(maxsize=256)
def _parse_cached(expression: str) -> ParsedSchedule | tuple[str, ...]:
    parsed, problems = _collect(expression)
    if problems or parsed is None:
        return tuple(problems)
    return parsed


def parse_expression(expression: str) -> ParsedSchedule:
    """Parse a whole EventBridge Scheduler expression.

    Parameters
    ----------
    expression : str
        ``"rate(...)"``, ``"cron(...)"`` or ``"at(...)"``, exactly as given to
        EventBridge Scheduler.

    Returns
    -------
    ParsedSchedule
        The expression type and its parsed fields.

    Raises
    ------
    ScheduleExpressionError
        With every problem found, when the expression is not valid.

    Examples
    --------
    >>> parse_expression("cron(15 10 ? * 6L 2022-2023)").day_of_week
    DayOfWeekRule(kind='last', days=(6,), nth=None)
    >>> parse_expression("at(2026-11-22T10:00:00)").at
    datetime.datetime(2026, 11, 22, 10, 0)
    >>> try:
    ...     parse_expression("rate(5 minute)")
    ... except ScheduleExpressionError as error:
    ...     print(error)
    rate unit must be plural when the value is not 1 ('minutes'), got '5 minute'
    """
    if not isinstance(expression, str):
        raise ScheduleExpressionError(
            [f"schedule expression must be a string, got {type(expression).__name__}"]
        )
    result = _parse_cached(expression)
    if isinstance(result, tuple):
        raise ScheduleExpressionError(list(result))
    return result


def validate_expression(expression: str) -> list[str]:
    """Return every problem with a schedule expression; an empty list when it is valid.

    Parameters
    ----------
    expression : str
        ``"rate(...)"``, ``"cron(...)"`` or ``"at(...)"``.

    Returns
    -------
    list of str
        One message per problem, each naming what is wrong, what is allowed
        and what was given.

    Examples
    --------
    >>> validate_expression("cron(0 12 * * ? *)")
    []
    >>> for problem in validate_expression("cron(60 24 * * ? *)"):
    ...     print(problem)
    cron minutes: values must be in 0-59, got '60'
    cron hours: values must be in 0-23, got '24'
    """
    if not isinstance(expression, str):
        return _collect(expression)[1]
    result = _parse_cached(expression)
    return list(result) if isinstance(result, tuple) else []


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> str | None:
    """Return an error message when ``name`` is not an IANA time zone, else None.

    EventBridge Scheduler takes time zones from the IANA Time Zone Database;
    this checks the name against the database that ``zoneinfo`` sees.

    Parameters
    ----------
    name : str
        A time zone name such as ``"Europe/Berlin"`` or ``"UTC"``.

    Returns
    -------
    str or None
        The message, or None when the name is valid.

    Examples
    --------
    >>> validate_time_zone("Asia/Taipei") is None
    True
    >>> print(validate_time_zone("Mars/Base"))
    time zone must be an IANA time zone name such as 'UTC' or 'America/New_York', got 'Mars/Base'
    """
    message = (
        "time zone must be an IANA time zone name such as 'UTC' or 'America/New_York', "
        f"got {name!r}"
    )
    if not isinstance(name, str) or not name:
        return message
    known = _known_zones()
    if known:
        return None if name in known else message
    try:  # no listing available (an unusual tzdata install): try to load it
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return message
    return None


def _zone(name: str) -> ZoneInfo:
    message = validate_time_zone(name)
    if message is not None:
        raise ValueError(message)
    return ZoneInfo(name)


def _aware(name: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


# --------------------------------------------------------------------------- cron evaluation


@lru_cache(maxsize=256)
def _minutes_of_day(minutes: tuple[int, ...], hours: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(hour * 60 + minute for hour in hours for minute in minutes)


def _aws_day_of_week(year: int, month: int, day: int) -> int:
    """Day of week in AWS numbering: 1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _days_in_month(parsed: ParsedSchedule, year: int, month: int) -> list[int]:
    """The days of ``year``-``month`` that the day fields select, sorted."""
    length = calendar.monthrange(year, month)[1]
    dom = parsed.day_of_month
    assert dom is not None and parsed.day_of_week is not None
    if dom.kind == "days":
        return [day for day in dom.days if day <= length]
    if dom.kind == "last":
        return [length]
    if dom.kind == "last_weekday":
        weekday = calendar.weekday(year, month, length)  # Monday = 0 ... Sunday = 6
        return [length - {5: 1, 6: 2}.get(weekday, 0)]
    if dom.kind == "nearest_weekday":
        day = dom.days[0]
        if day > length:
            return []
        weekday = calendar.weekday(year, month, day)
        if weekday == 5:  # Saturday: the Friday before, or Monday the 3rd for the 1st
            return [3 if day == 1 else day - 1]
        if weekday == 6:  # Sunday: the Monday after, or the Friday before on the last day
            return [day - 2 if day == length else day + 1]
        return [day]
    dow = parsed.day_of_week
    first = _aws_day_of_week(year, month, 1)
    if dow.kind == "days":
        return sorted(
            day for wanted in dow.days for day in range(1 + (wanted - first) % 7, length + 1, 7)
        )
    earliest = 1 + (dow.days[0] - first) % 7
    if dow.kind == "last":
        return [earliest + 7 * ((length - earliest) // 7)]
    assert dow.kind == "nth" and dow.nth is not None
    day = earliest + 7 * (dow.nth - 1)
    return [day] if day <= length else []


def _dates(parsed: ParsedSchedule, start: date) -> Iterator[date]:
    """Dates on or after ``start`` that the cron expression selects, in order."""
    for year in parsed.years:
        if year < start.year:
            continue
        for month in parsed.months:
            if (year, month) < (start.year, start.month):
                continue
            for day in _days_in_month(parsed, year, month):
                current = date(year, month, day)
                if current >= start:
                    yield current


def _steady_offset(day: date, zone: ZoneInfo) -> timedelta | None:
    """The UTC offset of the whole local ``day``, or None when it changes that day."""
    midnight = datetime(day.year, day.month, day.day)
    following = midnight + timedelta(days=1)
    offsets = {
        zone.utcoffset(moment.replace(fold=fold))
        for moment in (midnight, following)
        for fold in (0, 1)
    }
    return offsets.pop() if len(offsets) == 1 else None


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant of a cron wall-clock time: None in a gap, the first one when repeated."""
    instant = wall.replace(tzinfo=zone).astimezone(_UTC).astimezone(zone)
    return instant if instant.replace(tzinfo=None) == wall else None


def _day_fires(parsed: ParsedSchedule, day: date, zone: ZoneInfo) -> list[datetime]:
    """All fire times of a cron expression on one local day, in order."""
    midnight = datetime(day.year, day.month, day.day)
    minutes = _minutes_of_day(parsed.minutes, parsed.hours)
    if _steady_offset(day, zone) is not None:
        return [(midnight + timedelta(minutes=m)).replace(tzinfo=zone) for m in minutes]
    fires = (_resolve(midnight + timedelta(minutes=m), zone) for m in minutes)
    return [fire for fire in fires if fire is not None]


def _cron_fires(parsed: ParsedSchedule, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Fire times strictly after ``after``, in order, skipping day by day and minute by list."""
    minutes = _minutes_of_day(parsed.minutes, parsed.hours)
    local_after = after.astimezone(zone)
    first_day = local_after.date()
    after_minute = local_after.hour * 60 + local_after.minute
    for day in _dates(parsed, first_day):
        midnight = datetime(day.year, day.month, day.day)
        steady = _steady_offset(day, zone) is not None
        start = bisect.bisect_left(minutes, after_minute) if day == first_day else 0
        for minute in minutes[start:]:
            wall = midnight + timedelta(minutes=minute)
            fire = wall.replace(tzinfo=zone) if steady else _resolve(wall, zone)
            if fire is not None and fire > after:
                yield fire


def _at_instant(parsed: ParsedSchedule, zone: ZoneInfo) -> datetime:
    assert parsed.at is not None
    local = parsed.at.replace(tzinfo=zone)
    try:
        # fold=0: a repeated time is its first occurrence; a time in a gap moves forward.
        return local.astimezone(_UTC).astimezone(zone)
    except OverflowError:  # the last hours of the year 9999
        return local


def _rate_anchor(
    start: datetime | None, created_at: datetime | None, fallback: datetime
) -> datetime:
    if start is not None:
        return start
    if created_at is not None:
        return created_at
    return fallback


# --------------------------------------------------------------------------- public arithmetic


def next_fire_times(
    expression: str,
    *,
    after: datetime,
    count: int,
    time_zone: str = "UTC",
    start: datetime | None = None,
    end: datetime | None = None,
    created_at: datetime | None = None,
) -> list[datetime]:
    """Return the next fire times of a schedule, strictly after ``after``.

    Cron expressions are searched field by field (year, month, matching days,
    then the sorted times of day), so sparse schedules such as
    ``cron(0 0 29 2 ? *)`` take microseconds; the search ends with the year
    2199, so fewer than ``count`` times may come back.

    Parameters
    ----------
    expression : str
        A ``rate(...)``, ``cron(...)`` or ``at(...)`` expression.
    after : datetime
        Timezone-aware instant; only fire times strictly after it are returned.
    count : int
        The most fire times to return (0 or more).
    time_zone : str, default "UTC"
        IANA name of the schedule's time zone: cron and at expressions are
        read in it, and every returned datetime is expressed in it.
    start : datetime or None, default None
        Timezone-aware start date of the schedule: no fire time before it.
        For a rate expression it is also the first fire time. Ignored for at
        expressions, as EventBridge Scheduler ignores it.
    end : datetime or None, default None
        Timezone-aware end date of the schedule: only fire times before it.
        Ignored for at expressions, as EventBridge Scheduler ignores it.
    created_at : datetime or None, default None
        Timezone-aware instant the schedule was created. Only used by a rate
        expression without ``start``: it fires at ``created_at``, then every
        interval. Without either, a rate expression is anchored at ``after``.

    Returns
    -------
    list of datetime
        At most ``count`` timezone-aware datetimes in ``time_zone``, in
        order; at most one for an at expression.

    Raises
    ------
    ScheduleExpressionError
        When the expression is not valid.
    ValueError
        When the time zone is unknown, ``count`` is negative or a datetime is
        naive.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> after = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> [t.date().isoformat() for t in next_fire_times(
    ...     "cron(0 0 29 2 ? *)", after=after, count=2)]
    ['2028-02-29', '2032-02-29']
    >>> [t.isoformat() for t in next_fire_times(
    ...     "rate(90 minutes)", after=after, count=2,
    ...     start=datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc))]
    ['2026-01-01T09:00:00+00:00', '2026-01-01T10:30:00+00:00']
    """
    parsed = parse_expression(expression)
    zone = _zone(time_zone)
    _aware("after", after)
    _aware("start", start)
    _aware("end", end)
    _aware("created_at", created_at)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a whole number of 0 or more, got {count!r}")
    if count == 0:
        return []
    if parsed.kind == "at":
        fire = _at_instant(parsed, zone)
        return [fire] if fire > after else []
    if parsed.kind == "rate":
        interval = parsed.interval
        assert interval is not None
        anchor = _rate_anchor(start, created_at, after)
        step = 0 if anchor > after else (after - anchor) // interval + 1
        result: list[datetime] = []
        while len(result) < count:
            try:
                fire = anchor + step * interval
            except OverflowError:
                break
            if end is not None and fire >= end:
                break
            result.append(fire.astimezone(zone))
            step += 1
        return result
    lower = after if start is None or start <= after else start - timedelta(microseconds=1)
    result = []
    for fire in _cron_fires(parsed, zone, lower):
        if end is not None and fire >= end:
            break
        result.append(fire)
        if len(result) == count:
            break
    return result
