"""What real clients of daphne see: close codes (authentication refused, a connect hook
failing, a group name Channels refuses), origin checks, and the Django example's rooms
named by the URL. daphne refuses to send close codes outside 1000 and 3000-4999 (1011
among them), so chanx's codes are all 4xxx."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from chanx.core.groups import PORTABLE
from tests.conformance.behaviours import AUTH_PATH, BROKEN_PATH, ECHO_PATH, VALID_TOKEN
from tests.e2e.clients import visit
from tests.servers import Server, free_port, python

pytestmark = pytest.mark.e2e

EVIL = "http://evil.example"
COOKIE = {"cookie": "sessionid=abc"}
ODD_ROOMS = ["a b", "x" * 200, "café"]


@dataclass
class Served:
    server: Server
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output_since(self, mark: int) -> str:
        return self.server.output[mark:]


def daphne(app: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    port = free_port()
    command = python("-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app)
    server = Server(command, {"PYTHONUNBUFFERED": "1", **(env or {})})
    try:
        server.wait_for("Listening on TCP address")
        yield Served(server, port)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The conformance behaviours as a Channels project (in-memory Channels layer)."""
    yield from daphne("tests.e2e.channels_app:application")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The Django example: AllowedHostsOriginValidator, AuthMiddlewareStack."""
    database = Path(tmp_path_factory.mktemp("example")) / "db.sqlite3"
    env = {
        "DJANGO_SETTINGS_MODULE": "examples.django_chat.settings",
        "CHANX_EXAMPLE_DB": str(database),
    }
    yield from daphne("examples.django_chat.asgi:application", env)


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
    assert (outcome.status, outcome.close_code, outcome.frames) == (101, 4500, [])
    assert "invalid close code" not in served.server.output


@pytest.mark.parametrize("room", ODD_ROOMS)
async def test_a_group_name_channels_refuses_closes_4400_with_one_log_line(
    served: Served, room: str
) -> None:
    mark = len(served.server.output)
    outcome = await visit(f"{served.url}/ws/room/{quote(room, safe='')}")
    assert (outcome.status, outcome.close_code, outcome.frames) == (101, 4400, [])
    served.server.wait_for("RoomConsumer refused the connection")
    logged = served.output_since(mark)
    lines = [line for line in logged.splitlines() if "refused the connection" in line]
    assert len(lines) == 1, logged
    assert ascii(f"room_{room}"[:64]) in lines[0]
    assert PORTABLE.description in lines[0]
    assert "Exception inside application" not in logged
    assert "Traceback" not in logged


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": EVIL, **COOKIE}, 403),
        ({"origin": EVIL}, 101),
        ({"origin": "same", **COOKIE}, 101),
    ],
)
async def test_cross_site_handshakes_with_cookies_get_403(
    served: Served, headers: dict[str, str], status: int
) -> None:
    if headers.get("origin") == "same":
        headers = {**headers, "origin": served.origin}
    outcome = await visit(served.url + ECHO_PATH, headers)
    assert outcome.status == status


async def test_the_example_s_origin_validator_refuses_other_sites(example: Served) -> None:
    assert (await visit(f"{example.url}/ws/rooms/lobby/", {"origin": EVIL})).status == 403
    chat = await visit(f"{example.url}/ws/chat/", {"origin": example.origin})
    assert (chat.status, chat.actions, chat.close_code) == (101, ["authentication"], 4403)


async def test_the_example_s_rooms_take_any_name_from_the_url(example: Served) -> None:
    mark = len(example.server.output)
    for room in ODD_ROOMS:
        url = f"{example.url}/ws/rooms/{quote(room, safe='')}/"
        outcome = await visit(
            url,
            {"origin": example.origin},
            send=[{"action": "say", "payload": {"text": "hi"}}],
        )
        assert (outcome.status, outcome.close_code) == (101, None), room
        assert outcome.actions == ["room_notice", "pong"], room
    logged = example.output_since(mark)
    assert not re.search(r"Exception inside application|Traceback|refused", logged), logged


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/rooms/a%2Fb/", "/ws/rooms/lobby"])
async def test_the_example_refuses_websocket_paths_it_does_not_route(
    example: Served, path: str
) -> None:
    """Channels' ``URLRouter`` raises for a path no route takes (HTTP 500 and "Exception
    inside application" per handshake): the example's last route refuses them instead."""
    mark = len(example.server.output)
    outcome = await visit(example.url + path, {"origin": example.origin})
    assert outcome.status == 403
    await asyncio.to_thread(example.server.wait_for, f'"WSREJECT {path}"')
    logged = example.output_since(mark)
    assert not re.search(r"Exception inside application|Traceback|No route found", logged), logged
