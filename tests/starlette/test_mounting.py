"""Consumers on Starlette routes: paths, mounts, names, the connection, endpoints that
send events, and which consumer classes an app serves."""

from __future__ import annotations

from typing import Any, Literal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute

from chanx.constants import EVENT_ACTION_COMPLETE
from chanx.core.decorators import event_handler, ws_handler
from chanx.core.memory import InMemoryGroupLayer, default_layer
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.starlette import (
    AsyncJsonWebsocketConsumer,
    ConsumerEndpoint,
    app_layer,
    bind_layer,
    configure_layer,
    current_layer,
    mounted_consumers,
)
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator, lifespan


class InfoMessage(BaseMessage):
    action: Literal["st_info"] = "st_info"
    payload: None = None


class InfoReply(BaseMessage):
    action: Literal["st_info_reply"] = "st_info_reply"
    payload: dict[str, Any]


class PingEvent(BaseMessage):
    action: Literal["st_ping_event"] = "st_ping_event"
    payload: str


class Seat(AsyncJsonWebsocketConsumer):
    send_completion = True

    async def get_groups(self) -> list[str]:
        return [f"seat_{self.path_params['seat']}"]

    @ws_handler
    async def handle_info(self, message: InfoMessage) -> InfoReply:
        return InfoReply(
            payload={
                "params": self.path_params,
                "url": str(self.websocket.url),
                "app_is_ours": self.app is self.scope["app"],
                "seat_url": self.app.url_path_for("seat", seat=7),
            }
        )

    @event_handler
    async def on_ping(self, event: PingEvent) -> InfoReply:
        return InfoReply(payload={"event": event.payload})


async def notify(request: Request) -> JSONResponse:
    await Seat.broadcast_event(
        PingEvent(payload="from a view"), f"seat_{request.path_params['seat']}"
    )
    return JSONResponse({"layer_is_the_apps": current_layer() is app_layer(request.app)})


def build() -> Starlette:
    app = Starlette(
        routes=[
            Mount("/ws", routes=[Seat.as_route("/seat/{seat:int}", name="seat")]),
            Route("/seat/{seat:int}/notify", notify, methods=["POST"]),
        ]
    )
    configure_layer(app)
    return app


async def test_routes_mounts_converters_names_and_the_connection() -> None:
    app = build()
    async with WebsocketCommunicator(app, "/ws/seat/12") as comm:
        await comm.send_message(InfoMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload == {  # type: ignore[attr-defined]
            "params": {"seat": 12},
            "url": "ws://testserver/ws/seat/12",
            "app_is_ours": True,
            "seat_url": "/ws/seat/7",
        }
        assert app_layer(app).members("seat_12") != []  # type: ignore[attr-defined]
        assert default_layer().members("seat_12") == []


async def test_http_endpoints_send_events_to_their_apps_connections() -> None:
    app, other = build(), build()
    async with (
        WebsocketCommunicator(app, "/ws/seat/1") as member,
        WebsocketCommunicator(other, "/ws/seat/1") as elsewhere,
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post("/seat/1/notify")
        assert response.json() == {"layer_is_the_apps": True}
        got = await member.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [InfoReply(payload={"event": "from a view"})]
        await elsewhere.receive_nothing()
        with bind_layer(other):
            await Seat.broadcast_event(PingEvent(payload="to the other"), "seat_1")
        got = await elsewhere.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [InfoReply(payload={"event": "to the other"})]


async def test_the_endpoint_mounts_by_hand_and_refuses_core_consumers() -> None:
    app = Starlette()
    app.router.add_websocket_route("/ws/seat/{seat}", Seat.as_endpoint())
    async with WebsocketCommunicator(app, "/ws/seat/3") as comm:
        assert comm.tracker is not None
        assert comm.tracker.consumer is not None
        assert comm.tracker.consumer.joined_groups == ("seat_3",)
    assert repr(Seat.as_endpoint()) == "<ConsumerEndpoint Seat>"
    with pytest.raises(TypeError, match=r"chanx.ext.starlette.AsyncJsonWebsocketConsumer.*as_asgi"):
        ConsumerEndpoint(CoreConsumer)  # type: ignore[arg-type]


def test_an_app_lists_the_consumer_classes_its_routes_serve() -> None:
    class Plain(CoreConsumer):
        pass

    routes = [
        Mount("/ws", routes=[Seat.as_route("/seat/{seat}")]),
        WebSocketRoute("/plain", Plain.as_asgi()),
        Route("/view", notify),
    ]
    assert [(m.path, m.consumer) for m in mounted_consumers(routes)] == [
        ("/ws/seat/{seat}", Seat),
        ("/plain", Plain),
    ]


async def test_layer_configuration_mistakes_are_clear() -> None:
    app = Starlette()
    with pytest.raises(LookupError, match="configure_layer"):
        app_layer(app)
    layer = InMemoryGroupLayer()
    assert configure_layer(app, layer) is layer
    with pytest.raises(RuntimeError, match="already"):
        configure_layer(app)
    with pytest.raises(TypeError, match="Redis URL"):
        configure_layer(Starlette(), InMemoryGroupLayer(), prefix="x")
    async with lifespan(app):
        assert current_layer() is layer
