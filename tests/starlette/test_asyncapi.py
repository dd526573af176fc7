"""AsyncAPI on Starlette: the routes found in an app (WebSocketRoute, Mount, Host, in
any nesting), and the docs routes serving the document."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute
from starlette.websockets import WebSocket

from chanx.asyncapi import DocsConfig, Info, build_document, discover_routes, to_json
from chanx.asyncapi.serve import KEPT_RENDERINGS, DocsApp
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.starlette import AsyncJsonWebsocketConsumer, asyncapi_docs, mounted_consumers
from chanx.ext.starlette.routing import discover
from chanx.testing import WebsocketCommunicator


class Room(AsyncJsonWebsocketConsumer):
    """A room."""


class Lobby(AsyncJsonWebsocketConsumer):
    """The lobby."""


class Plain(CoreConsumer):
    """A core consumer, as a plain ASGI app."""


async def view(request: Request) -> Response:
    return PlainTextResponse("a view")


async def raw_socket(websocket: WebSocket) -> None:
    await websocket.close()


class Passing(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)


def nested_app() -> Starlette:
    """Consumers at every depth: on the app, under mounts of routes, of a router, of a
    sub-app and of a consumer's ASGI app, behind a mount's middleware, under a host."""
    sub = Starlette(routes=[Room.as_route("/{n:int}")])
    under_host = Router(routes=[Mount("/v1", routes=[Room.as_route("/h/{key:uuid}")])])
    return Starlette(
        routes=[
            Lobby.as_route("/"),
            Route("/view", view),
            WebSocketRoute("/raw", raw_socket),
            Mount(
                "/ws",
                routes=[
                    Room.as_route("/seat/{seat:int}"),
                    Mount("/deep/{org}", app=Router(routes=[Room.as_route("/{rest:path}")])),
                ],
            ),
            Mount("/plain", app=Plain.as_asgi()),
            Mount("/sub", app=sub),
            Mount("/guarded", routes=[Lobby.as_route("/in")], middleware=[Middleware(Passing)]),
            Host("api.example.com", app=under_host),
        ]
    )


def test_every_nesting_is_walked_in_route_order() -> None:
    found = [(m.path, m.consumer) for m in mounted_consumers(nested_app())]
    assert found == [
        ("/", Lobby),
        ("/ws/seat/{seat:int}", Room),
        ("/ws/deep/{org}/{rest:path}", Room),
        ("/plain/", Plain),
        ("/sub/{n:int}", Room),
        ("/guarded/in", Lobby),
        ("/v1/h/{key:uuid}", Room),
    ]


async def test_every_path_found_is_served() -> None:
    app = nested_app()
    samples = {
        "{seat:int}": "7",
        "{org}": "acme",
        "{rest:path}": "a/b",
        "{n:int}": "3",
        "{key:uuid}": "8a6c1f52-8c1b-4f5e-9a55-0d2b1c0e9f10",
    }
    for mounted in mounted_consumers(app):
        path = mounted.path
        for template, value in samples.items():
            path = path.replace(template, value)
        host = "api.example.com" if path.startswith("/v1/") else "testserver"  # the Host
        async with WebsocketCommunicator(app, path, headers={"host": host}) as comm:
            assert comm.tracker is not None, path
            assert type(comm.tracker.consumer) is mounted.consumer, path


def test_the_starlette_finder_describes_addresses_and_parameters() -> None:
    routes = discover(nested_app())
    assert routes is not None
    by_address = {route.address: route for route in routes}
    assert list(by_address) == [
        "/",
        "/ws/seat/{seat}",
        "/ws/deep/{org}/{rest}",
        "/plain/",
        "/sub/{n}",
        "/guarded/in",
        "/v1/h/{key}",
    ]
    assert by_address["/ws/deep/{org}/{rest}"].parameters == {
        "org": "Path parameter `org`: a string without `/`.",
        "rest": "Path parameter `rest`: a string, `/` allowed.",
    }
    assert by_address["/v1/h/{key}"].parameters == {"key": "Path parameter `key`: a UUID."}
    assert all(route.security == () and route.authenticates is None for route in routes)


def test_apps_and_routers_only() -> None:
    assert discover(Router(routes=[Room.as_route("/r")])) is not None
    assert discover([Room.as_route("/r")]) is None
    assert discover(Room) is None
    # The installed finders pick Starlette's for a Starlette app.
    assert discover_routes(nested_app()) == discover(nested_app())


def test_the_document_of_nested_routes() -> None:
    document = build_document(discover_routes(nested_app()))
    assert sorted(c["address"] for c in document["channels"].values()) == [
        "/",
        "/guarded/in",
        "/plain/",
        "/sub/{n}",
        "/v1/h/{key}",
        "/ws/deep/{org}/{rest}",
        "/ws/seat/{seat}",
    ]


# ------------------------------------------------------------------------ docs routes


def served(app: Any, base: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base)


def documented(path: str = "/asyncapi") -> Starlette:
    app = nested_app()
    app.routes.extend(asyncapi_docs(path=path, title="Nested", version="2.0.0"))
    return app


async def test_the_docs_routes_serve_the_apps_document() -> None:
    app = documented()
    async with served(app) as client:
        reply = await client.get("/asyncapi/asyncapi.json")
        page = await client.get("/asyncapi")
        head = await client.head("/asyncapi/asyncapi.json")
        refused = await client.post("/asyncapi/asyncapi.json")
    info = Info("Nested", "2.0.0", servers={"default": "ws://testserver"})
    assert reply.text == to_json(build_document(discover_routes(app), info))
    assert reply.headers["content-length"] == str(len(reply.content))
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Nested</title>" in page.text
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == reply.headers["content-length"]
    assert refused.status_code == 405
    assert app.url_path_for("asyncapi_yaml") == "/asyncapi/asyncapi.yaml"
    assert app.url_path_for("asyncapi_html") == "/asyncapi"


async def test_a_mounted_app_documents_itself_under_its_prefix() -> None:
    inner = Starlette(routes=[Room.as_route("/room/{room}"), *asyncapi_docs(path="/docs/")])
    outer = Starlette(routes=[Lobby.as_route("/lobby"), Mount("/chat", app=inner)])
    async with served(outer, "https://chat.example.com") as client:
        document = (await client.get("/chat/docs/asyncapi.json")).json()
        page = await client.get("/chat/docs")
    assert [c["address"] for c in document["channels"].values()] == ["/room/{room}"]
    assert document["servers"]["default"] == {
        "host": "chat.example.com",
        "pathname": "/chat",
        "protocol": "wss",
    }
    assert page.status_code == 200


async def test_made_up_hosts_do_not_grow_memory() -> None:
    app = documented()
    [json_docs] = [r for r in app.routes if getattr(r, "name", "") == "asyncapi_json"]
    docs_app = json_docs.app  # type: ignore[attr-defined]
    assert isinstance(docs_app, DocsApp)
    async with served(app) as client:
        for n in range(KEPT_RENDERINGS + 5):
            reply = await client.get("/asyncapi/asyncapi.json", headers={"host": f"h{n}.test"})
            assert json.loads(reply.text)["servers"]["default"]["host"] == f"h{n}.test"
    assert len(docs_app._rendered[app]) == KEPT_RENDERINGS


def test_the_docs_routes_are_plain_routes() -> None:
    routes = asyncapi_docs(path="/")
    assert [(r.path, r.name, r.include_in_schema) for r in routes] == [
        ("/", "asyncapi_html", False),
        ("/asyncapi.json", "asyncapi_json", False),
        ("/asyncapi.yaml", "asyncapi_yaml", False),
    ]


@pytest.mark.parametrize("kind", ["json", "yaml", "html"])
async def test_a_docs_app_outside_any_framework(kind: str) -> None:
    """Core's DocsApp on its own (no ``scope["app"]``): the host comes from the server
    address when the request has no Host header."""
    docs = DocsApp(DocsConfig("Alone"), kind, lambda app: discover(nested_app()) or [])  # type: ignore[arg-type]
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": [], "server": ("127.0.0.1", 8080)}
    await docs(scope, None, send)  # type: ignore[arg-type]
    start, body = sent
    assert start["status"] == 200
    assert b"127.0.0.1:8080" in body["body"]
