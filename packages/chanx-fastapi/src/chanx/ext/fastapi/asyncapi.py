"""AsyncAPI for FastAPI (and any Starlette app): the routes, and the docs routes.

::

    from chanx.ext.fastapi import asyncapi_docs

    app.include_router(asyncapi_docs(title="Chat", version="1.0.0"))

serves ``/asyncapi`` (the page), ``/asyncapi/asyncapi.json`` and
``/asyncapi/asyncapi.yaml``. :func:`discover` finds the consumers of any Starlette
application or router: FastAPI routes (``add_api_websocket_route``, ``@router.websocket``,
included routers), Starlette ``WebSocketRoute``, ``Mount`` (of routers, of sub-apps, of
a consumer's ``as_asgi()``) and ``Host``.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response, params
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Host, Mount, Router, WebSocketRoute

from chanx.asyncapi.document import Route
from chanx.asyncapi.page import DEFAULT_ASSETS, PageAssets
from chanx.asyncapi.serve import FILE_NAMES, DocsConfig, Format, websocket_server
from chanx.core.asgi import ConsumerApp
from chanx.core.auth import SecurityScheme
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.ext.fastapi.auth import security_from_dependant
from chanx.ext.fastapi.websocket import ConsumerEndpoint

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
_CONVERTOR_TYPES = {
    "str": "a string without `/`",
    "path": "a string, `/` allowed",
    "int": "an integer",
    "float": "a number",
    "uuid": "a UUID",
}


def discover(target: Any) -> list[Route] | None:
    """The websocket routes of a Starlette/FastAPI app or router; ``None`` for
    anything else."""
    if isinstance(target, Starlette):
        routes: Sequence[BaseRoute] = target.router.routes
    elif isinstance(target, Router):
        routes = target.routes
    else:
        return None
    return list(_walk(routes, ""))


def _walk(routes: Sequence[BaseRoute], prefix: str) -> Iterator[Route]:
    # FastAPI keeps included routers as lazy branches; its route contexts give each
    # route with its full path and the dependencies of every router above it.
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, WebSocketRoute):
            found = _consumer_route(prefix + str(context.path), context.endpoint, context)
            if found is not None:
                yield found
        elif isinstance(route, Mount):
            consumer = _consumer_of(route.app)
            if consumer is not None:
                yield _route(prefix + route.path, consumer[0], ())
            else:
                yield from _walk(route.routes, prefix + route.path)
        elif isinstance(route, Host):
            yield from _walk(route.routes, prefix)


def _consumer_route(path: str, endpoint: Any, route: Any) -> Route | None:
    found = _consumer_of(endpoint)
    if found is None:
        return None
    consumer, mount_dependencies = found
    # Dependencies of the route (and of its routers) run during the handshake.
    route_dependencies: Sequence[params.Depends] = getattr(route, "dependencies", ())
    security: list[SecurityScheme] = []
    for depends in (*route_dependencies, *mount_dependencies):
        sub = get_parameterless_sub_dependant(depends=depends, path=path)
        security.extend(security_from_dependant(sub))
    authenticates = True if mount_dependencies else None
    return _route(path, consumer, tuple(security), authenticates)


def _consumer_of(
    app: Any,
) -> tuple[type[AsyncJsonWebsocketConsumer], Sequence[params.Depends]] | None:
    if isinstance(app, ConsumerEndpoint):
        return app.consumer_class, app.dependencies
    if isinstance(app, ConsumerApp):
        return app.consumer_class, ()
    return None


def _route(
    path: str,
    consumer: type[AsyncJsonWebsocketConsumer],
    security: tuple[SecurityScheme, ...],
    authenticates: bool | None = None,
) -> Route:
    parameters = {
        name: f"Path parameter `{name}`: {_CONVERTOR_TYPES.get(kind or 'str', kind)}."
        for name, kind in _PARAM.findall(path)
    }
    address = _PARAM.sub(lambda m: "{" + m.group(1) + "}", path) or "/"
    return Route(address, consumer, parameters, security, authenticates)


def asyncapi_docs(
    *,
    path: str = "/asyncapi",
    title: str = "WebSocket API",
    version: str = "0.1.0",
    description: str = "",
    servers: Mapping[str, str] | None = None,
    assets: PageAssets = DEFAULT_ASSETS,
) -> APIRouter:
    """A router serving the AsyncAPI document of the app that includes it: the page at
    ``path``, the document at ``{path}/asyncapi.json`` and ``{path}/asyncapi.yaml``.

    The routes are found on the first request (so include it wherever you like);
    ``servers`` defaults to the host the request reached; ``assets`` says where the
    page loads the AsyncAPI component from (see :class:`chanx.asyncapi.PageAssets`).
    """
    config = DocsConfig(title, version, description, dict(servers or {}), assets)
    rendered: weakref.WeakKeyDictionary[Any, dict[tuple[Format, str], tuple[bytes, str]]]
    rendered = weakref.WeakKeyDictionary()
    router = APIRouter()

    def endpoint(kind: Format) -> Any:
        async def serve(request: Request) -> Response:
            app = request.app
            root = request.scope.get("root_path", "").rstrip("/")
            server = websocket_server(request.url.scheme, request.url.netloc) + root
            cache = rendered.setdefault(app, {})
            if (kind, server) not in cache:
                routes = discover(app) or []
                cache[(kind, server)] = config.render(kind, routes, server)
            body, content_type = cache[(kind, server)]
            return Response(body, media_type=content_type)

        serve.__name__ = f"asyncapi_{kind}"
        return serve

    base = path.rstrip("/")
    kinds: tuple[Format, ...] = ("html", "json", "yaml")
    for kind in kinds:
        url = f"{base}/{FILE_NAMES[kind]}" if FILE_NAMES[kind] else base or "/"
        router.add_api_route(url, endpoint(kind), methods=["GET"], include_in_schema=False)
    return router
