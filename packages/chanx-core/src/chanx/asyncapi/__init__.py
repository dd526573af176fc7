"""AsyncAPI 3.0 documents from chanx consumers: generation, serving, and comparison.

* :func:`build_document` turns :class:`Route` objects (an address and the consumer class
  serving it) and an :class:`Info` into the document, as JSON-compatible data;
  :func:`to_json` and :func:`to_yaml` write it byte-for-byte the same for the same input;
* :func:`render_page` is the HTML page that renders a document with the AsyncAPI React
  component (:class:`PageAssets` says where its script and style sheet come from);
* :func:`discover_routes` finds the routes of an application (FastAPI, Starlette,
  Litestar, Django Channels) through the installed chanx adapters;
* :func:`diff_documents` lists what changed between two documents, breaking changes for
  clients first.

The adapters serve the document and the page (see ``docs/asyncapi.md``); ``python -m
chanx asyncapi`` and ``python -m chanx asyncapi-diff`` are the command line.
"""

from chanx.asyncapi.diff import Change, diff_documents
from chanx.asyncapi.discovery import discover_routes
from chanx.asyncapi.document import Info, Route, build_document
from chanx.asyncapi.emit import to_json, to_yaml
from chanx.asyncapi.page import DEFAULT_ASSETS, PageAssets, render_page
from chanx.asyncapi.serve import DocsConfig, DocsOptions

__all__ = [
    "DEFAULT_ASSETS",
    "Change",
    "DocsConfig",
    "DocsOptions",
    "Info",
    "PageAssets",
    "Route",
    "build_document",
    "diff_documents",
    "discover_routes",
    "render_page",
    "to_json",
    "to_yaml",
]
