"""An SQS ``AWS::Lambda::EventSourceMapping``, emulated: pollers that receive, deliver and delete.

:class:`SqsEventSource` works a task queue off as the mapping says: batch
size, filters, partial batch responses, at most its concurrency batches at a
time. A message that no filter matches is deleted, a failed one is visible
again at once (visibility timeouts are not waited out), and the queue's own
redrive policy (or none) decides when it moves to a dead-letter queue.
:func:`sqs_record` and :func:`failed_message_ids` are what Lambda does with
one batch.
"""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple

from .lambda_local import FunctionPool, Invocation
from .planning import MappingPlan
from .reporting import ConstructReport, ProgressLine

__all__ = ["SqsEventSource", "failed_message_ids", "queue_count", "sqs_record"]

_MAX_WORKER_INVOCATIONS_PER_RUN = 200_000
_MAX_SQS_BATCH = 10
_SHOWN_FAILED_BATCHES = 5
_IDLE_POLL_SECONDS = 0.02
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
)


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
        ``body``, ``attributes``, ``messageAttributes``, ``md5OfBody``,
        ``eventSource``, ``eventSourceARN``, ``awsRegion``.

    Examples
    --------
    >>> record = sqs_record({"MessageId": "m-1", "ReceiptHandle": "r", "Body": "{}"}, queue_arn="arn:q", region="us-east-1")
    >>> record["messageId"], record["eventSource"], record["eventSourceARN"]
    ('m-1', 'aws:sqs', 'arn:q')
    """
    attributes = {key: value for key, value in (message.get("Attributes") or {}).items() if key in _RECORD_ATTRIBUTES}
    message_attributes = {}
    for name, raw in (message.get("MessageAttributes") or {}).items():
        item: Dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": raw.get("DataType", "String")}
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


def failed_message_ids(invocation: Invocation, message_ids: List[str], *, partial: bool) -> Tuple[set, Optional[str]]:
    """The message IDs Lambda returns to the queue after a batch, and why when it is all of them.

    Parameters
    ----------
    invocation : Invocation
        The worker's invocation.
    message_ids : list of str
        The batch.
    partial : bool
        Whether the mapping reports batch item failures
        (``FunctionResponseTypes: [ReportBatchItemFailures]``); without it the
        response is ignored and only an error fails the batch.

    Returns
    -------
    tuple
        The failed message IDs, and the reason when the whole batch failed
        because of the response (None otherwise).
    """
    if not invocation.ok:
        return set(message_ids), invocation.error
    result = invocation.result
    if not partial or not isinstance(result, dict) or result.get("batchItemFailures") in (None, []):
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


def queue_count(sqs: Any, url: Optional[str]) -> int:
    """Messages on the queue at ``url``: visible, in flight and delayed (0 without a URL)."""
    if not url:
        return 0
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


class SqsEventSource:
    """The event source mapping of one construct: its pollers and its counts.

    Parameters
    ----------
    plan : MappingPlan
        The mapping, from the template.
    worker : FunctionPool
        Runs the worker.
    app : object
        The app run: its ``resources.sqs`` client, ``region``,
        ``out_of_time()``, ``show_bar``, ``progress(line)``,
        ``show_output(invocation)`` and ``show_errors(invocation)``.
    path : str
        The construct's path, for progress lines.
    record_error : callable
        ``record_error(role, invocation)`` counts a failed invocation.
    notes : list of str
        The construct's report notes.
    """

    def __init__(
        self,
        plan: MappingPlan,
        worker: FunctionPool,
        *,
        app: Any,
        path: str,
        record_error: Callable[[str, Invocation], None],
        notes: List[str],
    ) -> None:
        self.plan = plan
        self.worker = worker
        self.app = app
        self.path = path
        self.record_error = record_error
        self.notes = notes
        self.seen: Dict[str, int] = {}
        self.counts = {"filtered": 0, "deliveries": 0, "worker_invocations": 0, "sent": 0}
        #: Tasks the worker finished (a message delivered twice counts once).
        self.succeeded: set = set()
        self.lock = threading.Lock()

    def queue_count(self, url: Optional[str]) -> int:
        """Messages on the queue at ``url`` (see :func:`queue_count`)."""
        return queue_count(self.app.resources.sqs, url)

    @property
    def done(self) -> int:
        """Tasks finished so far: succeeded or dropped by the filters."""
        return len(self.succeeded) + self.counts["filtered"]

    def drain(self, label: str, sent: int) -> None:
        """Work the task queue off as the mapping does, until it is empty (or a limit is hit)."""
        mapping = self.plan
        if not mapping.enabled or mapping.concurrency < 1:
            return
        progress = ProgressLine(self.app.show_bar, label, sent)
        state = {"busy": 0, "stop": False, "shown": 0, "invocations": 0}
        condition = threading.Condition()
        start_done = self.done

        def poll() -> None:
            sqs = self.app.resources.sqs
            while True:
                with condition:
                    if state["stop"]:
                        return
                    if self.app.out_of_time() or state["invocations"] >= _MAX_WORKER_INVOCATIONS_PER_RUN:
                        state["stop"] = True
                        condition.notify_all()
                        return
                batch = self._receive(sqs)
                if batch:
                    with condition:
                        state["busy"] += 1
                        state["invocations"] += 1
                    try:
                        self._deliver(sqs, batch, state)
                        progress.update(self.done - start_done)
                    finally:
                        with condition:
                            state["busy"] -= 1
                            condition.notify_all()
                    continue
                with condition:
                    # Nothing visible. A batch in flight holds its messages until it has deleted
                    # them or made them visible again, so the run is done when no batch is in
                    # flight and the queue holds nothing (visible, in flight or delayed).
                    if state["busy"] == 0 and self.queue_count(mapping.queue_url) == 0:
                        state["stop"] = True
                        condition.notify_all()
                        return
                    condition.wait(_IDLE_POLL_SECONDS)

        workers = max(1, mapping.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="event-source") as pool:
            for future in [pool.submit(poll) for _ in range(workers)]:
                future.result()
        progress.update(self.done - start_done, final=True)
        if state["invocations"] >= _MAX_WORKER_INVOCATIONS_PER_RUN:
            self.notes.append(f"stopped feeding the worker after {_MAX_WORKER_INVOCATIONS_PER_RUN} invocations in one run")

    def _receive(self, sqs: Any) -> List[Dict[str, Any]]:
        mapping = self.plan
        batch: List[Dict[str, Any]] = []
        while len(batch) < mapping.batch_size:
            response = sqs.receive_message(
                QueueUrl=mapping.queue_url,
                MaxNumberOfMessages=min(_MAX_SQS_BATCH, mapping.batch_size - len(batch)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = response.get("Messages") or []
            if not messages:
                break
            batch.extend(messages)
        return batch

    def _deliver(self, sqs: Any, batch: List[Dict[str, Any]], state: Dict[str, Any]) -> None:
        mapping = self.plan
        records = [sqs_record(m, queue_arn=mapping.queue_arn, region=self.app.region) for m in batch]
        with self.lock:
            for message in batch:
                count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
                self.seen[message["MessageId"]] = max(count, self.seen.get(message["MessageId"], 0))
        kept = [(m, r) for m, r in zip(batch, records) if mapping.matches(r)]
        kept_ids = {m["MessageId"] for m, _ in kept}
        dropped = [m for m in batch if m["MessageId"] not in kept_ids]
        self._delete(sqs, dropped)
        with self.lock:
            self.counts["filtered"] += len(dropped)
        if not kept:
            return
        ids = [m["MessageId"] for m, _ in kept]
        invocation = self.worker.invoke({"Records": [r for _, r in kept]})
        with self.lock:
            self.counts["worker_invocations"] += 1
            self.counts["deliveries"] += len(kept)
        self.app.show_output(invocation)
        failed, reason = failed_message_ids(invocation, ids, partial=mapping.partial)
        if not invocation.ok:
            self.record_error("worker", invocation)
        if failed:
            with self.lock:
                state["shown"] += 1
                shown = state["shown"]
            if shown <= _SHOWN_FAILED_BATCHES:
                if reason:
                    self.app.progress(f"{self.path}: worker batch of {len(kept)} failed: {reason}")
                else:
                    self.app.progress(f"{self.path}: worker reported {len(failed)} of {len(kept)} task(s) failed")
                self.app.show_errors(invocation)
            elif shown == _SHOWN_FAILED_BATCHES + 1:
                self.app.progress(f"{self.path}: more failed batches in this run (not shown)")
        done = [m for m, _ in kept if m["MessageId"] not in failed]
        again = [m for m, _ in kept if m["MessageId"] in failed]
        self._delete(sqs, done)
        with self.lock:
            self.succeeded.update(m["MessageId"] for m in done)
        for start in range(0, len(again), _MAX_SQS_BATCH):
            chunk = again[start : start + _MAX_SQS_BATCH]
            sqs.change_message_visibility_batch(
                QueueUrl=mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(chunk)],
            )

    def _delete(self, sqs: Any, messages: List[Dict[str, Any]]) -> None:
        for start in range(0, len(messages), _MAX_SQS_BATCH):
            chunk = messages[start : start + _MAX_SQS_BATCH]
            sqs.delete_message_batch(
                QueueUrl=self.plan.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    def report_into(self, report: ConstructReport) -> None:
        """Write the task counts into ``report``, read back from the queues, and check they add up."""
        report.tasks_sent = self.counts["sent"]
        report.tasks_succeeded = len(self.succeeded)
        report.tasks_filtered = self.counts["filtered"]
        report.tasks_retried = sum(1 for count in self.seen.values() if count > 1)
        report.task_deliveries = self.counts["deliveries"]
        report.worker_invocations = self.counts["worker_invocations"]
        report.tasks_left_in_queue = self.queue_count(self.plan.queue_url)
        if self.plan.dead_letter_url:
            report.tasks_dead_lettered = self.queue_count(self.plan.dead_letter_url)
        accounted = report.tasks_succeeded + report.tasks_filtered + (report.tasks_dead_lettered or 0) + report.tasks_left_in_queue
        if accounted != report.tasks_sent:
            report.notes.append(
                f"count mismatch: {report.tasks_sent} task(s) sent, but {report.tasks_succeeded} succeeded, "
                f"{report.tasks_filtered} filtered, {report.tasks_dead_lettered or 0} dead-lettered and "
                f"{report.tasks_left_in_queue} left on the queue"
            )
