"""chanx for Starlette: consumers on Starlette routes, ``AuthenticationMiddleware`` as
authentication, the app's group layer (core's :mod:`chanx.core.binding`), AsyncAPI docs."""

from chanx.core.binding import app_layer, bind_layer, current_layer
from chanx.ext.starlette.auth import ScopesAuthenticator, requires
from chanx.ext.starlette.layers import configure_layer
from chanx.ext.starlette.routing import MountedConsumer, asyncapi_docs, mounted_consumers
from chanx.ext.starlette.websocket import AsyncJsonWebsocketConsumer, ConsumerEndpoint

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "ConsumerEndpoint",
    "MountedConsumer",
    "ScopesAuthenticator",
    "app_layer",
    "asyncapi_docs",
    "bind_layer",
    "configure_layer",
    "current_layer",
    "mounted_consumers",
    "requires",
]
