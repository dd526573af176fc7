"""The per-connection outbox: the eager fast path, the writer task, bounds, policies."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from chanx.core.outbox import Outbox, OverflowPolicy
from chanx.core.transport import ConnectionGone


class Wire:
    """A transport whose sends wait while its client is not reading."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.cancelled = 0
        self.fail_with: BaseException | None = None

    def pause(self) -> None:
        self.reading.clear()

    def resume(self) -> None:
        self.reading.set()

    async def _wait_for_reader(self) -> None:
        if not self.reading.is_set():
            try:
                await self.reading.wait()
            except (asyncio.CancelledError, GeneratorExit):
                self.cancelled += 1  # cancelled, or abandoned before it could be
                raise
        if self.fail_with is not None:
            raise self.fail_with

    async def send_text(self, text: str) -> None:
        await self._wait_for_reader()
        self.frames.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._wait_for_reader()
        self.frames.append(f"close {code}")


class Events:
    """Records handled events; a handler may be made to wait."""

    def __init__(self) -> None:
        self.handled: list[Any] = []
        self.go = asyncio.Event()
        self.go.set()

    async def run(self, handler: Any, envelope: Any) -> None:
        await self.go.wait()
        self.handled.append(envelope)


class Owner:
    """The connection an outbox serves, as the outbox sees it: records what it is told."""

    def __init__(self, events: Events) -> None:
        self.events = events
        self.overflows: list[str] = []
        self.failures: list[BaseException] = []

    async def _handle_queued_event(self, handler: Any, envelope: Any) -> None:
        await self.events.run(handler, envelope)

    def _slow_consumer(self, bound: str) -> None:
        self.overflows.append(bound)

    def _write_failed(self, exc: BaseException) -> None:
        self.failures.append(exc)

    def _describe(self) -> str:
        return "TestConsumer test.1"


def make_with_owner(
    wire: Wire,
    *,
    max_messages: int | None = 100,
    max_bytes: int | None = None,
    overflow: OverflowPolicy = "close",
    events: Events | None = None,
) -> tuple[Outbox, Owner]:
    owner = Owner(events or Events())
    outbox = Outbox(wire, owner, max_messages=max_messages, max_bytes=max_bytes, overflow=overflow)
    return outbox, owner


def make(
    wire: Wire,
    *,
    max_messages: int | None = 100,
    max_bytes: int | None = None,
    overflow: OverflowPolicy = "close",
    events: Events | None = None,
) -> tuple[Outbox, list[str]]:
    outbox, owner = make_with_owner(
        wire, max_messages=max_messages, max_bytes=max_bytes, overflow=overflow, events=events
    )
    return outbox, owner.overflows


async def until(condition: Any) -> None:
    """Let the loop run until ``condition()`` holds (a deterministic wait, bounded)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


# ---------------------------------------------------------------------- the fast path


async def test_an_idle_outbox_writes_at_once_without_a_task_or_a_copy() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    text = '{"action":"notice","payload":"' + "x" * 100 + '"}'
    tasks = asyncio.all_tasks()
    outbox.push(text, '{"action":"group_complete","payload":null}')
    # Written before push() returned: nothing was scheduled, the very object went out.
    assert wire.frames[0] is text
    assert wire.frames[1] == '{"action":"group_complete","payload":null}'
    assert asyncio.all_tasks() == tasks
    assert outbox.idle


async def test_a_handlers_own_send_on_an_idle_outbox_does_not_yield() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    steps: list[str] = []

    async def other() -> None:
        steps.append("other ran")

    task = asyncio.ensure_future(other())
    await outbox.send("mine")
    steps.append("sent")
    await task
    assert steps == ["sent", "other ran"]
    assert wire.frames == ["mine"]


# ---------------------------------------------------------------------- a stuck send


async def test_a_send_that_waits_moves_to_a_writer_and_the_rest_queues_in_order() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    outbox.push("m1", "c")
    assert not outbox.idle
    outbox.push("m2", "c")
    outbox.push("m3")
    assert outbox.queued_messages == 2  # m1 is in flight, not counted
    assert outbox.queued_bytes == len("m2") + len("c") + len("m3")
    assert wire.frames == []
    wire.resume()
    await outbox.wait_idle()
    assert wire.frames == ["m1", "c", "m2", "c", "m3"]
    assert outbox.queued_messages == outbox.queued_bytes == 0
    # Idle again: the next one takes the fast path.
    tasks = asyncio.all_tasks()
    outbox.push("m4")
    assert wire.frames[-1] == "m4"
    assert asyncio.all_tasks() == tasks


async def test_a_handlers_own_send_waits_behind_the_backlog() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    outbox.push("group 1")
    outbox.push("group 2")
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes and len(outbox._writes) == 2)
    assert not sending.done()
    outbox.push("group 3")  # after the reply: it goes after it
    wire.resume()
    await sending
    assert wire.frames[:3] == ["group 1", "group 2", "reply"]
    await outbox.wait_idle()
    assert wire.frames == ["group 1", "group 2", "reply", "group 3"]


async def test_a_handlers_own_send_that_waits_goes_first_then_the_queue_drains() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: not outbox.idle)
    outbox.push("group")  # behind the reply in flight
    wire.resume()
    await sending
    await outbox.wait_idle()
    assert wire.frames == ["reply", "group"]


async def test_a_handler_cancelled_while_waiting_does_not_break_the_writer() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    outbox.push("group")
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes)
    sending.cancel()
    wire.resume()
    await outbox.wait_idle()
    assert wire.frames == ["group", "reply"]


# ---------------------------------------------------------------------- bounds and policies


async def test_over_the_message_bound_the_close_policy_stops_everything() -> None:
    wire = Wire()
    outbox, overflows = make(wire, max_messages=3)
    wire.pause()
    for n in range(4):  # one in flight, three queued
        outbox.push(f"m{n}")
    assert outbox.queued_messages == 3
    assert not overflows
    waiting = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes and len(outbox._writes) == 4)
    outbox.push("m4")
    assert overflows == ["outbox_max_messages=3"]
    assert outbox.overflowed == "outbox_max_messages=3"
    assert outbox.stopped
    assert not outbox.accepting
    assert outbox.queued_messages == outbox.queued_bytes == 0
    await waiting  # the handler waiting behind the backlog goes on, its send discarded
    await until(lambda: wire.cancelled == 1)  # the stuck send was cancelled
    outbox.push("later")  # ignored
    await outbox.send("after")  # discarded: the client was closed as slow
    wire.resume()
    await outbox.wait_idle()
    assert wire.frames == []


async def test_the_byte_bound_counts_utf8_bytes() -> None:
    wire = Wire()
    outbox, overflows = make(wire, max_messages=None, max_bytes=10)
    wire.pause()
    outbox.push("in flight")
    outbox.push("ééé")  # 3 characters, 6 bytes
    outbox.push("four")  # 10 bytes queued: at the bound, still in
    assert outbox.queued_bytes == 10
    assert not overflows
    outbox.push("!")
    assert overflows == ["outbox_max_bytes=10"]


async def test_drop_oldest_drops_a_message_with_its_completion_and_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    outbox, overflows = make(wire, max_messages=3, overflow="drop_oldest")
    wire.pause()
    with caplog.at_level(logging.WARNING, logger="chanx.outbox"):
        for n in range(10):
            outbox.push(f"m{n}", f"c{n}")
        assert outbox.dropped == 6
        assert outbox.queued_messages == 3
        assert not overflows
        assert not outbox.stopped
        wire.resume()
        await outbox.wait_idle()
    # m0 was in flight; m1..m6 went, oldest first; the newest three stayed.
    assert wire.frames == ["m0", "c0", "m7", "c7", "m8", "c8", "m9", "c9"]
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "TestConsumer test.1 is not reading fast enough: outbox over outbox_max_messages=3, "
        "dropping the oldest messages",
        "TestConsumer test.1 caught up; 6 messages were dropped",
    ]


async def test_drop_oldest_never_drops_a_handlers_own_send() -> None:
    wire = Wire()
    outbox, _ = make(wire, max_messages=2, overflow="drop_oldest")
    wire.pause()
    outbox.push("in flight")
    outbox.push("g1")
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes and len(outbox._writes) == 2)
    for n in range(2, 6):
        outbox.push(f"g{n}")
    assert outbox.dropped == 3
    wire.resume()
    await sending
    await outbox.wait_idle()
    assert wire.frames == ["in flight", "reply", "g4", "g5"]


async def test_drop_oldest_takes_events_and_group_messages_by_age() -> None:
    wire = Wire()
    events = Events()
    outbox, _ = make(wire, max_messages=3, overflow="drop_oldest", events=events)
    wire.pause()
    events.go.clear()
    outbox.push("in flight")
    outbox.push_event(None, "e0", 1)  # taken by the worker at once: being handled
    await until(lambda: outbox.queued_messages == 0)
    outbox.push_event(None, "e1", 1)
    outbox.push("g1")
    outbox.push_event(None, "e2", 1)
    outbox.push("g2")  # over: e1 (the oldest) goes
    outbox.push("g3")  # over: g1 goes
    assert outbox.dropped == 2
    events.go.set()
    wire.resume()
    await outbox.wait_idle()
    assert events.handled == ["e0", "e2"]
    assert wire.frames == ["in flight", "g2", "g3"]


async def test_drop_oldest_drops_only_a_message_larger_than_the_whole_outbox() -> None:
    wire = Wire()
    outbox, _ = make(wire, max_messages=None, max_bytes=8, overflow="drop_oldest")
    wire.pause()
    outbox.push("in flight")
    outbox.push("small")
    outbox.push("x" * 9)
    assert outbox.dropped == 1
    assert outbox.queued_messages == 1
    wire.resume()
    await outbox.wait_idle()
    assert wire.frames == ["in flight", "small"]


async def test_a_message_larger_than_the_bound_passes_an_idle_outbox() -> None:
    wire = Wire()
    outbox, overflows = make(wire, max_bytes=8)
    outbox.push("x" * 100)
    assert wire.frames == ["x" * 100]
    assert not overflows


async def test_events_count_toward_the_bound_while_the_client_is_behind() -> None:
    wire = Wire()
    events = Events()
    events.go.clear()
    outbox, overflows = make(wire, max_messages=2, events=events)
    wire.pause()
    outbox.push("in flight")  # the client is behind from here
    outbox.push_event(None, "e0", 10)
    await until(lambda: outbox.queued_messages == 0)  # e0 is being handled
    outbox.push_event(None, "e1", 10)
    outbox.push_event(None, "e2", 10)
    assert (outbox.queued_messages, outbox.queued_bytes) == (2, 20)
    outbox.push_event(None, "e3", 10)
    assert overflows == ["outbox_max_messages=2"]
    await outbox.wait_idle()  # the worker was cancelled
    assert events.handled == []


async def test_events_for_a_client_that_keeps_up_are_never_refused() -> None:
    wire = Wire()
    events = Events()
    outbox, overflows = make(wire, max_messages=2, events=events)
    for n in range(10):  # a burst: queued faster than the worker can run
        outbox.push_event(None, n, 10)
    assert outbox.queued_messages == 10
    await outbox.wait_idle()
    assert events.handled == list(range(10))
    assert not overflows


async def test_events_are_handled_one_at_a_time_in_order() -> None:
    events = Events()
    outbox, _ = make(Wire(), events=events)
    for n in range(5):
        outbox.push_event(None, n, 1)
    await outbox.wait_idle()
    assert events.handled == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------- closing and ending


async def test_close_waits_for_own_sends_and_discards_queued_group_messages() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    outbox.push("in flight")
    outbox.push("queued group message")
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes and len(outbox._writes) == 2)
    closing = asyncio.ensure_future(outbox.close(4000))
    await until(lambda: len(outbox._writes or ()) == 2)  # the group message left, close came
    outbox.push("after close")
    wire.resume()
    await sending
    await closing
    assert wire.frames == ["in flight", "reply", "close 4000"]


async def test_after_a_slow_close_a_handlers_write_in_flight_is_left_to_finish() -> None:
    wire = Wire()
    outbox, overflows = make(wire, max_messages=1)
    wire.pause()
    sending = asyncio.ensure_future(outbox.send("stuck reply"))  # the handler's own
    await until(lambda: not outbox.idle)
    outbox.push("g1")
    outbox.push("g2")  # over the bound: closed as slow
    assert overflows == ["outbox_max_messages=1"]
    assert outbox.stopped
    await outbox.send("later reply")  # discarded
    await outbox.close(1000)  # nothing more to close: the slow-consumer close is under way
    assert not sending.done()  # the handler's write is not the outbox's to cancel
    wire.resume()
    await sending
    assert wire.frames == ["stuck reply"]


async def test_stop_cancels_a_stuck_writer_and_releases_waiting_handlers() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    outbox.push("stuck")
    await asyncio.sleep(0)  # the writer runs: the send waits inside it
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes)
    outbox.stop()
    with pytest.raises(ConnectionGone):
        await sending
    await outbox.wait_idle()
    assert wire.cancelled == 1
    assert wire.frames == []
    outbox.stop()  # idempotent


async def test_stop_before_the_writer_ever_ran_closes_its_send() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    outbox.push("stuck")  # the writer task exists, not started yet
    writer = outbox._writer
    assert isinstance(writer, asyncio.Task)
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: outbox._writes)
    outbox.stop()
    with pytest.raises(ConnectionGone):
        await sending
    await asyncio.sleep(0)
    assert writer.cancelled()
    assert wire.cancelled == 1  # the send it held was closed, not left to the collector


async def test_a_client_gone_during_a_delivery_stops_the_outbox_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.fail_with = ConnectionGone()
    with caplog.at_level(logging.DEBUG, logger="chanx.outbox"):
        outbox.push("to nobody")
    assert outbox.stopped
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    with pytest.raises(ConnectionGone):
        await outbox.send("reply")


async def test_a_failure_after_the_send_waited_stops_the_outbox_and_tells_its_owner() -> None:
    wire = Wire()
    outbox, owner = make_with_owner(wire)
    wire.pause()
    outbox.push("one")
    outbox.push("two")
    wire.fail_with = RuntimeError("transport broke")
    wire.resume()
    await outbox.wait_idle()
    assert outbox.stopped
    [failure] = owner.failures
    assert isinstance(failure, RuntimeError)
    assert str(failure) == "transport broke"


async def test_an_own_send_failing_at_once_raises_to_the_handler() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.fail_with = RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        await outbox.send("reply")
    assert not outbox.stopped  # not a lost client: the engine reports the handler's error


async def test_an_own_send_failing_after_waiting_raises_to_the_handler() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: not outbox.idle)
    outbox.push("queued behind")
    wire.fail_with = RuntimeError("broke while waiting")
    wire.resume()
    with pytest.raises(RuntimeError, match="broke while waiting"):
        await sending
    await outbox.wait_idle()  # the writer then tried what queued up, failed, and stopped
    assert outbox.stopped


async def test_a_client_gone_during_a_handlers_own_write_stops_the_outbox() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    wire.pause()
    sending = asyncio.ensure_future(outbox.send("reply"))
    await until(lambda: not outbox.idle)
    outbox.push("queued behind")
    wire.fail_with = ConnectionGone()
    wire.resume()
    with pytest.raises(ConnectionGone):
        await sending
    assert outbox.stopped
    assert outbox.queued_messages == 0


async def test_wait_idle_returns_at_once_when_idle_and_survives_a_cancelled_waiter() -> None:
    wire = Wire()
    outbox, _ = make(wire)
    await outbox.wait_idle()
    wire.pause()
    outbox.push("x")
    first = asyncio.ensure_future(outbox.wait_idle())
    second = asyncio.ensure_future(outbox.wait_idle())
    await asyncio.sleep(0)
    first.cancel()
    wire.resume()
    await second
    assert outbox.idle


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"overflow": "drop_newest"}, "outbox_overflow must be one of 'close', 'drop_oldest'"),
        ({"max_messages": 0}, "outbox_max_messages must be a positive int or None, not 0"),
        ({"max_bytes": -1}, "outbox_max_bytes must be a positive int or None, not -1"),
    ],
)
def test_settings_are_checked(bad: dict[str, Any], message: str) -> None:
    wire = Wire()
    options: dict[str, Any] = {"max_messages": 1, "max_bytes": None, "overflow": "close"}
    options.update(bad)
    with pytest.raises(ValueError, match=message):
        Outbox(wire, Owner(Events()), **options)
