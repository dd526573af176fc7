"""Per-connection delivery: one bounded outbox per connection, drained by that connection.

Everything that reaches a connection from outside its own handlers (group messages with
their ``group_complete``, events waiting for their handler, ``send_to``) goes through the
connection's :class:`Outbox`, and so do the handlers' own replies, so that a connection
writes one frame at a time, in order. A sender never waits on another connection's
socket: delivering is writing at once when the connection is idle, else queueing.

The fast path costs no task and no copy: when nothing is queued and no write is in
flight, a delivery starts the transport's send coroutine right away (driven with
``next(coro.__await__(), DONE)``, see :mod:`chanx.core.eager`), and a handler awaits its
own send directly. Most sends finish at once (the socket was writable). A delivery's
send that suspends (the client is not reading and the server's buffer is full) is
handed, still in flight, to a writer task, which finishes it and then drains what queued
up behind it; a handler's own send that suspends is finished by the handler, and the
writer drains after it. Queued group messages and events are bounded in number and in
UTF-8 bytes; over a bound, the connection's overflow policy applies (close it with
:data:`~chanx.constants.CLOSE_SLOW_CONSUMER`, or drop the oldest).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from chanx.core.eager import DONE, Resumed
from chanx.core.transport import ConnectionGone

logger = logging.getLogger("chanx.outbox")

OverflowPolicy = Literal["close", "drop_oldest"]
"""What happens when a connection's outbox would go over a bound: ``"close"`` closes the
connection with :data:`~chanx.constants.CLOSE_SLOW_CONSUMER`; ``"drop_oldest"`` drops the
oldest queued group messages and events to make room."""

OVERFLOW_POLICIES: Final = ("close", "drop_oldest")


class OutboxTransport(Protocol):
    """What an outbox writes through: a transport's ``send_text`` and ``close``."""

    def send_text(self, text: str) -> Coroutine[Any, Any, None]: ...

    def close(self, code: int, reason: str) -> Coroutine[Any, Any, None]: ...


class OutboxOwner(Protocol):
    """The connection an outbox serves (the consumer): what the outbox calls back.

    One reference to the owner rather than a bound method per callback: an outbox lives
    as long as its connection, and every object a connection keeps is one more for each
    of the garbage collector's full passes (with 10,000 connections open, these passes
    are a large part of a new connection's cost)."""

    def _handle_queued_event(self, handler: Any, envelope: Any) -> Awaitable[None]:
        """Handle one queued event (the event worker awaits it)."""
        ...

    def _slow_consumer(self, bound: str) -> None:
        """The outbox went over ``bound`` (policy ``"close"``) and has stopped."""

    def _write_failed(self, exc: BaseException) -> None:
        """A delivery's write failed (the client being still there); the outbox has
        stopped."""

    def _describe(self) -> str:
        """The connection, for log lines."""
        ...


class _Close:
    """A queued close frame (a handler's ``close()`` behind a backlog)."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class _Stopped:
    """The writer slot of an outbox that writes no more (the connection is gone or was
    closed for being slow)."""

    __slots__ = ()


_STOPPED: Final = _Stopped()


class _Own:
    """The writer slot while a handler's own write on an idle connection is in flight
    (awaited by the handler itself)."""

    __slots__ = ()


_OWN: Final = _Own()


class _Written:
    """What :meth:`Outbox.send` returns for a write that finished at once: awaiting it
    returns at once (an empty iterator, no frame of Python code)."""

    __slots__ = ()
    if TYPE_CHECKING:

        def __await__(self) -> Generator[Any, Any, None]: ...

    else:
        __await__ = ().__iter__


class _Frame:
    """A queued write of the connection's own that is not a text frame for the
    transport's ``send_text`` (a framework's native send): ``start()`` makes it."""

    __slots__ = ("start",)

    def __init__(self, start: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.start = start


_WRITTEN: Final = _Written()
_NOT_STARTED: Final = object()

# A queued write: (sequence number, text or close, completion text, counted bytes, waiter).
# Group messages have a sequence number >= 0 and count toward the bounds; a handler's own
# sends (and the completion of a group message already in flight) have -1: never dropped,
# never counted (their handler waits for them, so there are few).
_Write = tuple[int, "str | _Close | _Frame", str | None, int, "asyncio.Future[None] | None"]
# A queued event: (sequence number, handler, envelope, counted bytes).
_Event = tuple[int, Any, Any, int]


class Outbox:
    """One connection's outgoing delivery: in-order writes, bounded queues, a policy.

    The bounds (``max_messages``, ``max_bytes``) and the policy apply while the client
    is behind: a write of the connection's is waiting on it. Group messages are queued
    only then; events always wait for the connection's event worker, and count toward
    the bounds, but a client that keeps up is never closed or dropped for them.

    Read-only figures for monitoring and tests:

    * :attr:`queued_messages` / :attr:`queued_bytes`: group messages and events waiting
      (the write in flight and the event being handled are not counted);
    * :attr:`dropped`: group messages and events dropped by the ``"drop_oldest"`` policy;
    * :attr:`overflowed`: the bound that closed the connection (policy ``"close"``), else
      ``None``;
    * :attr:`idle`: nothing queued, no write in flight, no event being handled
      (:meth:`wait_idle` waits for it).
    """

    __slots__ = (
        "_burst",
        "_events",
        "_idle_waiter",
        "_owner",
        "_seq",
        "_transport",
        "_worker",
        "_writer",
        "_writes",
        "accepting",
        "dropped",
        "max_bytes",
        "max_messages",
        "overflow",
        "overflowed",
        "queued_bytes",
        "queued_messages",
    )

    def __init__(
        self,
        transport: OutboxTransport,
        owner: OutboxOwner,
        *,
        max_messages: int | None,
        max_bytes: int | None,
        overflow: OverflowPolicy,
    ) -> None:
        check_limits(max_messages, max_bytes, overflow)
        self._transport = transport
        self._owner = owner
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.overflow: OverflowPolicy = overflow
        self._writer: asyncio.Task[None] | _Own | _Stopped | None = None
        self._worker: asyncio.Task[None] | None = None
        self._writes: deque[_Write] | None = None
        self._events: deque[_Event] | None = None
        self._idle_waiter: asyncio.Future[None] | None = None
        self._seq = 0
        self._burst: int | None = None
        self.accepting = True
        """Whether group messages and events are taken (not after a close or the end)."""
        self.queued_messages = 0
        self.queued_bytes = 0
        self.dropped = 0
        self.overflowed: str | None = None

    def bind(self, transport: OutboxTransport) -> None:
        """Write through another transport from now on."""
        self._transport = transport

    # ------------------------------------------------------------------ state

    @property
    def idle(self) -> bool:
        """Nothing queued, no write in flight, no event being handled."""
        return (self._writer is None or self._writer is _STOPPED) and self._worker is None

    async def wait_idle(self) -> None:
        """Return once :attr:`idle` (at once if it is)."""
        if self.idle:
            return
        if self._idle_waiter is None:
            self._idle_waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._idle_waiter)

    @property
    def stopped(self) -> bool:
        """Nothing is written any more (the connection ended or was closed as slow)."""
        return self._writer is _STOPPED

    # ------------------------------------------------------------------ the handlers' own

    def send(self, text: str) -> Awaitable[None]:
        """Write a frame of this connection's own (a handler's reply, a completion): at
        once when idle, else behind what is queued; await the result, done once it is
        written. Never dropped while the connection lives. Once it has ended, raises
        :class:`ConnectionGone`; once it was closed as slow, does nothing (the client
        will see nothing more, and the handler runs to its end).

        Idle, the write starts right here, in the caller: most finish at once (the
        socket was writable) and cost no coroutine of the outbox's; one that has to wait
        is finished when the caller awaits, deliveries queueing behind it meanwhile."""
        if self._writer is not None:
            return self._send_later(text)
        return self._own_now(self._transport.send_text(text))

    def write(self, start: Callable[[], Coroutine[Any, Any, None]]) -> Awaitable[None]:
        """Like :meth:`send`, for a frame the transport's ``send_text`` does not make (an
        adapter's native send, a binary frame): ``start()`` returns the coroutine that
        writes it, called when the frame's turn comes."""
        if self._writer is not None:
            return self._send_later(_Frame(start))
        return self._own_now(start())

    def _own_now(self, write: Coroutine[Any, Any, None]) -> Awaitable[None]:
        """Start an own write on an idle connection, in the caller: finished at once, or
        finished by :meth:`_own` when the caller awaits what this returns."""
        try:
            yielded = next(write.__await__(), DONE)
        except ConnectionGone:
            self.stop()
            raise
        if yielded is DONE:
            return _WRITTEN
        self._writer = _OWN
        return self._own(write, yielded)

    async def close(self, code: int, reason: str = "") -> None:
        """Close the connection after the frames of its own already queued; queued group
        messages and events are discarded, and no more are taken."""
        self.accepting = False
        self._discard_queued()
        if self._writer is None:
            await self._own(self._transport.close(code, reason))
        else:
            await self._send_later(_Close(code, reason))

    async def _own(self, write: Coroutine[Any, Any, None], yielded: Any = _NOT_STARTED) -> None:
        """A write of the connection's own on an idle connection (a handler's send that
        had to wait, ``yielded`` being what it waits on; or a close, not started yet),
        awaited by its caller: what queues meanwhile is drained after it."""
        self._writer = _OWN
        try:
            if yielded is _NOT_STARTED:
                await write
            else:
                await Resumed(write, yielded)
        except ConnectionGone:
            self.stop()
            raise
        finally:
            if self._writer is _OWN:
                self._writer = None
                if self._writes or self._idle_waiter is not None or self._burst is not None:
                    self._own_done()

    def _own_done(self) -> None:
        """After a write of a handler's own: drain what queued behind it, or note that
        the connection is idle."""
        if self._writes:
            self._start_writer(None, None)
        else:
            self._check_idle()

    async def _send_later(self, item: str | _Close | _Frame) -> None:
        """An own send behind what is queued (or after the end)."""
        if self._writer is _STOPPED:
            if self.overflowed is None:
                raise _ended()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._write_queue().append((-1, item, None, 0, waiter))
        await waiter

    # ------------------------------------------------------------------ deliveries

    def push(self, text: str, completion: str | None = None) -> None:
        """Deliver a group message (and its ``completion`` right after it): written at
        once when idle, else queued within the bounds. Never waits."""
        if not self.accepting:
            return
        if self._writer is None:
            coro = self._transport.send_text(text)
            try:
                yielded = next(coro.__await__(), DONE)
            except Exception as exc:
                self._failed(exc)
                return
            if yielded is DONE:
                if completion is not None:
                    self._push_completion(completion)
                return
            self._start_writer(coro, yielded)
            if completion is not None:  # right after the write in flight
                self._write_queue().append((-1, completion, None, 0, None))
            return
        size = utf8_size(text) + (len(completion) if completion is not None else 0)
        if self._admit(size):
            self._seq += 1
            self._write_queue().append((self._seq, text, completion, size, None))
            self.queued_messages += 1
            self.queued_bytes += size

    def push_event(self, handler: Any, envelope: Any, size: int) -> None:
        """Queue an event for this connection's event handler (``size``: the UTF-8 size
        of its JSON); events are handled one at a time by a worker task of the
        connection's. Never waits.

        Queued events count toward the bounds, which apply while the client is behind
        (a write of this connection's is waiting): events that only wait for their
        handler's turn are the handler's pace, not a slow client's, and are never
        refused."""
        if not self.accepting or (self._writer is not None and not self._admit(size)):
            return
        events = self._events
        if events is None:
            events = self._events = deque()
        self._seq += 1
        events.append((self._seq, handler, envelope, size))
        self.queued_messages += 1
        self.queued_bytes += size
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._handle_events())

    # ------------------------------------------------------------------ ending

    def stop(self) -> None:
        """Write nothing more: drop what is queued, cancel the writer (its send may be
        stuck) and the event worker, release the handlers waiting on their sends (with
        :class:`ConnectionGone`, unless the connection was closed as slow). Idempotent."""
        self.accepting = False
        writer, self._writer = self._writer, _STOPPED
        worker, self._worker = self._worker, None
        self._discard_queued(everything=True)
        current = asyncio.current_task()
        for task in (writer, worker):
            if isinstance(task, asyncio.Task) and task is not current:
                task.cancel()
        self._check_idle()

    # ------------------------------------------------------------------ internals

    def _write_queue(self) -> deque[_Write]:
        writes = self._writes
        if writes is None:
            writes = self._writes = deque()
        return writes

    def _push_completion(self, completion: str) -> None:
        """The completion of a group message just written, on a connection still idle."""
        coro = self._transport.send_text(completion)
        try:
            yielded = next(coro.__await__(), DONE)
        except Exception as exc:
            self._failed(exc)
            return
        if yielded is not DONE:
            self._start_writer(coro, yielded)

    def _start_writer(self, coro: Coroutine[Any, Any, None] | None, yielded: Any) -> None:
        """Start the writer task: it finishes ``coro`` (a send started elsewhere that
        had to wait, ``yielded`` being what it waits on), if any, then drains the
        queue."""
        writer = asyncio.get_running_loop().create_task(self._write(coro, yielded))
        if coro is not None:
            # A writer cancelled before its first step would leave the send suspended.
            writer.add_done_callback(lambda _: coro.close())
        self._writer = writer

    async def _write(self, coro: Coroutine[Any, Any, None] | None, yielded: Any) -> None:
        """The writer: finish the send in flight, then drain the queue, then end."""
        waiter: asyncio.Future[None] | None = None
        try:
            if coro is not None:
                await Resumed(coro, yielded)
            writes = self._writes
            while writes:
                seq, item, completion, size, waiter = writes.popleft()
                if seq >= 0:
                    self.queued_messages -= 1
                    self.queued_bytes -= size
                if isinstance(item, _Close):
                    await self._transport.close(item.code, item.reason)
                elif isinstance(item, _Frame):
                    await item.start()
                else:
                    await self._transport.send_text(item)
                    if completion is not None:
                        await self._transport.send_text(completion)
                _resolve(waiter)
        except asyncio.CancelledError:
            self._release(waiter)
            if self._writer is asyncio.current_task():  # not cancelled by stop(): end too
                self.stop()
            raise
        except Exception as exc:
            _fail(waiter, _gone(exc))
            self._failed(exc)
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None
                self._check_idle()

    async def _handle_events(self) -> None:
        """The event worker: handle queued events one at a time, then end."""
        events = self._events
        assert events is not None
        try:
            while events:
                _, handler, envelope, size = events.popleft()
                self.queued_messages -= 1
                self.queued_bytes -= size
                await self._owner._handle_queued_event(handler, envelope)
        except ConnectionGone:
            logger.debug("%s is gone; its events are dropped", self._owner._describe())
        except Exception:
            logger.exception("handling an event on %s failed", self._owner._describe())
        finally:
            if self._worker is asyncio.current_task():
                self._worker = None
                self._check_idle()

    def _admit(self, size: int) -> bool:
        """Whether one more queued message of ``size`` bytes fits; applies the overflow
        policy when it does not."""
        max_messages, max_bytes = self.max_messages, self.max_bytes
        if (max_messages is None or self.queued_messages < max_messages) and (
            max_bytes is None or self.queued_bytes + size <= max_bytes
        ):
            return True
        bound = (
            f"outbox_max_messages={max_messages}"
            if max_messages is not None and self.queued_messages >= max_messages
            else f"outbox_max_bytes={max_bytes}"
        )
        if self.overflow == "close":
            self.overflowed = bound
            self.stop()
            self._owner._slow_consumer(bound)
            return False
        if self._burst is None:
            self._burst = self.dropped
            logger.warning(
                "%s is not reading fast enough: outbox over %s, dropping the oldest messages",
                self._owner._describe(),
                bound,
            )
        if max_bytes is not None and size > max_bytes:
            self.dropped += 1  # larger than the whole outbox: only this one goes
            return False
        while not (
            (max_messages is None or self.queued_messages < max_messages)
            and (max_bytes is None or self.queued_bytes + size <= max_bytes)
        ):
            self._drop_oldest()
        return True

    def _drop_oldest(self) -> None:
        writes, events = self._writes, self._events
        index = next((i for i, entry in enumerate(writes) if entry[0] >= 0), -1) if writes else -1
        write_seq = writes[index][0] if writes and index >= 0 else None
        if write_seq is not None and (not events or write_seq < events[0][0]):
            assert writes is not None
            size = writes[index][3]
            del writes[index]
        else:
            assert events
            size = events.popleft()[3]
        self.queued_messages -= 1
        self.queued_bytes -= size
        self.dropped += 1

    def _discard_queued(self, everything: bool = False) -> None:
        """Forget queued group messages and events (and, with ``everything``, the
        handlers' own sends, whose handlers are released)."""
        writes = self._writes
        if writes:  # in place: the writer holds this deque
            entries = list(writes)
            writes.clear()
            for entry in entries:
                if entry[0] < 0 and not everything:
                    writes.append(entry)
                else:
                    self._release(entry[4])
        if self._events:
            self._events.clear()
        self.queued_messages = 0
        self.queued_bytes = 0

    def _release(self, waiter: asyncio.Future[None] | None) -> None:
        """A handler waits for an own send that will never be written: after a close for
        being slow, it goes on quietly; otherwise it gets :class:`ConnectionGone`."""
        if waiter is not None and not waiter.done():
            if self.overflowed is None:
                waiter.set_exception(_ended())
            else:
                waiter.set_result(None)

    def _failed(self, exc: BaseException) -> None:
        """A delivery's write failed: nothing more is written. A client that has gone is
        a debug line; any other failure (the server refused the frame) goes to the
        owner's ``_write_failed``, which ends the connection."""
        self.stop()
        if isinstance(exc, ConnectionGone):
            logger.debug("%s is gone; delivery stopped", self._owner._describe())
        else:
            self._owner._write_failed(exc)

    def _check_idle(self) -> None:
        if not self.idle:
            return
        if self._burst is not None:
            if not self.stopped:
                logger.warning(
                    "%s caught up; %d messages were dropped",
                    self._owner._describe(),
                    self.dropped - self._burst,
                )
            self._burst = None
        waiter, self._idle_waiter = self._idle_waiter, None
        _resolve(waiter)


def check_limits(max_messages: int | None, max_bytes: int | None, overflow: object) -> None:
    """Raise ``ValueError`` unless these are valid outbox settings."""
    for name, value in (("outbox_max_messages", max_messages), ("outbox_max_bytes", max_bytes)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int or None, not {value!r}")
    if overflow not in OVERFLOW_POLICIES:
        raise ValueError(
            f"outbox_overflow must be one of {', '.join(map(repr, OVERFLOW_POLICIES))}, "
            f"not {overflow!r}"
        )


def utf8_size(text: str) -> int:
    """The UTF-8 size of ``text`` (without encoding it when it is ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _fail(waiter: asyncio.Future[None] | None, exc: BaseException) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_exception(exc)


def _ended() -> ConnectionGone:
    return ConnectionGone("the connection has ended")


def _gone(exc: BaseException) -> ConnectionGone:
    if isinstance(exc, ConnectionGone):
        return exc
    gone = ConnectionGone(f"writing failed: {type(exc).__name__}")
    gone.__cause__ = exc
    return gone
