"""CloudWatch metrics as log lines, in the Embedded Metric Format.

A function writes one JSON line to standard output and CloudWatch Logs turns
it into metrics: no ``PutMetricData`` call, no extra permission, no latency
on the run. The constructs' alarms and dashboards read the metrics below,
all in namespace :data:`NAMESPACE` with one dimension, :data:`SCHEDULE`
(the schedule's ``"<group>/<name>"``).

Run metrics, written once per finished run by whoever finishes it, when the
functions have ``RUN_METRICS=on`` (the constructs set it with ``dashboard=True``):

* ``RunSucceeded``, ``RunPartiallyFailed``, ``RunFailed``, ``RunSkipped``
  (``Count``, value 1);
* ``RunDuration`` (``Seconds``), from the first delivery to the finish;
* for a fan-out, ``TasksSent``, ``TasksSucceeded``, ``TasksFailed`` and
  ``TasksDeadLettered`` (``Count``).

Watchdog metrics, written by a watchdog run that finds something new (only the
non-zero ones, so a month without findings publishes none):
``MissedRuns``, ``LateRuns`` and ``FailedRuns`` (``Count``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Mapping

NAMESPACE = "ScheduledTasks"
"""The CloudWatch namespace of every metric the runtime writes."""

SCHEDULE = "Schedule"
"""The one dimension: the schedule's ``"<group>/<name>"``."""

#: The units the Embedded Metric Format accepts that this library uses.
_UNITS = frozenset({"Count", "Seconds", "Milliseconds", "None"})


def emf_record(
    metrics: Mapping[str, tuple[float, str]],
    *,
    schedule: str,
    timestamp_ms: int | None = None,
) -> dict:
    """The Embedded Metric Format object for ``metrics`` of ``schedule``.

    Parameters
    ----------
    metrics : Mapping[str, tuple[float, str]]
        Metric name to ``(value, unit)``; the unit is ``"Count"``,
        ``"Seconds"``, ``"Milliseconds"`` or ``"None"``.
    schedule : str
        The value of the :data:`SCHEDULE` dimension.
    timestamp_ms : int or None, optional
        The metrics' time in epoch milliseconds. Default: now.

    Returns
    -------
    dict
        The object to write as one JSON line.

    Raises
    ------
    ValueError
        For no metrics, an unknown unit, or a value that is not a finite number.

    Examples
    --------
    >>> record = emf_record({"MissedRuns": (0, "Count")}, schedule="default/nightly", timestamp_ms=0)
    >>> record["MissedRuns"], record["Schedule"]
    (0, 'default/nightly')
    """
    if not metrics:
        raise ValueError("metrics must name at least one metric")
    definitions = []
    record: dict = {}
    for name, (value, unit) in metrics.items():
        if unit not in _UNITS:
            raise ValueError(f"unit of metric {name} must be one of {sorted(_UNITS)}, got {unit!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"),
            float("-inf"),
        ):
            raise ValueError(f"value of metric {name} must be a finite number, got {value!r}")
        definitions.append({"Name": name, "Unit": unit})
        record[name] = value
    record[SCHEDULE] = schedule
    record["_aws"] = {
        "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": [[SCHEDULE]], "Metrics": definitions}
        ],
    }
    return record


def emit(
    metrics: Mapping[str, tuple[float, str]],
    *,
    schedule: str,
    stream: IO[str] | None = None,
) -> dict:
    """Write ``metrics`` of ``schedule`` as one Embedded Metric Format line.

    Parameters
    ----------
    metrics : Mapping[str, tuple[float, str]]
        Metric name to ``(value, unit)`` (see :func:`emf_record`).
    schedule : str
        The value of the :data:`SCHEDULE` dimension.
    stream : IO[str] or None, optional
        Where to write. Default: standard output, which Lambda sends to the
        function's log group.

    Returns
    -------
    dict
        The object written.
    """
    record = emf_record(metrics, schedule=schedule)
    out = sys.stdout if stream is None else stream
    out.write(json.dumps(record, separators=(",", ":")) + "\n")
    out.flush()
    return record


__all__ = ["NAMESPACE", "SCHEDULE", "emf_record", "emit"]
