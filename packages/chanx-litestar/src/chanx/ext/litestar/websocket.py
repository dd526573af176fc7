"""The Litestar consumer: the core engine with Litestar's connection, user and layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chanx.core.auth import AuthResult
from chanx.core.layer import GroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.litestar.registry import resolve_layer

if TYPE_CHECKING:
    from litestar import WebSocket
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import ExceptionHandlersMap, Guard, Middleware

    from chanx.ext.litestar.routing import ConsumerRouteHandler


class AsyncJsonWebsocketConsumer(CoreConsumer):
    """A chanx consumer served by Litestar (mount it with :meth:`as_route_handler`).

    On top of the core consumer:

    * ``self.websocket``: the Litestar ``WebSocket`` (``app``, ``state``, cookies, ...);
      ``self.user`` and ``self.auth`` are ``connection.user`` / ``connection.auth`` as
      set by authentication middleware;
    * :meth:`on_connect` receives what Litestar injects (dependencies, path, query,
      header and cookie parameters), named in its signature;
    * groups and events go through the app's ``ChannelsPlugin`` (via
      :class:`~chanx.ext.litestar.ChanxPlugin`); class-level senders find their app as
      described in :mod:`chanx.ext.litestar.registry`;
    * the ``authentication`` message is sent when Litestar authenticated the connection
      (the route's guards admitted it, or authentication middleware set a user), or when
      the consumer has an ``authenticator`` / overrides :meth:`authenticate`.
    """

    websocket: WebSocket[Any, Any, Any]

    @classmethod
    def get_layer(cls) -> GroupLayer:
        """``layer`` if set, else the layer of the app serving this (see the registry)."""
        if cls.layer is not None:
            return cls.layer
        return resolve_layer(cls)

    async def on_connect(self) -> None:
        """Receives Litestar-injected values before the connection is accepted.

        Override it with the parameters you need, annotated as in any Litestar handler
        (``room_id: int``, ``db: AsyncSession``, ``token: str = Parameter(header=...)``),
        and keep them on ``self``. Raising a 4xx ``HTTPException`` here refuses the
        connection with that status (``authentication`` message, close ``4000 +
        status``).
        """

    async def authenticate(self) -> AuthResult | None:
        """The ``authenticator`` if set; else, when Litestar authenticated the connection
        (its guards passed, or authentication middleware set a user other than ``None``),
        an allowed result with ``connection.user``; else no authentication step (an
        anonymous connection on an unguarded route is not told it authenticated)."""
        if self.authenticator is not None:
            return await self.authenticator.authenticate(self)
        handler = self.scope.get("route_handler")
        guarded = handler is not None and bool(handler.resolve_guards())
        user = self.scope.get("user")
        if guarded or user is not None:
            return AuthResult.allow(user)
        return None

    @property
    def route_handler(self) -> BaseRouteHandler:
        """The Litestar route handler serving this connection."""
        handler: BaseRouteHandler = self.scope["route_handler"]
        return handler

    @classmethod
    def as_route_handler(
        cls,
        path: str | list[str] | None = None,
        *,
        guards: Sequence[Guard] | None = None,
        dependencies: Mapping[str, Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: ExceptionHandlersMap | None = None,
        name: str | None = None,
        opt: Mapping[str, Any] | None = None,
        signature_namespace: Mapping[str, Any] | None = None,
        websocket_class: type[WebSocket[Any, Any, Any]] | None = None,
        **kwargs: Any,
    ) -> ConsumerRouteHandler:
        """A Litestar websocket route handler serving this consumer on ``path``.

        Put it in ``route_handlers`` of the app or of a ``Router``. The keyword arguments
        are those of Litestar's ``@websocket`` (extra keywords go to ``opt``).
        """
        from chanx.ext.litestar.routing import ConsumerRouteHandler

        return ConsumerRouteHandler(
            path,
            consumer_class=cls,
            guards=list(guards) if guards else None,
            dependencies=dict(dependencies) if dependencies else None,
            middleware=list(middleware) if middleware else None,
            exception_handlers=exception_handlers,
            name=name,
            opt=dict(opt) if opt else None,
            signature_namespace=signature_namespace,
            websocket_class=websocket_class,
            **kwargs,
        )
