"""EventBridge Scheduler, emulated: fire times, the target's input, and Lambda's asynchronous invocation.

:func:`plan_fire_times` computes when a schedule fires;
:class:`ScheduledTarget` fires one run as the Scheduler and Lambda do: the
target input with its ``<aws.scheduler.*>`` placeholders filled in, invoked
asynchronously (:class:`AsyncTarget`), retried as the function's
``EventInvokeConfig`` says, and then sent to its on-failure destination (or
its dead-letter queue).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from .lambda_local import FunctionPool, Invocation
from .planning import AsyncConfig, RunnerError, ScheduleSpec
from .reporting import iso_z

__all__ = ["AsyncTarget", "ScheduledTarget", "fill_placeholders", "plan_fire_times"]

_PLACEHOLDERS = {
    "execution_id": "<aws.scheduler.execution-id>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "attempt_number": "<aws.scheduler.attempt-number>",
}


def fill_placeholders(text: str, values: Dict[str, str]) -> str:
    """Substitute the Scheduler's context placeholders in a target input.

    Parameters
    ----------
    text : str
        The target input as the template holds it (a JSON string).
    values : dict
        ``execution_id``, ``scheduled_time``, ``schedule_arn`` and
        ``attempt_number`` values (strings).

    Returns
    -------
    str
        The input with every ``<aws.scheduler.*>`` placeholder replaced, also
        inside longer strings, as the Scheduler does.

    Examples
    --------
    >>> fill_placeholders('{"id": "<aws.scheduler.execution-id>"}', {"execution_id": "e-1"})
    '{"id": "e-1"}'
    """
    for key, placeholder in _PLACEHOLDERS.items():
        if key in values:
            text = text.replace(placeholder, values[key])
    return text


def plan_fire_times(schedule: ScheduleSpec, *, after: datetime, count: int, where: str, notes: List[str]) -> List[datetime]:
    """The next ``count`` fire times of ``schedule`` after ``after`` (fewer when it ends, none when disabled).

    Parameters
    ----------
    schedule : ScheduleSpec
        The schedule.
    after : datetime
        The instant the fire times follow (timezone-aware).
    count : int
        Fire times wanted.
    where : str
        The construct's path, for the error message.
    notes : list of str
        The construct's report notes: a disabled schedule, or one that fires
        fewer than ``count`` times, adds one.

    Returns
    -------
    list of datetime
        The fire times, in order.

    Raises
    ------
    RunnerError
        When the expression has no fire times to compute.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> spec = ScheduleSpec("rate(1 hour)", "UTC", True, None, None)
    >>> notes = []
    >>> [t.hour for t in plan_fire_times(spec, after=datetime(2026, 1, 1, tzinfo=timezone.utc), count=2, where="App/S", notes=notes)]
    [1, 2]
    """
    from ..schedule_expressions import ScheduleExpressionError, next_fire_times

    if not schedule.enabled:
        notes.append("the schedule is disabled: it does not fire")
        return []
    try:
        fire_times = next_fire_times(
            schedule.expression,
            after=after,
            count=count,
            time_zone=schedule.time_zone,
            start=schedule.start,
            end=schedule.end,
        )
    except (ScheduleExpressionError, ValueError) as exc:
        raise RunnerError(f"{where}: cannot compute the fire times of {schedule.expression}: {exc}") from None
    if len(fire_times) < count:
        notes.append(f"the schedule fires {len(fire_times)} time(s) after {iso_z(after)}, not {count}")
    return fire_times


class AsyncTarget:
    """A function invoked asynchronously, as Lambda runs an ``Event`` invocation.

    Lambda queues the event, invokes the function, retries a failed
    invocation as the function's ``EventInvokeConfig`` says (the runner does
    not wait between attempts), and then sends the event to the on-failure
    destination (or the dead-letter queue). The Scheduler's invocations and
    the local Lambda endpoint's ``Event`` invocations both go this way.

    Parameters
    ----------
    pool : FunctionPool
        Runs the function.
    config : AsyncConfig
        Its retries and failure destination.
    sqs : object
        An SQS client of the local endpoint (for the failure destination).
    """

    def __init__(self, pool: FunctionPool, config: AsyncConfig, *, sqs: Any) -> None:
        self.pool = pool
        self.config = config
        self.sqs = sqs

    @property
    def attempts(self) -> int:
        """Invocations per event at most: the first and its retries."""
        return 1 + max(0, self.config.retries)

    def invoke(
        self,
        event: Any,
        observe: Callable[[int, Invocation], None],
        *,
        request_id: Optional[str] = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> Tuple[Invocation, int]:
        """Invoke with ``event`` until it succeeds or the retries are spent; then the last invocation.

        ``observe(attempt, invocation)`` is called after every attempt. An
        event whose last attempt failed is sent to the failure destination.
        Every attempt has the same request ID (``request_id``, default a new
        one), as in Lambda. When ``stopped()`` turns true (the run ended),
        a failed attempt is neither retried nor sent anywhere.

        Returns
        -------
        tuple
            The last invocation and the number of attempts allowed.
        """
        request_id = request_id or str(uuid.uuid4())
        attempts = self.attempts
        invocation: Optional[Invocation] = None
        for attempt in range(1, attempts + 1):
            invocation = self.pool.invoke(event, request_id=request_id)
            if stopped():
                return invocation, attempts
            observe(attempt, invocation)
            if invocation.ok:
                break
        assert invocation is not None
        if not invocation.ok:
            self.send_failure(event, invocation, attempts)
        return invocation, attempts

    def send_failure(self, event: Any, invocation: Invocation, attempts: int) -> None:
        """What Lambda sends to the on-failure destination (or dead-letter queue) after the last retry."""
        url = self.config.on_failure_url
        if url is None:
            return
        if self.config.dead_letter_target is not None:
            self.sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": (invocation.error_message or "")[:256] or "error"},
                },
            )
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{self.pool.image.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": invocation.error_message, "errorType": invocation.error_type},
        }
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))


class ScheduledTarget(AsyncTarget):
    """The schedule's target: the scheduled function, invoked asynchronously as the Scheduler does.

    Parameters
    ----------
    pool : FunctionPool
        Runs the scheduled function.
    config : AsyncConfig
        Its retries and failure destination.
    sqs : object
        An SQS client of the local endpoint (for the failure destination).
    input_template : str
        The target input, placeholders unfilled.
    schedule_arn : str
        The schedule's ARN (``<aws.scheduler.schedule-arn>``).
    """

    def __init__(self, pool: FunctionPool, config: AsyncConfig, *, sqs: Any, input_template: Any, schedule_arn: str) -> None:
        super().__init__(pool, config, sqs=sqs)
        self.input_template = input_template
        self.schedule_arn = schedule_arn

    def event(self, fire_time: datetime) -> Any:
        """The event of the run at ``fire_time``: the target input with its placeholders filled in."""
        values = {
            "execution_id": str(uuid.uuid4()),
            "scheduled_time": iso_z(fire_time),
            "schedule_arn": self.schedule_arn,
            "attempt_number": "1",
        }
        text = fill_placeholders(str(self.input_template), values)
        try:
            return json.loads(text)
        except ValueError:
            return text
