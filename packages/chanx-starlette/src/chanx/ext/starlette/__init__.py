"""chanx for Starlette: typed WebSocket consumers on Starlette routes.

* :class:`AsyncJsonWebsocketConsumer` and its ``as_route(path)`` / ``as_endpoint()``;
* :func:`requires`: authentication from Starlette's ``AuthenticationMiddleware``;
* :func:`configure_layer`: the app's group layer (in memory, or Redis from a URL for
  several worker processes), started and stopped with the app;
* :func:`bind_layer`: choose the layer for code outside the app (scripts, workers, tests);
  :func:`app_layer`: an app's layer; :func:`current_layer`: the layer for the code
  running now; :func:`mounted_consumers`: the consumer classes an app's routes serve.

Testing helpers (``WebsocketCommunicator``, ``AuthenticatedCommunicator``, ``lifespan``)
are core's, in :mod:`chanx.testing`.
"""

from chanx.ext.starlette.auth import ScopesAuthenticator, requires
from chanx.ext.starlette.layers import (
    app_layer,
    bind_layer,
    configure_layer,
    current_layer,
    mounted_consumers,
)
from chanx.ext.starlette.websocket import AsyncJsonWebsocketConsumer, ConsumerEndpoint

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "ConsumerEndpoint",
    "ScopesAuthenticator",
    "app_layer",
    "bind_layer",
    "configure_layer",
    "current_layer",
    "mounted_consumers",
    "requires",
]
