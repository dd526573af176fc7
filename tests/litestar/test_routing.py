"""Mounting consumers: apps and routers, what Litestar injects into ``on_connect``,
and configuration mistakes reported when the app is built or started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import pytest
from litestar import Controller, Litestar, Router, WebSocket
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException
from litestar.params import FromPath, FromQuery, HeaderParameter

from chanx.core.decorators import ws_handler
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin, ConsumerRouteHandler
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator


class Describe(BaseMessage):
    action: Literal["describe"] = "describe"
    payload: None = None


class Description(BaseMessage):
    action: Literal["description"] = "description"
    payload: dict[str, Any]


class Settings:
    greeting = "hello"


async def provide_settings() -> Settings:
    return Settings()


def needs_header_x_client(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    if "x-client" not in connection.headers:
        raise NotAuthorizedException("who are you?")


class InjectedConsumer(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False

    async def on_connect(
        self,
        socket: WebSocket[Any, Any, Any],
        room_id: FromPath[int],
        settings: NamedDependency[Settings],
        state: State,
        client: Annotated[str, HeaderParameter(name="x-client")],
        page: FromQuery[int] = 1,
    ) -> None:
        self.seen = {
            "socket_is_mine": socket.scope is self.scope if hasattr(self, "scope") else None,
            "socket_path": socket.url.path,
            "room_id": room_id,
            "greeting": settings.greeting,
            "state": state.get("flavour"),
            "client": client,
            "page": page,
        }

    async def get_groups(self) -> list[str]:
        return [f"room.{self.seen['room_id']}"]

    @ws_handler
    async def handle_describe(self, message: Describe) -> Description:
        return Description(
            payload={**self.seen, "path_params": self.path_params, "groups": self.joined_groups}
        )


@pytest.fixture
async def router_app() -> AsyncIterator[Litestar]:
    api = Router(
        "/api",
        dependencies={"settings": Provide(provide_settings)},
        route_handlers=[InjectedConsumer.as_route_handler("/rooms/{room_id:int}/ws")],
    )
    app = Litestar(
        route_handlers=[api],
        state=State({"flavour": "mint"}),
        plugins=[memory_channels(), ChanxPlugin()],
    )
    async with lifespan(app):
        yield app


async def test_mounted_on_a_router_with_injected_values(router_app: Litestar) -> None:
    path = "/api/rooms/42/ws?page=3"
    async with WebsocketCommunicator(router_app, path, headers={"x-client": "cli"}) as comm:
        await comm.send_message(Describe())
        [reply] = await comm.receive_all_messages()
    assert reply.payload == {  # type: ignore[attr-defined]
        "socket_is_mine": True,  # on_connect already has the scope (self.headers, self.auth)
        "socket_path": "/api/rooms/42/ws",
        "room_id": 42,  # converted by Litestar: the path parameter is an int
        "greeting": "hello",
        "state": "mint",
        "client": "cli",
        "page": 3,
        "path_params": {"room_id": 42},
        "groups": ["room.42"],
    }


async def test_a_default_applies_when_the_query_parameter_is_absent(router_app: Litestar) -> None:
    headers = {"x-client": "c"}
    async with WebsocketCommunicator(router_app, "/api/rooms/7/ws", headers=headers) as comm:
        await comm.send_message(Describe())
        [reply] = await comm.receive_all_messages()
        assert reply.payload["page"] == 1  # type: ignore[attr-defined]


async def test_missing_required_parameter_is_litestars_validation_close(
    router_app: Litestar,
) -> None:
    """Parameters are validated by Litestar before the consumer exists: its close."""
    comm = WebsocketCommunicator(router_app, "/api/rooms/7/ws")  # no x-client header
    assert await comm.connect() == (False, 4500)


def test_the_route_handler_is_a_litestar_websocket_route_handler() -> None:
    handler = InjectedConsumer.as_route_handler("/ws", name="injected", opt={"team": "a"}, tier=2)
    assert isinstance(handler, ConsumerRouteHandler)
    assert handler.consumer_class is InjectedConsumer
    assert handler.name == "injected"
    assert handler.opt == {"team": "a", "tier": 2}


def test_on_connect_must_name_its_parameters() -> None:
    class Loose(AsyncJsonWebsocketConsumer):
        async def on_connect(self, **anything: Any) -> None: ...

    with pytest.raises(ImproperlyConfiguredException, match="name each parameter"):
        Loose.as_route_handler("/ws")


# ---------------------------------------------------------------- configuration mistakes


def channels(**kwargs: Any) -> ChannelsPlugin:
    return ChannelsPlugin(backend=MemoryChannelsBackend(), **kwargs)


def test_a_consumer_route_needs_chanx_plugin() -> None:
    with pytest.raises(ImproperlyConfiguredException, match="add ChanxPlugin"):
        Litestar(
            route_handlers=[InjectedConsumer.as_route_handler("/ws/{room_id:int}")],
            plugins=[channels(arbitrary_channels_allowed=True)],
        )


def test_chanx_plugin_needs_a_channels_plugin() -> None:
    with pytest.raises(ImproperlyConfiguredException, match="add ChannelsPlugin"):
        Litestar(plugins=[ChanxPlugin()])


def test_several_channels_plugins_need_a_choice() -> None:
    first = channels(arbitrary_channels_allowed=True)
    second = channels(channels=["news"])
    with pytest.raises(ImproperlyConfiguredException, match="several ChannelsPlugins"):
        Litestar(plugins=[first, second, ChanxPlugin()])
    Litestar(plugins=[first, second, ChanxPlugin(channels=first)])
    with pytest.raises(ImproperlyConfiguredException, match="not among the app's plugins"):
        Litestar(plugins=[second, ChanxPlugin(channels=first)])


def test_generated_routes_for_arbitrary_channels_are_refused() -> None:
    exposed = channels(arbitrary_channels_allowed=True, create_ws_route_handlers=True)
    with pytest.raises(ImproperlyConfiguredException, match="exposes every chanx channel"):
        Litestar(plugins=[exposed, ChanxPlugin()])


async def test_declared_channels_only_fail_at_startup() -> None:
    app = Litestar(plugins=[channels(channels=["news"]), ChanxPlugin()])
    with pytest.raises(ImproperlyConfiguredException, match="arbitrary_channels_allowed=True"):
        async with lifespan(app):
            pass


async def test_lifespan_yields_the_app_and_bounds_a_hanging_startup() -> None:
    app = Litestar(plugins=[memory_channels(), ChanxPlugin()])
    async with lifespan(app) as served:
        assert served is app

    async def never_ready() -> None:
        await asyncio.Event().wait()

    hanging = Litestar(on_startup=[never_ready], plugins=[memory_channels(), ChanxPlugin()])
    with pytest.raises(RuntimeError, match=r"startup did not finish within 0\.1s"):
        async with lifespan(hanging, timeout=0.1):
            pass


def test_prefix_length_is_bounded() -> None:
    with pytest.raises(ImproperlyConfiguredException, match="longer than"):
        Litestar(plugins=[channels(arbitrary_channels_allowed=True), ChanxPlugin(prefix="x" * 40)])


class RoomsController(Controller):
    path = "/rooms"
    dependencies = {"settings": Provide(provide_settings)}
    guards = [needs_header_x_client]

    chat = InjectedConsumer.as_route_handler("/{room_id:int}/ws")


async def test_mounted_in_a_controller_with_its_guards_and_dependencies() -> None:
    app = Litestar(route_handlers=[RoomsController], plugins=[memory_channels(), ChanxPlugin()])
    async with lifespan(app):
        refused = WebsocketCommunicator(app, "/rooms/5/ws")
        await refused.connect()
        assert (await refused.wait_for_auth()).payload.status_code == 401
        await refused.disconnect()
        headers = {"x-client": "ctl"}
        async with WebsocketCommunicator(app, "/rooms/5/ws", headers=headers) as comm:
            await comm.send_message(Describe())
            [reply] = await comm.receive_all_messages()
            assert reply.payload["room_id"] == 5  # type: ignore[attr-defined]
            assert reply.payload["greeting"] == "hello"  # type: ignore[attr-defined]
