"""The app's group layer on Starlette (and FastAPI, which uses these).

:func:`configure_layer` binds a layer to the app with core's
:class:`~chanx.core.binding.LayerMiddleware`: it starts with the app's lifespan, stops
after it, and every request and connection of the app runs with it bound. How a consumer
class finds its layer from anywhere is described in :mod:`chanx.core.binding`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette

from chanx.core import binding
from chanx.core.binding import LayerBinding, LayerMiddleware
from chanx.core.layer import GroupLayer
from chanx.core.memory import InMemoryGroupLayer

STATE_KEY = "chanx_layer"
"""The ``app.state`` attribute holding the app's :class:`~chanx.core.binding.LayerBinding`."""


def configure_layer(
    app: Starlette, layer: GroupLayer | str | None = None, **redis_options: Any
) -> GroupLayer:
    """Give ``app`` its own group layer, started and stopped with its lifespan.

    ``layer`` is a Redis URL (``"redis://localhost:6379/0"``: a
    :class:`~chanx.core.redis.RedisGroupLayer` built with ``redis_options``, for several
    worker processes; needs ``chanx-core[redis]``), a ready layer object, or ``None`` for
    a fresh in-memory layer (one process). Call it once, where the app is built.
    """
    if isinstance(getattr(app.state, STATE_KEY, None), LayerBinding):
        raise RuntimeError("this app already has a chanx layer")
    if isinstance(layer, str):
        from chanx.core.redis import RedisGroupLayer

        layer = RedisGroupLayer(layer, **redis_options)
    elif redis_options:
        raise TypeError("options are for a Redis URL; configure a layer object yourself")
    elif layer is None:
        layer = InMemoryGroupLayer()
    bound = LayerBinding(layer, lambda: mounted_consumers(app.routes))
    setattr(app.state, STATE_KEY, bound)
    app.add_middleware(LayerMiddleware, layer=bound)
    return layer


def app_layer(app: Starlette) -> GroupLayer:
    """The layer :func:`configure_layer` gave ``app``."""
    return _binding_of(app).layer


@contextmanager
def bind_layer(target: GroupLayer | Starlette) -> Iterator[GroupLayer]:
    """Bind a layer (or an app's layer) for the code in the block: class-level senders
    such as ``Consumer.broadcast_event`` called there use it. For scripts, worker
    processes and tests that run outside the app."""
    with binding.bind_layer(
        _binding_of(target) if isinstance(target, Starlette) else target
    ) as layer:
        yield layer


def current_layer() -> GroupLayer:
    """The layer for code running now: the bound one, else the one running app's, else
    the core's in-memory default (see :mod:`chanx.core.binding`)."""
    return binding.current_layer()


def mounted_consumers(routes: Iterable[Any]) -> Iterator[type]:
    """The consumer classes served by ``routes`` (mounted apps and routers included):
    chanx endpoints and ``Consumer.as_asgi()`` apps."""
    for route in routes:
        consumer = getattr(getattr(route, "endpoint", None), "consumer_class", None)
        if isinstance(consumer, type):
            yield consumer
        yield from mounted_consumers(getattr(route, "routes", None) or ())


def _binding_of(app: Starlette) -> LayerBinding:
    bound = getattr(app.state, STATE_KEY, None)
    if not isinstance(bound, LayerBinding):
        raise LookupError(
            "this app has no chanx layer: call configure_layer(app, ...) (from "
            "chanx.ext.starlette, or chanx.ext.fastapi on FastAPI)"
        )
    return bound
