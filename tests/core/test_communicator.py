"""The in-process communicator against hand-written ASGI apps and chanx consumers."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import pytest

from chanx.core.auth import AuthResult
from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import (
    CommunicatorError,
    ConnectionClosed,
    ReceiveTimeout,
    WebsocketCommunicator,
)
from chanx.testing.asgi import build_scope

Receive = Any
Send = Any


def text(data: Any) -> dict[str, Any]:
    return {"type": "websocket.send", "text": json.dumps(data)}


async def accepting(scope: Any, receive: Receive, send: Send) -> None:
    """Accepts, then answers each frame after a delay given in the frame."""
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        data = json.loads(message["text"])
        await asyncio.sleep(data.get("delay", 0))
        await send(text({"action": "late", "payload": data.get("n")}))
        if data.get("complete"):
            await send(text({"action": "complete", "payload": None}))


async def test_a_receive_timeout_never_cancels_the_application() -> None:
    comm = WebsocketCommunicator(accepting, "/")
    await comm.connect()
    await comm.send_json({"delay": 0.3, "n": 1})
    with pytest.raises(ReceiveTimeout, match=r"nothing arrived within 0\.05s"):
        await comm.receive_json(timeout=0.05)
    assert await comm.receive_json(timeout=2) == {"action": "late", "payload": 1}
    await comm.disconnect()


async def test_a_collection_that_times_out_names_what_arrived() -> None:
    comm = WebsocketCommunicator(accepting, "/")
    await comm.connect()
    await comm.send_json({"n": 1})
    await comm.send_json({"n": 2})
    with pytest.raises(ReceiveTimeout) as caught:
        await comm.receive_all_json(timeout=0.2)
    message = str(caught.value)
    assert "no 'complete' within 0.2s" in message
    late = '{"action": "late", "payload": 1}, {"action": "late", "payload": 2}'
    assert f"2 message(s): [{late}]" in message
    await comm.disconnect()


async def test_completion_messages_are_dropped_and_custom_stops_kept() -> None:
    comm = WebsocketCommunicator(accepting, "/")
    await comm.connect()
    await comm.send_json({"n": 1, "complete": True})
    assert await comm.receive_all_json() == [{"action": "late", "payload": 1}]
    await comm.send_json({"n": 2})
    assert await comm.receive_all_json(stop_action="late") == [{"action": "late", "payload": 2}]
    await comm.disconnect()


async def test_receive_nothing_fails_naming_the_message() -> None:
    comm = WebsocketCommunicator(accepting, "/")
    await comm.connect()
    await comm.send_json({"n": 7})
    with pytest.raises(CommunicatorError, match=r'expected nothing, received .*"payload": 7'):
        await comm.receive_nothing(timeout=1)
    await comm.disconnect()


async def test_an_application_exception_surfaces_at_the_next_receive() -> None:
    async def crashing(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise LookupError("the app broke")

    comm = WebsocketCommunicator(crashing, "/")
    await comm.connect()
    await comm.send_json({})
    with pytest.raises(LookupError, match="the app broke"):
        await comm.receive_json()
    with pytest.raises(LookupError, match="the app broke"):
        await comm.disconnect()


async def test_rejections_before_accept() -> None:
    async def closing(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4003})

    async def denying(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"no"})

    async def ending(scope: Any, receive: Receive, send: Send) -> None:
        await receive()

    comm = WebsocketCommunicator(closing, "/")
    assert await comm.connect() == (False, 4003)
    assert (comm.connected, comm.close_code) == (False, 4003)
    await comm.disconnect()
    comm = WebsocketCommunicator(denying, "/")
    assert await comm.connect() == (False, 403)
    await comm.disconnect()
    comm = WebsocketCommunicator(ending, "/")
    assert await comm.connect() == (False, None)
    with pytest.raises(RuntimeError, match="already connected once"):
        await comm.connect()


async def test_server_close_during_a_wait_is_reported_with_its_code() -> None:
    async def closes_after_one(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send(text({"action": "bye"}))
        await send({"type": "websocket.close", "code": 4321})

    comm = WebsocketCommunicator(closes_after_one, "/")
    await comm.connect()
    await comm.send_json({})
    with pytest.raises(ConnectionClosed, match="code 4321") as caught:
        await comm.receive_all_json()
    assert caught.value.code == 4321
    assert '{"action": "bye"}' in str(caught.value)
    with pytest.raises(ConnectionClosed):
        await comm.receive_json()
    await comm.receive_nothing()
    assert (comm.connected, comm.close_code) == (False, 4321)
    await comm.disconnect()


async def test_disconnect_waits_for_the_application_and_reports_a_hang() -> None:
    finished = asyncio.Event()

    async def slow_to_leave(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await asyncio.sleep(0.05)
        finished.set()

    comm = WebsocketCommunicator(slow_to_leave, "/")
    await comm.connect()
    await comm.disconnect()
    assert finished.is_set()

    async def never_leaves(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await asyncio.Event().wait()

    comm = WebsocketCommunicator(never_leaves, "/")
    await comm.connect()
    with pytest.raises(AssertionError, match=r"did not finish within 0\.1s"):
        await comm.disconnect(timeout=0.1)


async def test_wait_for_auth_on_a_plain_app_keeps_other_messages_in_order() -> None:
    async def chatty(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send(text({"action": "hello", "payload": None}))
        await send(text({"action": "authentication", "payload": {"status_code": 200}}))
        await receive()

    comm = WebsocketCommunicator(chatty, "/")
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 200
    assert await comm.receive_json() == {"action": "hello", "payload": None}
    await comm.disconnect()


class DeclaredReply(BaseMessage):
    action: Literal["c_declared"] = "c_declared"
    payload: int


class UndeclaredReply(BaseMessage):
    action: Literal["c_undeclared"] = "c_undeclared"
    payload: int


class SendsMessage(BaseMessage):
    action: Literal["c_send"] = "c_send"


class Sender(AsyncJsonWebsocketConsumer):
    send_completion = True

    @ws_handler(output_type=DeclaredReply)
    async def handle_send(self, message: SendsMessage) -> None:
        await self.send_message(DeclaredReply(payload=1))
        await self.send_message(UndeclaredReply(payload=2))
        await self.send_json({"action": "c_unknown_anywhere", "payload": 3})


@pytest.mark.off_contract("how an unchecked communicator parses undeclared actions")
async def test_the_consumer_is_found_without_being_named() -> None:
    comm = WebsocketCommunicator(Sender.as_asgi(), "/ws")
    assert comm.consumer is None
    await comm.connect()
    assert comm.consumer is Sender
    await comm.send_message(SendsMessage())
    assert await comm.receive_message() == DeclaredReply(payload=1)
    # Not declared on the consumer, but exactly one class defines the action.
    assert await comm.receive_message() == UndeclaredReply(payload=2)
    with pytest.raises(CommunicatorError, match="cannot parse action 'c_unknown_anywhere'"):
        await comm.receive_message()
    await comm.disconnect()


async def test_missing_completion_setting_fails_fast_with_a_hint() -> None:
    class NoCompletion(AsyncJsonWebsocketConsumer):
        pass

    async with WebsocketCommunicator(NoCompletion.as_asgi(), "/ws") as comm:
        await comm.send_message(PingMessage())
        with pytest.raises(CommunicatorError, match="send_completion = True"):
            await comm.receive_all_messages()
        assert await comm.receive_message() == PongMessage()
        with pytest.raises(CommunicatorError, match="sent no authentication message"):
            await comm.wait_for_auth()


async def test_explicit_consumer_is_kept() -> None:
    comm = WebsocketCommunicator(Sender.as_asgi(), "/ws", consumer=Sender)
    async with comm:
        assert comm.consumer is Sender


def test_scope_is_built_from_path_headers_and_subprotocols() -> None:
    scope = build_scope(
        "/ws/room/caf%C3%A9?x=1&y=2",
        headers=[(b"Cookie", b"a=b"), ("X-Name", "v")],
        subprotocols=["p1"],
    )
    assert scope["path"] == "/ws/room/café"
    assert scope["raw_path"] == b"/ws/room/caf%C3%A9"
    assert scope["query_string"] == b"x=1&y=2"
    assert scope["headers"] == [(b"host", b"testserver"), (b"cookie", b"a=b"), (b"x-name", b"v")]
    assert scope["subprotocols"] == ["p1"]
    assert build_scope("/", {"Host": "example.org"})["headers"] == [(b"host", b"example.org")]


async def test_a_failing_block_is_not_hidden_by_cleanup_errors() -> None:
    async def crashing(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise LookupError("cleanup would raise this")

    async def failing_test() -> None:
        async with WebsocketCommunicator(crashing, "/") as comm:
            await comm.send_json({})
            raise ValueError("the test's own failure")

    with pytest.raises(ValueError, match="the test's own failure"):
        await failing_test()


async def test_a_refused_handshake_fails_async_with_and_later_waits_clearly() -> None:
    async def closing(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4003})

    with pytest.raises(ConnectionClosed, match=r"refused the handshake \(4003\)") as caught:
        async with WebsocketCommunicator(closing, "/"):
            pass
    assert caught.value.code == 4003

    comm = WebsocketCommunicator(closing, "/")
    assert await comm.connect() == (False, 4003)
    with pytest.raises(
        ConnectionClosed, match=r"nothing can arrive \(waited for authentication message\)"
    ):
        await comm.wait_for_auth()
    with pytest.raises(ConnectionClosed, match="refused the handshake"):
        await comm.receive_json()


async def test_close_after_refused_authentication_is_recorded_at_once() -> None:
    class Refusing(AsyncJsonWebsocketConsumer):
        async def authenticate(self) -> AuthResult:
            return AuthResult.deny(403)

    comm = WebsocketCommunicator(Refusing.as_asgi(), "/ws")
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 403
    assert (comm.close_code, comm.connected) == (4403, False)
    await comm.disconnect()
