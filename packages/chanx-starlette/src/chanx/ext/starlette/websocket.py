"""The Starlette consumer base class and the endpoint that serves it on a route::

    app = Starlette(routes=[ChatConsumer.as_route("/ws/chat")])

Path parameters reach the consumer as ``self.path_params``; the Starlette ``WebSocket``
is ``self.websocket``; ``AuthenticationMiddleware``'s user and credentials are
``self.user`` and ``self.auth``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from chanx.core.asgi import run_consumer
from chanx.core.auth import AuthResult
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer

T = TypeVar("T", bound=CoreConsumer)

GONE = (OSError, WebSocketDisconnect, WebSocketDisconnected)
"""What Starlette's ``WebSocket.send`` raises once the client has gone."""


class AsyncJsonWebsocketConsumer(CoreConsumer):
    """A chanx consumer served by Starlette (FastAPI's consumer builds on it).

    On top of the core consumer: :meth:`as_route` / :meth:`as_endpoint` to mount it,
    ``self.websocket`` and ``self.app``, and ``AuthenticationMiddleware``'s results:
    ``self.user`` (``scope["user"]``) and ``self.auth`` (``scope["auth"]``). Without an
    ``authenticator``, a connection whose middleware authenticated its user gets the
    ``authentication`` message (200); an anonymous one gets none. The app's layer comes
    from :func:`~chanx.ext.starlette.configure_layer`.
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
        self.consumer_class = checked(consumer_class, AsyncJsonWebsocketConsumer)

    def __repr__(self) -> str:
        return f"<ConsumerEndpoint {self.consumer_class.__qualname__}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve(self.consumer_class(), WebSocket(scope, receive, send))


async def serve(consumer: AsyncJsonWebsocketConsumer, websocket: WebSocket) -> None:
    """Run one connection of ``consumer`` over a Starlette ``WebSocket`` until it ends."""
    consumer.websocket = websocket
    consumer.user = websocket.scope.get("user")
    await run_consumer(consumer, websocket.scope, websocket.receive, websocket.send, GONE)


def checked(consumer_class: Any, base: type[T]) -> type[T]:
    """``consumer_class`` if it subclasses ``base`` (an adapter's consumer), else a
    ``TypeError`` saying how to mount a core consumer instead."""
    if not (isinstance(consumer_class, type) and issubclass(consumer_class, base)):
        where = base.__module__.rsplit(".", 1)[0]
        raise TypeError(
            f"{consumer_class!r} is not a {where}.{base.__name__}; mount a core consumer "
            "as a plain ASGI app: WebSocketRoute(path, Consumer.as_asgi())"
        )
    return consumer_class
