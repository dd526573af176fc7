"""The HTML page that renders a document with the AsyncAPI React component.

By default the component's standalone bundle and style sheet come from a CDN, pinned to
one npm version with subresource integrity (the browser refuses a file whose hash
differs). An offline or CSP-strict deployment serves the two files itself::

    assets = PageAssets.self_hosted("/static/asyncapi")

with ``browser/standalone/index.js`` and ``styles/default.min.css`` copied from the
``@asyncapi/react-component`` npm package of :data:`REACT_COMPONENT_VERSION` (the same
bytes, so the same integrity hashes hold). The page's one inline script is constant:
:data:`INLINE_SCRIPT_CSP` is the ``script-src`` source that allows it, and
:data:`SELF_HOSTED_CSP` a whole policy the page renders under.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import dataclass, replace
from typing import Any

REACT_COMPONENT_VERSION = "3.2.1"
"""The ``@asyncapi/react-component`` version the default assets and hashes are for."""

SCRIPT_PATH = "browser/standalone/index.js"
STYLESHEET_PATH = "styles/default.min.css"
SCRIPT_INTEGRITY = "sha384-wy5bSOazlkSKMGH7XMW6+pK8ho8+rCPr7mTqKdAb/dvfwXAPWCFivgr3C7wJMFAh"
STYLESHEET_INTEGRITY = "sha384-oo9RoQcacP++XdMX6CjTucTvASEORHX3chFik0/V2kHcsHiVboGyWZztGeq/0bum"
CDN_BASE = f"https://cdn.jsdelivr.net/npm/@asyncapi/react-component@{REACT_COMPONENT_VERSION}"

DOCUMENT_ELEMENT_ID = "asyncapi-document"
ROOT_ELEMENT_ID = "asyncapi"

_INIT = (
    "AsyncApiStandalone.render({schema: JSON.parse(document.getElementById("
    f'"{DOCUMENT_ELEMENT_ID}").textContent), config: {{show: {{sidebar: true}}}}}}, '
    f'document.getElementById("{ROOT_ELEMENT_ID}"));'
)
INLINE_SCRIPT_CSP = (
    "'sha256-" + base64.b64encode(hashlib.sha256(_INIT.encode()).digest()).decode() + "'"
)
"""The ``script-src`` source that allows the page's inline script (it never changes)."""

SELF_HOSTED_CSP = (
    "default-src 'none'; "
    f"script-src 'self' {INLINE_SCRIPT_CSP} 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'"
)
"""A ``Content-Security-Policy`` under which the page renders with self-hosted assets.
The component validates the document in the browser with a parser that compiles
schemas into functions, hence ``'unsafe-eval'``: send this policy for the docs page
only, not for the rest of the site."""


@dataclass(frozen=True)
class PageAssets:
    """Where the page loads the React component from, and the integrity it demands.

    An integrity of ``None`` drops the check (for a build of your own)."""

    script_url: str
    stylesheet_url: str
    script_integrity: str | None = SCRIPT_INTEGRITY
    stylesheet_integrity: str | None = STYLESHEET_INTEGRITY

    @classmethod
    def self_hosted(cls, base_url: str) -> PageAssets:
        """The two files under ``base_url`` (``<base>/browser/standalone/index.js``,
        ``<base>/styles/default.min.css``), as copied from the npm package; same hashes."""
        base = base_url.rstrip("/")
        return cls(f"{base}/{SCRIPT_PATH}", f"{base}/{STYLESHEET_PATH}")

    def without_integrity(self) -> PageAssets:
        """The same URLs, with no integrity check."""
        return replace(self, script_integrity=None, stylesheet_integrity=None)


DEFAULT_ASSETS = PageAssets(f"{CDN_BASE}/{SCRIPT_PATH}", f"{CDN_BASE}/{STYLESHEET_PATH}")
"""The component from a CDN, pinned to :data:`REACT_COMPONENT_VERSION` with integrity."""


def render_page(document: dict[str, Any], assets: PageAssets = DEFAULT_ASSETS) -> str:
    """A complete HTML page rendering ``document``, which it embeds (no second request)."""
    title = html.escape(str(document.get("info", {}).get("title", "AsyncAPI")))
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # "<" only occurs inside JSON strings, where \u003c means the same; inside <script>
    # it could otherwise end the element ("</script>") or change its parsing ("<!--").
    data = data.replace("<", "\\u003c")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        '<link rel="icon" href="data:,">\n'  # no favicon request, no 404 in the logs
        f'<link rel="stylesheet" href="{html.escape(assets.stylesheet_url)}"'
        f"{_integrity(assets.stylesheet_integrity)}>\n"
        "</head>\n"
        "<body>\n"
        f'<div id="{ROOT_ELEMENT_ID}">{_fallback(assets)}</div>\n'
        f'<script type="application/json" id="{DOCUMENT_ELEMENT_ID}">{data}</script>\n'
        f'<script src="{html.escape(assets.script_url)}"'
        f"{_integrity(assets.script_integrity)}></script>\n"
        f"<script>{_INIT}</script>\n"
        "</body>\n"
        "</html>\n"
    )


def _fallback(assets: PageAssets) -> str:
    """What the page shows until the component replaces it, and for good when the
    component cannot load (offline, blocked, refused by its integrity check): not a
    blank page, but why, and where the document itself is."""
    return (
        "<p>This page shows the AsyncAPI document with the AsyncAPI React component, "
        f"loaded from <code>{html.escape(assets.script_url)}</code>. If this text stays, "
        "the component did not load (no network, blocked, or refused by its integrity "
        "check). The document itself is served under this page's address: its URL "
        "followed by <code>/asyncapi.json</code> or <code>/asyncapi.yaml</code>.</p>"
    )


def _integrity(value: str | None) -> str:
    if value is None:
        return ""
    return f' integrity="{html.escape(value)}" crossorigin="anonymous"'
