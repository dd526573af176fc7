"""Finding the websocket routes of an application, whatever its framework.

Each adapter distribution registers a function under the ``chanx.asyncapi.discovery``
entry-point group: it takes any object and returns the object's routes, or ``None``
when the object is not its framework's. A consumer class on its own is a route too (at
``address``, ``/`` by default).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from chanx.asyncapi.document import Route
from chanx.core.websocket import AsyncJsonWebsocketConsumer

ENTRY_POINT_GROUP = "chanx.asyncapi.discovery"

Discover = Callable[[Any], "Sequence[Route] | None"]


def discover_routes(target: Any, *, address: str = "/") -> list[Route]:
    """The routes of ``target``: an application, a router, a list of Channels URL
    patterns, or a consumer class (served at ``address``)."""
    if isinstance(target, type) and issubclass(target, AsyncJsonWebsocketConsumer):
        return [Route(address, target)]
    tried: list[str] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        tried.append(entry.name)
        discover: Discover = entry.load()
        routes = discover(target)
        if routes is not None:
            return list(routes)
    kind = f"{type(target).__module__}.{type(target).__qualname__}"
    installed = ", ".join(tried) or "none"
    raise TypeError(
        f"cannot find websocket routes in a {kind}: pass a FastAPI/Starlette, Litestar or "
        f"Django Channels application, or a consumer class (route finders installed: "
        f"{installed})"
    )
