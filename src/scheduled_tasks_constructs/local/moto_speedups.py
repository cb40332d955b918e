"""Keep moto's SQS fast as a queue fills, with SQS behaving as moto implements it.

What grows with the queue
-------------------------
moto's SQS model (``moto.sqs.models``, 5.1 and 5.2) does work proportional to
the number of messages in a queue (n) on every call, in pure Python:

* ``Queue.messages``, the visible and undelayed messages, is a scan of the
  queue that asks for the time twice per message (through ``datetime``,
  about 6 us a time). ``ReceiveMessage`` reads it once per call.
* ``Queue.attributes`` computes ``ApproximateNumberOfMessages``,
  ``...NotVisible`` and ``...Delayed`` (three more scans) whenever any
  attribute is read. moto reads it for every message sent (to look up
  ``ContentBasedDeduplication``) and, through ``get_queue_attributes``, three
  times for every message received (to look up ``MessageRetentionPeriod``):
  three scans per message sent, ten per message received.
* ``Queue.delete_message`` scans the queue twice for the receipt handle
  (building a list of handles per message) and builds a new list without the
  message; ``SQSBackend.change_message_visibility`` scans it for the handle.

Sending and then working off 10,000 messages is thus about 10^9 message
visits; 2,500 took a local fan-out to about 2 tasks per second.

What is patched
---------------
:func:`install` patches moto in this process; no request handler is
rewritten. moto's own code keeps running and keeps an index of each queue up
to date through two hooks:

* each queue's ``_messages`` list becomes a list subclass whose ``append``
  and ``remove`` (the only ways moto's SQS adds and removes messages) also
  update the queue's index; assigning a new list (``Queue.__init__``,
  ``PurgeQueue``) indexes the new list, and any other change rebuilds the
  index;
* ``Message.visible_at``, ``Message.delayed_until`` and
  ``Message.receipt_handle`` become properties whose setters tell the index
  of the queue holding the message (a receive, a visibility change, a delay).

The index holds the visible, undelayed messages in queue order, a heap of the
others by the time they become visible, the sorted ``visible_at`` and
``delayed_until`` values (for the counts) and every receipt handle a message
had. The patched methods answer from it, each documenting the scan it removes:
``Queue.messages`` and the three ``Queue.approximate_number_of_messages*``
properties, ``Queue.delete_message``,
``SQSBackend.change_message_visibility`` and
``SQSBackend.is_message_valid_based_on_retention_period``. Four constant
costs per call go too: the clock is read with ``time.time()`` instead of
through ``datetime``; ``camelcase_to_underscores`` (about 8 us, fourteen
times per ``Queue.attributes``) is cached; ``generate_receipt_handle`` draws
its 185 letters in one loop instead of three calls per letter (the same bits
from moto's seedable generator: the same handles for the same seed); and,
not SQS but every request, moto's server keeps the list of its own modules
instead of listing its package folder (a stat call per entry) to route each
request, under a lock all requests share.

What stays
----------
The list stays the truth: a queue whose list was changed in a way the index
does not follow, or that was created before :func:`install`, is served by
moto's original methods, as is a receipt handle two messages share. The index
answers with moto's own predicates (visible when ``now > visible_at``,
delayed while ``now < delayed_until``) in moto's queue order, and the receive
loop (visibility timeout, ``ApproximateReceiveCount``, the move to the
dead-letter queue after ``maxReceiveCount``, FIFO groups, retention) is
moto's code. Standard and FIFO queues are indexed alike (FIFO deduplication
is moto's code and still scans a FIFO queue on each send). Two differences,
both invisible through the API: the clock has sub-microsecond digits, and a
delete removes the message from the queue's list in place instead of
building a new list. If the clock goes backwards the index sorts the ready
messages again. What still grows with the queue is removing a message from
its list (a delete, a move to the dead-letter queue): ``list.remove``, a scan
in C that stops at the message, about 10 us near the front of a queue of
10,000 messages (where a consumer deletes) and 0.2 ms at its end.

One fidelity fix, not SQS
-------------------------
DynamoDB applies each write to an item atomically, its condition checked
against the item as it is; moto's DynamoDB reads, checks and writes an item
in several steps without a lock, so under concurrent requests an update can
be lost (two ``list_append`` updates keeping one element) or a condition pass
twice. The run ledger relies on that atomicity (``ADD`` counts, conditional
finishes), and a local fan-out updates it from several workers at once. So
the DynamoDB request handler (``DynamoHandler.call_action``) takes one lock:
DynamoDB requests are served one at a time, each whole. Requests of the
other services do not wait for it.

Call :func:`install` before the server handles requests; the patches stay
until :func:`uninstall`.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

__all__ = ["KNOWN_GOOD_MOTO_VERSIONS", "install", "installed", "uninstall"]

#: The moto versions this was written for, ``[first, last)``: the patched
#: methods are the same in moto 5.1.0 and 5.2.5 (compared); tested on 5.2.5.
KNOWN_GOOD_MOTO_VERSIONS = ((5, 1, 0), (5, 3, 0))

_TAG = "_speedups_index"  # Message.__dict__ key: (weak reference to the index, sequence number)
_TRACKED_FIELDS = ("visible_at", "delayed_until", "receipt_handle")
_AMBIGUOUS = object()  # a receipt handle held by two messages: moto's scan decides

_lock = threading.Lock()
_saved: Optional[Dict[str, Any]] = None  # what install() replaced, while installed
_generation = 0  # bumped by uninstall(): indexes of an earlier install are ignored


def installed() -> bool:
    """Whether the patches are applied in this process.

    Returns
    -------
    bool
        True between :func:`install` and :func:`uninstall`.
    """
    return _saved is not None


def install() -> bool:
    """Patch moto's SQS model, its server's routing and its DynamoDB handler in this process (idempotent).

    Call it before the server handles requests: queues that exist already
    keep moto's original methods. Checked first: moto's version is within
    :data:`KNOWN_GOOD_MOTO_VERSIONS`, and the classes, methods and instance
    attributes the patches rely on are there.

    Returns
    -------
    bool
        True when the patches are applied (now or earlier); False, with
        nothing changed, when moto is missing or is not a version (or does
        not have the internals) the patches were written for.
    """
    global _saved
    with _lock:
        if _saved is not None:
            return True
        try:
            import moto
            import moto.backends as moto_backends
            from moto.sqs import models
        except Exception:  # noqa: BLE001 - no moto, or one that does not import
            return False
        if not _supported(moto, models, moto_backends):
            return False
        _saved = _apply(models, moto_backends)
        return True


def uninstall() -> None:
    """Put back what :func:`install` replaced (nothing happens when not installed).

    Queues go back to plain lists; moto's original methods serve them again.
    """
    global _saved, _generation
    with _lock:
        if _saved is None:
            return
        from moto.sqs import models

        _generation += 1
        for (owner, name), value in _saved.items():
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        for queue in list(getattr(models.Queue, "instances_tracked", ())):
            messages = queue.__dict__.get("_messages")
            if isinstance(messages, _IndexedMessages):
                queue.__dict__["_messages"] = list(messages)
        _saved = None


# -- checks ------------------------------------------------------------------------


def _version(text: str) -> Tuple[int, ...]:
    """``"5.2.5"`` -> ``(5, 2, 5)``; a suffix ends it (``"5.3.0rc1"`` -> ``(5, 3, 0)``)."""
    parts: List[int] = []
    for part in text.split(".")[:3]:
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() != len(part):
            break
    return tuple(parts)


def _supported(moto: Any, models: Any, moto_backends: Any) -> bool:
    """Whether moto and its SQS models are the ones the patches were written for."""
    first, last = KNOWN_GOOD_MOTO_VERSIONS
    version = _version(str(getattr(moto, "__version__", "")))
    if len(version) < 2 or not first <= version < last:
        return False
    try:
        message_class, queue_class, backend = models.Message, models.Queue, models.SQSBackend
        for name in ("unix_time", "unix_time_millis", "camelcase_to_underscores"):
            if not callable(getattr(models, name, None)):
                return False
        for name in ("ReceiptHandleIsInvalid", "InvalidParameterValue"):
            if not isinstance(getattr(models, name, None), type):
                return False
        for name in ("visible", "delayed", "all_receipt_handles"):
            if not isinstance(message_class.__dict__.get(name), property):
                return False
        for name in ("change_visibility", "delay", "mark_received", "had_receipt_handle"):
            if not callable(message_class.__dict__.get(name)):
                return False
        if any(name in message_class.__dict__ for name in _TRACKED_FIELDS + ("__slots__", "__setstate__")):
            return False
        if message_class.__eq__ is not object.__eq__:
            return False
        for name in (
            "messages",
            "approximate_number_of_messages",
            "approximate_number_of_messages_not_visible",
            "approximate_number_of_messages_delayed",
            "attributes",
        ):
            if not isinstance(queue_class.__dict__.get(name), property):
                return False
        for name in ("add_message", "delete_message", "wait_for_messages"):
            if not callable(queue_class.__dict__.get(name)):
                return False
        if "_messages" in queue_class.__dict__:
            return False
        if not callable(queue_class.__dict__.get("_set_attributes")):
            return False
        for name in (
            "change_message_visibility",
            "receive_message",
            "purge_queue",
            "delete_message",
            "get_queue",
            "is_message_valid_based_on_retention_period",
        ):
            if not callable(backend.__dict__.get(name)):
                return False
        if not callable(getattr(moto_backends, "list_of_moto_modules", None)):
            return False
        if not _same_receipt_handles(models):
            return False
        # The instance state the index relies on, from moto's own constructors.
        message = message_class("probe", "probe")
        queue = queue_class("speedups-probe", region="us-east-1", account_id="123456789012")
        for model, instance in ((message_class, message), (queue_class, queue)):
            tracked = getattr(model, "instances_tracked", None)
            if isinstance(tracked, list) and tracked and tracked[-1] is instance:
                tracked.pop()
        fields = message.__dict__
        if not (
            fields.get("visible_at") == 0.0
            and fields.get("delayed_until") == 0.0
            and "receipt_handle" in fields
            and message.all_receipt_handles == [None]
            and type(queue.__dict__.get("_messages")) is list
            and isinstance(queue.__dict__.get("_pending_messages"), set)
            and isinstance(queue.__dict__.get("deleted_messages"), set)
        ):
            return False
    except Exception:  # noqa: BLE001 - anything unexpected: leave moto alone
        return False
    return True


def _receipt_handle_function(models: Any) -> Callable[[], str]:
    """``moto.sqs.utils.generate_receipt_handle`` without three calls per character.

    moto draws each of 185 letters with ``random.choice`` on its seedable
    random generator, which is ``getrandbits(5)`` until the value is below 26;
    this draws the same bits in one loop, so that the handles are the same
    for the same seed.
    """
    import string

    generator = models.generate_receipt_handle.__globals__["random"]
    letters = string.ascii_lowercase

    def generate_receipt_handle() -> str:
        getrandbits = generator.getrandbits
        chars: List[str] = []
        while len(chars) < 185:
            r = getrandbits(5)
            if r < 26:
                chars.append(letters[r])
        return "".join(chars)

    return generate_receipt_handle


def _same_receipt_handles(models: Any) -> bool:
    """Whether the fast receipt handles are moto's, drawn from the same generator state.

    The generator's state is put back afterwards, so moto's sequence is unchanged.
    """
    import random

    original = models.generate_receipt_handle
    generator = original.__globals__.get("random")
    if not isinstance(generator, random.Random):
        return False
    if type(generator)._randbelow is not random.Random._randbelow_with_getrandbits:
        return False  # choice() would not draw getrandbits(5) per letter
    state = generator.getstate()
    try:
        expected = original()
        generator.setstate(state)
        return _receipt_handle_function(models)() == expected
    finally:
        generator.setstate(state)


# -- the index ---------------------------------------------------------------------


def _remove_value(values: List[float], value: float) -> None:
    """Remove one ``value`` from the sorted list ``values``."""
    i = bisect.bisect_left(values, value)
    if i < len(values) and values[i] == value:
        del values[i]
    else:  # not where it should be: keep the list right anyway
        values.remove(value)
        values.sort()


class _Entry:
    """What the index recorded about one message of the queue."""

    __slots__ = ("message", "visible_at", "delayed_until", "version", "ready")

    def __init__(self, message: Any) -> None:
        fields = message.__dict__
        self.message = message
        self.visible_at = fields["visible_at"]
        self.delayed_until = fields["delayed_until"]
        self.version = 0
        self.ready = False


class _QueueIndex:
    """An index of one queue's messages, kept by its list and by its messages' setters.

    * ``ready`` holds the messages that were visible and undelayed when last
      looked at, in queue order (``ready_seqs`` holds their sequence numbers:
      the order in which they joined the list). They stay so until their
      ``visible_at`` or ``delayed_until`` is set, which takes them out.
    * ``waiting`` is a heap of ``(max(visible_at, delayed_until), seq,
      version)`` for every other message; entries of an older version are
      stale and skipped.
    * ``visible_ats`` and ``delayed_untils`` are the sorted values of every
      message, so that the not-visible and delayed counts are two bisections.
    * ``handles`` maps each receipt handle (current and former) of a message
      to that message.
    """

    def __init__(self, messages: Iterable[Any]) -> None:
        self.lock = threading.RLock()
        self.ref = weakref.ref(self)
        self.generation = _generation
        self.usable = True
        self.rebuild(messages)

    def rebuild(self, messages: Iterable[Any]) -> None:
        """Index ``messages`` (the whole list, in order) from scratch."""
        with self.lock:
            self.next_seq = 0
            self.entries: Dict[int, _Entry] = {}
            self.ready_seqs: List[int] = []
            self.ready: List[Any] = []
            self.waiting: List[Tuple[float, int, int]] = []
            self.visible_ats: List[float] = []
            self.delayed_untils: List[float] = []
            self.handles: Dict[str, Any] = {}
            self.last_now = float("-inf")
            messages = list(messages)
            if not self.usable or len({id(m) for m in messages}) != len(messages):
                self.usable = False  # a message twice in one list: moto's scans decide
                return
            for message in messages:
                self.add(message)

    def active(self) -> bool:
        return self.usable and self.generation == _generation

    # -- the list's changes --------------------------------------------------------

    def add(self, message: Any) -> None:
        """``message`` was appended to the list."""
        if not self.usable:
            return
        fields = getattr(message, "__dict__", None)
        if not isinstance(fields, dict) or not all(name in fields for name in _TRACKED_FIELDS):
            self.usable = False
            return
        seq = self.next_seq
        self.next_seq += 1
        entry = _Entry(message)
        self.entries[seq] = entry
        fields[_TAG] = (self.ref, seq)
        bisect.insort(self.visible_ats, entry.visible_at)
        bisect.insort(self.delayed_untils, entry.delayed_until)
        self._wait(seq, entry)
        for handle in message.all_receipt_handles:
            self._add_handle(handle, message)

    def discard(self, message: Any) -> None:
        """``message`` was removed from the list."""
        seq = self._seq_of(message)
        if seq is None:
            return
        entry = self.entries.pop(seq)
        del message.__dict__[_TAG]
        _remove_value(self.visible_ats, entry.visible_at)
        _remove_value(self.delayed_untils, entry.delayed_until)
        if entry.ready:
            self._unready(seq)
        # Its heap entries are stale now (no entry for seq).
        for handle in message.all_receipt_handles:
            if handle is not None and self.handles.get(handle) is message:
                del self.handles[handle]

    # -- the messages' changes -----------------------------------------------------

    def changed(self, message: Any, name: str, value: Any) -> None:
        """``message.<name>`` was set to ``value``."""
        with self.lock:
            seq = self._seq_of(message)
            if seq is None:
                return
            if name == "receipt_handle":
                self._add_handle(value, message)
                return
            entry = self.entries[seq]
            old = getattr(entry, name)
            if old == value and type(old) is type(value):
                return
            values = self.visible_ats if name == "visible_at" else self.delayed_untils
            _remove_value(values, old)
            bisect.insort(values, value)
            setattr(entry, name, value)
            if entry.ready:
                self._unready(seq)
                entry.ready = False
            entry.version += 1
            self._wait(seq, entry)

    # -- answers -------------------------------------------------------------------

    def messages(self, now: float) -> List[Any]:
        """The visible, undelayed messages at ``now``, in queue order."""
        with self.lock:
            self._promote(now)
            return list(self.ready)

    def count_ready(self, now: float) -> int:
        with self.lock:
            self._promote(now)
            return len(self.ready)

    def count_not_visible(self, now: float) -> int:
        # Message.visible is ``now > visible_at``: not visible when visible_at >= now.
        with self.lock:
            return len(self.visible_ats) - bisect.bisect_left(self.visible_ats, now)

    def count_delayed(self, now: float) -> int:
        # Message.delayed is ``now < delayed_until``.
        with self.lock:
            return len(self.delayed_untils) - bisect.bisect_right(self.delayed_untils, now)

    def find(self, receipt_handle: str) -> Any:
        """The message that has or had ``receipt_handle``, None, or ``_AMBIGUOUS``."""
        with self.lock:
            return self.handles.get(receipt_handle)

    def holds(self, message: Any) -> bool:
        with self.lock:
            return self._seq_of(message) is not None

    # -- internals -----------------------------------------------------------------

    def _seq_of(self, message: Any) -> Optional[int]:
        tag = getattr(message, "__dict__", {}).get(_TAG)
        if tag is None or tag[0] is not self.ref:
            return None
        entry = self.entries.get(tag[1])
        return tag[1] if entry is not None and entry.message is message else None

    def _add_handle(self, handle: Any, message: Any) -> None:
        if not isinstance(handle, str):
            return
        held = self.handles.get(handle)
        if held is None:
            self.handles[handle] = message
        elif held is not message:
            self.handles[handle] = _AMBIGUOUS

    def _wait(self, seq: int, entry: _Entry) -> None:
        heapq.heappush(self.waiting, (max(entry.visible_at, entry.delayed_until), seq, entry.version))

    def _unready(self, seq: int) -> None:
        """Take ``seq`` out of ``ready`` (the caller updates its entry)."""
        i = bisect.bisect_left(self.ready_seqs, seq)
        del self.ready_seqs[i]
        del self.ready[i]

    def _promote(self, now: float) -> None:
        """Move the messages that became visible and undelayed by ``now`` to ``ready``."""
        if now < self.last_now:
            self._resort()
        self.last_now = now
        waiting, entries, later = self.waiting, self.entries, []
        while waiting and waiting[0][0] <= now:
            item = heapq.heappop(waiting)
            entry = entries.get(item[1])
            if entry is None or entry.version != item[2] or entry.ready:
                continue  # stale
            if entry.visible_at < now and entry.delayed_until <= now:
                i = bisect.bisect_left(self.ready_seqs, item[1])
                self.ready_seqs.insert(i, item[1])
                self.ready.insert(i, entry.message)
                entry.ready = True
            else:  # visible_at == now exactly: visible a moment later
                later.append(item)
        for item in later:
            heapq.heappush(waiting, item)

    def _resort(self) -> None:
        """The clock went back: put each ready message back on the heap."""
        for seq in list(self.ready_seqs):
            entry = self.entries[seq]
            entry.ready = False
            entry.version += 1
            self._wait(seq, entry)
        self.ready_seqs.clear()
        self.ready.clear()


class _IndexedMessages(list):
    """A queue's ``_messages``: a list whose changes keep the queue's index.

    ``append`` and ``remove`` (all that moto's SQS calls) update the index;
    every other change rebuilds it. Copies and pickles are plain lists.
    """

    __slots__ = ("index",)

    def __init__(self, messages: Iterable[Any] = ()) -> None:
        super().__init__(messages)
        self.index = _QueueIndex(self)

    def append(self, message: Any) -> None:
        with self.index.lock:
            super().append(message)
            self.index.add(message)

    def remove(self, message: Any) -> None:
        with self.index.lock:
            super().remove(message)
            self.index.discard(message)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> List[Any]:
        return list(self)


def _rebuilding(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def changed(self: _IndexedMessages, *args: Any) -> Any:
        with self.index.lock:
            result = method(self, *args)
            self.index.rebuild(self)
        return result

    changed.__name__ = name
    changed.__doc__ = f"list.{name}, then rebuild the index (moto's SQS does not call it)."
    return changed


for _name in (
    "extend", "insert", "pop", "clear", "sort", "reverse",
    "__setitem__", "__delitem__", "__iadd__", "__imul__",
):  # fmt: skip
    setattr(_IndexedMessages, _name, _rebuilding(_name))
del _name


def _index_of(queue: Any) -> Optional[_QueueIndex]:
    """The queue's index, when it has one that can answer."""
    messages = queue.__dict__.get("_messages")
    if type(messages) is _IndexedMessages and messages.index.active():
        return messages.index
    return None


# -- the patches -------------------------------------------------------------------

_ABSENT = object()


def _dynamodb_patches() -> List[Tuple[Any, str, Any]]:
    """DynamoDB requests one at a time (see "One fidelity fix"); none when moto has no DynamoDB handler."""
    try:
        from moto.dynamodb.responses import DynamoHandler
    except Exception:  # noqa: BLE001 - a moto without DynamoDB: nothing to serialise
        return []
    served = DynamoHandler.call_action  # BaseResponse's, looked up once
    one_at_a_time = threading.Lock()

    def call_action(self: Any) -> Any:
        """moto's DynamoDB request, under one lock: each request whole, as DynamoDB applies a write."""
        with one_at_a_time:
            return served(self)

    return [(DynamoHandler, "call_action", call_action)]


def _apply(models: Any, moto_backends: Any) -> Dict[Tuple[Any, str], Any]:
    """Apply every patch; return what was replaced, to put it back."""
    Message, Queue, SQSBackend = models.Message, models.Queue, models.SQSBackend  # noqa: N806
    original = {
        "unix_time": models.unix_time,
        "messages": Queue.__dict__["messages"].fget,
        "approximate_number_of_messages": Queue.__dict__["approximate_number_of_messages"].fget,
        "approximate_number_of_messages_not_visible": Queue.__dict__[
            "approximate_number_of_messages_not_visible"
        ].fget,
        "approximate_number_of_messages_delayed": Queue.__dict__["approximate_number_of_messages_delayed"].fget,
        "delete_message": Queue.__dict__["delete_message"],
        "change_message_visibility": SQSBackend.__dict__["change_message_visibility"],
    }
    ReceiptHandleIsInvalid = models.ReceiptHandleIsInvalid  # noqa: N806
    InvalidParameterValue = models.InvalidParameterValue  # noqa: N806

    def now_ms() -> float:
        # moto's own clock function, looked up at each call (a test may replace it).
        return models.unix_time_millis()

    # moto.core.utils.unix_time builds two datetimes per call (about 6 us); SQS
    # asks for the time several times per message and per call.
    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else original["unix_time"](dt)

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    # Queue.attributes converts the same fourteen-odd names on every read.
    camelcase_to_underscores = functools.lru_cache(maxsize=1024)(models.camelcase_to_underscores)

    # Not SQS but every request: to route it, moto's server lists its own
    # package folder (a stat call for each of its 180-odd entries) under a
    # lock that all requests share. The folder does not change while it runs.
    modules = tuple(moto_backends.list_of_moto_modules())

    def list_of_moto_modules() -> Tuple[str, ...]:
        return modules

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        """moto's check, reading the period from the queue.

        moto reads it through get_queue_attributes, which builds
        Queue.attributes (three counts of the queue) three times, for every
        message received.
        """
        retention_period = self.get_queue(queue_name).message_retention_period
        retain_until = retention_period + message.sent_timestamp / 1000
        if retain_until <= models.unix_time():
            return False
        return True

    def tracked(name: str) -> property:
        def fget(self: Any) -> Any:
            try:
                return self.__dict__[name]
            except KeyError:
                raise AttributeError(name) from None

        def fset(self: Any, value: Any) -> None:
            fields = self.__dict__
            fields[name] = value
            tag = fields.get(_TAG)
            if tag is not None:
                index = tag[0]()
                if index is not None:
                    index.changed(self, name, value)

        return property(fget, fset, doc=f"Message.{name}; setting it tells the queue's index (moto_speedups).")

    def get_messages_list(self: Any) -> Any:
        try:
            return self.__dict__["_messages"]
        except KeyError:
            raise AttributeError("_messages") from None

    def set_messages_list(self: Any, value: Any) -> None:
        # Queue.__init__ and PurgeQueue assign a new list: index it.
        self.__dict__["_messages"] = _IndexedMessages(value)

    def messages(self: Any) -> List[Any]:
        """The visible, undelayed messages, in queue order.

        moto scans every message of the queue (asking for the time twice per
        message) on each ReceiveMessage; the index keeps them ready.
        """
        index = _index_of(self)
        if index is None:
            return original["messages"](self)
        return index.messages(now_ms())

    def approximate_number_of_messages(self: Any) -> int:
        """``len(self.messages)`` without building the list (moto: a scan)."""
        index = _index_of(self)
        if index is None:
            return original["approximate_number_of_messages"](self)
        return index.count_ready(now_ms())

    def approximate_number_of_messages_not_visible(self: Any) -> int:
        """The messages with ``now <= visible_at``: a bisection (moto: a scan).

        ``Queue.attributes`` computes the three counts on every read, and moto
        reads it for every message sent and three times per message received.
        """
        index = _index_of(self)
        if index is None:
            return original["approximate_number_of_messages_not_visible"](self)
        return index.count_not_visible(now_ms())

    def approximate_number_of_messages_delayed(self: Any) -> int:
        """The messages with ``now < delayed_until``: a bisection (moto: a scan)."""
        index = _index_of(self)
        if index is None:
            return original["approximate_number_of_messages_delayed"](self)
        return index.count_delayed(now_ms())

    def delete_message(self: Any, receipt_handle: str) -> None:
        """moto's Queue.delete_message, finding the message through the index.

        moto scans the queue twice for the receipt handle (building a list of
        handles per message) and builds a new list without the message.
        """
        index = _index_of(self)
        if index is None or not isinstance(receipt_handle, str):
            return original["delete_message"](self, receipt_handle)
        if receipt_handle in self.deleted_messages:
            # Already deleted - gracefully handle deleting it again (as moto does)
            return
        with index.lock:
            message = index.find(receipt_handle)
            if message is _AMBIGUOUS:
                return original["delete_message"](self, receipt_handle)
            if message is None:
                raise ReceiptHandleIsInvalid()
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            container = self.__dict__["_messages"]
            if container.index is index and index.holds(message):
                container.remove(message)

    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        """moto's SQSBackend.change_message_visibility, finding the message through the index.

        moto scans the queue's messages for the receipt handle.
        """
        queue = self.get_queue(queue_name)
        index = _index_of(queue)
        message = index.find(receipt_handle) if index is not None and isinstance(receipt_handle, str) else _AMBIGUOUS
        if message is _AMBIGUOUS:
            return original["change_message_visibility"](self, queue_name, receipt_handle, visibility_timeout)
        if message is None:
            raise ReceiptHandleIsInvalid
        # From here on, moto's code.
        visibility_timeout_msec = int(visibility_timeout) * 1000
        given_visibility_timeout = models.unix_time_millis() + visibility_timeout_msec
        if given_visibility_timeout - message.sent_timestamp > 43200 * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                "VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            # If the message is visible again, remove it from pending messages.
            queue.pending_messages.remove(message)

    patches: List[Tuple[Any, str, Any]] = [
        (models, "unix_time", unix_time),
        (models, "unix_time_millis", unix_time_millis),
        (models, "camelcase_to_underscores", camelcase_to_underscores),
        (models, "generate_receipt_handle", _receipt_handle_function(models)),
        (moto_backends, "list_of_moto_modules", list_of_moto_modules),
        *((Message, name, tracked(name)) for name in _TRACKED_FIELDS),
        (Queue, "_messages", property(get_messages_list, set_messages_list, doc="The queue's indexed message list.")),
        (Queue, "messages", property(messages, doc=messages.__doc__)),
        (Queue, "approximate_number_of_messages", property(approximate_number_of_messages)),
        (Queue, "approximate_number_of_messages_not_visible", property(approximate_number_of_messages_not_visible)),
        (Queue, "approximate_number_of_messages_delayed", property(approximate_number_of_messages_delayed)),
        (Queue, "delete_message", delete_message),
        (SQSBackend, "change_message_visibility", change_message_visibility),
        (SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period),
    ]
    patches.extend(_dynamodb_patches())
    saved: Dict[Tuple[Any, str], Any] = {}
    for owner, name, value in patches:
        saved[(owner, name)] = owner.__dict__.get(name, _ABSENT) if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, value)
    return saved
