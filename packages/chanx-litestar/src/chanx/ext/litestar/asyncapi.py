"""AsyncAPI for Litestar: the app's consumer routes, and the docs routes.

::

    from chanx.ext.litestar import asyncapi_docs

    app = Litestar(route_handlers=[..., asyncapi_docs(title="Chat", version="1.0.0")])

serves ``/asyncapi`` (the page), ``/asyncapi/asyncapi.json`` and
``/asyncapi/asyncapi.yaml``.

Litestar's guards and authentication middleware are code, so what they read cannot be
known; a route with either is documented as sending the ``authentication`` message.
Where clients put credentials comes from the schemes the route's ``opt`` lists under
:data:`SECURITY_OPT` (``opt`` merges from the app, routers and the handler), and from
the app's OpenAPI security (what ``JWTAuth`` and similar configs declare).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.middleware import AbstractAuthenticationMiddleware, DefineMiddleware
from litestar.routes import WebSocketRoute
from typing_extensions import Unpack

from chanx.asyncapi.document import Route
from chanx.asyncapi.serve import (
    FILE_NAMES,
    FORMATS,
    DocsConfig,
    DocsOptions,
    Format,
    Rendered,
    request_server,
)
from chanx.core.auth import SecurityScheme
from chanx.ext.litestar.routing import ConsumerRouteHandler

SECURITY_OPT = "asyncapi_security"
"""The ``opt`` key whose value lists :class:`~chanx.core.auth.SecurityScheme` objects:
where clients of the routes below put their credentials."""


def discover(target: Any) -> list[Route] | None:
    """The consumer routes of a Litestar app; ``None`` for anything else."""
    if not isinstance(target, Litestar):
        return None
    return list(_routes(target))


def _routes(app: Litestar) -> Iterator[Route]:
    openapi = _openapi_schemes(app)
    for route in app.routes:
        if not isinstance(route, WebSocketRoute):
            continue
        handler = route.route_handler
        if not isinstance(handler, ConsumerRouteHandler):
            continue
        parameters = {
            name: f"Path parameter `{name}` ({getattr(spec.type, '__name__', spec.type)})."
            for name, spec in route.path_parameters.items()
        }
        guarded = bool(handler.resolve_guards())
        authenticates = guarded or _has_auth_middleware(handler.resolve_middleware())
        security: list[SecurityScheme] = list(handler.opt.get(SECURITY_OPT, ()))
        if authenticates:
            security.extend(openapi)
        yield Route(
            route.path_format,
            handler.consumer_class,
            parameters,
            tuple(security),
            True if authenticates else None,
        )


def _has_auth_middleware(middleware: Sequence[Any]) -> bool:
    for item in middleware:
        kind = item.middleware if isinstance(item, DefineMiddleware) else item
        if isinstance(kind, type) and issubclass(kind, AbstractAuthenticationMiddleware):
            return True
    return False


def _openapi_schemes(app: Litestar) -> list[SecurityScheme]:
    """The schemes the app's OpenAPI configuration requires (``JWTAuth`` and the like
    add theirs there)."""
    config = app.openapi_config
    if config is None or not config.security or config.components is None:
        return []
    components = config.components
    defined: Mapping[str, Any] = (
        components.security_schemes if not isinstance(components, list) else {}
    ) or {}
    found: list[SecurityScheme] = []
    for requirement in config.security:
        for name in requirement:
            scheme = defined.get(name)
            if scheme is not None and hasattr(scheme, "to_schema"):
                found.extend(SecurityScheme.from_openapi(scheme.to_schema()))
    return found


def asyncapi_docs(*, path: str = "/asyncapi", **options: Unpack[DocsOptions]) -> Router:
    """A router serving the AsyncAPI document of the app it is part of: the page at
    ``path``, the document at ``{path}/asyncapi.json`` and ``{path}/asyncapi.yaml``.

    ``options``: ``title``, ``version``, ``description``, ``servers`` (default: the
    host the request reached) and ``assets`` (where the page loads the AsyncAPI
    component from), as in :class:`chanx.asyncapi.DocsConfig`.
    """
    config = DocsConfig(**options)
    # Rendered documents live in the app's state (Litestar apps take no weak references).
    state_key = f"chanx_asyncapi_{id(config):x}"

    def handler(kind: Format) -> Any:
        url = "/" + FILE_NAMES[kind] if FILE_NAMES[kind] else "/"

        @get(url, include_in_schema=False, name=f"asyncapi_{kind}", sync_to_thread=False)
        def serve(request: Request[Any, Any, Any]) -> Response[bytes]:
            app = request.app
            # From the scope: request.url raises on a malformed Host header.
            server = request_server(request.scope)  # type: ignore[arg-type]
            kept: Rendered | None = app.state.get(state_key)
            if kept is None:
                kept = app.state[state_key] = {}
            body, content_type = config.respond(kind, lambda: discover(app) or [], kept, server)
            return Response(body, media_type=content_type)

        return serve

    return Router(path=path, route_handlers=[handler(kind) for kind in FORMATS])
