"""chanx for Litestar: consumers as route handlers, groups over the ChannelsPlugin,
guards and authentication middleware as chanx authentication.

* :class:`AsyncJsonWebsocketConsumer` and its ``as_route_handler()`` (a
  :class:`ConsumerRouteHandler`) for the app, a ``Router`` or a ``Controller``;
* :class:`ChanxPlugin`: the app's :class:`ChannelsPluginLayer` over its ``ChannelsPlugin``
  (or another chanx layer, such as core's Redis layer), started and stopped with the
  app, and :class:`ChanxMiddleware`; :class:`BackendUnavailable` when its backend is down;
* :func:`requires_user`, :func:`from_guard`: guards for connections and handlers;
* :func:`asyncapi_docs`: a router serving the app's AsyncAPI document and its page;
* :func:`bind_layer`: choose the layer for code outside the app (scripts, tests);
  :func:`app_layer`: an app's layer; :func:`standalone_layer`: a layer for a process
  without an app;
* testing helpers in :mod:`chanx.ext.litestar.testing`.

::

    app = Litestar(
        route_handlers=[ChatConsumer.as_route_handler("/ws/chat")],
        plugins=[
            ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True),
            ChanxPlugin(),
        ],
    )
"""

from chanx.ext.litestar.asyncapi import asyncapi_docs
from chanx.ext.litestar.auth import from_guard, requires_user
from chanx.ext.litestar.layer import BackendUnavailable, ChannelsPluginLayer
from chanx.ext.litestar.plugin import ChanxMiddleware, ChanxPlugin, standalone_layer
from chanx.ext.litestar.registry import app_layer, bind_layer
from chanx.ext.litestar.routing import ConsumerRouteHandler
from chanx.ext.litestar.websocket import AsyncJsonWebsocketConsumer

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "BackendUnavailable",
    "ChannelsPluginLayer",
    "ChanxMiddleware",
    "ChanxPlugin",
    "ConsumerRouteHandler",
    "app_layer",
    "asyncapi_docs",
    "bind_layer",
    "from_guard",
    "requires_user",
    "standalone_layer",
]
