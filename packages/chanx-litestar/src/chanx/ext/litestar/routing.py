"""Consumers as Litestar websocket route handlers.

``Consumer.as_route_handler(path, ...)`` returns a :class:`ConsumerRouteHandler`: a
``WebsocketRouteHandler`` that goes wherever Litestar takes route handlers (the app, a
``Router``, a ``Controller`` attribute), with Litestar's guards, dependencies, middleware
and ``opt``. Its function's signature is the consumer's ``on_connect`` hook, so Litestar
resolves for the consumer what it resolves for any handler: path, query, header and
cookie parameters and dependencies.

Guards run in :class:`GuardGate`, the handler's innermost middleware: after the
authentication middleware (``connection.user`` is set), before dependencies are resolved;
a refusal then reaches :class:`~chanx.ext.litestar.plugin.ChanxMiddleware`, which answers
with the chanx ``authentication`` message instead of Litestar's bare close.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from copy import copy
from typing import TYPE_CHECKING, Any, cast

from litestar import WebSocket
from litestar.exceptions import HTTPException, ImproperlyConfiguredException
from litestar.handlers import WebsocketRouteHandler
from litestar.routes import WebSocketRoute

from chanx.core.asgi import run_consumer
from chanx.ext.litestar.auth import FRAMES_KEY, GUARDS_KEY, STARTED_KEY, is_refusal, refusal, refuse
from chanx.ext.litestar.registry import binding_of

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.types import ASGIApp, Guard, Receive, Scope, Send

    from chanx.ext.litestar.websocket import AsyncJsonWebsocketConsumer


class ConsumerRouteHandler(WebsocketRouteHandler):
    """The Litestar websocket route handler serving one consumer class.

    Made by ``Consumer.as_route_handler(path, ...)`` rather than by hand; it goes
    wherever Litestar takes route handlers. Its function's signature is the consumer's
    ``on_connect`` (so Litestar injects what that asks for), and the route's guards run
    before dependencies are resolved (see the module documentation).
    """

    __slots__ = ("consumer_class",)

    def __init__(
        self,
        path: str | list[str] | None,
        *,
        consumer_class: type[AsyncJsonWebsocketConsumer],
        middleware: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.consumer_class = consumer_class
        super().__init__(path, middleware=[*(middleware or []), GuardGate], **kwargs)
        self(handler_function(consumer_class))

    @property
    def fn(self) -> Any:
        """The handler function. A ``Controller`` binds its handlers' functions to itself;
        a consumer's takes no controller, so the binding is dropped here."""
        function = super().fn
        return function.__func__ if isinstance(function, types.MethodType) else function

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Guards ran in :class:`GuardGate` already; run them here only if it did not."""
        if connection.scope.get(GUARDS_KEY) is not True:
            await super().authorize_connection(connection)

    def on_registration(self, app: Litestar) -> None:
        """Litestar's registration hook: also lists the consumer class on the app's
        binding, so class-level senders outside any request find the app that mounts it."""
        super().on_registration(app)
        binding_of(app).consumers.add(self.consumer_class)


class GuardGate:
    """Runs the route's guards (every layer's) before dependencies are resolved.

    The innermost of the route's middleware: the ``send`` it gets has passed through
    every middleware of the app's and the route's. The consumer's text frames go to
    that ``send`` (:data:`~chanx.ext.litestar.auth.FRAMES_KEY`) when all that lies
    below is the exception handler Litestar puts around a route with middleware and
    the route itself: their ``send`` wrappers only forward a websocket frame (the
    accept and the close still go through the Litestar ``WebSocket``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        inner = getattr(app, "app", None)
        self.frames_here = isinstance(getattr(inner, "__self__", None), WebSocketRoute)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if self.frames_here:
            scope[FRAMES_KEY] = send  # type: ignore[literal-required]
        handler = cast("ConsumerRouteHandler", scope["route_handler"])
        guards = handler.resolve_guards()
        if guards:
            return self._guarded(guards, handler, scope, receive, send)
        scope[GUARDS_KEY] = True  # type: ignore[literal-required]
        # The app's coroutine itself: no layer of this gate's that every frame passes.
        return self.app(scope, receive, send)

    async def _guarded(
        self,
        guards: list[Guard],
        handler: ConsumerRouteHandler,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        connection = handler.resolve_websocket_class()(scope, receive, send)
        for guard in guards:
            await guard(connection, copy(handler))  # type: ignore[misc]
        scope[GUARDS_KEY] = True  # type: ignore[literal-required]
        await self.app(scope, receive, send)


def handler_function(
    consumer_class: type[AsyncJsonWebsocketConsumer],
) -> Callable[..., Awaitable[None]]:
    """The handler function Litestar calls: ``(socket, **what on_connect asks for)``."""
    hook = consumer_class.on_connect
    where = f"{consumer_class.__qualname__}.on_connect"
    try:
        hints = typing.get_type_hints(hook, include_extras=True)
    except Exception as exc:
        raise ImproperlyConfiguredException(
            f"cannot resolve the annotations of {where}: {exc}"
        ) from exc
    parameters = [inspect.Parameter("socket", inspect.Parameter.KEYWORD_ONLY, annotation=WebSocket)]
    wants_socket = False
    for parameter in list(inspect.signature(hook).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ImproperlyConfiguredException(f"{where}: name each parameter (no *args/**kwargs)")
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise ImproperlyConfiguredException(f"{where}: no positional-only parameters")
        if parameter.name == "socket":
            wants_socket = True
            continue
        parameters.append(
            parameter.replace(
                kind=inspect.Parameter.KEYWORD_ONLY,
                annotation=hints.get(parameter.name, Any),
            )
        )

    async def consumer_handler(socket: WebSocket[Any, Any, Any], **kwargs: Any) -> None:
        # One connection: on_connect with its Litestar values, then the engine (here,
        # not in a coroutine of its own, which every frame would pass through).
        if wants_socket:
            kwargs["socket"] = socket
        scope = cast("dict[str, Any]", socket.scope)
        scope[STARTED_KEY] = True
        consumer = consumer_class()
        consumer.websocket = socket
        consumer.scope = scope  # on_connect may read self.auth, self.headers, ...
        consumer.user = scope.get("user")
        try:
            await consumer.on_connect(**kwargs)
        except HTTPException as exc:
            if not is_refusal(exc):
                raise
            await refuse(consumer_class, scope, socket.receive, socket.send, refusal(exc))  # type: ignore[arg-type]
            return
        frames = scope.get(FRAMES_KEY)  # the accept and the close go through the socket
        await run_consumer(consumer, scope, socket.receive, socket.send, frames=frames)  # type: ignore[arg-type]

    consumer_handler.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    consumer_handler.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    consumer_handler.__name__ = consumer_handler.__qualname__ = consumer_class.__name__
    return consumer_handler
