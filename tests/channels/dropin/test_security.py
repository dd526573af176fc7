"""Channels' origin checks in front of chanx's class: ``OriginValidator`` admits or
refuses the handshake before the consumer runs, whatever the consumer is."""

from __future__ import annotations

import pytest
from channels.security.websocket import OriginValidator
from channels.testing import WebsocketCommunicator

from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer

TIMEOUT = 5

CASES = [
    # (allowed origins, Origin header or None for no header, admitted)
    (["allowed-domain.com"], b"http://allowed-domain.com", True),
    (["allowed-domain.com"], b"http://bad-domain.com", False),
    (["*.allowed-domain.com"], b"http://allowed-domain.com", False),  # not a pattern
    ([".allowed-domain.com"], b"http://www.allowed-domain.com", True),  # subdomains
    (["http://allowed-domain.com"], b"http://allowed-domain.com", True),
    (["http://allowed-domain.com"], b"https://bad-domain.com:443", False),
    (["*"], None, True),
    ([], None, False),
    ([".allowed-domain.com"], b"", False),
    ([".allowed-domain.com"], b"something-invalid", False),
]


@pytest.mark.parametrize(("allowed", "origin", "admitted"), CASES)
async def test_origin_validator_guards_a_chanx_consumer(
    allowed: list[str], origin: bytes | None, admitted: bool
) -> None:
    app = OriginValidator(AsyncJsonWebsocketConsumer.as_asgi(), allowed)
    headers = [] if origin is None else [(b"origin", origin)]
    communicator = WebsocketCommunicator(app, "/", headers=headers)
    connected, _ = await communicator.connect(TIMEOUT)
    assert connected is admitted
    if admitted:  # and it is a chanx consumer behind it
        await communicator.send_json_to({"action": "ping"})
        assert await communicator.receive_json_from(TIMEOUT) == {"action": "pong", "payload": None}
    await communicator.disconnect(timeout=TIMEOUT)
