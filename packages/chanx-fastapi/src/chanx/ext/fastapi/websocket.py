"""The FastAPI consumer base class and the endpoint that mounts it on a route.

Mount a consumer with FastAPI's own routing::

    app.add_api_websocket_route("/ws/chat", ChatConsumer.as_endpoint())

    router = APIRouter(prefix="/ws")
    router.add_api_websocket_route("/room/{room}", RoomConsumer.as_endpoint())
    app.include_router(router)

Path parameters reach the consumer as ``self.path_params``; the Starlette ``WebSocket``
is ``self.websocket``.
"""

from __future__ import annotations

import inspect
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from fastapi import params
from fastapi.routing import APIWebSocketRoute
from starlette.websockets import WebSocket

from chanx.core.asgi import ConsumerApp, adapter_consumer
from chanx.core.auth import AuthResult, KnownUser
from chanx.ext.fastapi.auth import DependencyAuthenticator, solve_connection_dependencies
from chanx.ext.starlette.websocket import AsyncJsonWebsocketConsumer as StarletteConsumer
from chanx.ext.starlette.websocket import serve

if TYPE_CHECKING:
    from fastapi import FastAPI


def mount_with_as_endpoint(name: str) -> str:
    return (
        f"{name} is a chanx consumer, not a FastAPI endpoint: mount "
        f"{name}.as_endpoint(), e.g. app.add_api_websocket_route(path, {name}.as_endpoint())"
    )


class _NotAnEndpoint:
    """The class's ``__signature__``: FastAPI reads it when the class itself is mounted
    as an endpoint (``add_api_websocket_route(path, Consumer)``, ``@app.websocket`` on
    the class), which would otherwise refuse every handshake without a word."""

    def __get__(self, instance: object, owner: type) -> NoReturn:
        if instance is not None:
            raise AttributeError("__signature__")
        raise TypeError(mount_with_as_endpoint(owner.__qualname__))


class AsyncJsonWebsocketConsumer(StarletteConsumer):
    """A chanx consumer served by FastAPI.

    Everything of the Starlette consumer (handlers, groups, events, completion signals,
    ``self.websocket``, the app's layer) plus:

    * :meth:`as_endpoint` to mount it on an app or ``APIRouter``;
    * FastAPI dependencies at connect: set ``authenticator`` to a
      :class:`~chanx.ext.fastapi.auth.DependencyAuthenticator` and/or pass
      ``dependencies`` to :meth:`as_endpoint`; they run after the handshake, and a
      failure becomes the ``authentication`` message and a ``4000 + status`` close.
    """

    endpoint_dependencies: Sequence[params.Depends] = ()
    """Dependencies of the mount this connection came through (set by the endpoint)."""

    __signature__: Any = _NotAnEndpoint()

    @classmethod
    def as_asgi(cls) -> ConsumerApp:
        """Not for FastAPI consumers: raises ``TypeError`` naming :meth:`as_endpoint`
        (the ASGI app would run without FastAPI's connection and dependencies)."""
        raise TypeError(mount_with_as_endpoint(cls.__qualname__))

    @classmethod
    def as_endpoint(  # type: ignore[override]
        cls, *, dependencies: Sequence[params.Depends] | None = None
    ) -> ConsumerEndpoint:
        """A FastAPI websocket endpoint serving this consumer, for
        ``add_api_websocket_route`` or ``@router.websocket(path)``.

        ``dependencies`` run at connect after the consumer's own (in the authentication
        step, so their failures reach the client as the ``authentication`` message).
        Dependencies given to the route itself or to ``APIRouter``/``include_router``
        run the FastAPI way instead: during the handshake, before chanx is involved.
        """
        return ConsumerEndpoint(cls, dependencies or ())

    @classmethod
    def as_route(cls, path: str, *, name: str | None = None) -> APIWebSocketRoute:
        """An ``APIWebSocketRoute`` serving this consumer on ``path`` (for
        ``FastAPI(routes=[...])``); ``add_api_websocket_route`` is the usual way."""
        return APIWebSocketRoute(path, cls.as_endpoint(), name=name)

    @property
    def app(self) -> FastAPI:
        """The FastAPI application serving this connection."""
        app: FastAPI = self.scope["app"]
        return app

    async def authenticate(self) -> AuthResult | None:
        """Resolve the mount's dependencies and a ``DependencyAuthenticator`` with
        FastAPI's machinery; other authenticators run as on Starlette."""
        authenticator = self.authenticator
        extra = self.endpoint_dependencies
        if isinstance(authenticator, DependencyAuthenticator):
            return await authenticator.resolve(self.websocket, extra)
        if not extra:
            return await super().authenticate()
        result = await solve_connection_dependencies(self.websocket, None, extra)
        if not result.ok:
            return result
        return await super().authenticate() or result

    async def authorize(self, user: Any) -> AuthResult:
        """For a user known without credentials (a test's ``user=``): the mount's
        dependencies and a ``DependencyAuthenticator``'s checks run, its user dependency
        answering ``user`` for this connection only; other authenticators as on
        Starlette."""
        authenticator = self.authenticator
        extra = self.endpoint_dependencies
        known = KnownUser(user)
        if isinstance(authenticator, DependencyAuthenticator):
            return await solve_connection_dependencies(
                self.websocket, authenticator, extra, known=known
            )
        if extra:
            result = await solve_connection_dependencies(self.websocket, None, extra, known=known)
            if not result.ok:
                return result
        return await super().authorize(user)


class ConsumerEndpoint:
    """The FastAPI websocket endpoint serving one consumer class, one instance per
    connection.

    Made by ``Consumer.as_endpoint(dependencies=...)`` rather than by hand; it goes
    wherever FastAPI takes a websocket endpoint (``add_api_websocket_route``,
    ``@router.websocket(path)``). FastAPI sees one ``websocket: WebSocket`` parameter;
    the consumer's authentication dependencies and ``dependencies`` run after the
    handshake, in chanx's authentication step.
    """

    def __init__(
        self,
        consumer_class: type[AsyncJsonWebsocketConsumer],
        dependencies: Sequence[params.Depends],
    ) -> None:
        self.consumer_class = adapter_consumer(consumer_class, AsyncJsonWebsocketConsumer)
        for dependency in dependencies:
            if not isinstance(dependency, params.Depends):
                raise TypeError(f"dependencies must be Depends(...) objects, got {dependency!r}")
        self.dependencies = tuple(dependencies)
        # FastAPI reads the endpoint's signature and name: one WebSocket parameter.
        self.__name__ = consumer_class.__name__
        self.__qualname__ = consumer_class.__qualname__
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter(
                    "websocket", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=WebSocket
                )
            ]
        )

    def __repr__(self) -> str:
        return f"<ConsumerEndpoint {self.consumer_class.__qualname__}>"

    def __call__(self, websocket: WebSocket) -> Coroutine[Any, Any, None]:
        # FastAPI awaits what this returns: the connection's coroutine, no layer between.
        consumer = self.consumer_class()
        if self.dependencies:
            consumer.endpoint_dependencies = self.dependencies
        return serve(consumer, websocket)
