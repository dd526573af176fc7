"""chanx for FastAPI: typed WebSocket consumers on FastAPI routes.

* :class:`AsyncJsonWebsocketConsumer` and its ``as_endpoint()`` to mount on an app or an
  ``APIRouter``;
* :class:`DependencyAuthenticator`: authentication with FastAPI dependencies;
* :func:`asyncapi_docs`: a router serving the app's AsyncAPI document and its page;
* :func:`configure_layer`: the app's group layer (in memory, or Redis from a URL for
  several worker processes), started and stopped with the app;
* :func:`bind_layer`: choose the layer for code outside the app (scripts, workers, tests);
  :func:`app_layer`: an app's layer; :func:`current_layer`: the layer for the code
  running now;
* testing helpers in :mod:`chanx.ext.fastapi.testing`.

FastAPI is Starlette: ``configure_layer`` is :mod:`chanx.ext.starlette`'s, the other layer
functions are core's (:mod:`chanx.core.binding`), and so is the Redis layer
(:mod:`chanx.core.redis`).
"""

import warnings
from typing import Any

from chanx.core.binding import app_layer, bind_layer, current_layer
from chanx.ext.fastapi.asyncapi import asyncapi_docs
from chanx.ext.fastapi.auth import DependencyAuthenticator
from chanx.ext.fastapi.websocket import AsyncJsonWebsocketConsumer, ConsumerEndpoint
from chanx.ext.starlette.layers import configure_layer

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "ConsumerEndpoint",
    "DependencyAuthenticator",
    "app_layer",
    "asyncapi_docs",
    "bind_layer",
    "configure_layer",
    "current_layer",
]


def __getattr__(name: str) -> Any:
    # Deprecated alias; the layer imports redis-py, an optional dependency.
    if name == "RedisGroupLayer":
        warnings.warn(
            "chanx.ext.fastapi.RedisGroupLayer is deprecated: import it from chanx.core.redis",
            DeprecationWarning,
            stacklevel=2,
        )
        from chanx.core.redis import RedisGroupLayer

        return RedisGroupLayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
