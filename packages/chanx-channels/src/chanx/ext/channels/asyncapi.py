"""AsyncAPI for Django Channels: the consumers of a ``URLRouter``, a view, a command.

Serve the document and its page from the project's ``urls.py``::

    from chanx.ext.channels.asyncapi import asyncapi_urls

    urlpatterns += [path("asyncapi/", include(asyncapi_urls(title="Chat", version="1.0.0")))]

(``asyncapi/`` is the page; ``asyncapi/asyncapi.json`` and ``asyncapi/asyncapi.yaml`` the
document), or write it with ``python manage.py asyncapi`` (add ``"chanx.ext.channels"``
to ``INSTALLED_APPS``). Routes are found in ``settings.ASGI_APPLICATION`` through
``ProtocolTypeRouter``, middleware (``AuthMiddlewareStack``, origin validators, anything
keeping its inner app as ``inner`` or ``application``) and nested ``URLRouter`` s;
``path()`` converters and ``re_path()`` named groups become ``{name}`` parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from typing_extensions import Unpack

from chanx.asyncapi.document import Route
from chanx.asyncapi.serve import (
    FILE_NAMES,
    FORMATS,
    DocsConfig,
    DocsOptions,
    Format,
    Rendered,
    websocket_server,
)
from chanx.core.websocket import AsyncJsonWebsocketConsumer

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_CONVERTER_TYPES = {
    "str": "a string without `/`",
    "int": "an integer",
    "slug": "a slug (letters, digits, `-`, `_`)",
    "uuid": "a UUID",
    "path": "a string, `/` allowed",
}
_MAX_WRAPPERS = 20


def discover(target: Any) -> list[Route] | None:
    """The consumer routes of a Channels application (``ProtocolTypeRouter``,
    ``URLRouter``, middleware around one) or a list of URL patterns; ``None`` for
    anything else."""
    module = type(target).__module__
    is_list = isinstance(target, (list, tuple))
    if not (is_list or module.startswith(("channels.", "django."))):
        return None
    from django.urls import URLPattern, URLResolver

    if is_list and not all(isinstance(p, (URLPattern, URLResolver)) for p in target):
        return None
    patterns = target if is_list else _patterns_in(target)
    if patterns is None:
        return None
    return list(_walk(patterns, "", {}))


def _patterns_in(app: Any) -> Sequence[Any] | None:
    from channels.routing import ProtocolTypeRouter, URLRouter

    for _ in range(_MAX_WRAPPERS):
        if isinstance(app, URLRouter):
            routes: Sequence[Any] = app.routes
            return routes
        if isinstance(app, ProtocolTypeRouter):
            app = app.application_mapping.get("websocket")
        elif hasattr(app, "inner"):
            app = app.inner
        elif hasattr(app, "application"):
            app = app.application
        else:
            return None
    return None


def _walk(patterns: Sequence[Any], prefix: str, parameters: dict[str, str]) -> Iterator[Route]:
    for pattern in patterns:
        piece, found = _template(pattern.pattern)
        address = prefix + piece
        params = {**parameters, **found}
        callback = pattern.callback
        consumer = _consumer_of(callback)
        if consumer is not None:
            names = re.findall(r"\{([^{}]+)\}", address)
            yield Route("/" + address, consumer, {n: params[n] for n in names if n in params})
            continue
        inner = _patterns_in(callback)
        if inner is not None:
            yield from _walk(inner, address, params)


def _consumer_of(app: Any) -> type[AsyncJsonWebsocketConsumer] | None:
    for _ in range(_MAX_WRAPPERS):
        consumer = getattr(app, "consumer_class", None)
        if isinstance(consumer, type) and issubclass(consumer, AsyncJsonWebsocketConsumer):
            return consumer
        if hasattr(app, "inner"):
            app = app.inner
        elif hasattr(app, "application"):
            app = app.application
        else:
            return None
    return None


def _template(pattern: Any) -> tuple[str, dict[str, str]]:
    """A ``path()`` or ``re_path()`` pattern as an address piece with ``{name}`` for
    each parameter, and each parameter's description."""
    route = getattr(pattern, "_route", None)
    if isinstance(route, str):
        params: dict[str, str] = {}

        def placeholder(match: re.Match[str]) -> str:
            converter = match.group("converter") or "str"
            name = match.group("name")
            kind = _CONVERTER_TYPES.get(converter, f"`{converter}`")
            params[name] = f"Path parameter `{name}`: {kind}."
            return "{" + name + "}"

        return _CONVERTER.sub(placeholder, route), params
    regex = getattr(pattern, "_regex", None)
    if isinstance(regex, str):
        return regex_template(regex)
    raise ValueError(f"unsupported URL pattern {pattern!r}")


def regex_template(regex: str) -> tuple[str, dict[str, str]]:
    """``^ws/chat/(?P<room>\\w+)/$`` -> ``("ws/chat/{room}/", {"room": ...})``.

    Literal characters (escaped or not) and named groups are understood; anything that
    matches more than one literal text outside a named group (classes, quantifiers,
    alternatives, unnamed groups) raises ``ValueError``: name the group, or use
    ``path()``.
    """
    out: list[str] = []
    params: dict[str, str] = {}
    i, end = 0, len(regex)
    if regex.startswith("^"):
        i = 1
    if regex.endswith("\\Z"):
        end -= 2
    elif regex.endswith("$") and not regex.endswith("\\$"):
        end -= 1
    while i < end:
        char = regex[i]
        if regex.startswith("(?P<", i):
            close = regex.index(">", i)
            name = regex[i + 4 : close]
            depth, j = 1, close + 1
            while depth and j < end:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            if depth:
                raise ValueError(f"unbalanced group in {regex!r}")
            body = regex[close + 1 : j - 1]
            params[name] = f"Path parameter `{name}`: matches `{body}`."
            out.append("{" + name + "}")
            i = j
        elif char == "\\" and i + 1 < end and not regex[i + 1].isalnum():
            out.append(regex[i + 1])
            i += 2
        elif char in "\\()[]{}.*+?|^$":
            raise ValueError(
                f"cannot turn the re_path() pattern {regex!r} into an address: only literal "
                "text and named groups (?P<name>...) are understood"
            )
        else:
            out.append(char)
            i += 1
    return "".join(out), params


def application_routes(application: Any = None) -> list[Route]:
    """The routes of ``application``, default ``settings.ASGI_APPLICATION``."""
    if application is None:
        from channels.routing import get_default_application

        application = get_default_application()
    routes = discover(application)
    if routes is None:
        raise TypeError(f"no Channels routing found in {application!r}")
    return routes


def asyncapi_urls(*, application: Any = None, **options: Unpack[DocsOptions]) -> list[Any]:
    """URL patterns for ``include()``: the page at the include's prefix, the document at
    ``asyncapi.json`` and ``asyncapi.yaml`` below it. ``application`` defaults to
    ``settings.ASGI_APPLICATION``; ``options``: ``title``, ``version``, ``description``,
    ``servers`` (default: the host the request reached) and ``assets``, as in
    :class:`chanx.asyncapi.DocsConfig`."""
    from django.urls import path

    config = DocsConfig(**options)
    rendered: Rendered = {}

    def view(kind: Format) -> Callable[..., Any]:
        def serve(request: Any) -> Any:
            from django.http import HttpResponse, HttpResponseNotAllowed

            if request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["GET", "HEAD"])
            server = websocket_server(request.scheme, request.get_host())
            body, content_type = config.respond(
                kind, lambda: application_routes(application), rendered, server
            )
            return HttpResponse(body, content_type=content_type)

        serve.__name__ = f"asyncapi_{kind}"
        return serve

    return [path(FILE_NAMES[kind], view(kind), name=f"asyncapi-{kind}") for kind in FORMATS]
