"""Mounting consumers the FastAPI way: app, APIRouter, prefixes, path parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import pytest
from fastapi import APIRouter, Depends, FastAPI, WebSocketException, status

from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator


class InspectMessage(BaseMessage):
    action: Literal["inspect"] = "inspect"
    payload: None = None


class InspectReply(BaseMessage):
    action: Literal["inspect_reply"] = "inspect_reply"
    payload: dict[str, Any]


class InspectConsumer(AsyncJsonWebsocketConsumer):
    """Tells the client what it sees of its connection."""

    send_completion = True
    log_websocket_message = False
    closed_with: list[int] = []

    def select_subprotocol(self, requested: Sequence[str]) -> str | None:
        return "chanx.v1" if "chanx.v1" in requested else None

    @ws_handler
    async def handle_inspect(self, message: InspectMessage) -> InspectReply:
        return InspectReply(
            payload={
                "path_params": self.path_params,
                "query": self.query_params,
                "cookies": dict(self.websocket.cookies),
                "app_title": self.app.title,
                "same_app": self.websocket.app is self.app,
            }
        )

    async def on_disconnect(self, code: int) -> None:
        type(self).closed_with.append(code)


async def inspect(app: Any, path: str, **options: Any) -> dict[str, Any]:
    async with WebsocketCommunicator(app, path, consumer=InspectConsumer, **options) as comm:
        await comm.send_message(InspectMessage())
        [reply] = await comm.receive_all_messages()
        assert isinstance(reply, InspectReply)
        return reply.payload


async def test_mounted_on_the_app() -> None:
    app = FastAPI(title="direct")
    app.add_api_websocket_route("/ws/inspect", InspectConsumer.as_endpoint())
    seen = await inspect(app, "/ws/inspect?room=blue&x=1")
    assert seen["path_params"] == {}
    assert seen["query"] == {"room": "blue", "x": "1"}
    assert seen["app_title"] == "direct"
    assert seen["same_app"] is True


async def test_router_prefixes_and_path_parameters_reach_the_consumer() -> None:
    inner = APIRouter(prefix="/rooms")
    inner.add_api_websocket_route("/{room}/seat/{seat:int}", InspectConsumer.as_endpoint())
    outer = APIRouter(prefix="/ws")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer, prefix="/v1")
    seen = await inspect(app, "/v1/ws/rooms/blue/seat/7")
    assert seen["path_params"] == {"room": "blue", "seat": 7}  # converted by the route


async def test_decorator_form_and_route_name() -> None:
    router = APIRouter()
    router.websocket("/ws/deco/{name}", name="deco")(InspectConsumer.as_endpoint())
    app = FastAPI()
    app.include_router(router)
    assert app.url_path_for("deco", name="x") == "/ws/deco/x"
    assert (await inspect(app, "/ws/deco/x"))["path_params"] == {"name": "x"}


async def test_default_route_name_is_the_consumer_class_name() -> None:
    app = FastAPI()
    app.add_api_websocket_route("/ws/i/{n}", InspectConsumer.as_endpoint())
    assert app.url_path_for("InspectConsumer", n="3") == "/ws/i/3"


async def test_app_mounted_under_another_app() -> None:
    sub = FastAPI(title="sub")
    sub.add_api_websocket_route("/ws/inspect/{k}", InspectConsumer.as_endpoint())
    main = FastAPI(title="main")
    main.mount("/sub", sub)
    seen = await inspect(main, "/sub/ws/inspect/z")
    assert seen["path_params"] == {"k": "z"}
    assert seen["app_title"] == "sub"


async def test_cookies_subprotocol_and_disconnect_code() -> None:
    app = FastAPI()
    app.add_api_websocket_route("/ws/inspect", InspectConsumer.as_endpoint())
    InspectConsumer.closed_with.clear()
    comm = WebsocketCommunicator(
        app,
        "/ws/inspect",
        headers={"cookie": "session=abc; theme=dark"},
        subprotocols=["other", "chanx.v1"],
        consumer=InspectConsumer,
    )
    accepted, subprotocol = await comm.connect()
    assert (accepted, subprotocol) == (True, "chanx.v1")
    await comm.send_message(InspectMessage())
    [reply] = await comm.receive_all_messages()
    assert reply.payload["cookies"] == {"session": "abc", "theme": "dark"}  # type: ignore[attr-defined]
    await comm.disconnect(code=4321)
    assert InspectConsumer.closed_with == [4321]


def test_only_fastapi_consumers_get_an_endpoint() -> None:
    from chanx.ext.fastapi.websocket import ConsumerEndpoint

    class Plain(CoreConsumer):
        pass

    with pytest.raises(TypeError, match="as_asgi"):
        ConsumerEndpoint(Plain, ())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Depends"):
        InspectConsumer.as_endpoint(dependencies=[lambda: None])  # type: ignore[list-item]


async def test_core_consumer_still_mounts_as_plain_asgi() -> None:
    class Plain(CoreConsumer):
        send_completion = True
        log_websocket_message = False

    app = FastAPI()
    app.router.add_websocket_route("/ws/plain", Plain.as_asgi())
    async with WebsocketCommunicator(app, "/ws/plain", consumer=Plain) as comm:
        await comm.send_message(PingMessage())
        assert await comm.receive_all_messages() == [PongMessage()]


async def test_router_dependencies_run_the_fastapi_way_before_the_handshake() -> None:
    """Dependencies on the route or router (not on the consumer or its endpoint) are
    FastAPI's: they run before chanx accepts, and refusing there refuses the handshake
    (no authentication message)."""

    def deny() -> None:
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "no entry")

    router = APIRouter(dependencies=[Depends(deny)])
    router.add_api_websocket_route("/ws/guarded", InspectConsumer.as_endpoint())
    app = FastAPI()
    app.include_router(router)
    comm = WebsocketCommunicator(app, "/ws/guarded", consumer=InspectConsumer)
    accepted, code = await comm.connect()
    assert (accepted, code) == (False, status.WS_1008_POLICY_VIOLATION)
    await comm.disconnect()


async def test_client_vanishing_mid_stream_ends_the_connection_quietly() -> None:
    """The server's socket fails (OSError) while a handler streams: the connection ends
    as a 1006 disconnect, without an exception escaping the app."""
    from tests.conformance.behaviours import CountMessage
    from tests.conformance.drivers.fastapi import EchoConsumer

    closed: list[int] = []

    class Echo(EchoConsumer):
        async def on_disconnect(self, code: int) -> None:
            closed.append(code)

    app = FastAPI()
    app.add_api_websocket_route("/ws", Echo.as_endpoint())
    inbox = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": CountMessage(payload=5).model_dump_json()},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        if len(sent) == 3:  # accept, two replies, then the socket is gone
            raise OSError("connection reset by peer")
        sent.append(message)

    scope = WebsocketCommunicator(app, "/ws").scope
    await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.send"]
    assert closed == [1006]


@pytest.mark.parametrize(
    "mount",
    [
        lambda app: app.add_api_websocket_route("/ws", InspectConsumer),
        lambda app: app.websocket("/ws")(InspectConsumer),
        lambda app: APIRouter().add_api_websocket_route("/ws", InspectConsumer),
        lambda app: app.add_api_websocket_route("/ws", InspectConsumer.as_asgi()),
        lambda app: app.router.add_websocket_route("/ws", InspectConsumer.as_asgi()),
    ],
    ids=["class", "decorator", "router", "as_asgi", "starlette-route-as_asgi"],
)
def test_mounting_anything_but_the_endpoint_fails_at_mount_time(
    mount: Callable[[FastAPI], object],
) -> None:
    with pytest.raises(TypeError, match=r"mount InspectConsumer\.as_endpoint\(\)"):
        mount(FastAPI())


def test_a_consumer_class_still_introspects_as_a_class() -> None:
    consumer = InspectConsumer()
    assert not hasattr(consumer, "__signature__")
    assert InspectConsumer.as_endpoint().__signature__.parameters.keys() == {"websocket"}
