"""chanx for Litestar: consumers as route handlers, groups over the ChannelsPlugin,
guards and authentication middleware as chanx authentication.

::

    app = Litestar(
        route_handlers=[ChatConsumer.as_route_handler("/ws/chat")],
        plugins=[
            ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True),
            ChanxPlugin(),
        ],
    )
"""

from chanx.ext.litestar.auth import from_guard, requires_user
from chanx.ext.litestar.layer import ChannelsPluginLayer
from chanx.ext.litestar.plugin import ChanxMiddleware, ChanxPlugin, standalone_layer
from chanx.ext.litestar.registry import app_layer, bind_layer
from chanx.ext.litestar.routing import ConsumerRouteHandler
from chanx.ext.litestar.websocket import AsyncJsonWebsocketConsumer

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "ChannelsPluginLayer",
    "ChanxMiddleware",
    "ChanxPlugin",
    "ConsumerRouteHandler",
    "app_layer",
    "bind_layer",
    "from_guard",
    "requires_user",
    "standalone_layer",
]
