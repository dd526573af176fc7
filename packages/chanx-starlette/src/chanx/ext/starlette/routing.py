"""Which consumers a Starlette app serves, and where: one walk over its routes, for the
app's layer (the classes it mounts) and its AsyncAPI document (:func:`discover`, and
:func:`asyncapi_docs` to serve it). FastAPI's adapter extends both through
:func:`route_entries` (included routers) and :func:`route_security` (dependencies)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import singledispatch
from typing import Any, NamedTuple

from starlette.applications import Starlette
from starlette.routing import Host, Mount, Router, WebSocketRoute
from starlette.routing import Route as HTTPRoute
from typing_extensions import Unpack

from chanx.asyncapi.document import Route
from chanx.asyncapi.serve import FILE_NAMES, FORMATS, DocsApp, DocsConfig, DocsOptions
from chanx.core.auth import SecurityScheme


class MountedConsumer(NamedTuple):
    """A consumer class an app serves: its full ``path`` (converters included), the
    ``endpoint`` (or ASGI app) serving it, and its ``route`` (or the framework's view of
    the route: FastAPI's route context)."""

    path: str
    consumer: type
    endpoint: Any
    route: Any


@singledispatch
def route_entries(router: Any) -> Iterable[tuple[Any, Any]]:
    """A router's routes as ``(route, view)`` pairs: the route, and where to read its
    ``path``, ``endpoint``, ``app`` and ``routes`` (for Starlette, the route itself)."""
    return [(route, route) for route in router.routes]


def mounted_consumers(target: Any, prefix: str = "") -> Iterator[MountedConsumer]:
    """The consumers served by ``target`` (an app, a router, or a list of routes), in
    route order: chanx endpoints and ``Consumer.as_asgi()`` apps, on ``WebSocketRoute``,
    ``Mount`` (of routes, routers, sub-apps or a consumer's app) and ``Host``."""
    if isinstance(target, Starlette):
        target = target.router
    entries = route_entries(target) if hasattr(target, "routes") else ((r, r) for r in target)
    for route, view in entries:
        if isinstance(route, WebSocketRoute):
            consumer = _consumer_of(view.endpoint)
            if consumer is not None:
                yield MountedConsumer(prefix + view.path, consumer, view.endpoint, view)
        elif isinstance(route, (Mount, Host)):
            path = prefix + view.path if isinstance(route, Mount) else prefix
            consumer = _consumer_of(view.app)
            if consumer is not None:  # a mount serves ``path/`` and below, not ``path``
                yield MountedConsumer(path + "/", consumer, view.app, view)
            else:  # behind a mount's middleware, its routes are on the route
                inner = view.app if hasattr(view.app, "routes") else view.routes
                yield from mounted_consumers(inner, path)


def _consumer_of(endpoint: Any) -> type | None:
    consumer = getattr(endpoint, "consumer_class", None)
    return consumer if isinstance(consumer, type) else None


@singledispatch
def route_security(
    endpoint: Any, mounted: MountedConsumer
) -> tuple[tuple[SecurityScheme, ...], bool | None]:
    """What serving ``mounted`` through ``endpoint`` adds to the consumer's AsyncAPI
    description: credential schemes, and whether connections get the ``authentication``
    message (``None``: as the consumer says). Nothing, for Starlette's endpoints."""
    return (), None


def discover(target: Any) -> list[Route] | None:
    """The AsyncAPI routes of a Starlette app or router; ``None`` for anything else."""
    if not isinstance(target, (Starlette, Router)):
        return None
    return [
        Route.from_template(m.path, m.consumer, *route_security(m.endpoint, m))
        for m in mounted_consumers(target)
    ]


def asyncapi_docs(*, path: str = "/asyncapi", **options: Unpack[DocsOptions]) -> list[HTTPRoute]:
    """Routes serving the AsyncAPI document of the app they are part of: the page at
    ``path``, the document at ``{path}/asyncapi.json`` and ``{path}/asyncapi.yaml``::

        app.routes.extend(asyncapi_docs(title="Chat", version="1.0.0"))

    ``options``: ``title``, ``version``, ``description``, ``servers`` (default: the host
    the request reached) and ``assets`` (where the page loads the AsyncAPI component
    from), as in :class:`chanx.asyncapi.DocsConfig`."""
    config = DocsConfig(**options)
    base = path.rstrip("/")
    return [
        HTTPRoute(
            f"{base}/{FILE_NAMES[kind]}" if FILE_NAMES[kind] else base or "/",
            DocsApp(config, kind, lambda app: discover(app) or []),
            methods=["GET"],
            name=f"asyncapi_{kind}",
            include_in_schema=False,
        )
        for kind in FORMATS
    ]
