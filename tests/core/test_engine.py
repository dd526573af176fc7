"""The engine through its plain-ASGI driver: config knobs, hooks, logging, connection info."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import pytest

from chanx.constants import CLOSE_SERVER_ERROR
from chanx.core.auth import AuthResult
from chanx.core.decorators import ws_handler
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.testing import WebsocketCommunicator


class InfoMessage(BaseMessage):
    action: Literal["e_info"] = "e_info"


class InfoReply(BaseMessage):
    action: Literal["e_info_reply"] = "e_info_reply"
    payload: dict[str, Any]


class AsyncCheckMessage(BaseMessage):
    action: Literal["e_async_check"] = "e_async_check"
    payload: bool


async def allowed_if_payload(consumer: Any, message: AsyncCheckMessage) -> bool:
    return message.payload


class InfoConsumer(AsyncJsonWebsocketConsumer):
    send_completion = True
    layer = InMemoryGroupLayer()

    @ws_handler
    async def handle_info(self, message: InfoMessage) -> InfoReply:
        return InfoReply(
            payload={
                "path_params": self.path_params,
                "query": self.query_params,
                "token": self.headers.get("x-token"),
                "groups": list(self.joined_groups),
            }
        )

    @ws_handler(permissions=[allowed_if_payload])
    async def handle_check(self, message: AsyncCheckMessage) -> InfoReply:
        return InfoReply(payload={"checked": True})


async def test_connection_info_reaches_handlers() -> None:
    app = InfoConsumer.as_asgi()
    async with WebsocketCommunicator(app, "/ws?room=blue&x=1", headers={"X-Token": "t"}) as comm:
        await comm.send_message(InfoMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload == {
            "path_params": {},
            "query": {"room": "blue", "x": "1"},
            "token": "t",
            "groups": [],
        }


async def test_async_permission_checks_run_before_the_handler() -> None:
    async with WebsocketCommunicator(InfoConsumer.as_asgi(), "/ws") as comm:
        await comm.send_message(AsyncCheckMessage(payload=True))
        assert [m.action for m in await comm.receive_all_messages()] == ["e_info_reply"]
        await comm.send_message(AsyncCheckMessage(payload=False))
        [error] = await comm.receive_all_json()
        assert error["payload"]["detail"] == "Permission denied"


async def test_without_send_completion_no_completion_frames_are_sent() -> None:
    class Quiet(AsyncJsonWebsocketConsumer):
        send_completion = False

    async with WebsocketCommunicator(Quiet.as_asgi(), "/ws") as comm:
        await comm.send_message(PingMessage())
        assert await comm.receive_json() == {"action": "pong", "payload": None}
        await comm.receive_nothing()
        with comm.off_contract("an unknown action, to see its error without completion"):
            await comm.send_json({"action": "nope"})
        assert (await comm.receive_json())["action"] == "error"
        await comm.receive_nothing()


async def test_message_logging_follows_the_class_settings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Logged(AsyncJsonWebsocketConsumer):
        send_completion = True
        log_websocket_message = True
        log_ignored_actions = ("ping", "pong")

        @ws_handler
        async def handle_info(self, message: InfoMessage) -> InfoReply:
            return InfoReply(payload={})

    class Silent(Logged):
        log_websocket_message = False

    for consumer, expect_logs in ((Logged, True), (Silent, False)):
        caplog.clear()
        async with WebsocketCommunicator(consumer.as_asgi(), "/ws") as comm:
            with caplog.at_level(logging.INFO, logger="chanx.consumer"):
                await comm.send_message(PingMessage())
                await comm.send_message(InfoMessage())
                await comm.receive_all_messages()
                await comm.receive_all_messages()
        lines = [r.getMessage() for r in caplog.records if r.name == "chanx.consumer"]
        if expect_logs:
            assert lines == [
                "Logged received 'e_info'",
                "Logged sent 'e_info_reply'",
            ]
        else:
            assert lines == []


async def test_messages_are_not_logged_by_default(caplog: pytest.LogCaptureFixture) -> None:
    class Quiet(AsyncJsonWebsocketConsumer):
        pass

    assert Quiet.log_websocket_message is False
    async with WebsocketCommunicator(Quiet.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.DEBUG, logger="chanx.consumer"):
            await comm.send_message(PingMessage())
            await comm.receive_json()
    assert [r for r in caplog.records if r.name == "chanx.consumer"] == []


async def test_with_logging_on_and_the_level_off_no_log_call_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Verbose(AsyncJsonWebsocketConsumer):
        log_websocket_message = True

    calls: list[object] = []
    monkeypatch.setattr(Verbose, "_log", lambda self, *args: calls.append(args))
    logger = logging.getLogger("chanx.consumer")
    level = logger.level
    async with WebsocketCommunicator(Verbose.as_asgi(), "/ws") as comm:
        try:
            logger.setLevel(logging.WARNING)
            await comm.send_message(PingMessage())
            await comm.receive_json()
            assert calls == []
            logger.setLevel(logging.INFO)
            await comm.send_message(PingMessage())
            await comm.receive_json()
        finally:
            logger.setLevel(level)
    assert calls == [("received", "ping"), ("sent", "pong")]


async def test_hooks_run_in_order_and_see_the_user() -> None:
    calls: list[str] = []

    class Hooked(AsyncJsonWebsocketConsumer):
        send_completion = True
        layer = InMemoryGroupLayer()

        async def authenticate(self) -> AuthResult:
            calls.append("authenticate")
            return AuthResult.allow(user="ada")

        async def get_groups(self) -> Iterable[str]:
            calls.append(f"get_groups user={self.user}")
            return ["g1", "g2"]

        async def post_authentication(self) -> None:
            calls.append(f"post_authentication groups={list(self.joined_groups)}")
            await self.join_group("g3")

        async def on_disconnect(self, code: int) -> None:
            calls.append(f"on_disconnect code={code} groups={list(self.joined_groups)}")

    async with WebsocketCommunicator(Hooked.as_asgi(), "/ws") as comm:
        await comm.assert_authenticated_status_ok()
        assert sorted(Hooked.layer.group_names()) == ["g1", "g2", "g3"]  # type: ignore[union-attr]
    assert calls == [
        "authenticate",
        "get_groups user=ada",
        "post_authentication groups=['g1', 'g2']",
        "on_disconnect code=1000 groups=[]",
    ]
    assert Hooked.layer.group_names() == []  # type: ignore[union-attr]


async def test_refused_connection_runs_no_hooks_and_closes_with_4000_plus_status() -> None:
    calls: list[str] = []

    class Refusing(AsyncJsonWebsocketConsumer):
        async def authenticate(self) -> AuthResult:
            return AuthResult.deny(401)

        async def get_groups(self) -> Iterable[str]:
            calls.append("get_groups")
            return []

        async def post_authentication(self) -> None:
            calls.append("post_authentication")

        async def on_disconnect(self, code: int) -> None:
            calls.append("on_disconnect")

    comm = WebsocketCommunicator(Refusing.as_asgi(), "/ws")
    assert await comm.connect() == (True, None)
    assert (await comm.wait_for_auth()).payload.status_code == 401
    await comm.receive_nothing()
    assert comm.close_code == 4401
    await comm.disconnect()
    assert calls == []


async def test_authenticator_object_is_used_when_set() -> None:
    class HeaderAuthenticator:
        async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
            if consumer.headers.get("x-key") == "k":
                return AuthResult.allow(user="key-user")
            return AuthResult.deny(403, "wrong key")

    class WithAuthenticator(AsyncJsonWebsocketConsumer):
        authenticator = HeaderAuthenticator()

    app = WithAuthenticator.as_asgi()
    async with WebsocketCommunicator(app, "/ws", headers=[(b"x-key", b"k")]) as comm:
        await comm.assert_authenticated_status_ok()
    async with WebsocketCommunicator(app, "/ws", headers=[("x-key", "bad")]) as comm:
        auth = await comm.wait_for_auth()
        assert (auth.payload.status_code, auth.payload.data) == (403, {"detail": "wrong key"})
        with pytest.raises(AssertionError, match="authentication failed: 403 Forbidden"):
            await comm.assert_authenticated_status_ok()


async def test_failing_connect_hook_closes_with_4500(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(AsyncJsonWebsocketConsumer):
        async def post_authentication(self) -> None:
            raise RuntimeError("boom")

    comm = WebsocketCommunicator(Broken.as_asgi(), "/ws")
    with caplog.at_level(logging.ERROR, logger="chanx"):
        await comm.connect()
    await comm.receive_nothing()
    assert comm.close_code == CLOSE_SERVER_ERROR == 4500
    assert "Broken: connect failed (close 4500)" in caplog.text
    await comm.disconnect()


async def test_subprotocol_selection() -> None:
    class Picky(AsyncJsonWebsocketConsumer):
        def select_subprotocol(self, requested: Sequence[str]) -> str | None:
            return "chanx.v1" if "chanx.v1" in requested else None

    app = Picky.as_asgi()
    comm = WebsocketCommunicator(app, "/ws", subprotocols=["other", "chanx.v1"])
    assert await comm.connect() == (True, "chanx.v1")
    await comm.disconnect()
    comm = WebsocketCommunicator(app, "/ws", subprotocols=["other"])
    assert await comm.connect() == (True, None)
    await comm.disconnect()


async def test_http_requests_to_the_consumer_app_get_426() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    await InfoConsumer.as_asgi()({"type": "http", "path": "/ws"}, receive, send)
    assert sent[0]["status"] == 426
    assert repr(InfoConsumer.as_asgi()) == "<ConsumerApp InfoConsumer>"


@pytest.mark.off_contract("send_json sends undeclared raw JSON on purpose")
async def test_broadcast_and_send_json_from_handlers() -> None:
    class Relay(AsyncJsonWebsocketConsumer):
        send_completion = True
        layer = InMemoryGroupLayer()
        groups = ["relay"]

        @ws_handler(output_type=InfoReply)
        async def handle_info(self, message: InfoMessage) -> None:
            await self.send_json({"raw": True})
            await self.broadcast_message(InfoReply(payload={"to": "explicit"}), groups="relay")

    async with WebsocketCommunicator(Relay.as_asgi(), "/ws") as comm:
        await comm.send_message(InfoMessage())
        frames = [await comm.receive_json() for _ in range(4)]
        assert frames == [
            {"raw": True},
            {"action": "e_info_reply", "payload": {"to": "explicit"}},
            {"action": "group_complete", "payload": None},
            {"action": "complete", "payload": None},
        ]


async def test_join_and_leave_at_run_time() -> None:
    layer = InMemoryGroupLayer()

    class JoinMessage(BaseMessage):
        action: Literal["e_join"] = "e_join"
        payload: str

    class LeaveMessage(BaseMessage):
        action: Literal["e_leave"] = "e_leave"
        payload: str

    class Joiner(AsyncJsonWebsocketConsumer):
        send_completion = True

        @ws_handler
        async def handle_join(self, message: JoinMessage) -> None:
            await self.join_group(message.payload)
            await self.join_group(message.payload)  # twice is once

        @ws_handler
        async def handle_leave(self, message: LeaveMessage) -> None:
            await self.leave_group(message.payload)
            await self.leave_group("never-joined")

    Joiner.layer = layer
    async with WebsocketCommunicator(Joiner.as_asgi(), "/ws") as comm:
        await comm.send_message(JoinMessage(payload="news"))
        await comm.receive_all_messages()
        assert layer.group_names() == ["news"]
        assert len(layer.members("news")) == 1
        await comm.send_message(LeaveMessage(payload="news"))
        await comm.receive_all_messages()
        assert layer.group_names() == []


async def test_a_client_gone_mid_reply_ends_the_connection_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server's send raises OSError (ASGI's rule for a closed connection): no
    'handler failed' traceback, no error reply attempted, the disconnect hooks run."""
    left: list[int] = []

    class Gone(AsyncJsonWebsocketConsumer):
        send_completion = True

        async def on_disconnect(self, code: int) -> None:
            left.append(code)

    inbox = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"action":"ping"}'},
    ]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message["type"])
        if message["type"] == "websocket.send":
            raise OSError("client disconnected")

    with caplog.at_level(logging.DEBUG, logger="chanx"):
        await Gone.as_asgi()({"type": "websocket", "path": "/"}, receive, send)
    assert sent == ["websocket.accept", "websocket.send"]
    assert left == [1006]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
