"""AsyncAPI for FastAPI: what FastAPI adds to Starlette's routes, and the docs router.

::

    from chanx.ext.fastapi import asyncapi_docs

    app.include_router(asyncapi_docs(title="Chat", version="1.0.0"))

serves ``/asyncapi`` (the page), ``/asyncapi/asyncapi.json`` and
``/asyncapi/asyncapi.yaml``.

Routes are found by chanx-starlette's walker (:mod:`chanx.ext.starlette.routing`: routes,
``Mount``, ``Host``), which this module teaches FastAPI's own parts: included routers
(kept by FastAPI as lazy branches, read through its route contexts, which give each
route its full path and the dependencies of every router above it) and the credentials
that route, router and mount dependencies read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi.routing import iter_route_contexts
from typing_extensions import Unpack

from chanx.asyncapi.serve import DocsOptions
from chanx.core.auth import SecurityScheme
from chanx.ext.fastapi.auth import security_from_dependant
from chanx.ext.fastapi.websocket import ConsumerEndpoint
from chanx.ext.starlette import routing


@routing.route_entries.register
def _included_routers(router: APIRouter) -> Iterable[tuple[Any, Any]]:
    return [(context.original_route, context) for context in iter_route_contexts(router.routes)]


@routing.route_security.register
def _dependencies(
    endpoint: ConsumerEndpoint, mounted: routing.MountedConsumer
) -> tuple[tuple[SecurityScheme, ...], bool | None]:
    # The route's and its routers' dependencies run during the handshake; the mount's
    # (``as_endpoint(dependencies=...)``) in chanx's authentication step.
    security: list[SecurityScheme] = []
    for depends in (*getattr(mounted.route, "dependencies", ()), *endpoint.dependencies):
        sub = get_parameterless_sub_dependant(depends=depends, path=mounted.path)
        security.extend(security_from_dependant(sub))
    return tuple(security), True if endpoint.dependencies else None


def asyncapi_docs(*, path: str = "/asyncapi", **options: Unpack[DocsOptions]) -> APIRouter:
    """A router serving the AsyncAPI document of the app that includes it: the page at
    ``path``, the document at ``{path}/asyncapi.json`` and ``{path}/asyncapi.yaml``
    (:func:`chanx.ext.starlette.asyncapi_docs`'s routes, kept out of the OpenAPI schema).

    The routes are found on the first request (so include it wherever you like);
    ``options`` as in :func:`chanx.ext.starlette.asyncapi_docs`.
    """
    return APIRouter(routes=list(routing.asyncapi_docs(path=path, **options)))
