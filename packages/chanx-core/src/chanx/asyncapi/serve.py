"""What every adapter's docs routes share: one configuration, three renderings.

An adapter serves one route per format (:data:`FORMATS`, at :data:`FILE_NAMES` below its
prefix); each request asks :meth:`DocsConfig.respond` for the body and content type,
with the server the request reached (:func:`websocket_server`) and the app's routes.
On an ASGI router, each route is a :class:`DocsApp`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from chanx.asyncapi.document import Info, Route, build_document
from chanx.asyncapi.emit import to_json, to_yaml
from chanx.asyncapi.page import DEFAULT_ASSETS, PageAssets, render_page
from chanx.core.types import ASGIReceive, ASGISend, Scope

Format = Literal["json", "yaml", "html"]

CONTENT_TYPES: Mapping[Format, str] = {
    "json": "application/json",
    "yaml": "application/yaml; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
FORMATS: tuple[Format, ...] = ("html", "json", "yaml")
FILE_NAMES: Mapping[Format, str] = {"json": "asyncapi.json", "yaml": "asyncapi.yaml", "html": ""}
"""Each rendering's path below the docs prefix (the page is the prefix itself)."""

Rendered = MutableMapping[tuple[Format, str | None], tuple[bytes, str]]
"""What :meth:`DocsConfig.respond` keeps for one app: ``(format, server)`` -> ``(body,
content type)``."""
KEPT_RENDERINGS = 12
"""At most this many renderings are kept per app, the most recently used: the server
comes from the request's ``Host`` header, which clients choose, so a flood of made-up
hosts must neither grow memory nor keep the real host's rendering out for good."""

_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)
"""``host[:port]`` as a ``Host`` header carries it: a name or IPv4 address, or an IPv6
address in brackets."""


class DocsOptions(TypedDict, total=False):
    """The keyword arguments every adapter's docs routes take (``asyncapi_docs(...)``,
    Django's ``asyncapi_urls(...)``): the fields of :class:`DocsConfig`."""

    title: str
    version: str
    description: str
    servers: Mapping[str, str] | None
    assets: PageAssets


@dataclass(frozen=True)
class DocsConfig:
    """How an app's AsyncAPI document is described and served.

    ``servers`` maps names to ``ws://`` / ``wss://`` URLs; left empty, the document
    served over HTTP names one server, ``default``: the host the request came to
    (``wss`` behind ``https``). ``assets`` says where the page loads the React
    component from (a CDN with integrity by default; see :class:`PageAssets`).
    """

    title: str = "WebSocket API"
    version: str = "0.1.0"
    description: str = ""
    servers: Mapping[str, str] | None = None
    assets: PageAssets = DEFAULT_ASSETS

    def info(self, request_server: str | None = None) -> Info:
        """The document's info; ``request_server`` (``ws://host``) is used when no
        servers are configured."""
        servers = dict(self.servers or {})
        if not servers and request_server:
            servers["default"] = request_server
        return Info(self.title, self.version, self.description, servers)

    def render(
        self, kind: Format, routes: Sequence[Route], request_server: str | None = None
    ) -> tuple[bytes, str]:
        """The body and content type of one rendering of the document for ``routes``."""
        document = build_document(routes, self.info(request_server))
        if kind == "json":
            text = to_json(document)
        elif kind == "yaml":
            text = to_yaml(document)
        else:
            text = render_page(document, self.assets)
        return text.encode("utf-8"), CONTENT_TYPES[kind]

    def respond(
        self,
        kind: Format,
        routes: Callable[[], Sequence[Route]],
        rendered: Rendered,
        request_server: str | None,
    ) -> tuple[bytes, str]:
        """:meth:`render` for a request, once per format and server: the result is kept
        in ``rendered`` (one mapping per app, kept by the adapter; at most
        :data:`KEPT_RENDERINGS`), and ``routes`` (the app's routes) is only called to
        render."""
        key = (kind, request_server)
        found = rendered.pop(key, None)  # put back last: the most recently used
        if found is None:
            found = self.render(kind, routes(), request_server)
            while len(rendered) >= KEPT_RENDERINGS:
                rendered.pop(next(iter(rendered)), None)  # the least recently used
        rendered[key] = found
        return found


def websocket_server(http_scheme: str, host: str, root_path: str = "") -> str | None:
    """The websocket URL of the server an HTTP request reached (``https`` -> ``wss``),
    with the app's ``root_path`` (an app mounted under a prefix, or behind a proxy);
    ``None`` when ``host`` (a ``Host`` header: the client's choice) is not a
    ``host[:port]``."""
    if not _HOST.fullmatch(host):
        return None
    scheme = "wss" if http_scheme in ("https", "wss") else "ws"
    return f"{scheme}://{host}{root_path.rstrip('/')}"


def request_server(scope: Scope) -> str | None:
    """:func:`websocket_server` for the HTTP request of ``scope`` (ASGI): its ``Host``
    header (the server's address without one), scheme and ``root_path``."""
    headers = dict(scope.get("headers") or ())
    host = headers.get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        address, port = scope["server"]
        host = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    return websocket_server(scope.get("scheme", "http"), host, scope.get("root_path", ""))


class DocsApp:
    """A plain ASGI app answering ``GET`` with one rendering of the document of the app
    serving it: ``routes(scope["app"])`` gives that app's routes (asked on the first
    request; each app's renderings are kept while it lives)."""

    def __init__(
        self, config: DocsConfig, kind: Format, routes: Callable[[Any], Sequence[Route]]
    ) -> None:
        self.config = config
        self.kind = kind
        self.routes = routes
        self._rendered: weakref.WeakKeyDictionary[Any, Rendered] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"<DocsApp {self.kind}>"

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, b"", "text/plain", allow=b"GET, HEAD")
            return
        app = scope.get("app", self)
        server = request_server(scope)
        kept = self._rendered.setdefault(app, {})
        body, content_type = self.config.respond(self.kind, lambda: self.routes(app), kept, server)
        await _respond(send, 200, body, content_type, head=scope["method"] == "HEAD")


async def _respond(
    send: ASGISend,
    status: int,
    body: bytes,
    content_type: str,
    *,
    head: bool = False,
    allow: bytes | None = None,
) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
