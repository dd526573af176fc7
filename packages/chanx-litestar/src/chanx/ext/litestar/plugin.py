"""``ChanxPlugin``: binds the app's chanx layer (over its ``ChannelsPlugin`` by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from copy import copy
from typing import TYPE_CHECKING, Any, cast

from litestar.channels import ChannelsPlugin
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ImproperlyConfiguredException
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AbstractAuthenticationMiddleware
from litestar.plugins import InitPlugin

from chanx.core import binding
from chanx.core.auth import KnownUser, known_user
from chanx.core.binding import LayerBinding
from chanx.core.layer import GroupLayer
from chanx.core.origins import REFUSED_CLOSE_CODE, log_refusal, origin_refusal
from chanx.ext.litestar.auth import STARTED_KEY, is_refusal, refusal, refuse
from chanx.ext.litestar.layer import ChannelsPluginLayer
from chanx.ext.litestar.registry import STATE_KEY
from chanx.ext.litestar.routing import ConsumerRouteHandler

if TYPE_CHECKING:
    from litestar.channels.backends.base import ChannelsBackend
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Receive, Scope, Send


class ChanxPlugin(InitPlugin):
    """Runs chanx groups and events over the app's ``ChannelsPlugin`` (or ``layer``).

    ``Litestar(plugins=[ChannelsPlugin(backend=..., arbitrary_channels_allowed=True),
    ChanxPlugin()])``. On app init it creates the app's
    :class:`~chanx.ext.litestar.layer.ChannelsPluginLayer` and binds it to the app
    (``app.state["chanx_layer"]``, see :mod:`chanx.ext.litestar.registry`), and adds
    :class:`ChanxMiddleware`; the layer starts after the plugins have started and stops
    at shutdown.

    ``channels`` picks the ``ChannelsPlugin`` when the app has several; ``prefix`` starts
    every channel name chanx uses (the same in every process of a deployment; a distinct
    one separates deployments, or test runs, sharing a Redis or PostgreSQL server).
    ``layer`` replaces the ChannelsPlugin layer with another chanx layer, such as core's
    :class:`~chanx.core.redis.RedisGroupLayer` (no ``ChannelsPlugin`` needed then).
    """

    __slots__ = ("channels", "layer", "prefix")

    def __init__(
        self,
        *,
        channels: ChannelsPlugin | None = None,
        prefix: str = "chanx.",
        layer: GroupLayer | None = None,
    ) -> None:
        self.channels = channels
        self.prefix = prefix
        self.layer = layer

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Litestar's plugin hook: create and bind the layer, add the middleware, and
        start and stop the layer with the app."""
        layer = self.layer
        if layer is None:
            layer = ChannelsPluginLayer(self._channels_plugin(app_config), prefix=self.prefix)
        bound = LayerBinding(layer)
        app_config.state[STATE_KEY] = bound
        # Outermost, so it also sees refusals raised by authentication middleware.
        app_config.middleware.insert(0, DefineMiddleware(ChanxMiddleware, binding=bound))
        app_config.on_startup.append(bound.start)
        app_config.on_shutdown.append(bound.stop)
        return app_config

    def _channels_plugin(self, app_config: AppConfig) -> ChannelsPlugin:
        found = [p for p in app_config.plugins if isinstance(p, ChannelsPlugin)]
        if self.channels is not None:
            if self.channels not in found:
                raise ImproperlyConfiguredException(
                    "ChanxPlugin(channels=...) names a ChannelsPlugin that is not among the "
                    "app's plugins"
                )
            channels = self.channels
        elif len(found) == 1:
            channels = found[0]
        else:
            raise ImproperlyConfiguredException(
                "ChanxPlugin needs the app's ChannelsPlugin: add "
                "ChannelsPlugin(backend=..., arbitrary_channels_allowed=True) to plugins"
                if not found
                else "the app has several ChannelsPlugins: pick one with ChanxPlugin(channels=...)"
            )
        # Generated routes for arbitrary channels would let any client listen to any
        # group's traffic and any connection's events.
        if getattr(channels, "_create_route_handlers", False) and getattr(
            channels, "_arbitrary_channels_allowed", False
        ):
            raise ImproperlyConfiguredException(
                "ChannelsPlugin(create_ws_route_handlers=True, arbitrary_channels_allowed=True) "
                "exposes every chanx channel to any websocket client; use a separate "
                "ChannelsPlugin for chanx, or declare the generated routes' channels"
            )
        return channels


class ChanxMiddleware:
    """The app-level middleware :class:`ChanxPlugin` adds (outermost); not added by hand.

    It binds the app's layer to each request's context (so class-level senders in HTTP
    handlers and background tasks use this app), refuses a handshake the consumer's
    ``allowed_origins`` does not admit before anything else runs (HTTP 403, see
    :mod:`chanx.core.origins`), and turns a 4xx ``HTTPException`` raised before a
    consumer starts (authentication middleware, guards) into the chanx refusal: the
    ``authentication`` message, then a close with ``4000 + status``.

    A connection made as a known user (:class:`~chanx.core.auth.KnownUser`, a test's
    ``user=``) goes through Litestar's authentication contract: the user and its
    ``auth`` become ``connection.user`` / ``connection.auth`` as an authentication
    middleware's ``AuthenticationResult`` would make them, the app's authentication
    middleware are skipped for it (as for a route with their ``exclude_from_auth`` opt
    key), and guards and ``on_connect`` run as for any connection.
    """

    def __init__(self, app: ASGIApp, binding: LayerBinding) -> None:
        self.app = app
        self.binding = binding

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = binding.enter(self.binding)
        try:
            handler = scope.get("route_handler")
            websocket = scope["type"] == ScopeType.WEBSOCKET
            if not websocket or not isinstance(handler, ConsumerRouteHandler):
                await self.app(scope, receive, send)
                return
            consumer_class = handler.consumer_class
            cross_origin = origin_refusal(scope, consumer_class.allowed_origins)  # type: ignore[arg-type]
            if cross_origin is not None:
                # Before authentication middleware, guards and on_connect see the cookies.
                log_refusal(consumer_class.__qualname__, cross_origin)
                if (await receive())["type"] == "websocket.connect":
                    await send(
                        {"type": "websocket.close", "code": REFUSED_CLOSE_CODE, "reason": ""}
                    )
                return
            known = known_user(scope)
            if known is not None:
                as_known_user(scope, known, handler, self.app)
            try:
                await self.app(scope, receive, send)
            except HTTPException as exc:
                if scope.get(STARTED_KEY) or not is_refusal(exc):
                    raise
                chanx_scope = cast("dict[str, Any]", scope)
                await refuse(handler.consumer_class, chanx_scope, receive, send, refusal(exc))  # type: ignore[arg-type]
        finally:
            binding.leave(token)


@asynccontextmanager
async def standalone_layer(
    backend: ChannelsBackend, *, prefix: str = "chanx."
) -> AsyncIterator[ChannelsPluginLayer]:
    """A layer for a process with no Litestar app (a worker, a script): within the block,
    class-level senders (``Consumer.broadcast_event``, ``send_event``) publish through
    ``backend`` to the apps that share it and ``prefix``.

    ``backend`` is a fresh channels backend configured like the apps' (same Redis or
    PostgreSQL server).
    """
    async with ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True) as plugin:
        layer = ChannelsPluginLayer(plugin, prefix=prefix)
        await layer.start()
        try:
            with binding.bind_layer(layer):
                yield layer
        finally:
            await layer.stop()


def as_known_user(scope: Scope, known: KnownUser, handler: ConsumerRouteHandler, app: Any) -> None:
    """Put ``known`` where Litestar's authentication middleware put a user, and serve the
    connection through a copy of its route handler whose ``opt`` excludes it from the
    authentication middleware below ``app`` (by each one's ``exclude_opt_key``)."""
    skipping = copy(handler)
    skipping.opt = {**handler.opt, **dict.fromkeys(auth_exclude_keys(app), True)}
    scope["route_handler"] = skipping
    scope["user"] = known.user
    scope["auth"] = known.auth


def auth_exclude_keys(app: Any) -> set[str]:
    """The ``opt`` keys that exclude a route from the authentication middleware in the
    stack below ``app``: Litestar's default, ``exclude_from_auth``, and those configured
    on the middleware found by following each one's ``app`` (including those Litestar's
    security backends build, such as ``SessionAuth``'s)."""
    keys = {"exclude_from_auth"}
    seen: set[int] = set()
    current = app
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AbstractAuthenticationMiddleware) and current.exclude_opt_key:
            keys.add(current.exclude_opt_key)
        config_key = getattr(getattr(current, "config", None), "exclude_opt_key", None)
        if isinstance(config_key, str) and config_key:
            keys.add(config_key)
        current = getattr(current, "app", None)
    return keys
