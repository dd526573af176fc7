"""Each framework serves the document (JSON, YAML) and the page, in-process."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml

from chanx.asyncapi import Info, build_document, discover_routes, to_json
from chanx.asyncapi.page import SCRIPT_INTEGRITY, STYLESHEET_INTEGRITY
from tests.asyncapi import starlette_app
from tests.asyncapi.test_official import example_apps
from tests.channels.django_setup import setup_django

TITLES = {
    "fastapi_chat": "chanx FastAPI example",
    "litestar_chat": "chanx Litestar example",
    "django_chat": "chanx Django example",
    "starlette": starlette_app.TITLE,
}
ASGI_APPS = ["fastapi_chat", "litestar_chat", "starlette"]


def served_apps() -> dict[str, Any]:
    return {**example_apps(), "starlette": starlette_app.create_app()}


def expected(name: str, server: str) -> str:
    app = served_apps()[name]
    info = Info(TITLES[name], "1.0.0", servers={"default": server})
    return to_json(build_document(discover_routes(app), info))


async def get(app: Any, url: str, base: str = "http://testserver") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base) as client:
        return await client.get(url)


@pytest.mark.parametrize("name", ASGI_APPS)
async def test_asgi_frameworks_serve_json_yaml_and_the_page(name: str) -> None:
    app = served_apps()[name]
    reply = await get(app, "/asyncapi/asyncapi.json")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.text == expected(name, "ws://testserver")
    again = await get(app, "/asyncapi/asyncapi.json")
    assert again.content == reply.content
    yaml_reply = await get(app, "/asyncapi/asyncapi.yaml")
    assert yaml_reply.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(yaml_reply.text) == json.loads(reply.text)
    page = await get(app, "/asyncapi")
    assert page.headers["content-type"].startswith("text/html")
    assert f'integrity="{SCRIPT_INTEGRITY}"' in page.text
    assert f'integrity="{STYLESHEET_INTEGRITY}"' in page.text
    assert TITLES[name] in page.text


@pytest.mark.parametrize("name", ASGI_APPS)
async def test_https_means_wss(name: str) -> None:
    app = served_apps()[name]
    reply = await get(app, "/asyncapi/asyncapi.json", base="https://chat.example.com")
    assert reply.json()["servers"] == {"default": {"host": "chat.example.com", "protocol": "wss"}}


async def test_fastapi_docs_routes_stay_out_of_openapi() -> None:
    app = example_apps()["fastapi_chat"]
    assert not [path for path in app.openapi()["paths"] if "asyncapi" in path]


def test_django_view_serves_json_yaml_and_the_page() -> None:
    setup_django()
    from django.test import RequestFactory

    from chanx.ext.channels.asyncapi import asyncapi_urls
    from examples.django_chat.asgi import application

    patterns = asyncapi_urls(title="chanx Django example", version="1.0.0", application=application)
    views = {p.name: p.callback for p in patterns}
    assert [str(p.pattern) for p in patterns] == ["", "asyncapi.json", "asyncapi.yaml"]
    factory = RequestFactory()
    reply = views["asyncapi-json"](factory.get("/asyncapi/asyncapi.json"))
    assert reply.status_code == 200
    assert reply["Content-Type"] == "application/json"
    assert reply.content.decode() == expected("django_chat", "ws://testserver")
    yaml_reply = views["asyncapi-yaml"](factory.get("/asyncapi/asyncapi.yaml"))
    assert yaml.safe_load(yaml_reply.content) == json.loads(reply.content)
    page = views["asyncapi-html"](factory.get("/asyncapi/", secure=True))
    assert b"wss://testserver" not in reply.content
    assert b'"protocol":"wss"' in page.content
    assert views["asyncapi-json"](factory.post("/asyncapi/asyncapi.json")).status_code == 405
