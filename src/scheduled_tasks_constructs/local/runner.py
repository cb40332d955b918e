"""Run the scheduled constructs of a CDK app against a local AWS endpoint.

For every :class:`~scheduled_tasks_constructs.ScheduledLambdaToTable` and
:class:`~scheduled_tasks_constructs.ScheduledTaskFanout` of a loaded app
(:func:`~scheduled_tasks_constructs.local.cdk_app.load_app`), :func:`run_app`

1. creates the construct's tables and queues on the endpoint (a task queue
   gets a real ``RedrivePolicy`` to its dead-letter queue, so the endpoint
   moves a task that keeps failing, as SQS does);
2. imports every handler once (the cold start): the bundled handlers from the
   installed package, your code from its asset folder with its layers;
3. fires the requested number of runs of every schedule, in the order of
   their real next fire times: at once (virtual time) or when the time comes
   (real time);
4. per run, invokes the scheduled function with the Scheduler's input (its
   placeholders filled in), retrying a failed run as Lambda retries an
   asynchronous invocation, then sending it to the run dead-letter queue;
5. for a fan-out, feeds the task queue to the worker in batches of the
   construct's batch size as SQS events, deletes what succeeded and makes
   what failed visible again at once, until the queue is empty;
6. reads the results back from the endpoint: table items, messages in the
   dead-letter queues, results posted to the (local) webhook.

Every loop is bounded, and the whole run has a wall-clock limit.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from .cdk_app import ConstructPlan, FunctionPlan, LoadedApp, TablePlan, one_line, table_plan_from_template
from .endpoint import WebhookSink, client, fake_session
from .lambda_local import Container, HandlerError, Invocation

__all__ = [
    "ACCOUNT",
    "ConstructReport",
    "HandlerError",
    "RunOptions",
    "RunReport",
    "RunnerError",
    "fill_placeholders",
    "iso_z",
    "run_app",
    "sqs_record",
]

ACCOUNT = "123456789012"
"""The account id of the local endpoint's ARNs (moto's default)."""

_PLACEHOLDERS = {
    "execution_id": "<aws.scheduler.execution-id>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "attempt_number": "<aws.scheduler.attempt-number>",
}
_MAX_WORKER_INVOCATIONS_PER_RUN = 10_000
_MAX_SQS_BATCH = 10
_SHOWN_ERROR_LINES = 3
_SHOWN_FAILED_BATCHES = 5
_MAX_VISIBILITY = 43_200
_ENV_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


class RunnerError(Exception):
    """A run cannot start (bad schedule, unrunnable handler); the message is one line."""


@dataclass
class RunOptions:
    """How to run.

    Parameters
    ----------
    runs : int
        Runs of each schedule. Default: 3.
    real_time : bool
        Wait for each fire time instead of running at once. Default: False.
    after : datetime or None
        Virtual time only: the instant the fire times follow. Default: now.
    region : str
        Region of the local resources. Default: ``"us-east-1"``.
    timeout_seconds : float
        Wall-clock limit of the whole run. Default: 600.
    verbose : bool
        Show what handlers print and log. Default: False.
    now : callable
        Current time (timezone-aware); for tests.
    sleep : callable
        ``sleep(seconds)``; for tests.
    """

    runs: int = 3
    real_time: bool = False
    after: Optional[datetime] = None
    region: str = "us-east-1"
    timeout_seconds: float = 600.0
    verbose: bool = False
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


@dataclass
class ConstructReport:
    """What one construct did. Task fields are None for a ScheduledLambdaToTable,
    ``table_items`` is None for a construct without a table, ``results_posted``
    None without a webhook."""

    path: str
    construct: str
    schedule: str
    time_zone: str
    runs_requested: int
    runs_planned: int = 0
    batch_size: Optional[int] = None
    max_receive_count: Optional[int] = None
    runs: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    invocations: int = 0
    fire_times: List[str] = field(default_factory=list)
    tasks_sent: Optional[int] = None
    tasks_succeeded: Optional[int] = None
    tasks_retried: Optional[int] = None
    tasks_dead_lettered: Optional[int] = None
    tasks_left_in_queue: Optional[int] = None
    task_deliveries: Optional[int] = None
    worker_invocations: Optional[int] = None
    table_items: Optional[int] = None
    runs_dead_lettered: int = 0
    results_posted: Optional[int] = None
    seconds: float = 0.0
    resources: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every planned run fired and succeeded, and no task was lost or dead-lettered.

        A schedule that fires fewer times than requested (an ``at()`` schedule,
        an end date, a disabled schedule) plans fewer runs; that alone is not
        a failure.
        """
        return (
            self.runs == self.runs_planned
            and self.runs_failed == 0
            and not self.tasks_dead_lettered
            and not self.tasks_left_in_queue
        )

    def to_dict(self) -> Dict[str, Any]:
        """The report as JSON-ready data (``ok`` included)."""
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass
class RunReport:
    """What a whole app run did."""

    app: str
    endpoint: str
    embedded: bool
    real_time: bool
    constructs: List[ConstructReport]
    seconds: float = 0.0
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every construct is ok and the run was not cut short."""
        return all(c.ok for c in self.constructs) and not self.notes

    def to_dict(self) -> Dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "app": self.app,
            "endpoint": self.endpoint,
            "embedded_endpoint": self.embedded,
            "time": "real" if self.real_time else "virtual",
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "constructs": [c.to_dict() for c in self.constructs],
        }


# --------------------------------------------------------------------------- events


def iso_z(moment: datetime) -> str:
    """Write an instant as the Scheduler writes ``scheduled_time``.

    Parameters
    ----------
    moment : datetime
        A timezone-aware instant.

    Returns
    -------
    str
        The instant in UTC, to the second, with a ``Z``.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> iso_z(datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    '2026-11-23T01:00:00Z'
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill_placeholders(value: Any, values: Dict[str, str]) -> Any:
    """Substitute the Scheduler's context placeholders in a target input.

    Parameters
    ----------
    value : Any
        The target input (JSON data).
    values : dict
        ``execution_id``, ``scheduled_time``, ``schedule_arn`` and
        ``attempt_number`` values (strings).

    Returns
    -------
    Any
        A copy with every ``<aws.scheduler.*>`` placeholder replaced, also
        inside longer strings, as the Scheduler does.

    Examples
    --------
    >>> fill_placeholders({"id": "<aws.scheduler.execution-id>", "n": [1]},
    ...                   {"execution_id": "e-1"})
    {'id': 'e-1', 'n': [1]}
    """
    if isinstance(value, dict):
        return {k: fill_placeholders(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, values) for v in value]
    if isinstance(value, str):
        for key, placeholder in _PLACEHOLDERS.items():
            if placeholder in value and key in values:
                value = value.replace(placeholder, values[key])
        return value
    return value


def sqs_record(message: Dict[str, Any], *, queue_arn: str, region: str) -> Dict[str, Any]:
    """Turn an SQS ``ReceiveMessage`` message into a Lambda SQS event record.

    Parameters
    ----------
    message : dict
        One message of a ``ReceiveMessage`` response (system and message
        attributes requested).
    queue_arn : str
        The queue's ARN (``eventSourceARN``).
    region : str
        The Region (``awsRegion``).

    Returns
    -------
    dict
        The record as Lambda delivers it: ``messageId``, ``receiptHandle``,
        ``body``, ``attributes`` (``ApproximateReceiveCount`` ...),
        ``messageAttributes`` (``stringValue``/``dataType`` ...),
        ``md5OfBody``, ``eventSource``, ``eventSourceARN``, ``awsRegion``.
    """
    attributes = {
        key: value
        for key, value in (message.get("Attributes") or {}).items()
        if key
        in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "SequenceNumber",
            "MessageGroupId",
            "MessageDeduplicationId",
            "AWSTraceHeader",
        )
    }
    message_attributes = {}
    for name, raw in (message.get("MessageAttributes") or {}).items():
        item: Dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": raw.get("DataType", "String"),
        }
        if "StringValue" in raw:
            item["stringValue"] = raw["StringValue"]
        if "BinaryValue" in raw:
            binary = raw["BinaryValue"]
            item["binaryValue"] = base64.b64encode(binary if isinstance(binary, bytes) else str(binary).encode()).decode()
        message_attributes[name] = item
    record: Dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _failed_ids(invocation: Invocation, message_ids: List[str]) -> Tuple[set, Optional[str]]:
    """The message ids Lambda would return to the queue, and why when it is all of them."""
    if not invocation.ok:
        return set(message_ids), invocation.error
    result = invocation.result
    if not isinstance(result, dict) or result.get("batchItemFailures") in (None, []):
        return set(), None
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return set(message_ids), "the response's batchItemFailures is not a list"
    failed = set()
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return set(message_ids), "the response names an itemIdentifier that is not in the batch"
        failed.add(identifier)
    return failed, None


# --------------------------------------------------------------------------- one construct


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "construct"


def _plural(count: int, noun: str) -> str:
    """``"1 task"``, ``"2 tasks"``, ``"3 batches"``."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('s', 'sh', 'ch', 'x')) else 's'}"


def _referenced_id(value: Any) -> Optional[str]:
    """The logical ID a template value refers to (``Ref`` or ``Fn::GetAtt [id, Arn]``)."""
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and len(attribute) == 2 and attribute[1] == "Arn":
            return attribute[0] if isinstance(attribute[0], str) else None
    return None


def _aware(value: Any) -> Optional[datetime]:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class _ConstructRun:
    """The local resources, containers and counters of one construct."""

    def __init__(self, runner: "_AppRun", plan: ConstructPlan, index: int) -> None:
        self.runner = runner
        self.plan = plan
        self.index = index
        spec = plan.spec
        self.report = ConstructReport(
            path=plan.path,
            construct=plan.class_name,
            schedule=spec.expression,
            time_zone=spec.time_zone,
            runs_requested=runner.options.runs,
            batch_size=int(spec.batch_size) if spec.kind == "fanout" else None,
            max_receive_count=int(spec.max_receive_count) if spec.kind == "fanout" else None,
        )
        self.key = f"{index}-{_sanitize(plan.path)}"[:60]
        self.table_name: Optional[str] = None
        self.queue_url: Optional[str] = None
        self.queue_arn: Optional[str] = None
        self.dlq_url: Optional[str] = None
        self.run_dlq_url: Optional[str] = None
        self.secret_arn: Optional[str] = None
        self.containers: List[Container] = []
        self.producer: Optional[Container] = None
        self.worker: Optional[Container] = None
        self.seen: Dict[str, int] = {}
        self.succeeded: set = set()
        self.deliveries = 0
        self.worker_invocations = 0
        self.fire_times: List[datetime] = []

    # -- names -----------------------------------------------------------------------

    def _name(self, part: str, limit: int = 80) -> str:
        suffix = f"-{part}-{self.runner.suffix}"
        base = _sanitize(self.plan.path.replace("/", "-"))
        return base[: max(1, limit - len(suffix))] + suffix

    # -- resources ---------------------------------------------------------------------

    def _create_queue(self, part: str, attributes: Optional[Dict[str, str]] = None) -> Tuple[str, str]:
        return self.runner.create_queue(self._name(part), attributes)

    def create_referenced_resources(self) -> None:
        """Tables and queues of the stack that the functions' environments name.

        A function may get the name of another table or queue of its stack
        (``environment={"AUDIT_TABLE": audit.table_name}``); those are created
        locally too, once per stack, from their template properties.
        """
        runner, plan = self.runner, self.plan
        resources = plan.template.get("Resources", {})
        functions = [plan.function] + ([plan.worker] if plan.worker is not None else [])
        for function in functions:
            for value in function.environment.values():
                logical_id = _referenced_id(value)
                if not logical_id or (plan.stack_name, logical_id) in runner.refs:
                    continue
                resource = resources.get(logical_id, {})
                kind = resource.get("Type")
                name = _sanitize(f"{plan.stack_name}-{logical_id}")[:70] + f"-{runner.suffix}"
                if kind == "AWS::DynamoDB::Table":
                    table = table_plan_from_template(logical_id, resource.get("Properties", {}))
                    arn = runner.create_table(name, table)
                    runner.register(plan, logical_id, name, arn)
                elif kind == "AWS::SQS::Queue":
                    url, arn = runner.create_queue(name)
                    runner.register(plan, logical_id, url, arn)
                else:
                    continue
                self.report.resources[f"referenced:{logical_id}"] = name

    def create_resources(self) -> None:
        plan, spec, runner = self.plan, self.plan.spec, self.runner
        ids = plan.resource_logical_ids
        resources = self.report.resources
        if plan.table is not None:
            self.table_name = self._name("Table", limit=255)
            arn = runner.create_table(self.table_name, plan.table)
            runner.register(plan, ids.get("table"), self.table_name, arn)
            resources["table"] = self.table_name
        run_dlq_id = ids.get("run_dead_letter_queue") if spec.kind == "fanout" else ids.get("dead_letter_queue")
        self.run_dlq_url, run_dlq_arn = self._create_queue("RunDLQ")
        runner.register(plan, run_dlq_id, self.run_dlq_url, run_dlq_arn)
        resources["run_dead_letter_queue"] = self.run_dlq_url
        if spec.kind == "fanout":
            self.dlq_url, dlq_arn = self._create_queue("DLQ")
            runner.register(plan, ids.get("dead_letter_queue"), self.dlq_url, dlq_arn)
            visibility = int(min(_MAX_VISIBILITY, max(0, math.ceil(spec.visibility_timeout_seconds or 30))))
            self.queue_url, self.queue_arn = self._create_queue(
                "Queue",
                {
                    "VisibilityTimeout": str(visibility),
                    "RedrivePolicy": json.dumps(
                        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": int(spec.max_receive_count)}
                    ),
                },
            )
            runner.register(plan, ids.get("queue"), self.queue_url, self.queue_arn)
            resources["queue"] = self.queue_url
            resources["dead_letter_queue"] = self.dlq_url
            if spec.webhook:
                sink = runner.webhook_sink()
                self.secret_arn = runner.secretsmanager.create_secret(
                    Name=self._name("webhook", limit=256), SecretString=sink.url_for(self.key)
                )["ARN"]
                resources["webhook_secret"] = self.secret_arn
                resources["webhook_url"] = sink.url_for(self.key)

    # -- functions ---------------------------------------------------------------------

    def _environment(self, function: FunctionPlan) -> Callable[[], Dict[str, Optional[str]]]:
        def build() -> Dict[str, Optional[str]]:
            runner = self.runner
            env: Dict[str, Optional[str]] = {}
            for name, value in function.environment.items():
                resolved = runner.resolve(self.plan, value)
                if resolved is not None:
                    env[name] = resolved
            if function.role == "function" and self.table_name:
                env["TABLE_NAME"] = self.table_name
            if function.role == "producer" and self.queue_url:
                env["QUEUE_URL"] = self.queue_url
            if function.role == "worker" and self.secret_arn:
                env["WEBHOOK_SECRET_ARN"] = self.secret_arn
                env.setdefault("WEBHOOK_KIND", "slack")  # the local sink's URL tells no kind
            env.update(runner.base_environment(function))
            return env

        return build

    def create_containers(self) -> None:
        runner = self.runner

        def container(function: FunctionPlan) -> Container:
            made = Container(
                function,
                environment=self._environment(function),
                region=runner.region,
                account=ACCOUNT,
                owner=self.plan.path,
                log_level=logging.DEBUG if runner.options.verbose else logging.INFO,
            )
            self.containers.append(made)
            return made

        self.producer = container(self.plan.function)
        if self.plan.worker is not None:
            self.worker = container(self.plan.worker)

    # -- schedule ----------------------------------------------------------------------

    def compute_fire_times(self, after: datetime, count: int) -> None:
        from .schedule import ScheduleExpressionError, next_fire_times

        spec = self.plan.spec
        if not spec.enabled:
            self.report.notes.append("the schedule is disabled: it does not fire")
            return
        try:
            self.fire_times = next_fire_times(
                spec.expression,
                after=after,
                count=count,
                time_zone=spec.time_zone,
                start=_aware(spec.start),
                end=_aware(spec.end),
            )
        except (ScheduleExpressionError, ValueError) as exc:
            raise RunnerError(f"{self.plan.path}: cannot compute the fire times of {spec.expression}: {one_line(exc)}") from None
        self.report.runs_planned = len(self.fire_times)
        if len(self.fire_times) < count:
            self.report.notes.append(
                f"the schedule fires {len(self.fire_times)} time(s) after {iso_z(after)}, not {count}"
            )

    # -- one run -----------------------------------------------------------------------

    def fire(self, number: int, fire_time: datetime) -> None:
        runner, report, plan = self.runner, self.report, self.plan
        started = time.monotonic()
        report.runs += 1
        report.fire_times.append(iso_z(fire_time))
        execution_id = str(uuid.uuid4())
        request_id = str(uuid.uuid4())
        values = {
            "execution_id": execution_id,
            "scheduled_time": iso_z(fire_time),
            "schedule_arn": f"arn:aws:scheduler:{runner.region}:{ACCOUNT}:schedule/default/{plan.schedule_name}",
            "attempt_number": "1",
        }
        event = fill_placeholders(plan.spec.target_input, values)
        assert self.producer is not None
        attempts = 1 + max(0, int(plan.function.async_retry_attempts))
        invocation: Optional[Invocation] = None
        for attempt in range(1, attempts + 1):
            invocation = self.producer.invoke(event, request_id=request_id)
            report.invocations += 1
            runner.show_output(invocation)
            if invocation.ok:
                break
            runner.progress(
                f"{plan.path}: run {number}: {plan.function.role} attempt {attempt}/{attempts} failed: {invocation.error}"
            )
        assert invocation is not None
        label = f"{plan.path}: run {number}/{report.runs_planned} at {iso_z(fire_time)}"
        if invocation.ok:
            report.runs_succeeded += 1
        else:
            report.runs_failed += 1
            self._send_to_run_dlq(event, invocation, attempts)
        if plan.spec.kind == "fanout":
            before = (len(self.seen), len(self.succeeded), self.worker_invocations, self._queue_count(self.dlq_url))
            self.drain()
            sent = len(self.seen) - before[0]
            done = len(self.succeeded) - before[1]
            batches = self.worker_invocations - before[2]
            dead = self._queue_count(self.dlq_url) - before[3]
            state = "ok" if invocation.ok else "FAILED"
            text = f"{label}: {state}, {_plural(sent, 'task')} sent, {_plural(batches, 'batch')}, {done} succeeded"
            if dead:
                text += f", {dead} to the dead-letter queue"
            runner.progress(text)
        else:
            runner.progress(f"{label}: {'ok' if invocation.ok else 'FAILED'}")
        report.seconds += time.monotonic() - started

    def _send_to_run_dlq(self, event: Any, invocation: Invocation, attempts: int) -> None:
        """What Lambda's on-failure destination receives after the last retry."""
        error_type, _, message = (invocation.error or "Error").partition(": ")
        record = {
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"arn:aws:lambda:{self.runner.region}:{ACCOUNT}:function:{self.plan.function.name}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": message, "errorType": error_type},
        }
        self.runner.sqs.send_message(QueueUrl=self.run_dlq_url, MessageBody=json.dumps(record))

    def _receive_batch(self) -> List[Dict[str, Any]]:
        spec = self.plan.spec
        batch: List[Dict[str, Any]] = []
        size = max(1, int(spec.batch_size))
        while len(batch) < size:
            response = self.runner.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(_MAX_SQS_BATCH, size - len(batch)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = response.get("Messages") or []
            if not messages:
                break
            batch.extend(messages)
        return batch

    def drain(self) -> None:
        """Feed the task queue to the worker until it is empty (or a limit is hit)."""
        runner, sqs = self.runner, self.runner.sqs
        assert self.worker is not None and self.queue_url and self.queue_arn
        shown = 0
        for _ in range(_MAX_WORKER_INVOCATIONS_PER_RUN):
            if runner.out_of_time():
                return
            batch = self._receive_batch()
            if not batch:
                return
            records = [sqs_record(m, queue_arn=self.queue_arn, region=runner.region) for m in batch]
            ids = [m["MessageId"] for m in batch]
            invocation = self.worker.invoke({"Records": records})
            self.worker_invocations += 1
            self.deliveries += len(batch)
            runner.show_output(invocation)
            failed, reason = _failed_ids(invocation, ids)
            if failed:
                shown += 1
                if shown <= _SHOWN_FAILED_BATCHES:
                    if reason:
                        runner.progress(f"{self.plan.path}: worker batch of {len(batch)} failed: {reason}")
                    else:
                        runner.progress(
                            f"{self.plan.path}: worker reported {len(failed)} of {len(batch)} task(s) failed"
                        )
                        runner.show_errors(invocation)
                elif shown == _SHOWN_FAILED_BATCHES + 1:
                    runner.progress(f"{self.plan.path}: more failed batches in this run (not shown)")
            for message in batch:
                count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
                self.seen[message["MessageId"]] = max(count, self.seen.get(message["MessageId"], 0))
            done = [m for m in batch if m["MessageId"] not in failed]
            again = [m for m in batch if m["MessageId"] in failed]
            for start in range(0, len(done), _MAX_SQS_BATCH):
                chunk = done[start : start + _MAX_SQS_BATCH]
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                )
            self.succeeded.update(m["MessageId"] for m in done)
            for start in range(0, len(again), _MAX_SQS_BATCH):
                chunk = again[start : start + _MAX_SQS_BATCH]
                # Virtual time: a failed task is visible again at once instead of
                # after the visibility timeout.
                sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                        for i, m in enumerate(chunk)
                    ],
                )
        self.report.notes.append(
            f"stopped feeding the worker after {_MAX_WORKER_INVOCATIONS_PER_RUN} invocations in one run"
        )

    # -- results -----------------------------------------------------------------------

    def _queue_count(self, url: Optional[str]) -> int:
        if not url:
            return 0
        attributes = self.runner.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def finish(self) -> ConstructReport:
        report, runner = self.report, self.runner
        if self.table_name:
            items = 0
            kwargs: Dict[str, Any] = {"TableName": self.table_name, "Select": "COUNT"}
            for _ in range(100_000):
                page = runner.dynamodb.scan(**kwargs)
                items += int(page.get("Count", 0))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            report.table_items = items
        report.runs_dead_lettered = self._queue_count(self.run_dlq_url)
        if self.plan.spec.kind == "fanout":
            report.tasks_dead_lettered = self._queue_count(self.dlq_url)
            report.tasks_left_in_queue = self._queue_count(self.queue_url)
            report.tasks_sent = len(self.seen)
            report.tasks_succeeded = len(self.succeeded)
            report.tasks_retried = sum(1 for count in self.seen.values() if count > 1)
            report.task_deliveries = self.deliveries
            report.worker_invocations = self.worker_invocations
            tracked_lost = len(self.seen) - len(self.succeeded)
            if tracked_lost != report.tasks_dead_lettered + report.tasks_left_in_queue:
                report.notes.append(
                    f"{tracked_lost} task(s) did not succeed, but the dead-letter queue and the task "
                    f"queue hold {report.tasks_dead_lettered + report.tasks_left_in_queue}"
                )
            if self.secret_arn and runner.sink is not None:
                report.results_posted = runner.sink.count(self.key)
        report.seconds = round(report.seconds, 3)
        return report


# --------------------------------------------------------------------------- the whole app


class _AppRun:
    def __init__(
        self,
        loaded: LoadedApp,
        *,
        endpoint: str,
        options: RunOptions,
        progress: Callable[[str], None],
    ) -> None:
        self.loaded = loaded
        self.endpoint = endpoint
        self.options = options
        self.region = options.region
        self.progress = progress
        self.suffix = uuid.uuid4().hex[:8]
        self.sqs = client("sqs", endpoint, self.region)
        self.dynamodb = client("dynamodb", endpoint, self.region)
        self.secretsmanager = client("secretsmanager", endpoint, self.region)
        self.sink: Optional[WebhookSink] = None
        self.refs: Dict[Tuple[str, str], Tuple[str, str]] = {}
        self.deadline = time.monotonic() + float(options.timeout_seconds)
        self.timed_out = False

    def out_of_time(self) -> bool:
        if time.monotonic() > self.deadline:
            self.timed_out = True
        return self.timed_out

    def webhook_sink(self) -> WebhookSink:
        if self.sink is None:
            self.sink = WebhookSink()
        return self.sink

    def create_table(self, name: str, table: TablePlan) -> str:
        """Create a table on the endpoint; return its ARN."""
        request: Dict[str, Any] = {
            "TableName": name,
            "KeySchema": table.key_schema,
            "AttributeDefinitions": table.attribute_definitions,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if table.global_secondary_indexes:
            request["GlobalSecondaryIndexes"] = table.global_secondary_indexes
        if table.local_secondary_indexes:
            request["LocalSecondaryIndexes"] = table.local_secondary_indexes
        self.dynamodb.create_table(**request)
        if table.ttl_attribute:
            self.dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"

    def create_queue(self, name: str, attributes: Optional[Dict[str, str]] = None) -> Tuple[str, str]:
        """Create a queue on the endpoint; return its URL and ARN."""
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def register(self, plan: ConstructPlan, logical_id: Optional[str], ref: str, arn: str) -> None:
        if logical_id:
            self.refs[(plan.stack_name, logical_id)] = (ref, arn)

    def resolve(self, plan: ConstructPlan, value: Any) -> Optional[str]:
        """A template environment value as a local string (None when it has no local value)."""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            if "Ref" in value and isinstance(value["Ref"], str):
                found = self.refs.get((plan.stack_name, value["Ref"]))
                return found[0] if found else None
            attribute = value.get("Fn::GetAtt")
            if isinstance(attribute, list) and len(attribute) == 2 and attribute[1] == "Arn":
                found = self.refs.get((plan.stack_name, attribute[0]))
                return found[1] if found else None
        return None

    def base_environment(self, function: FunctionPlan) -> Dict[str, Optional[str]]:
        """What Lambda sets, pointed at the local endpoint; the host's AWS profile and endpoints unset."""
        removed: Dict[str, Optional[str]] = {name: None for name in _ENV_REMOVED}
        removed.update({name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")})
        return {
            **removed,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "_HANDLER": function.handler or "",
        }

    def show_errors(self, invocation: Invocation) -> None:
        """Without --verbose, still show the error lines a handler logged (a few)."""
        if self.options.verbose:
            return
        errors = [line for line in invocation.output.splitlines() if line.startswith(("[ERROR]", "[CRITICAL]"))]
        for line in errors[:_SHOWN_ERROR_LINES]:
            self.progress(f"    | {line}")
        if len(errors) > _SHOWN_ERROR_LINES:
            self.progress(f"    | ... {len(errors) - _SHOWN_ERROR_LINES} more error line(s); -v shows all output")

    def show_output(self, invocation: Invocation) -> None:
        if self.options.verbose and invocation.output.strip():
            for line in invocation.output.rstrip().splitlines():
                self.progress(f"    | {line}")


def _reset_runtime_state(region: Optional[str]) -> Any:
    """Forget the runtime's cached clients (new containers) and set boto3's default session.

    During a run, handlers get the runner's session with fake credentials
    (``region`` given); afterwards the previous default session comes back.
    Returns the default session that was replaced.
    """
    import boto3

    from ..runtime import _aws, worker

    _aws.client.cache_clear()
    worker._webhook_url.cache_clear()
    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = fake_session(region) if region else None
    return saved


def run_app(
    loaded: LoadedApp,
    *,
    endpoint: str,
    options: Optional[RunOptions] = None,
    embedded: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> RunReport:
    """Run every scheduled construct of a loaded app on a local endpoint.

    Parameters
    ----------
    loaded : LoadedApp
        A synthesized app (:func:`~scheduled_tasks_constructs.local.cdk_app.load_app`).
    endpoint : str
        The local AWS endpoint URL (moto).
    options : RunOptions, optional
        How to run. Default: ``RunOptions()``.
    embedded : bool, optional
        Whether the endpoint was started for this run (for the report).
    progress : callable, optional
        Called with one line of progress at a time. Default: silent.

    Returns
    -------
    RunReport
        One :class:`ConstructReport` per construct, with counts read back from
        the endpoint.

    Raises
    ------
    RunnerError
        When a schedule cannot be computed.
    HandlerError
        When a handler cannot be imported (nothing has run yet then).
    """
    import boto3

    options = options or RunOptions()
    started = time.monotonic()
    run = _AppRun(loaded, endpoint=endpoint, options=options, progress=progress)
    constructs = [_ConstructRun(run, plan, index) for index, plan in enumerate(loaded.constructs, 1)]
    report = RunReport(
        app=str(loaded.app_file),
        endpoint=endpoint,
        embedded=embedded,
        real_time=options.real_time,
        constructs=[c.report for c in constructs],
    )
    saved_session = _reset_runtime_state(options.region)
    try:
        after = options.now() if options.real_time or options.after is None else options.after
        after = after.replace(microsecond=0)
        for construct in constructs:
            construct.compute_fire_times(after, options.runs)
            construct.create_containers()
        for construct in constructs:
            construct.create_resources()
        for construct in constructs:
            construct.create_referenced_resources()
            names = ", ".join(f"{k} {v}" for k, v in construct.report.resources.items() if k != "webhook_url")
            progress(f"{construct.plan.path}: created {names}")
        for construct in constructs:
            # The cold starts: every handler is imported before anything runs.
            for container in construct.containers:
                container.cold_start()
        timeline = sorted(
            (fire, construct.index, number)
            for construct in constructs
            for number, fire in enumerate(construct.fire_times, 1)
        )
        by_index = {c.index: c for c in constructs}
        for fire, index, number in timeline:
            if run.out_of_time():
                break
            if options.real_time and not _wait_until(fire, run, options, progress):
                break
            by_index[index].fire(number, fire)
        if run.timed_out:
            report.notes.append(
                f"stopped at the time limit of {options.timeout_seconds:g} s (--timeout); later runs did not fire"
            )
        for construct in constructs:
            construct.finish()
    finally:
        if run.sink is not None:
            run.sink.close()
        _reset_runtime_state(None)
        boto3.DEFAULT_SESSION = saved_session
    report.seconds = time.monotonic() - started
    return report


def _wait_until(fire: datetime, run: _AppRun, options: RunOptions, progress: Callable[[str], None]) -> bool:
    """Sleep until ``fire`` (real time); False when it is past the time limit."""
    delay = (fire - options.now()).total_seconds()
    if delay <= 0:
        return True
    if time.monotonic() + delay > run.deadline:
        run.timed_out = True
        return False
    progress(f"waiting {delay:.0f} s for {iso_z(fire)}")
    for _ in range(int(delay) + 2):
        remaining = (fire - options.now()).total_seconds()
        if remaining <= 0:
            return True
        options.sleep(min(1.0, remaining))
    return True

