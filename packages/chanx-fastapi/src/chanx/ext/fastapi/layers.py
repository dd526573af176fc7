"""Where FastAPI consumers find their group layer.

An app given a layer with :func:`configure_layer` owns it: the layer starts with the app's
lifespan and stops with it, and every request and connection the app serves runs with that
layer bound in a context variable. So a connection joins the groups of its own app, and
``SomeConsumer.broadcast_event(...)`` called from an HTTP endpoint, a background task or a
sync endpoint in the threadpool reaches the connections of the app that called it. Two
apps (or two tests, each with its app) never share groups.

A consumer class resolves its layer in this order (:func:`current_layer`):

1. its ``layer`` class attribute, when set (an explicit choice always wins);
2. the layer bound in the current context: inside a configured app, inside its lifespan
   (and tasks started there), or inside ``with bind_layer(...)``;
3. outside any context (test code, threads started by hand): the layer of the one
   configured app that is running in this process (lifespan started, or connections open);
   with several running, an error asks for :func:`bind_layer`;
4. otherwise the core's process-wide in-memory layer (what an unconfigured app uses).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from chanx.core.layer import GroupLayer
from chanx.core.memory import InMemoryGroupLayer, default_layer

logger = logging.getLogger("chanx.fastapi")

STATE_KEY = "chanx_layer"
"""The ``app.state`` attribute that holds an app's :class:`LayerBinding`."""


@runtime_checkable
class ManagedLayer(Protocol):
    """A layer with resources to open and close (connections, reader tasks)."""

    async def start(self) -> None:
        """Open what the layer needs; runs before the app's own startup."""
        ...

    async def stop(self) -> None:
        """Close it again; runs after the app's own shutdown."""
        ...


class LayerBinding:
    """One app's layer, and how many things keep that app "running" in this process
    (its lifespan, its open connections)."""

    __slots__ = ("_holds", "layer")

    def __init__(self, layer: GroupLayer) -> None:
        self.layer = layer
        self._holds = 0

    def hold(self) -> None:
        """Count one more thing keeping the app running (its lifespan, a connection)."""
        self._holds += 1
        _running[self] = None

    def release(self) -> None:
        """Count one less; at zero the app no longer counts as running."""
        self._holds -= 1
        if self._holds <= 0:
            self._holds = 0
            _running.pop(self, None)

    def __repr__(self) -> str:
        return f"<LayerBinding {self.layer!r} holds={self._holds}>"


_current: ContextVar[LayerBinding | None] = ContextVar("chanx_fastapi_layer", default=None)
_running: dict[LayerBinding, None] = {}


def current_layer() -> GroupLayer:
    """The layer for code running now: the bound one, else the one running app's, else
    the core default (see the module docstring)."""
    binding = _current.get()
    if binding is not None:
        return binding.layer
    running = list(_running)
    if len(running) == 1:
        return running[0].layer
    if len(running) > 1:
        raise RuntimeError(
            f"{len(running)} apps with their own chanx layer are running in this process, "
            "and this code runs outside all of them: say which one with "
            "`with chanx.ext.fastapi.bind_layer(app): ...`"
        )
    return default_layer()


def app_layer(app: Starlette) -> GroupLayer:
    """The layer :func:`configure_layer` gave ``app``."""
    return _binding_of(app).layer


@contextmanager
def bind_layer(target: GroupLayer | Starlette) -> Iterator[GroupLayer]:
    """Bind a layer (or an app's layer) for the code in the block: class-level senders
    such as ``Consumer.broadcast_event`` called there use it. For scripts, worker
    processes and tests that run outside the app."""
    layer = app_layer(target) if isinstance(target, Starlette) else target
    token = _current.set(LayerBinding(layer))
    try:
        yield layer
    finally:
        _current.reset(token)


def configure_layer(
    app: Starlette,
    layer: GroupLayer | str | None = None,
    **redis_options: Any,
) -> GroupLayer:
    """Give ``app`` its own group layer, started and stopped with its lifespan.

    ``layer`` is a Redis URL (``"redis://localhost:6379/0"``: a
    :class:`~chanx.ext.fastapi.redis.RedisGroupLayer` built with ``redis_options``,
    for several worker processes), a ready layer object, or ``None`` for a fresh
    in-memory layer (one process). Call it once, where the app is built.
    """
    if isinstance(getattr(app.state, STATE_KEY, None), LayerBinding):
        raise RuntimeError("this app already has a chanx layer")
    if isinstance(layer, str):
        from chanx.ext.fastapi.redis import RedisGroupLayer

        layer = RedisGroupLayer(layer, **redis_options)
    elif redis_options:
        raise TypeError("options are for a Redis URL; configure a layer object yourself")
    elif layer is None:
        layer = InMemoryGroupLayer()
    binding = LayerBinding(layer)
    setattr(app.state, STATE_KEY, binding)
    app.add_middleware(BindLayerMiddleware, binding=binding)
    app.router.lifespan_context = _with_layer(app.router.lifespan_context, binding)
    return layer


class BindLayerMiddleware:
    """Binds the app's layer for every request and websocket connection it serves."""

    def __init__(self, app: ASGIApp, binding: LayerBinding) -> None:
        self.app = app
        self.binding = binding

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        token = _current.set(self.binding)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


def _with_layer(inner: Any, binding: LayerBinding) -> Any:
    """Wrap a lifespan so the layer starts before it and stops after it."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        layer = binding.layer
        if isinstance(layer, ManagedLayer):
            await layer.start()
        token = _current.set(binding)
        binding.hold()
        try:
            async with inner(app) as state:
                yield state
        finally:
            binding.release()
            _reset(token)
            if isinstance(layer, ManagedLayer):
                await layer.stop()

    return lifespan


def _reset(token: Any) -> None:
    try:
        _current.reset(token)
    except ValueError:  # left in another context than it was entered (test fixtures)
        _current.set(None)


def _binding_of(app: Starlette) -> LayerBinding:
    binding = getattr(app.state, STATE_KEY, None)
    if not isinstance(binding, LayerBinding):
        raise LookupError(
            "this app has no chanx layer: call chanx.ext.fastapi.configure_layer(app, ...)"
        )
    return binding


def binding_in_context() -> LayerBinding | None:
    """The binding of the app serving the current request or connection, if any."""
    return _current.get()
