"""An app whose docs page loads the AsyncAPI component from the app itself (as an
offline deployment would) under a strict Content-Security-Policy."""

from __future__ import annotations

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from chanx.asyncapi import PageAssets
from chanx.asyncapi.page import SELF_HOSTED_CSP
from chanx.ext.fastapi import asyncapi_docs
from examples.fastapi_chat.main import create_app
from tests.asyncapi.tooling import COMPONENT_DIR

POLICY = SELF_HOSTED_CSP


class StrictPolicy(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = POLICY
        return response


app = create_app()
app.mount("/static/asyncapi", StaticFiles(directory=COMPONENT_DIR), name="asyncapi-assets")
app.include_router(
    asyncapi_docs(path="/offline", assets=PageAssets.self_hosted("/static/asyncapi"))
)
app.add_middleware(StrictPolicy)
