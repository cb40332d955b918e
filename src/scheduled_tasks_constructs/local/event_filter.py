"""Lambda event filtering (an event source mapping's ``FilterCriteria``) for SQS records.

A record passes when any filter's pattern matches it. A pattern is an
EventBridge-style pattern over the record's fields (``body``, ``attributes``,
``messageAttributes`` ...); ``body`` is matched as JSON when the message body
is a JSON object, otherwise only a plain-string pattern can match it. Lambda
deletes an SQS message that no filter matches, and so does the local runner.

Supported: exact values (strings, numbers, null), ``prefix``, ``suffix``,
``equals-ignore-case``, ``anything-but`` (values, or ``{"prefix": ...}``),
``numeric`` (``<``, ``<=``, ``=``, ``>``, ``>=`` pairs) and ``exists``. Any
other operator is refused by :func:`compile_filters` with its name.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

__all__ = ["FilterError", "compile_filters"]

_NUMERIC = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_MISSING = object()


class FilterError(ValueError):
    """A filter pattern the local runner cannot evaluate."""


def compile_filters(criteria: Any) -> Callable[[Dict[str, Any]], bool]:
    """A predicate over SQS event records from a mapping's ``FilterCriteria``.

    Parameters
    ----------
    criteria : dict or None
        ``{"Filters": [{"Pattern": "<JSON>"}, ...]}`` as in the template.

    Returns
    -------
    callable
        ``matches(record) -> bool``; always True without filters.

    Raises
    ------
    FilterError
        For a pattern that is not JSON or uses an unsupported operator.

    Examples
    --------
    >>> matches = compile_filters({"Filters": [{"Pattern": '{"body": {"kind": ["total"]}}'}]})
    >>> matches({"body": '{"kind": "total"}'}), matches({"body": '{"kind": "table"}'})
    (True, False)
    """
    filters = (criteria or {}).get("Filters") or []
    patterns: List[Dict[str, Any]] = []
    for entry in filters:
        try:
            pattern = json.loads(entry["Pattern"])
        except (KeyError, TypeError, ValueError):
            raise FilterError(f"filter pattern is not JSON: {str(entry)[:120]}") from None
        if not isinstance(pattern, dict):
            raise FilterError(f"filter pattern must be an object: {entry['Pattern'][:120]}")
        _check(pattern)
        patterns.append(pattern)
    if not patterns:
        return lambda record: True

    def matches(record: Dict[str, Any]) -> bool:
        view = dict(record)
        body = record.get("body")
        if isinstance(body, str):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body
            view["body"] = parsed
        return any(_match_object(pattern, view) for pattern in patterns)

    return matches


def _check(pattern: Any) -> None:
    if isinstance(pattern, dict):
        for value in pattern.values():
            _check(value)
    elif isinstance(pattern, list):
        for rule in pattern:
            if isinstance(rule, dict):
                for operator, argument in rule.items():
                    if operator not in ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists"):
                        raise FilterError(f"filter operator {operator!r} is not supported by the local runner")
                    if operator == "numeric" and (
                        not isinstance(argument, list)
                        or len(argument) % 2
                        or any(argument[i] not in _NUMERIC for i in range(0, len(argument), 2))
                    ):
                        raise FilterError(f"numeric filter {argument!r} is not of the form [op, value, ...]")
    else:
        raise FilterError(f"a filter pattern's leaves must be lists, got {json.dumps(pattern)}")


def _match_object(pattern: Dict[str, Any], value: Any) -> bool:
    for key, rule in pattern.items():
        field = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(rule, dict):
            if field is _MISSING or not _match_object(rule, field):
                return False
        elif not _match_rules(rule, field):
            return False
    return True


def _match_rules(rules: List[Any], field: Any) -> bool:
    candidates = field if isinstance(field, list) else [field]
    return any(_match_rule(rule, candidate) for rule in rules for candidate in candidates)


def _match_rule(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        if value is _MISSING:
            return False
        if isinstance(rule, bool) or isinstance(value, bool):
            return value is rule
        return value == rule
    (operator, argument), = rule.items()
    if operator == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if operator == "prefix":
        return isinstance(value, str) and isinstance(argument, str) and value.startswith(argument)
    if operator == "suffix":
        return isinstance(value, str) and isinstance(argument, str) and value.endswith(argument)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and isinstance(argument, str) and value.lower() == argument.lower()
    if operator == "anything-but":
        if isinstance(argument, dict) and "prefix" in argument:
            return not (isinstance(value, str) and value.startswith(argument["prefix"]))
        excluded = argument if isinstance(argument, list) else [argument]
        return value not in excluded
    if operator == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return all(_NUMERIC[argument[i]](value, argument[i + 1]) for i in range(0, len(argument), 2))
    return False
