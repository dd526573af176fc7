"""FastAPI's own parts of the Starlette route walker: included routers (with their
prefixes and dependencies, at any depth, under plain Starlette mounts too), for the AsyncAPI
document and for the app's layer (which consumer classes an app mounts)."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import APIKeyHeader
from starlette.applications import Starlette
from starlette.routing import Host, Mount, Router

from chanx.constants import EVENT_ACTION_COMPLETE
from chanx.core.auth import SecurityScheme
from chanx.core.decorators import event_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, bind_layer, configure_layer
from chanx.ext.starlette import mounted_consumers
from chanx.ext.starlette.routing import discover
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator, lifespan

api_key = APIKeyHeader(name="X-Key")


class Note(BaseMessage):
    action: Literal["fr_note"] = "fr_note"
    payload: str


class Noting(AsyncJsonWebsocketConsumer):
    send_completion = True
    groups = ["fr_room"]

    @event_handler
    async def on_note(self, event: Note) -> Note:
        return event


class Room(Noting):
    pass


class Desk(Noting):
    pass


class Plain(CoreConsumer):
    pass


def fastapi_app() -> FastAPI:
    """Routers included in routers, each with a prefix; a mount and a host inside an
    included router; a router dependency."""
    innermost = APIRouter(prefix="/inner")
    innermost.add_api_websocket_route("/room/{room:int}", Room.as_endpoint())
    innermost.mount("/plain", Plain.as_asgi())
    innermost.routes.append(Host("api.example.com", app=Router(routes=[Desk.as_route("/desk")])))
    middle = APIRouter(prefix="/v2", dependencies=[Depends(api_key)])
    middle.include_router(innermost)
    app = FastAPI()
    app.include_router(middle, prefix="/api")
    app.add_api_websocket_route("/top", Desk.as_endpoint())
    return app


async def test_included_routers_with_their_prefixes_and_dependencies() -> None:
    app = fastapi_app()
    found = [(m.path, m.consumer) for m in mounted_consumers(app)]
    # Router prefixes apply to the routes FastAPI adds; a mount or host in a router gets
    # the prefixes of the includes only, as FastAPI serves it.
    assert found == [
        ("/api/v2/inner/room/{room:int}", Room),
        ("/api/v2/plain/", Plain),
        ("/api/v2/desk", Desk),
        ("/top", Desk),
    ]
    for path, headers in [
        ("/api/v2/inner/room/7", {"x-key": "k"}),
        ("/api/v2/plain/", {}),
        ("/api/v2/desk", {"host": "api.example.com"}),
        ("/top", {}),
    ]:
        async with WebsocketCommunicator(app, path, headers=headers) as comm:
            assert comm.connected, path
    routes = {route.address: route for route in discover(app) or []}
    assert list(routes) == ["/api/v2/inner/room/{room}", "/api/v2/plain/", "/api/v2/desk", "/top"]
    # The router's dependency guards the FastAPI endpoint under it; the Starlette routes
    # in the same router are not FastAPI's and run no dependencies.
    assert routes["/api/v2/inner/room/{room}"].security == (SecurityScheme("header", "X-Key"),)
    assert routes["/api/v2/inner/room/{room}"].parameters == {
        "room": "Path parameter `room`: an integer."
    }
    assert routes["/api/v2/plain/"].security == ()
    assert routes["/top"].security == ()


def test_a_fastapi_app_mounted_in_a_starlette_app() -> None:
    outer = Starlette(routes=[Mount("/fast", app=fastapi_app()), Room.as_route("/own")])
    addresses = [route.address for route in discover(outer) or []]
    assert addresses == [
        "/fast/api/v2/inner/room/{room}",
        "/fast/api/v2/plain/",
        "/fast/api/v2/desk",
        "/fast/top",
        "/own",
    ]


def app_serving(consumer: type[Noting]) -> FastAPI:
    router = APIRouter(prefix="/ws")
    router.add_api_websocket_route("/room", consumer.as_endpoint())
    app = FastAPI()
    app.include_router(router)
    configure_layer(app)
    return app


@pytest.mark.parametrize("consumer", [Room, Desk])
async def test_outside_code_reaches_the_running_app_that_mounts_the_class(
    consumer: type[Noting],
) -> None:
    """Two apps run, each serving one class from an included router: a class-level
    sender outside both reaches the app that mounts that class, without bind_layer."""
    rooms, desks = app_serving(Room), app_serving(Desk)
    apps: dict[type[Noting], FastAPI] = {Room: rooms, Desk: desks}
    async with (
        lifespan(rooms),
        lifespan(desks),
        WebsocketCommunicator(rooms, "/ws/room", consumer=Room) as in_rooms,
        WebsocketCommunicator(desks, "/ws/room", consumer=Desk) as in_desks,
    ):
        await consumer.broadcast_event(Note(payload="hello"), "fr_room")
        reached, missed = (in_rooms, in_desks) if consumer is Room else (in_desks, in_rooms)
        got = await reached.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Note(payload="hello")]
        await missed.receive_nothing()
        with bind_layer(apps[consumer]):  # the same, said explicitly
            await consumer.broadcast_event(Note(payload="again"), "fr_room")
        got = await reached.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Note(payload="again")]
