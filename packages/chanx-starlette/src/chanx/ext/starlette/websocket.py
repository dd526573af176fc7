"""The Starlette consumer base class and the endpoint serving it on a route
(``Starlette(routes=[ChatConsumer.as_route("/ws/chat")])``)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from starlette.authentication import AuthCredentials
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from chanx.core.asgi import adapter_consumer, run_consumer
from chanx.core.auth import AuthResult, known_user
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer

GONE = (OSError, WebSocketDisconnect, WebSocketDisconnected)  # sending once the client is gone


class AsyncJsonWebsocketConsumer(CoreConsumer):
    """A chanx consumer served by Starlette (FastAPI's consumer builds on it).

    On top of the core consumer: :meth:`as_route` / :meth:`as_endpoint` to mount it,
    the Starlette ``WebSocket`` as ``self.websocket``, the app as ``self.app``, path
    parameters as ``self.path_params``, and ``AuthenticationMiddleware``'s results:
    ``self.user`` (``scope["user"]``) and ``self.auth`` (``scope["auth"]``). Without an
    ``authenticator``, a connection whose middleware authenticated its user gets the
    ``authentication`` message (200); an anonymous one gets none.
    """

    websocket: WebSocket

    @classmethod
    def as_endpoint(cls) -> ConsumerEndpoint:
        """The ASGI endpoint serving this consumer (one instance per connection), for a
        ``WebSocketRoute`` of your own or ``app.router.add_websocket_route``."""
        return ConsumerEndpoint(cls)

    @classmethod
    def as_route(cls, path: str, *, name: str | None = None) -> WebSocketRoute:
        """A ``WebSocketRoute`` serving this consumer on ``path`` (``{param}`` and
        converters as in any Starlette route)."""
        return WebSocketRoute(path, cls.as_endpoint(), name=name)

    @property
    def app(self) -> Any:
        """The application serving this connection."""
        return self.scope["app"]

    async def authenticate(self) -> AuthResult | None:
        """The ``authenticator`` if set; else an allowed result with the middleware's
        user when it is authenticated; else no authentication step."""
        if self.authenticator is not None:
            return await self.authenticator.authenticate(self)
        if getattr(self.user, "is_authenticated", False):
            return AuthResult.allow(self.user)
        return None


class ConsumerEndpoint:
    """The ASGI app serving one consumer class on a Starlette route, one instance per
    connection. Made by ``Consumer.as_endpoint()`` rather than by hand."""

    def __init__(self, consumer_class: type[AsyncJsonWebsocketConsumer]) -> None:
        self.consumer_class = adapter_consumer(consumer_class, AsyncJsonWebsocketConsumer)

    def __repr__(self) -> str:
        return f"<ConsumerEndpoint {self.consumer_class.__qualname__}>"

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        # The connection's coroutine, not awaited here: one layer less for every frame.
        return serve(self.consumer_class(), WebSocket(scope, receive, send))


def serve(consumer: AsyncJsonWebsocketConsumer, websocket: WebSocket) -> Coroutine[Any, Any, None]:
    """The coroutine running one connection of ``consumer`` over a Starlette
    ``WebSocket`` until it ends (await it). A connection made as a known user
    (:class:`~chanx.core.auth.KnownUser`, a test's ``user=``) gets it as ``scope["user"]``
    and its ``auth`` (default: credentials with the ``"authenticated"`` scope) as
    ``scope["auth"]``, in place of what ``AuthenticationMiddleware`` found."""
    scope = websocket.scope
    known = known_user(scope)
    if known is not None:
        scope["user"] = known.user
        scope["auth"] = known.auth if known.auth is not None else AuthCredentials(["authenticated"])
    consumer.websocket = websocket
    consumer.user = scope.get("user")
    frames = websocket._send  # past WebSocket.send's state checks: the engine keeps that state
    return run_consumer(consumer, scope, websocket.receive, websocket.send, GONE, frames=frames)
