"""What real clients of uvicorn see: close codes (authentication refused, a connect hook
failing) and origin checks, for plain ASGI, FastAPI and Litestar (the conformance
behaviours served by one uvicorn per framework), and the FastAPI example's
cookie-authenticated route against a cross-site page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conformance.behaviours import AUTH_PATH, BROKEN_PATH, ECHO_PATH, VALID_TOKEN
from tests.e2e.clients import visit
from tests.servers import Server, free_port, python

pytestmark = pytest.mark.e2e

APPS = {
    "asgi": ["--factory", "tests.conformance.drivers.asgi:build_router"],
    "fastapi": ["--factory", "tests.conformance.drivers.fastapi:build_app"],
    "litestar": ["--factory", "tests.conformance.drivers.litestar:create_app"],
    "starlette": ["--factory", "tests.conformance.drivers.starlette:build_app"],
}
EVIL = "http://evil.example"
COOKIE = {"cookie": "session=alice-token"}


@dataclass
class Served:
    server: Server
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        """The app's own origin (what a page it served would send)."""
        return f"http://127.0.0.1:{self.port}"


def uvicorn(app: list[str]) -> Iterator[Served]:
    port = free_port()
    command = python("-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port))
    server = Server([*command, "--log-level", "warning"], {"PYTHONUNBUFFERED": "1"})
    try:
        server.wait_for_port(port)
        yield Served(server, port)
    finally:
        server.stop()


@pytest.fixture(scope="module", params=list(APPS))
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    yield from uvicorn(APPS[request.param])


@pytest.fixture(scope="module")
def example() -> Iterator[Served]:
    yield from uvicorn(["examples.fastapi_chat.main:app"])


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [({}, 401, 4401), ({"authorization": "Bearer nope"}, 403, 4403)],
)
async def test_a_refused_authentication_closes_with_4000_plus_status(
    served: Served, headers: dict[str, str], status: int, code: int
) -> None:
    outcome = await visit(served.url + AUTH_PATH, headers)
    assert outcome.status == 101
    assert outcome.actions == ["authentication"]
    assert outcome.frames[0]["payload"]["status_code"] == status
    assert outcome.close_code == code


async def test_an_admitted_connection_works(served: Served) -> None:
    outcome = await visit(served.url + AUTH_PATH, {"authorization": f"Bearer {VALID_TOKEN}"})
    assert (outcome.status, outcome.close_code) == (101, None)
    assert outcome.actions == ["authentication", "pong"]


async def test_a_failing_connect_hook_closes_with_4500(served: Served) -> None:
    outcome = await visit(served.url + BROKEN_PATH)
    assert outcome.status == 101
    assert outcome.close_code == 4500
    assert outcome.frames == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": EVIL, **COOKIE}, 403),  # a page elsewhere using the user's cookie
        ({"origin": EVIL}, 101),  # nothing to hijack
        ({"origin": "same", **COOKIE}, 101),  # a page of the app itself
        (COOKIE, 101),  # not a browser page
    ],
)
async def test_cross_site_handshakes_with_cookies_get_403(
    served: Served, headers: dict[str, str], status: int
) -> None:
    if headers.get("origin") == "same":
        headers = {**headers, "origin": served.origin}
    outcome = await visit(served.url + ECHO_PATH, headers)
    assert outcome.status == status
    if status == 101:
        assert outcome.actions == ["pong"]


async def test_the_example_s_cookie_route_refuses_a_cross_site_page(example: Served) -> None:
    path = "/ws/members/lobby"
    refused = await visit(example.url + path, {"origin": EVIL, **COOKIE})
    assert refused.status == 403
    admitted = await visit(example.url + path, {"origin": example.origin, **COOKIE})
    assert admitted.status == 101
    assert admitted.actions == ["authentication", "pong"]
    assert admitted.frames[0]["payload"]["status_code"] == 200
    assert "cross-origin handshake from 'http://evil.example'" in example.server.output
