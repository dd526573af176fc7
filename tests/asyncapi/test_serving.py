"""Each framework serves the document (JSON, YAML) and the page, in-process."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml

from chanx.asyncapi import Info, build_document, discover_routes, to_json
from chanx.asyncapi.document import Route
from chanx.asyncapi.page import SCRIPT_INTEGRITY, STYLESHEET_INTEGRITY
from chanx.asyncapi.serve import KEPT_RENDERINGS, DocsConfig, Rendered
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


MALFORMED_HOSTS = ["[", "[::1", "a]b", "/x", "x?y", "x#y", "a b", "x:port", "-x"]


@pytest.mark.parametrize("name", ASGI_APPS)
@pytest.mark.parametrize("host", MALFORMED_HOSTS)
async def test_a_malformed_host_header_names_no_server(name: str, host: str) -> None:
    """The server the document names comes from the request's ``Host`` header, which
    clients choose: one that is not ``host[:port]`` is left out (nothing of it in the
    document, never a server error). Litestar refuses some itself (400)."""
    app = served_apps()[name]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as client:
        reply = await client.get("/asyncapi/asyncapi.json", headers={"host": host})
        page = await client.get("/asyncapi", headers={"host": host})
    if name == "litestar_chat" and reply.status_code == 400:
        assert reply.json()["detail"] == "Invalid host header"
        return
    assert reply.status_code == 200, reply.text
    assert "servers" not in reply.json()
    assert page.status_code == 200


def test_django_refuses_a_malformed_host_header() -> None:
    """Django's ``request.get_host()`` validates the header itself (400)."""
    setup_django()
    from django.test import Client

    from tests.channels.settings import ALLOWED_HOSTS

    assert "*" in ALLOWED_HOSTS or "testserver" in ALLOWED_HOSTS
    client = Client()
    for host in ("[", "a]b", "x:port"):
        assert client.get("/asyncapi/asyncapi.json", HTTP_HOST=host).status_code == 400


def test_renderings_kept_are_the_most_recently_used() -> None:
    """Renderings are kept per server, at most ``KEPT_RENDERINGS`` of them: a flood of
    made-up hosts pushes out the oldest, never the one being asked for now, and a host
    asked for again is rendered once more only if it was pushed out."""
    config = DocsConfig("Kept")
    rendered: Rendered = {}
    renders: list[str] = []

    def routes() -> list[Route]:
        renders.append("render")
        return []

    config.respond("json", routes, rendered, "ws://app.example.com")
    for n in range(KEPT_RENDERINGS * 2):
        config.respond("json", routes, rendered, f"ws://junk{n}.example")
        config.respond("json", routes, rendered, "ws://app.example.com")
    assert len(rendered) == KEPT_RENDERINGS
    assert ("json", "ws://app.example.com") in rendered
    assert len(renders) == 1 + KEPT_RENDERINGS * 2  # the real host: once
