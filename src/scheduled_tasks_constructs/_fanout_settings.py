"""The props of a ``ScheduledTaskFanout``: their validation, and the frozen settings they resolve to.

:func:`resolve` checks every prop (recording every problem, raising them
together) and returns one :class:`FanoutSettings` with every default applied
and every derived value (the queue's visibility timeout, the schedule input)
computed once; the construct builds its resources from that alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from . import _assets, _defaults, _schedule, _skeleton, _tables
from ._validation import Described, Problems, is_token
from .runtime import (
    LEDGER_TABLE_NAME,
    LEDGER_TTL_SECONDS,
    LOCK_SECONDS,
    MAX_ATTEMPTS,
    MAX_RECEIVE_COUNT,
    OVERLAP,
    QUEUE_URL,
    RUN_METRICS,
    SHARD_SIZE,
    WEBHOOK_MESSAGE_MODES,
    WEBHOOK_MESSAGES,
    WEBHOOK_SECRET_ARN,
    messages,
)

#: Environment variables the construct sets on the producer and on the worker.
_PRODUCER_VARIABLES = (
    QUEUE_URL, LEDGER_TABLE_NAME, OVERLAP, LOCK_SECONDS, MAX_ATTEMPTS, LEDGER_TTL_SECONDS,
    WEBHOOK_SECRET_ARN, WEBHOOK_MESSAGES, RUN_METRICS, SHARD_SIZE,
)
_WORKER_VARIABLES = (
    WEBHOOK_SECRET_ARN, LEDGER_TABLE_NAME, OVERLAP, LOCK_SECONDS, MAX_RECEIVE_COUNT, WEBHOOK_MESSAGES, RUN_METRICS,
)


@dataclass(frozen=True)
class FanoutSettings:
    """The props of a ``ScheduledTaskFanout``, validated, with every default applied."""

    common: _skeleton.CommonSettings
    producer: _skeleton.FunctionSettings
    worker: _skeleton.FunctionSettings
    #: The schedule's input: the run's context attributes and the static tasks.
    payload: Mapping[str, Any]
    tasks: Optional[List[Any]]
    run_dead_letter_queue: Optional[sqs.IQueue]
    existing_queue: Optional[sqs.IQueue]
    #: The created queue's props, without its dead-letter queue (None with ``existing_queue``).
    queue: Optional[Mapping[str, Any]]
    max_receive_count: Optional[int]
    batch_size: int
    max_batching_window: Optional[Duration]
    max_concurrency: Optional[int]
    webhook_secret: Optional[secretsmanager.ISecret]
    #: Receives before a task is dead-lettered, as the worker's ledger counts them
    #: (the created queue's, or the redrive policy of an existing queue of this app).
    worker_max_receive_count: Optional[int]
    existing_ledger_table: Optional[dynamodb.ITable]
    #: The created run ledger's props (None with ``existing_ledger_table``).
    ledger_table: Optional[Mapping[str, Any]]
    #: ``ledger_retention`` in seconds, as the environment holds it.
    ledger_ttl_seconds: str
    #: ``"summary"``, ``"per_task"`` or ``"both"``.
    webhook_messages: str
    #: ``SHARD_SIZE`` of a producer of your own (None with the bundled producer or ``existing_producer``).
    shard_size: Optional[int]


def resolve(id: str, props: Mapping[str, Any]) -> FanoutSettings:
    """Validate the props of a ``ScheduledTaskFanout`` (every problem at once) and resolve them."""
    problems = Problems(f"ScheduledTaskFanout '{id}'")
    _skeleton.validate_schedule(problems, props)
    producer = _skeleton.resolve_function(
        problems,
        props,
        id="Producer",
        prefix="producer_",
        reserved=_PRODUCER_VARIABLES,
        bundled_handler=_assets.handler_path("producer"),
        default_memory_size=_defaults.PRODUCER_MEMORY_MB,
        default_timeout=_defaults.PRODUCER_TIMEOUT,
        description="Sends the tasks of each scheduled run to the task queue",
    )
    worker = _skeleton.resolve_function(
        problems,
        props,
        id="Worker",
        prefix="worker_",
        reserved=_WORKER_VARIABLES,
        bundled_handler=None,
        default_memory_size=_defaults.WORKER_MEMORY_MB,
        default_timeout=_defaults.WORKER_TIMEOUT,
        description="Runs the tasks of the task queue",
    )
    if worker.code is None and worker.handler is None and worker.existing is None:
        problems.add_message(
            "worker_code/worker_handler or existing_worker: the worker is required, got neither"
        )
    worker = replace(worker, extra_layers=_worker_layers(problems, props.get("worker_layers"), worker))
    common = _skeleton.resolve_common(problems, props, scheduled=producer, functions=[producer, worker])
    tasks = props.get("tasks")
    custom_producer = producer.existing is not None or not producer.bundled
    payload = dict(_schedule.CONTEXT_INPUT)
    if tasks is not None:
        _validate_tasks(problems, tasks)
        payload["tasks"] = list(tasks) if isinstance(tasks, (list, tuple)) else tasks
    elif not custom_producer:
        problems.add_message(
            "tasks: required with the bundled producer (or give producer_code/producer_handler "
            "or existing_producer that builds tasks at run time), got none"
        )
    if tasks is not None and not problems.items:
        if _schedule.has_token(payload) and _schedule.has_null(payload):
            problems.add(
                "tasks",
                "free of null (None) values when it holds values known only at deploy time "
                "(CDK drops them while resolving those values)",
                Described("both"),
            )
        else:
            _schedule.validate_input_size(problems, "tasks", payload)
    shard_size = props.get("producer_shard_size")
    own_code = producer.existing is None and not producer.bundled
    if shard_size is not None and not own_code:
        problems.add_message(
            "producer_shard_size: applies to a producer of your own built from producer_code "
            "(runtime.sharding.sharded_producer), got it with "
            + ("existing_producer" if producer.existing is not None else "the bundled producer")
        )
    if is_token(shard_size):
        problems.add("producer_shard_size", "a whole number known when the app is synthesized", Described("a token"))
    else:
        problems.integer_range("producer_shard_size", shard_size, 100, 1_000_000)
    existing_queue, queue_props = props.get("existing_queue"), props.get("queue_props")
    max_receive_count, batch_size = props.get("max_receive_count"), props.get("batch_size")
    max_batching_window, max_concurrency = props.get("max_batching_window"), props.get("max_concurrency")
    problems.exclusive(existing_queue=existing_queue, queue_props=queue_props)
    if existing_queue is not None and max_receive_count is not None:
        problems.add_message(
            "max_receive_count: only applies to a queue the construct creates, got it with "
            "existing_queue"
        )
    problems.integer_range("max_receive_count", max_receive_count, 1, 1000)
    problems.integer_range("batch_size", batch_size, 1, 10000)
    problems.duration_range(
        "max_batching_window", max_batching_window, Duration.seconds(0), Duration.seconds(300)
    )
    if (
        isinstance(batch_size, (int, float))
        and not is_token(batch_size)
        and batch_size > 10
        and (
            max_batching_window is None
            or (
                isinstance(max_batching_window, Duration)
                and not is_token(max_batching_window)
                and max_batching_window.to_milliseconds() < 1000
            )
        )
    ):
        problems.add(
            "max_batching_window",
            f"at least 1 second when batch_size is over 10 (batch_size is {batch_size})",
            max_batching_window if max_batching_window is not None else Described("none"),
        )
    problems.integer_range("max_concurrency", max_concurrency, 2, 1000)
    webhook_secret = props.get("webhook_secret")
    problems.interface("webhook_secret", webhook_secret, "secret_arn", "an aws_secretsmanager.ISecret")

    visibility = _Visibility.of(worker, props.get("worker_timeout"), max_batching_window)
    if queue_props is not None and not isinstance(queue_props, sqs.QueueProps):
        problems.add("queue_props", "an aws_sqs.QueueProps", Described(type(queue_props).__name__))
    elif queue_props is not None:
        _validate_queue_props(problems, queue_props._values, visibility, tasks)
    run_dead_letter_queue = props.get("run_dead_letter_queue")
    for prop, queue in (("existing_queue", existing_queue), ("run_dead_letter_queue", run_dead_letter_queue)):
        _schedule.validate_dead_letter_queue(problems, prop, queue)
    if isinstance(existing_queue, sqs.Queue):
        _validate_existing_queue(
            problems,
            existing_queue,
            rule=visibility if visibility.known_for_existing else None,
            tasks=tasks if not problems.items else None,
        )
    ledger = _ledger_settings(problems, props)
    webhook_messages = props.get("webhook_messages")
    if webhook_messages is not None:
        if webhook_messages not in WEBHOOK_MESSAGE_MODES:
            problems.add(
                "webhook_messages", "one of " + ", ".join(repr(m) for m in WEBHOOK_MESSAGE_MODES), webhook_messages
            )
        elif webhook_secret is None:
            problems.add_message("webhook_messages: needs webhook_secret, got no webhook_secret")
    problems.raise_if_any()
    worker_receives = max_receive_count or _defaults.MAX_RECEIVE_COUNT
    if existing_queue is not None:
        redrive = existing_queue.dead_letter_queue if isinstance(existing_queue, sqs.Queue) else None
        worker_receives = None if redrive is None else redrive.max_receive_count
    return FanoutSettings(
        common=common,
        producer=producer,
        worker=worker,
        payload=payload,
        tasks=list(tasks) if tasks is not None else None,
        run_dead_letter_queue=run_dead_letter_queue,
        existing_queue=existing_queue,
        queue=None if existing_queue is not None else _queue_settings(queue_props, visibility),
        max_receive_count=(
            None if existing_queue is not None else int(max_receive_count or _defaults.MAX_RECEIVE_COUNT)
        ),
        batch_size=int(batch_size or _defaults.BATCH_SIZE),
        max_batching_window=max_batching_window,
        max_concurrency=max_concurrency,
        webhook_secret=webhook_secret,
        worker_max_receive_count=None if worker_receives is None or is_token(worker_receives) else int(worker_receives),
        webhook_messages=webhook_messages or _defaults.WEBHOOK_MESSAGES,
        shard_size=(int(shard_size) if shard_size is not None else _defaults.PRODUCER_SHARD_SIZE) if own_code else None,
        **ledger,
    )


def _ledger_settings(problems: Problems, props: Mapping[str, Any]) -> Dict[str, Any]:
    """Check the run ledger's props; the settings fields they resolve to."""
    existing, table_props = props.get("existing_ledger_table"), props.get("ledger_table_props")
    retention = props.get("ledger_retention")
    problems.exclusive(existing_ledger_table=existing, ledger_table_props=table_props)
    if problems.interface("existing_ledger_table", existing, "table_name", "an aws_dynamodb.ITable"):
        _tables.validate_table_key(problems, existing, "existing_ledger_table", "the run ledger")
    if table_props is not None and not isinstance(table_props, dynamodb.TableProps):
        problems.add("ledger_table_props", "an aws_dynamodb.TableProps", Described(type(table_props).__name__))
    elif table_props is not None:
        _tables.validate_table_props(problems, table_props._values, "ledger_table_props")
    problems.duration_range("ledger_retention", retention, Duration.days(1), Duration.days(36500))
    return {
        "existing_ledger_table": existing,
        "ledger_table": None if existing is not None else _tables.table_settings(table_props, ttl=True),
        "ledger_ttl_seconds": _skeleton.seconds_text(retention or _defaults.LEDGER_RETENTION),
    }


#: Lambda allows 5 layers per function; the worker always has the runtime helpers layer.
_MAX_WORKER_LAYERS = 4


def _worker_layers(
    problems: Problems, worker_layers: Any, worker: _skeleton.FunctionSettings
) -> "tuple[lambda_.ILayerVersion, ...]":
    """Check ``worker_layers``; the layers to add to the created worker (none when invalid)."""
    if worker_layers is None:
        return ()
    if worker.existing is not None:
        problems.add_message(
            "worker_layers: only applies to a worker the construct creates, got it with "
            "existing_worker"
        )
        return ()
    if isinstance(worker_layers, (str, bytes)) or not isinstance(worker_layers, Sequence):
        problems.add(
            "worker_layers", "a list of aws_lambda.ILayerVersion", Described(type(worker_layers).__name__)
        )
        return ()
    valid = len(worker_layers) <= _MAX_WORKER_LAYERS
    if not valid:
        problems.add(
            "worker_layers",
            f"at most {_MAX_WORKER_LAYERS} layers (Lambda allows 5; the runtime helpers "
            "layer is one)",
            Described(f"{len(worker_layers)} layers"),
        )
    for index, layer in enumerate(worker_layers):
        valid = problems.interface(
            f"worker_layers[{index}]", layer, "layer_version_arn", "an aws_lambda.ILayerVersion"
        ) and valid
    return tuple(worker_layers) if valid else ()


@dataclass(frozen=True)
class _Visibility:
    """The visibility timeout the task queue needs: 6 x the worker's timeout + the batching window."""

    #: The required timeout in seconds (None when the worker's timeout is known only at deploy time).
    required: Optional[int]
    worker_timeout: Optional[float]
    window: float
    #: Whether the rule may be applied to an existing queue (an existing worker's timeout may be unknown).
    known_for_existing: bool

    @classmethod
    def of(cls, worker: _skeleton.FunctionSettings, given_timeout: Any, window: Any) -> "_Visibility":
        timeout = _worker_timeout(worker, given_timeout)
        window_s = (
            window.to_milliseconds() / 1000 if isinstance(window, Duration) and not is_token(window) else 0
        )
        required = None if timeout is None else int(_defaults.VISIBILITY_TIMEOUT_FACTOR * timeout + window_s)
        # An existing worker's timeout may be unknown: the rule then assumes 15 minutes,
        # which is only a guess, not a reason to reject the queue.
        known = given_timeout is not None or worker.existing is None or isinstance(
            getattr(worker.existing, "timeout", None), Duration
        )
        return cls(required, timeout, window_s, known)

    @property
    def rule(self) -> str:
        return (
            f"6 x worker timeout {int(self.worker_timeout or 0)} s + batching window {int(self.window)} s"
        )


def _worker_timeout(worker: _skeleton.FunctionSettings, given: Any) -> Optional[float]:
    """The worker's timeout in seconds; None when known only at deploy time."""
    if worker.existing is not None and given is None:
        timeout = getattr(worker.existing, "timeout", None)
        if isinstance(timeout, Duration) and not is_token(timeout):
            return timeout.to_milliseconds() / 1000
        return 900.0  # unknown: assume Lambda's longest timeout
    timeout = given if given is not None else worker.timeout
    if not isinstance(timeout, Duration) or is_token(timeout):
        return None
    return timeout.to_milliseconds() / 1000


def _validate_queue_props(
    problems: Problems, given: Mapping[str, Any], visibility: _Visibility, tasks: Any
) -> None:
    for key in (
        "fifo",
        "dead_letter_queue",
        "content_based_deduplication",
        "deduplication_scope",
        "fifo_throughput_limit",
    ):
        if given.get(key) is not None:
            problems.add_message(
                f"queue_props.{key}: set by the construct (a standard queue with the "
                f"construct's dead-letter queue), got {key} in queue_props"
            )
    timeout = given.get("visibility_timeout")
    if isinstance(timeout, Duration) and visibility.required is not None and not is_token(timeout):
        if timeout.to_milliseconds() < visibility.required * 1000:
            problems.add(
                "queue_props.visibility_timeout",
                f"at least {visibility.required} seconds ({visibility.rule})",
                timeout,
            )
    problems.name(
        "queue_props.queue_name",
        given.get("queue_name"),
        r"[a-zA-Z0-9_-]{1,80}",
        "1 to 80 letters, digits, '-' or '_' (a standard queue: no '.fifo')",
    )
    for key, low, high in (
        ("visibility_timeout", Duration.seconds(0), Duration.hours(12)),
        ("retention_period", Duration.seconds(60), Duration.days(14)),
        ("delivery_delay", Duration.seconds(0), Duration.minutes(15)),
        ("receive_message_wait_time", Duration.seconds(0), Duration.seconds(20)),
    ):
        problems.duration_range(f"queue_props.{key}", given.get(key), low, high)
    size_limit = given.get("max_message_size_bytes")
    problems.integer_range("queue_props.max_message_size_bytes", size_limit, 1024, 1_048_576)
    _validate_message_size(
        problems, "queue_props.max_message_size_bytes", size_limit, tasks if not problems.items else None
    )


def _queue_settings(queue_props: Optional[sqs.QueueProps], visibility: _Visibility) -> Dict[str, Any]:
    """The created task queue's props: the library's defaults, then the user's (no dead-letter queue yet)."""
    settings: Dict[str, Any] = {
        "encryption": _defaults.QUEUE_ENCRYPTION,
        "enforce_ssl": True,
        "visibility_timeout": Duration.seconds(visibility.required or 900 * 6),
    }
    user = queue_props._values if queue_props is not None else {}
    if user.get("encryption_master_key") is not None:
        settings.pop("encryption")  # the key implies KMS encryption
    settings.update(user)
    return settings


#: Characters SQS rejects in message attributes: control characters other than
#: tab, line feed and carriage return; surrogates; U+FFFE and U+FFFF.
_INVALID_SQS_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: The longest execution ID and scheduled time of a run (a UUID, an ISO 8601 time in UTC).
_SAMPLE_EXECUTION_ID = "x" * 36
_SAMPLE_SCHEDULED_TIME = "2026-01-01T00:00:00Z"


def _largest_message(tasks: Sequence[Any]) -> int:
    """The size in bytes of the largest message the bundled producer sends for ``tasks``."""
    largest = 0
    for index, task in enumerate(tasks):
        name = task.get("name") if isinstance(task, dict) else None
        task_id = f"{_SAMPLE_EXECUTION_ID}/{name if isinstance(name, str) else index}"
        body = messages.encode_task(
            task_id, task, execution_id=_SAMPLE_EXECUTION_ID, scheduled_time=_SAMPLE_SCHEDULED_TIME
        )
        # SQS counts the body and the task_id attribute's name, type and value.
        largest = max(largest, messages.message_size(task_id, body))
    return largest


#: The visibility timeout SQS gives a queue created without one.
_SQS_DEFAULT_VISIBILITY_SECONDS = 30


def _validate_existing_queue(
    problems: Problems,
    queue: sqs.Queue,
    *,
    rule: Optional[_Visibility],
    tasks: Optional[Sequence[Any]],
) -> None:
    """Check the settings of a queue defined in this app that the worker and producer rely on.

    A ``CfnQueue`` without a visibility timeout gets SQS's default of
    30 seconds when it is deployed, so that is the value checked.
    """
    resource = queue.node.default_child
    visibility = getattr(resource, "visibility_timeout", None)
    if visibility is None and isinstance(resource, sqs.CfnQueue):
        visibility = _SQS_DEFAULT_VISIBILITY_SECONDS
    if (
        isinstance(visibility, (int, float))
        and not is_token(visibility)
        and rule is not None
        and rule.required is not None
        and visibility < rule.required
    ):
        problems.add(
            "existing_queue visibility timeout",
            f"at least {rule.required} seconds ({rule.rule})",
            Described(f"{int(visibility)} seconds"),
        )
    _validate_message_size(
        problems, "existing_queue maximum message size", getattr(resource, "maximum_message_size", None), tasks
    )


def _validate_message_size(problems: Problems, prop: str, limit: Any, tasks: Optional[Sequence[Any]]) -> None:
    """Check a queue's message size limit holds the largest message of the static ``tasks``."""
    if (
        isinstance(limit, bool)
        or not isinstance(limit, (int, float))
        or is_token(limit)
        or not isinstance(tasks, (list, tuple))
        or _schedule.has_token(tasks)
    ):
        return
    largest = _largest_message(tasks)
    if largest > limit:
        problems.add(prop, f"at least {largest} bytes (the largest task's message)", Described(f"{int(limit)} bytes"))


def _validate_tasks(problems: Problems, tasks: Any) -> None:
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Sequence):
        problems.add("tasks", "a list of JSON-serialisable payloads", Described(type(tasks).__name__))
        return
    if not 1 <= len(tasks) <= _defaults.MAX_STATIC_TASKS:
        problems.add("tasks", f"a list of 1 to {_defaults.MAX_STATIC_TASKS} tasks", Described(f"{len(tasks)} tasks"))
    names: dict = {}
    unnamed: List[int] = []
    for index, task in enumerate(tasks):
        try:
            json.dumps(task, allow_nan=False)
        except RecursionError:
            problems.add(f"tasks[{index}]", "JSON-serialisable", Described(f"{type(task).__name__} (nested too deeply)"))
            continue
        except (TypeError, ValueError) as exc:
            problems.add(f"tasks[{index}]", "JSON-serialisable", Described(f"{type(task).__name__} ({exc})"))
            continue
        if not (isinstance(task, dict) and isinstance(task.get("name"), str)):
            unnamed.append(index)
            continue
        name = task["name"]
        if _INVALID_SQS_TEXT.search(name):
            problems.add(
                f"tasks[{index}].name",
                "free of control characters and unpaired surrogates (SQS rejects them in the task ID)",
                Described(ascii(name)),
            )
        if name in names:
            problems.add(
                f"tasks[{index}].name",
                f"unique within tasks (tasks[{names[name]}] has it too)",
                name,
            )
        names.setdefault(name, index)
    for index in unnamed:
        if str(index) in names:
            problems.add(
                f"tasks[{names[str(index)]}].name",
                f"different from the ID of tasks[{index}], which has no name and is known by its index",
                str(index),
            )
