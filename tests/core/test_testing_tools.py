"""The testing tools against hand-written ASGI apps and core consumers: completion
filtering, mistakes explained, settle() where it cannot prove anything, timeouts that
are asyncio's, frames as they came, connecting as a user, capture_broadcasts, live
servers, and the promise that chanx.testing never sleeps."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Literal

import pytest

import chanx.testing
from chanx.constants import (
    EVENT_ACTION_COMPLETE,
    GROUP_ACTION_COMPLETE,
    MESSAGE_ACTION_COMPLETE,
)
from chanx.core.auth import KNOWN_USER_KEY, AuthResult, KnownUser
from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import (
    AuthenticatedCommunicator,
    CommunicatorError,
    ReceiveTimeout,
    WebsocketCommunicator,
)
from chanx.testing.broadcasts import capture_broadcasts
from chanx.testing.daphne import sign, unsign
from chanx.testing.live import LiveCommunicator, UvicornLiveServer
from chanx.testing.mistakes import distance, misspelled_completion

Receive = Any
Send = Any


def scripted(*frames: Any) -> Any:
    """An app that accepts, then answers each frame it gets with ``frames`` (a list of
    JSON values, or bytes sent as a binary frame)."""

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            for frame in frames:
                if isinstance(frame, bytes):
                    await send({"type": "websocket.send", "bytes": frame})
                else:
                    await send({"type": "websocket.send", "text": json.dumps(frame)})

    return app


def action(name: str) -> dict[str, Any]:
    return {"action": name, "payload": None}


LATE = {"action": "late", "payload": 1}


# ---------------------------------------------------------------- completion filtering


async def test_completion_frames_never_reach_the_result() -> None:
    app = scripted(
        LATE,
        action(GROUP_ACTION_COMPLETE),
        action(EVENT_ACTION_COMPLETE),
        action(MESSAGE_ACTION_COMPLETE),
    )
    async with WebsocketCommunicator(app, "/") as comm:
        await comm.send_json({})
        assert await comm.receive_all_json() == [LATE]
        assert await comm.receive_nothing()


async def test_a_stop_on_group_complete_returns_its_slice() -> None:
    first, second, third = ({"action": "item", "payload": n} for n in range(3))
    app = scripted(
        first,
        action(EVENT_ACTION_COMPLETE),
        second,
        action(GROUP_ACTION_COMPLETE),
        third,
        action(MESSAGE_ACTION_COMPLETE),
    )
    async with WebsocketCommunicator(app, "/") as comm:
        await comm.send_json({})
        assert await comm.receive_all_json(stop_action=GROUP_ACTION_COMPLETE) == [first, second]
        assert await comm.receive_all_json() == [third]
        await comm.send_json({})
        assert await comm.receive_all_json(stop_action=EVENT_ACTION_COMPLETE) == [first]
        assert await comm.receive_all_json(stop_action="item") == [second]


# ---------------------------------------------------------------- mistakes explained


async def test_a_timed_out_collection_names_the_completions_and_the_stop_they_suggest() -> None:
    app = scripted(LATE, action(GROUP_ACTION_COMPLETE), action(EVENT_ACTION_COMPLETE))
    async with WebsocketCommunicator(app, "/") as comm:
        await comm.send_json({})
        with pytest.raises(ReceiveTimeout) as failure:
            await comm.receive_all_json(timeout=0.1)
    assert str(failure.value) == (
        "no 'complete' within 0.1s; received 1 message(s): "
        '[{"action": "late", "payload": 1}]; '
        "received group_complete (x1), event_complete (x1): did you mean "
        "stop_action=GROUP_ACTION_COMPLETE or stop_action=EVENT_ACTION_COMPLETE?"
    )


async def test_a_timed_out_collection_without_completions_says_so() -> None:
    async with WebsocketCommunicator(scripted(LATE), "/") as comm:
        await comm.send_json({})
        with pytest.raises(ReceiveTimeout, match="no completion frame arrived"):
            await comm.receive_all_json(stop_action=GROUP_ACTION_COMPLETE, timeout=0.05)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("group_completed", "GROUP_ACTION_COMPLETE"),
        ("group-complete", "GROUP_ACTION_COMPLETE"),
        ("event_complet", "EVENT_ACTION_COMPLETE"),
        ("complte", "MESSAGE_ACTION_COMPLETE"),
        ("Complete", "MESSAGE_ACTION_COMPLETE"),
    ],
)
async def test_a_misspelt_completion_fails_at_once(typo: str, meant: str) -> None:
    async with WebsocketCommunicator(scripted(), "/") as comm:
        with pytest.raises(CommunicatorError, match=f"did you mean stop_action={meant}"):
            await comm.receive_all_json(stop_action=typo, timeout=60)


class CompletedNotice(BaseMessage):
    """A message whose action is close to a completion action, declared on purpose."""

    action: Literal["completed"] = "completed"
    payload: None = None


async def test_an_action_a_message_class_declares_is_no_typo() -> None:
    assert misspelled_completion("completed") is None
    assert misspelled_completion("job_status") is None  # far from every completion
    async with WebsocketCommunicator(scripted(action("completed")), "/") as comm:
        await comm.send_json({})
        assert await comm.receive_all_json(stop_action="completed") == [action("completed")]


def test_edit_distance() -> None:
    assert distance("complete", "complete") == 0
    assert distance("complte", "complete") == 1
    assert distance("group_completed", "group_complete") == 1
    assert distance("abc", "") == 3


# ---------------------------------------------------------------- timeouts, frames


async def test_a_receive_timeout_is_every_kind_of_timeout() -> None:
    async with WebsocketCommunicator(scripted(), "/") as comm:
        with pytest.raises(ReceiveTimeout) as failure:
            await comm.receive_json(timeout=0.01)
    error = failure.value
    assert isinstance(error, asyncio.TimeoutError)
    assert isinstance(error, TimeoutError)
    assert isinstance(error, AssertionError)
    assert isinstance(error, CommunicatorError)
    assert str(error) == "nothing arrived within 0.01s while waiting for a message"


async def test_receive_from_gives_frames_as_they_came() -> None:
    async with WebsocketCommunicator(scripted(LATE, b"\x00\x01"), "/") as comm:
        await comm.send_to(text_data="{}")
        assert await comm.receive_from() == json.dumps(LATE)
        assert await comm.receive_from() == b"\x00\x01"
        await comm.send_to(text_data="{}")
        await comm.receive_from()
        with pytest.raises(CommunicatorError, match="JSON data is not a text frame"):
            await comm.receive_json_from()


# ---------------------------------------------------------------- settle, unprovable


async def test_settle_cannot_prove_a_plain_asgi_app_idle() -> None:
    """Not a chanx consumer: what it does between frames is unknown, so settle() waits
    out its timeout (returning False) and receive_nothing() its own."""
    async with WebsocketCommunicator(scripted(LATE), "/") as comm:
        assert await comm.settle(timeout=0.05) is False
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await comm.receive_nothing(timeout=0.1)
        assert loop.time() - started >= 0.1 * 0.99
        await comm.send_json({})
        with pytest.raises(CommunicatorError, match="expected nothing"):
            await comm.receive_nothing(timeout=60)  # fails as soon as the frame comes


class Echo(BaseMessage):
    action: Literal["slow_echo"] = "slow_echo"
    payload: float


class Echoed(BaseMessage):
    action: Literal["slow_echoed"] = "slow_echoed"
    payload: float


class SlowEcho(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False

    @ws_handler
    async def handle(self, message: Echo) -> Echoed:
        await asyncio.sleep(message.payload)
        return Echoed(payload=message.payload)


async def test_settle_covers_every_open_communicator() -> None:
    app = SlowEcho.as_asgi()
    async with WebsocketCommunicator(app, "/") as busy, WebsocketCommunicator(app, "/") as idle:
        await busy.send_message(Echo(payload=0.05))
        assert await idle.settle(timeout=30) is True  # waited for the other connection
        assert await busy.receive_all_messages(timeout=0) == [Echoed(payload=0.05)]


async def test_settle_on_a_closed_or_unopened_communicator() -> None:
    comm = WebsocketCommunicator(SlowEcho.as_asgi(), "/")
    assert await comm.settle(timeout=30) is True  # nothing open anywhere
    await comm.connect()
    await comm.disconnect()
    assert await comm.settle(timeout=30) is True


# ---------------------------------------------------------------- connecting as a user


class Admit:
    """An authenticator with a separate authorization step."""

    async def authenticate(self, consumer: Any) -> AuthResult:
        return AuthResult.deny(401, "no credentials here")

    async def authorize(self, consumer: Any, user: Any) -> AuthResult:
        if user == "eve":
            return AuthResult.deny(403, "not eve")
        return AuthResult.allow(user, data={"as": user})


class WhoMessage(BaseMessage):
    action: Literal["core_who"] = "core_who"
    payload: None = None


class WhoReply(BaseMessage):
    action: Literal["core_who_reply"] = "core_who_reply"
    payload: Any = None


def not_carol(consumer: Any, message: Any) -> bool:
    return bool(consumer.user != "carol")


class Guarded(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    authenticator = Admit()

    @ws_handler(permissions=[not_carol])
    async def handle_who(self, message: WhoMessage) -> WhoReply:
        return WhoReply(payload=self.user)


class Open(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False

    @ws_handler
    async def handle_who(self, message: WhoMessage) -> WhoReply:
        return WhoReply(payload=self.user)


async def test_a_plain_asgi_consumer_as_a_user() -> None:
    app = Guarded.as_asgi()
    async with AuthenticatedCommunicator(app, "/", user="dave") as comm:
        assert (await comm.wait_for_auth()).payload.data == {"as": "dave"}
        await comm.send_message(WhoMessage())
        assert (await comm.assert_receives(WhoReply)).payload == "dave"
    with pytest.raises(CommunicatorError, match="authentication failed: 403"):
        await AuthenticatedCommunicator(app, "/", user="eve").connect()
    async with WebsocketCommunicator(app, "/", user="carol") as comm:
        await comm.send_message(WhoMessage())  # admitted, but this handler refuses carol
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "permission_denied"
    comm = WebsocketCommunicator(app, "/")  # no user: its credentials decide (none here)
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 401
    await comm.disconnect()


async def test_without_an_authorize_step_the_user_is_admitted() -> None:
    async with AuthenticatedCommunicator(Open.as_asgi(), "/", user={"id": 7}) as comm:
        await comm.send_message(WhoMessage())
        assert (await comm.assert_receives(WhoReply)).payload == {"id": 7}


async def test_only_a_known_user_object_counts() -> None:
    """A scope value that is not a KnownUser (what a header-copying middleware could put
    there) is ignored: the credentials decide."""
    comm = WebsocketCommunicator(Guarded.as_asgi(), "/")
    comm.scope[KNOWN_USER_KEY] = {"user": "mallory"}
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 401
    await comm.disconnect()


# ---------------------------------------------------------------- capture_broadcasts


class Notice(BaseMessage):
    action: Literal["core_notice"] = "core_notice"
    payload: str


class Announcer(AsyncJsonWebsocketConsumer):
    groups = ["everyone"]


async def test_capture_without_delivery_needs_no_layer_and_restores_the_class() -> None:
    before = dict(Announcer.__dict__)
    with capture_broadcasts(Announcer, deliver=False) as sent:
        await Announcer.broadcast_event(Notice(payload="a"))
        await Announcer.send_event(Notice(payload="b"), "some.channel")
    assert [(b.method, b.group, b.channel_name) for b in sent] == [
        ("broadcast_event", "everyone", None),
        ("send_event", None, "some.channel"),
    ]
    assert dict(Announcer.__dict__) == before
    assert "broadcast_event" not in Announcer.__dict__


async def test_capture_of_a_base_class_records_its_subclasses() -> None:
    class Sub(Announcer):
        pass

    async with capture_broadcasts(Announcer, deliver=False) as sent:
        await Sub.broadcast_event(Notice(payload="from a subclass"), groups="room")
    assert sent.to("room") == [Notice(payload="from a subclass")]


async def test_capture_records_the_sync_senders() -> None:
    with capture_broadcasts(Announcer, deliver=False) as sent:
        await asyncio.to_thread(Announcer.broadcast_event_sync, Notice(payload="sync"))
    assert sent.to("everyone") == [Notice(payload="sync")]


def test_capture_refuses_what_is_not_a_consumer_class() -> None:
    with pytest.raises(TypeError, match="consumer class"):
        capture_broadcasts(Notice)  # type: ignore[arg-type]


# ---------------------------------------------------------------- live servers


async def test_a_live_server_follows_the_consumer_and_connects_as_a_user() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await Guarded.as_asgi()(scope, receive, send)

    server = UvicornLiveServer(app)
    async with server, server.communicator("/ws", user="dave") as comm:
        assert comm.consumer is Guarded  # followed, not given
        assert comm.channel_name is not None
        assert (await comm.wait_for_auth()).payload.data == {"as": "dave"}
        await comm.send_message(WhoMessage())
        assert (await comm.assert_receives(WhoReply)).payload == "dave"
    [scope] = seen
    assert all(not name.startswith(b"x-chanx") for name, _ in scope["headers"])


async def test_a_communicator_by_hand_to_any_server() -> None:
    async with UvicornLiveServer(Open.as_asgi()) as server:
        comm = LiveCommunicator(server.url + "/ws", consumer=Open)
        async with comm:
            await comm.send_message(WhoMessage())
            assert (await comm.assert_receives(WhoReply)).payload is None
            assert comm.channel_name is None  # nobody told it
            assert await comm.settle(timeout=0.05) is False  # cannot be proven


async def test_a_live_server_hands_the_apps_exception_to_the_test() -> None:
    async def crashing(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise LookupError("the app broke")

    async with UvicornLiveServer(crashing) as server:
        comm = server.communicator("/ws")
        await comm.connect()
        await comm.send_json({})
        with pytest.raises(LookupError, match="the app broke"):
            await comm.receive_json(timeout=5)
        await comm.disconnect()


async def test_a_live_refusal_is_the_servers_http_status() -> None:
    async def refusing(scope: Any, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4003})

    async with UvicornLiveServer(refusing) as server:
        comm = server.communicator("/ws")
        assert await comm.connect() == (False, 403)
        await comm.disconnect()


def test_a_signed_user_is_refused_once_tampered_with() -> None:
    key = b"k" * 32
    value = sign(key, KnownUser({"name": "bob"}))
    assert unsign(key, value) == KnownUser({"name": "bob"})
    payload, _, mac = value.rpartition(".")
    assert unsign(key, payload + "." + "0" * len(mac)) is None
    assert unsign(b"x" * 32, value) is None
    assert unsign(key, "no-signature") is None


# ---------------------------------------------------------------- no sleeping


def test_chanx_testing_never_sleeps() -> None:
    """Waits in chanx.testing are on conditions (a frame, an idle connection, a process
    line), never a sleep: no call of any ``sleep`` in its source."""
    folder = Path(chanx.testing.__file__).parent
    sources = sorted(folder.glob("*.py"))
    assert len(sources) > 5
    for source in sources:
        text = source.read_text()
        assert not re.search(r"\bsleep\s*\(", text), f"{source.name} sleeps"
