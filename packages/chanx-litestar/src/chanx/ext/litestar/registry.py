"""Which layer a consumer class uses, without process-wide state leaking between apps.

Each app's :class:`~chanx.ext.litestar.layer.ChannelsPluginLayer` lives in ``app.state``
and is listed here only while the app's lifespan runs. A class-level sender
(``Consumer.broadcast_event``, ``send_event`` and their ``*_sync`` forms) picks, in order:

1. the consumer class's own ``layer`` attribute, when set;
2. the layer bound to the current context: set for every request and connection of a
   chanx app by its middleware (so HTTP handlers and their background tasks reach their
   own app), or by :func:`bind_layer` / :func:`~chanx.ext.litestar.standalone_layer`;
3. the one running app that mounts the class (or a subclass), else the one running app.

Anything else (no running app, or several that fit) raises with what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from litestar.exceptions import ImproperlyConfiguredException

from chanx.ext.litestar.layer import ChannelsPluginLayer

if TYPE_CHECKING:
    from litestar import Litestar

STATE_KEY = "chanx_layer"
"""Where :class:`~chanx.ext.litestar.ChanxPlugin` keeps the app's layer in ``app.state``."""

_current: ContextVar[ChannelsPluginLayer | None] = ContextVar("chanx_litestar_layer", default=None)
_running: list[ChannelsPluginLayer] = []


def app_layer(app: Litestar) -> ChannelsPluginLayer:
    """The chanx layer of ``app`` (set up by :class:`~chanx.ext.litestar.ChanxPlugin`)."""
    layer = app.state.get(STATE_KEY)
    if layer is None:
        raise ImproperlyConfiguredException(
            "this Litestar app has no chanx layer: add ChanxPlugin() to its plugins "
            "(after a ChannelsPlugin)"
        )
    return layer  # type: ignore[no-any-return]


@contextmanager
def bind_layer(target: Litestar | ChannelsPluginLayer) -> Iterator[ChannelsPluginLayer]:
    """Bind a layer (or an app's layer) for the code in the block: class-level senders
    such as ``Consumer.broadcast_event`` called there use it. For code outside the app's
    requests: tests that run two apps at once, scripts holding a layer of their own."""
    layer = target if isinstance(target, ChannelsPluginLayer) else app_layer(target)
    token = _current.set(layer)
    try:
        yield layer
    finally:
        _current.reset(token)


def _mark_running(layer: ChannelsPluginLayer) -> None:
    """Called by :class:`~chanx.ext.litestar.ChanxPlugin` once the app's layer started."""
    if layer not in _running:
        _running.append(layer)


def _mark_stopped(layer: ChannelsPluginLayer) -> None:
    """Called by :class:`~chanx.ext.litestar.ChanxPlugin` when the app shuts down."""
    if layer in _running:
        _running.remove(layer)


def resolve_layer(consumer_class: type) -> ChannelsPluginLayer:
    """The layer for a class-level sender of ``consumer_class`` (steps 2 and 3 above)."""
    layer = _current.get()
    if layer is not None:
        return layer
    running = [layer for layer in _running if layer.running]
    mounting = [
        layer
        for layer in running
        if any(issubclass(mounted, consumer_class) for mounted in layer.consumers)
    ]
    candidates = mounting or running
    if len(candidates) == 1:
        return candidates[0]
    name = consumer_class.__qualname__
    if not candidates:
        raise RuntimeError(
            f"{name}: no Litestar app with ChanxPlugin is running in this process, so there "
            "is no channels layer to send through. Start the app (in tests: "
            "`async with chanx.ext.litestar.testing.lifespan(app)`), use "
            "`chanx.ext.litestar.standalone_layer(backend)` in a process without an app, "
            f"or set {name}.layer"
        )
    raise RuntimeError(
        f"{name}: {len(candidates)} running Litestar apps could take this; choose one with "
        f"`with chanx.ext.litestar.bind_layer(app): ...` or set {name}.layer"
    )
