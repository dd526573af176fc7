"""Binding a layer to an ASGI app (``LayerMiddleware``) and finding it from outside a
connection (``find_layer``, ``current_layer``, ``bind_layer``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router, WebSocketRoute

from chanx.core.binding import (
    STATE_KEY,
    AmbiguousLayer,
    LayerBinding,
    LayerMiddleware,
    app_layer,
    bind_layer,
    bound,
    current_layer,
    find_layer,
    make_layer,
    running_bindings,
)
from chanx.core.memory import InMemoryGroupLayer, default_layer
from chanx.core.redis import RedisGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.testing import WebsocketCommunicator, lifespan


class Plain(AsyncJsonWebsocketConsumer):
    groups = ["b_room"]


class Other(AsyncJsonWebsocketConsumer):
    pass


class RecordingLayer(InMemoryGroupLayer):
    """An in-memory layer with a lifecycle, recording it (``fail`` makes start raise)."""

    def __init__(self, log: list[str], fail: bool = False) -> None:
        super().__init__()
        self.log, self.fail = log, fail

    async def start(self) -> None:
        if self.fail:
            raise ConnectionError("nothing listens there")
        self.log.append("layer start")

    async def stop(self) -> None:
        self.log.append("layer stop")


@pytest.fixture(autouse=True)
def nothing_left_running() -> Iterator[None]:
    yield
    assert not running_bindings(), f"a test left an app running: {running_bindings()}"


async def test_the_layer_wraps_the_apps_own_lifespan_which_sees_it_bound() -> None:
    log: list[str] = []
    layer = RecordingLayer(log)
    seen: list[Any] = []

    @asynccontextmanager
    async def app_lifespan(app: Any) -> AsyncIterator[None]:
        log.append("app startup")
        seen.append(current_layer())
        seen.append(await asyncio.create_task(_current()))  # tasks started here too
        yield
        log.append("app shutdown")

    app = LayerMiddleware(Starlette(lifespan=app_lifespan), layer)
    async with lifespan(app):
        log.append("serving")
        assert find_layer(Plain) is layer  # the one running app
    assert log == ["layer start", "app startup", "serving", "app shutdown", "layer stop"]
    assert seen == [layer, layer]
    assert find_layer(Plain) is None


async def _current() -> Any:
    return current_layer()


async def test_an_app_that_does_not_speak_lifespan_still_starts_and_stops_the_layer() -> None:
    log: list[str] = []
    app = LayerMiddleware(Plain.as_asgi(), RecordingLayer(log))
    async with lifespan(app):
        assert log == ["layer start"]
    assert log == ["layer start", "layer stop"]


async def test_a_layer_that_cannot_start_fails_the_startup_with_its_message() -> None:
    log: list[str] = []
    app = LayerMiddleware(Starlette(), RecordingLayer(log, fail=True))
    with pytest.raises(RuntimeError, match="app startup failed: nothing listens there"):
        async with lifespan(app):
            pass
    assert log == []


async def test_a_failed_app_startup_stops_the_layer_again() -> None:
    log: list[str] = []

    @asynccontextmanager
    async def broken(app: Any) -> AsyncIterator[None]:
        raise RuntimeError("the app's own startup failed")
        yield  # pragma: no cover

    app = LayerMiddleware(Starlette(lifespan=broken), RecordingLayer(log))
    with pytest.raises(RuntimeError, match="the app's own startup failed"):
        async with lifespan(app):
            pass
    assert log == ["layer start", "layer stop"]


async def test_requests_and_connections_run_with_the_layer_bound() -> None:
    layer = InMemoryGroupLayer()

    async def view(request: Request) -> PlainTextResponse:
        return PlainTextResponse("bound" if current_layer() is layer else "not bound")

    router = Router(routes=[Route("/view", view), WebSocketRoute("/ws", Plain.as_asgi())])
    app = LayerMiddleware(router, layer)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/view")).text == "bound"
    assert bound() is None
    async with WebsocketCommunicator(app, "/ws"):
        assert layer.members("b_room") != []  # the connection used the app's layer
        assert default_layer().members("b_room") == []
        # An open connection keeps the app running: code outside it finds the layer.
        assert running_bindings() == [app.binding]
        assert current_layer() is layer
    assert not running_bindings()
    assert current_layer() is default_layer()


async def test_several_running_apps_need_a_choice_unless_one_mounts_the_class() -> None:
    first = LayerMiddleware(Plain.as_asgi(), InMemoryGroupLayer())
    second = LayerMiddleware(Other.as_asgi(), InMemoryGroupLayer())
    async with lifespan(first), lifespan(second):
        assert find_layer(Plain) is first.layer  # only the first app serves Plain
        assert find_layer(Other) is second.layer
        with pytest.raises(AmbiguousLayer, match=r"2 apps .* bind_layer"):
            find_layer(AsyncJsonWebsocketConsumer)  # both serve a subclass
        with pytest.raises(AmbiguousLayer, match="this code"):
            current_layer()
        with bind_layer(second.binding) as chosen:
            assert chosen is second.layer
            assert find_layer(Plain) is second.layer  # a binding wins over the rules
        own = InMemoryGroupLayer()
        with bind_layer(own):
            assert current_layer() is own
            assert bound() is not None


def test_a_binding_counts_what_keeps_its_app_running() -> None:
    binding = LayerBinding(InMemoryGroupLayer(), discover=lambda: [Plain])
    assert binding.mounts(AsyncJsonWebsocketConsumer)
    assert not binding.mounts(Other)
    binding.hold()
    binding.hold()
    binding.release()
    assert binding.running
    binding.release()
    binding.release()  # never below zero
    assert not binding.running
    assert binding not in running_bindings()


def test_apps_keep_their_binding_in_their_state() -> None:
    """``app_layer`` and ``bind_layer`` read the binding an adapter keeps as
    ``app.state.chanx_layer``, whatever the framework."""
    layer = InMemoryGroupLayer()
    app = SimpleNamespace(state=SimpleNamespace(**{STATE_KEY: LayerBinding(layer)}))
    assert app_layer(app) is layer
    with bind_layer(app) as chosen:
        assert chosen is layer
        assert current_layer() is layer
    bare = Starlette()
    with pytest.raises(LookupError, match=r"Starlette app has no chanx layer.*configure_layer"):
        app_layer(bare)
    with pytest.raises(LookupError, match="ChanxPlugin"), bind_layer(bare):
        pass
    with bind_layer(layer) as chosen:  # a layer of its own, as before
        assert chosen is layer


def test_a_layer_from_what_the_configuration_says() -> None:
    layer = InMemoryGroupLayer()
    assert make_layer(layer) is layer
    assert isinstance(make_layer(), InMemoryGroupLayer)
    assert make_layer() is not make_layer()
    redis = make_layer("redis://localhost:6379/0", prefix="cfg")
    assert isinstance(redis, RedisGroupLayer)
    assert redis.prefix == "cfg"
    with pytest.raises(TypeError, match="Redis URL"):
        make_layer(layer, prefix="cfg")
