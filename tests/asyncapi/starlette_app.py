"""The Starlette conformance app serving its AsyncAPI document (in-process in
test_serving.py, under uvicorn in test_browser.py)."""

from __future__ import annotations

from starlette.applications import Starlette

from chanx.ext.starlette import asyncapi_docs
from tests.conformance.drivers.starlette import build_app

TITLE = "chanx Starlette conformance"


def create_app() -> Starlette:
    app = build_app()
    app.routes.extend(asyncapi_docs(title=TITLE, version="1.0.0"))
    return app


app = create_app()
