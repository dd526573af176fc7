"""What every adapter's docs routes share: one configuration, three renderings.

An adapter finds the app's routes, then asks :meth:`DocsConfig.render` for the body and
content type of ``asyncapi.json``, ``asyncapi.yaml`` or the HTML page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from chanx.asyncapi.document import Info, Route, build_document
from chanx.asyncapi.emit import to_json, to_yaml
from chanx.asyncapi.page import DEFAULT_ASSETS, PageAssets, render_page

Format = Literal["json", "yaml", "html"]

CONTENT_TYPES: Mapping[Format, str] = {
    "json": "application/json",
    "yaml": "application/yaml; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
FILE_NAMES: Mapping[Format, str] = {"json": "asyncapi.json", "yaml": "asyncapi.yaml", "html": ""}
"""Each rendering's path below the docs prefix (the page is the prefix itself)."""


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
    servers: Mapping[str, str] = field(default_factory=dict)
    assets: PageAssets = DEFAULT_ASSETS

    def info(self, request_server: str | None = None) -> Info:
        """The document's info; ``request_server`` (``ws://host``) is used when no
        servers are configured."""
        servers = dict(self.servers)
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


def websocket_server(http_scheme: str, host: str) -> str:
    """The websocket URL of the server an HTTP request reached (``https`` -> ``wss``)."""
    return f"{'wss' if http_scheme in ('https', 'wss') else 'ws'}://{host}"
