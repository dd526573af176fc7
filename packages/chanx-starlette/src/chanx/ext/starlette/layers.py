"""The app's group layer on Starlette (and FastAPI): kept in ``app.state`` and bound by
core's ``LayerMiddleware``, so ``app_layer(app)`` finds it (:mod:`chanx.core.binding`)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from chanx.core.binding import STATE_KEY, LayerBinding, LayerMiddleware, make_layer
from chanx.core.layer import GroupLayer
from chanx.ext.starlette.routing import mounted_consumers


def configure_layer(
    app: Starlette, layer: GroupLayer | str | None = None, **redis_options: Any
) -> GroupLayer:
    """Give ``app`` its own group layer, started and stopped with its lifespan and bound
    for everything it runs; call it once, where the app is built. ``layer``: a Redis URL
    (with ``redis_options``), a layer object, or ``None`` for a fresh in-memory layer
    (see :func:`~chanx.core.binding.make_layer`)."""
    if isinstance(getattr(app.state, STATE_KEY, None), LayerBinding):
        raise RuntimeError("this app already has a chanx layer")
    bound = LayerBinding(
        make_layer(layer, **redis_options), lambda: (m.consumer for m in mounted_consumers(app))
    )
    setattr(app.state, STATE_KEY, bound)
    app.add_middleware(LayerMiddleware, layer=bound)
    return bound.layer
