"""Binding a group layer to an application, and finding it from outside a connection.

An app that owns a layer *binds* it (:class:`LayerBinding`): the app's lifespan starts
the layer before the app's own startup and stops it after the app's shutdown, and every
request and connection the app serves runs with the binding in a context variable. So a
class-level sender (``Consumer.broadcast_event``, ``send_event`` and their ``*_sync``
forms) called from an HTTP view, a background task, a sync view in a thread pool or the
lifespan itself reaches the connections of the app that called it, and two apps in one
process (two tests, each with its app) never share groups.

A consumer class resolves its layer in this order:

1. its ``layer`` class attribute, when set (an explicit choice always wins);
2. the binding of the current context: inside an app, or ``with bind_layer(...)``;
3. outside any app (test code, a thread of one's own): the one *running* app (lifespan
   started, or connections open) that mounts the class, else the one running app; with
   several, :class:`AmbiguousLayer` asks for ``bind_layer``;
4. nothing bound anywhere: the core's process-wide in-memory layer (Litestar raises).

:class:`LayerMiddleware` is the whole mechanism for any ASGI app (plain ASGI, Starlette,
FastAPI); frameworks that run their lifespan elsewhere (Litestar) call
:meth:`LayerBinding.start` / :meth:`~LayerBinding.stop` from their own hooks and
:func:`enter` / :func:`leave` around each request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, Protocol, runtime_checkable

from chanx.core.asgi import ConsumerApp
from chanx.core.layer import GroupLayer
from chanx.core.memory import InMemoryGroupLayer, default_layer
from chanx.core.types import ASGIApp, ASGIReceive, ASGISend, Message, Scope

logger = logging.getLogger("chanx.binding")


@runtime_checkable
class ManagedLayer(Protocol):
    """A layer with resources to open and close (connections, reader tasks)."""

    async def start(self) -> None:
        """Open what the layer needs; runs before the app's own startup."""

    async def stop(self) -> None:
        """Close it again; runs after the app's own shutdown."""


class AmbiguousLayer(RuntimeError):
    """Several apps with their own layer are running and the code asking is in none."""


class LayerBinding:
    """One app's layer, the consumer classes it mounts, and how many things keep the app
    *running* in this process (its lifespan, its open connections).

    The mounted classes are ``consumers`` (adapters add to it as routes register) and
    what ``discover()`` returns (adapters that can list an app's routes pass it)."""

    __slots__ = ("_discover", "_holds", "consumers", "layer")

    def __init__(
        self, layer: GroupLayer, discover: Callable[[], Iterable[type]] | None = None
    ) -> None:
        self.layer = layer
        self.consumers: set[type] = set()
        self._discover = discover
        self._holds = 0

    def __repr__(self) -> str:
        return f"<LayerBinding {self.layer!r} holds={self._holds}>"

    @property
    def running(self) -> bool:
        """Whether something keeps the app running now."""
        return self._holds > 0

    def hold(self) -> None:
        """Count one more thing keeping the app running."""
        self._holds += 1
        _running[self] = None

    def release(self) -> None:
        """Count one less; at zero the app no longer counts as running."""
        self._holds = max(self._holds - 1, 0)
        if not self._holds:
            _running.pop(self, None)

    def mounts(self, consumer_class: type) -> bool:
        """Whether the app serves ``consumer_class`` (or a subclass of it)."""
        found = [*self.consumers, *(self._discover() if self._discover is not None else ())]
        return any(issubclass(mounted, consumer_class) for mounted in found)

    async def start(self) -> None:
        """Start the layer (when it is a :class:`ManagedLayer`); the app now runs."""
        if isinstance(self.layer, ManagedLayer):
            await self.layer.start()
        self.hold()

    async def stop(self) -> None:
        """The app stops running; stop the layer."""
        self.release()
        if isinstance(self.layer, ManagedLayer):
            await self.layer.stop()


_current: ContextVar[LayerBinding | None] = ContextVar("chanx_layer_binding", default=None)
_running: dict[LayerBinding, None] = {}


def enter(binding: LayerBinding) -> Token[LayerBinding | None]:
    """Bind ``binding`` in the current context (for a request); undo with :func:`leave`."""
    return _current.set(binding)


def leave(token: Token[LayerBinding | None]) -> None:
    """Undo :func:`enter`."""
    _current.reset(token)


def bound() -> LayerBinding | None:
    """The binding of the current context (the app serving this request), if any."""
    return _current.get()


def running_bindings() -> list[LayerBinding]:
    """The bindings whose app is running in this process now."""
    return list(_running)


STATE_KEY = "chanx_layer"
"""The ``app.state`` attribute where an adapter keeps an app's :class:`LayerBinding`
(Starlette, FastAPI and Litestar apps have a ``state``)."""


@runtime_checkable
class AppWithState(Protocol):
    """An application with a ``state`` namespace, where its adapter keeps its binding."""

    state: Any


def app_binding(app: AppWithState) -> LayerBinding:
    """The binding ``app``'s adapter keeps in ``app.state`` (:data:`STATE_KEY`)."""
    bound = getattr(app.state, STATE_KEY, None)
    if not isinstance(bound, LayerBinding):
        raise LookupError(
            f"this {type(app).__name__} app has no chanx layer: give it one with its chanx "
            "adapter (configure_layer(app, ...) on Starlette and FastAPI, ChanxPlugin on "
            "Litestar)"
        )
    return bound


def app_layer(app: AppWithState) -> GroupLayer:
    """The layer of ``app`` (given by its adapter: ``configure_layer``, ``ChanxPlugin``)."""
    return app_binding(app).layer


@contextmanager
def bind_layer(target: GroupLayer | LayerBinding | AppWithState) -> Iterator[GroupLayer]:
    """Bind a layer, a :class:`LayerBinding` or an app's layer for the code in the block:
    class-level senders called there use it. For scripts, worker processes and tests
    outside the app."""
    if isinstance(target, LayerBinding):
        binding = target
    elif isinstance(target, AppWithState):
        binding = app_binding(target)
    else:
        binding = LayerBinding(target)
    token = _current.set(binding)
    try:
        yield binding.layer
    finally:
        _current.reset(token)


def find_layer(consumer_class: type | None = None) -> GroupLayer | None:
    """Steps 2 and 3 of the module's rules: the bound layer, else the one running app's
    (preferring apps that mount ``consumer_class``); ``None`` when nothing runs."""
    binding = _current.get()
    if binding is not None:
        return binding.layer
    running = list(_running)
    if consumer_class is not None and len(running) > 1:
        running = [b for b in running if b.mounts(consumer_class)] or running
    if len(running) == 1:
        return running[0].layer
    if not running:
        return None
    name = consumer_class.__qualname__ if consumer_class is not None else "this code"
    raise AmbiguousLayer(
        f"{len(running)} apps with their own chanx layer are running in this process and "
        f"{name} is used outside all of them: say which one with "
        "`with bind_layer(app): ...` (from the app's chanx adapter, or "
        "chanx.core.binding.bind_layer(layer)), or set the consumer's `layer`"
    )


def make_layer(layer: GroupLayer | str | None = None, **redis_options: Any) -> GroupLayer:
    """The layer an app's configuration names: a Redis URL (``"redis://localhost:6379/0"``:
    a :class:`~chanx.core.redis.RedisGroupLayer` built with ``redis_options``, for several
    worker processes; needs ``chanx-core[redis]``), a ready layer object, or ``None`` for
    a fresh in-memory layer (one process)."""
    if isinstance(layer, str):
        from chanx.core.redis import RedisGroupLayer

        return RedisGroupLayer(layer, **redis_options)
    if redis_options:
        raise TypeError("options are for a Redis URL; configure a layer object yourself")
    return InMemoryGroupLayer() if layer is None else layer


def current_layer(consumer_class: type | None = None) -> GroupLayer:
    """The layer for code running now: :func:`find_layer`, else the core's in-memory
    default layer."""
    layer = find_layer(consumer_class)
    return layer if layer is not None else default_layer()


class LayerMiddleware:
    """Binds ``layer`` to the ASGI app it wraps.

    The app's lifespan starts the layer before the app's own startup and stops it after
    the app's shutdown (an app that does not speak the lifespan protocol gets it answered
    for it); a layer that cannot start fails the startup, so the server exits with the
    layer's message. Every request and connection runs with the layer bound, and an open
    connection counts the app as running. Plain ASGI::

        app = LayerMiddleware(Router(routes), RedisGroupLayer(url, prefix="chat"))
    """

    def __init__(self, app: ASGIApp, layer: GroupLayer | LayerBinding) -> None:
        self.app = app
        self.binding = layer if isinstance(layer, LayerBinding) else LayerBinding(layer)
        if isinstance(app, ConsumerApp):
            self.binding.consumers.add(app.consumer_class)

    @property
    def layer(self) -> GroupLayer:
        """The bound layer."""
        return self.binding.layer

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        binding = self.binding
        token = _current.set(binding)
        if kind == "websocket":
            binding.hold()
        try:
            await self.app(scope, receive, send)
        finally:
            if kind == "websocket":
                binding.release()
            _current.reset(token)

    async def _lifespan(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        startup = await receive()
        try:
            await self.binding.start()
        except Exception as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        replayed = answered = stopped = False

        async def inner_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return startup
            return await receive()

        async def inner_send(message: Message) -> None:
            nonlocal answered, stopped
            answered = True
            if message["type"] != "lifespan.startup.complete" and not stopped:
                stopped = True  # startup failed, or shutdown is over: the layer goes last
                await self.binding.stop()
            await send(message)

        token = _current.set(self.binding)
        try:
            await self.app(scope, inner_receive, inner_send)
        except Exception:
            if answered:
                raise
            logger.debug("the app does not speak the lifespan protocol", exc_info=True)
        finally:
            _current.reset(token)
            if answered and not stopped:
                await self.binding.stop()
        if not answered:
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await self.binding.stop()
            await send({"type": "lifespan.shutdown.complete"})
