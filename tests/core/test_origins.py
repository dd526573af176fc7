"""Origin checks: the policy on its own, then the engine refusing before it accepts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from chanx.core.origins import REFUSED_CLOSE_CODE, OriginPolicy, origin_refusal
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.testing import WebsocketCommunicator
from chanx.testing.asgi import build_scope

HOST = "app.example.com"
COOKIE = {"cookie": "session=abc"}


def refused(
    origin: str | None,
    allowed: Sequence[str] | None = None,
    host: str = HOST,
    extra: dict[str, str] | None = None,
) -> bool:
    headers = {"host": host, **(extra or {})}
    if origin is not None:
        headers["origin"] = origin
    return origin_refusal(build_scope("/ws", headers), allowed) is not None


@pytest.mark.parametrize(
    ("origin", "host", "extra", "is_refused"),
    [
        (None, HOST, COOKIE, False),  # not a browser page
        ("https://app.example.com", HOST, COOKIE, False),  # same origin
        ("http://app.example.com", HOST, COOKIE, False),  # default port either scheme
        ("HTTPS://APP.EXAMPLE.COM", HOST, COOKIE, False),
        ("http://localhost:8000", "localhost:8000", COOKIE, False),
        ("http://[::1]:8000", "[::1]:8000", COOKIE, False),
        ("http://localhost:8001", "localhost:8000", COOKIE, True),  # other port
        ("https://app.example.com:8443", HOST, COOKIE, True),
        ("http://evil.example", HOST, COOKIE, True),
        ("http://evil.example", HOST, {"authorization": "Basic eDp5"}, True),
        ("http://evil.example", HOST, {}, False),  # nothing to hijack
        ("null", HOST, COOKIE, True),  # sandboxed frames, file: pages
        ("not an origin", HOST, COOKIE, True),
        ("http://app.example.com.evil.example", HOST, COOKIE, True),
        ("https://app.example.com", "", COOKIE, True),  # no Host to compare with
    ],
)
def test_default_policy(
    origin: str | None, host: str, extra: dict[str, str], is_refused: bool
) -> None:
    assert refused(origin, None, host, extra) is is_refused


@pytest.mark.parametrize(
    ("origin", "is_refused"),
    [
        ("https://app.example.com", False),  # listed
        ("https://www.example.com", False),  # same origin (the Host below)
        ("https://a.example.org", False),  # wildcard
        ("https://a.b.example.org", False),
        ("https://example.org", True),  # the wildcard needs a subdomain
        ("http://a.example.org", True),  # other scheme
        ("https://a.example.org:444", True),
        ("http://localhost:5173", False),
        ("http://localhost:5174", True),
        ("http://evil.example", True),  # refused even without credentials
    ],
)
def test_explicit_origins(origin: str, is_refused: bool) -> None:
    allowed = ["https://app.example.com", "https://*.example.org", "http://localhost:5173/"]
    assert refused(origin, allowed, host="www.example.com") is is_refused


def test_an_empty_list_means_the_app_s_own_origin_only() -> None:
    assert not refused("https://app.example.com", [])
    assert refused("https://other.example.com", [])
    assert not refused(None, [])


def test_star_allows_every_origin() -> None:
    assert not refused("http://evil.example", ["*"], extra=COOKIE)
    assert not refused("null", ["https://x.example", "*"], extra=COOKIE)


def test_every_origin_header_must_pass() -> None:
    scope = build_scope(
        "/ws",
        [("host", HOST), ("origin", f"https://{HOST}"), ("origin", "http://evil.example")],
    )
    refusal = origin_refusal(scope, [])
    assert refusal is not None
    assert refusal.origin == "http://evil.example"


@pytest.mark.parametrize(
    "entry", ["app.example.com", "ftp://x.example", "https://x.example/path", "https://"]
)
def test_malformed_entries_are_refused_with_an_example(entry: str) -> None:
    with pytest.raises(ValueError, match=r"is not an origin: write 'https://app\.example\.com'"):
        OriginPolicy.of([entry])


def test_a_string_is_not_a_list_of_origins() -> None:
    with pytest.raises(TypeError, match="list of origins"):
        OriginPolicy.of("https://app.example.com")


def test_a_malformed_entry_fails_when_the_class_is_created() -> None:
    with pytest.raises(ValueError, match=r"'app\.example\.com' is not an origin"):

        class Misconfigured(AsyncJsonWebsocketConsumer):
            allowed_origins = ["app.example.com"]


class Default(AsyncJsonWebsocketConsumer):
    pass


class Listed(AsyncJsonWebsocketConsumer):
    allowed_origins = ["https://app.example.com"]


async def test_the_engine_refuses_before_accepting_and_logs_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    origin = "http://evil.example/\n\x1bforged"
    headers = {"host": HOST, "origin": origin, **COOKIE}
    comm = WebsocketCommunicator(Default.as_asgi(), "/ws", headers=headers)
    with caplog.at_level(logging.INFO, logger="chanx"):
        assert await comm.connect() == (False, REFUSED_CLOSE_CODE)
    [record] = caplog.records
    assert record.name == "chanx.origin"
    assert record.levelno == logging.WARNING
    line = record.getMessage()
    assert line.startswith("Default: cross-origin handshake from 'http://evil.example/")
    assert "\\n\\x1bforged' with credentials (Host 'app.example.com') refused" in line
    assert "allowed_origins" in line
    await comm.disconnect()


@pytest.mark.parametrize(
    ("consumer", "headers", "accepted"),
    [
        (Default, {"origin": f"https://{HOST}", **COOKIE}, True),
        (Default, {"origin": "http://evil.example"}, True),
        (Default, COOKIE, True),
        (Listed, {"origin": "https://app.example.com"}, True),
        (Listed, {"origin": "https://other.example"}, False),
    ],
)
async def test_what_the_engine_lets_in(
    consumer: type[AsyncJsonWebsocketConsumer], headers: dict[str, str], accepted: bool
) -> None:
    comm = WebsocketCommunicator(consumer.as_asgi(), "/ws", headers={"host": HOST, **headers})
    assert (await comm.connect())[0] is accepted
    await comm.disconnect()


def test_long_origins_are_checked_the_same() -> None:
    long_host = "a" * 300 + ".example.com"
    assert refused(f"https://{long_host}", None, extra=COOKIE)
    assert not refused(f"https://{long_host}", None, host=long_host, extra=COOKIE)
