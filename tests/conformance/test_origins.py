"""Origin checks against cross-site WebSocket hijacking, the same on every adapter: the
handshake is refused before it is accepted (a server answers HTTP 403), with one log line."""

from __future__ import annotations

import logging

import pytest

from tests.conformance.behaviours import AUTH_ORIGIN, AUTH_PATH, ECHO_PATH, VALID_TOKEN
from tests.conformance.drivers import Driver

OWN = "<own>"  # the application's own origin: the driver's own_origin
EVIL = "http://evil.example"
COOKIE = {"cookie": "sessionid=abc"}
TOKEN = {"authorization": f"Bearer {VALID_TOKEN}"}


@pytest.mark.parametrize(
    ("path", "headers", "accepted"),
    [
        # Default policy: only a cross-origin handshake with credentials is refused.
        (ECHO_PATH, {"origin": EVIL, **COOKIE}, False),
        (ECHO_PATH, {"origin": EVIL, **TOKEN}, False),
        (ECHO_PATH, {"origin": EVIL}, True),
        (ECHO_PATH, {"origin": OWN, **COOKIE}, True),
        (ECHO_PATH, COOKIE, True),  # no Origin: not a browser page
        # allowed_origins = [AUTH_ORIGIN]: that origin and its own, nothing else.
        (AUTH_PATH, {"origin": AUTH_ORIGIN, **TOKEN}, True),
        (AUTH_PATH, {"origin": OWN, **TOKEN}, True),
        (AUTH_PATH, {"origin": EVIL}, False),
        (AUTH_PATH, TOKEN, True),
    ],
)
async def test_who_gets_in(
    driver: Driver, path: str, headers: dict[str, str], accepted: bool
) -> None:
    headers = {k: driver.own_origin if v == OWN else v for k, v in headers.items()}
    comm = driver.communicator(path, headers=headers)
    opened, detail = await comm.connect()
    assert opened is accepted
    if not accepted:
        assert detail == driver.refused_handshake
    else:
        await comm.send_json({"action": "ping", "payload": None})
        assert [m.action for m in await comm.receive_all_messages()][-1] == "pong"
    await comm.disconnect()


@pytest.mark.in_process("an HTTP client cannot put CR LF in a header value")
async def test_a_refusal_is_one_escaped_log_line(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    comm = driver.communicator(ECHO_PATH, headers={"origin": f"{EVIL}\r\nX: forged", **COOKIE})
    with caplog.at_level(logging.DEBUG, logger="chanx"):
        assert (await comm.connect())[0] is False
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    [record] = records
    assert record.name == "chanx.origin"
    assert record.getMessage() == (
        "EchoConsumer: cross-origin handshake from 'http://evil.example\\r\\nX: forged' with "
        "credentials (Host 'testserver') refused; let it in with allowed_origins"
    )
    await comm.disconnect()
