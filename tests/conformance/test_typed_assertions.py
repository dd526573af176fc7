"""Typed assertions: ``assert_receives`` returns the message, typed; ``refute_receives``
fails when one arrives; failures list what did arrive, typed; ``assert_closed``."""

from __future__ import annotations

import pytest

from chanx.constants import GROUP_ACTION_COMPLETE
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import CommunicatorError, ConnectionClosed, ReceiveTimeout
from tests.conformance.behaviours import (
    AUTH_PATH,
    ECHO_PATH,
    CountMessage,
    CountReply,
    EchoMessage,
    EchoReply,
    NoticeEvent,
    NoticeReply,
    ShoutMessage,
    ShoutNotice,
    ShoutPayload,
    Text,
    WaitMessage,
    WaitReply,
    WhoAmIReply,
)
from tests.conformance.drivers import Driver


def echo(text: str) -> EchoMessage:
    return EchoMessage(payload=Text(text=text))


async def test_assert_receives_a_class_returns_the_message_typed(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(echo("hi"))
        reply = await comm.assert_receives(EchoReply)
        assert isinstance(reply, EchoReply)
        assert reply.payload.text == "hi"  # typed: no cast, no ignore


async def test_assert_receives_with_payload_fields(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(echo("first"))
        await comm.send_message(echo("second"))
        reply = await comm.assert_receives(EchoReply, text="second")
        assert reply == EchoReply(payload=Text(text="second"))
        # What it passed over stays, in order, for later receives.
        assert await comm.receive_all_messages() == [EchoReply(payload=Text(text="first"))]
        assert await comm.receive_all_messages() == []


async def test_assert_receives_a_whole_message(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=3))
        assert await comm.assert_receives(CountReply(payload=2)) == CountReply(payload=2)
        assert await comm.assert_receives(CountReply, payload=0) == CountReply(payload=0)


async def test_assert_receives_waits_for_a_late_reply(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(WaitMessage(payload=0.05))
        assert await comm.assert_receives(WaitReply, timeout=5) == WaitReply(payload=0.05)


async def test_assert_receives_failure_lists_what_arrived_typed(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(echo("actual"))
        await comm.send_message(PingMessage())
        await comm.assert_receives(PongMessage)  # so the echo's answer is in
        with pytest.raises(ReceiveTimeout) as failure:
            await comm.assert_receives(EchoReply, text="expected", timeout=0.05)
        message = str(failure.value)
        assert "no EchoReply(text='expected') within 0.05s" in message
        assert (
            "received 1 message(s): [EchoReply(action='echo_reply', payload=Text(text='actual'))]"
            in message
        )
        assert "text='actual', not 'expected'" in message
        assert "completion frame(s)" in message
        assert isinstance(failure.value, AssertionError)


async def test_assert_receives_says_when_the_server_closed(driver: Driver) -> None:
    comm = driver.communicator(AUTH_PATH)  # no token: refused with 4401
    await comm.connect()
    with pytest.raises(ConnectionClosed, match=r"closed the connection .*4401.* WhoAmIReply"):
        await comm.assert_receives(WhoAmIReply, timeout=5)
    await comm.disconnect()


async def test_refute_receives_passes_when_no_such_message_comes(driver: Driver) -> None:
    path = "/ws/room/refute"
    async with driver.communicator(path) as sender, driver.communicator(path) as other:
        await sender.send_message(ShoutMessage(payload=ShoutPayload(text="x", exclude_me=True)))
        await other.assert_receives(ShoutNotice, text="x")
        await sender.refute_receives(ShoutNotice)
        assert await sender.receive_all_messages() == []  # its `complete` is still there


async def test_refute_receives_fails_on_a_late_match(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(WaitMessage(payload=0.05))
        with pytest.raises(CommunicatorError, match=r"expected no WaitReply, received WaitReply"):
            await comm.refute_receives(WaitReply, timeout=30 if driver.settles else 5)


async def test_refute_receives_with_fields_ignores_other_values(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(echo("allowed"))
        await comm.refute_receives(EchoReply, text="forbidden")
        with pytest.raises(CommunicatorError, match="expected no EchoReply"):
            await comm.refute_receives(EchoReply(payload=Text(text="allowed")))


async def test_typed_assertions_on_broadcasts_and_events(driver: Driver) -> None:
    path = "/ws/room/typed"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        await first.send_message(ShoutMessage(payload=ShoutPayload(text="hello")))
        for comm in (first, second):
            assert (await comm.assert_receives(ShoutNotice)).payload.text == "hello"
        await driver.broadcast_event(NoticeEvent(payload=Text(text="news")), ["room_typed"])
        for comm in (first, second):
            notice = await comm.assert_receives(NoticeReply, text="news")
            assert notice.payload == Text(text="news")
        await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)


async def test_assert_closed_with_and_without_a_code(driver: Driver) -> None:
    refused = driver.communicator(AUTH_PATH)
    await refused.connect()
    await refused.assert_closed()
    await refused.assert_closed(code=4401)
    with pytest.raises(CommunicatorError, match="closed with code 4401, not 4403"):
        await refused.assert_closed(code=4403)
    await refused.disconnect()
    async with driver.communicator(ECHO_PATH) as open_one:
        with pytest.raises(ReceiveTimeout, match="did not close the connection"):
            await open_one.assert_closed(timeout=0.05)


async def test_typed_assertions_reject_what_is_not_a_message(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with pytest.raises(TypeError, match="message class or a message"):
            await comm.assert_receives("echo_reply")  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="either a message"):
            await comm.assert_receives(EchoReply(payload=Text(text="a")), text="a")  # type: ignore[call-overload]


async def test_refute_receives_alone_means_nothing_else_came(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(echo("only this"))
        await comm.assert_receives(EchoReply)
        await comm.refute_receives()  # its `complete` is no message
        with pytest.raises(CommunicatorError, match="a completion frame, left by an earlier"):
            await comm.receive_nothing()  # which counts every frame, and says so
        await comm.send_message(WaitMessage(payload=0.05))
        with pytest.raises(CommunicatorError, match=r"expected no message, received WaitReply"):
            await comm.refute_receives(timeout=30 if driver.settles else 5)
