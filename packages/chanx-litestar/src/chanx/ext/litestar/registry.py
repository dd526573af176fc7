"""Which layer a Litestar consumer class uses: core's binding
(:mod:`chanx.core.binding`) with Litestar's hooks.

:class:`~chanx.ext.litestar.ChanxPlugin` keeps each app's
:class:`~chanx.core.binding.LayerBinding` in ``app.state``; the app counts as running
while its lifespan runs. A class-level sender (``Consumer.broadcast_event``,
``send_event`` and their ``*_sync`` forms) picks, in order:

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
from typing import TYPE_CHECKING

from litestar.exceptions import ImproperlyConfiguredException

from chanx.core import binding
from chanx.core.binding import LayerBinding
from chanx.core.layer import GroupLayer

if TYPE_CHECKING:
    from litestar import Litestar

STATE_KEY = "chanx_layer"
"""Where :class:`~chanx.ext.litestar.ChanxPlugin` keeps the app's binding in ``app.state``."""


def binding_of(app: Litestar) -> LayerBinding:
    """The :class:`~chanx.core.binding.LayerBinding` :class:`ChanxPlugin` gave ``app``."""
    bound = app.state.get(STATE_KEY)
    if not isinstance(bound, LayerBinding):
        raise ImproperlyConfiguredException(
            "this Litestar app has no chanx layer: add ChanxPlugin() to its plugins "
            "(after a ChannelsPlugin, or with ChanxPlugin(layer=...))"
        )
    return bound


def app_layer(app: Litestar) -> GroupLayer:
    """The chanx layer of ``app`` (set up by :class:`~chanx.ext.litestar.ChanxPlugin`)."""
    return binding_of(app).layer


@contextmanager
def bind_layer(target: Litestar | GroupLayer) -> Iterator[GroupLayer]:
    """Bind a layer (or an app's layer) for the code in the block: class-level senders
    such as ``Consumer.broadcast_event`` called there use it. For code outside the app's
    requests: tests that run two apps at once, scripts holding a layer of their own."""
    from litestar import Litestar

    with binding.bind_layer(
        binding_of(target) if isinstance(target, Litestar) else target
    ) as layer:
        yield layer


def resolve_layer(consumer_class: type) -> GroupLayer:
    """The layer for a class-level sender of ``consumer_class`` (steps 2 and 3 above)."""
    layer = binding.find_layer(consumer_class)
    if layer is not None:
        return layer
    name = consumer_class.__qualname__
    raise RuntimeError(
        f"{name}: no Litestar app with ChanxPlugin is running in this process, so there "
        "is no layer to send through. Start the app (in tests: "
        "`async with chanx.ext.litestar.testing.lifespan(app)`), use "
        "`chanx.ext.litestar.standalone_layer(backend)` or `bind_layer(layer)` in a process "
        f"without an app, or set {name}.layer"
    )
