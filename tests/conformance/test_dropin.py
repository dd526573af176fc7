"""Tests written for Django Channels' communicator, or chanx 1.x's, run unchanged: the
same names with the same meaning, and timeouts that are ``asyncio.TimeoutError``."""

from __future__ import annotations

import asyncio

import pytest

from chanx.testing import CommunicatorError, ReceiveTimeout
from tests.conformance.behaviours import AUTH_PATH, ECHO_PATH, VALID_TOKEN, EchoMessage, Text
from tests.conformance.drivers import Driver

PING = {"action": "ping", "payload": None}


async def test_channels_json_names(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_json_to(PING)
        assert await comm.receive_json_from() == {"action": "pong", "payload": None}
        assert await comm.receive_json_from(timeout=1) == {"action": "complete", "payload": None}
        assert await comm.receive_nothing(timeout=0.1, interval=0.01)


async def test_channels_frame_names(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_to(text_data=EchoMessage(payload=Text(text="raw")).model_dump_json())
        frame = await comm.receive_from()
        assert isinstance(frame, str)
        assert frame == '{"action":"echo_reply","payload":{"text":"raw"}}'
        await comm.receive_from()  # complete
        with comm.off_contract("a binary frame, on purpose"):
            await comm.send_to(bytes_data=b"\x00binary")
        error = await comm.receive_json_from()
        assert error["payload"]["errors"][0]["type"] == "binary_frame"
        with pytest.raises(TypeError, match="one of text_data or bytes_data"):
            await comm.send_to()


async def test_a_receive_timeout_is_an_asyncio_timeout(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with pytest.raises(asyncio.TimeoutError):
            await comm.receive_from(timeout=0.05)
        with pytest.raises(asyncio.TimeoutError):
            await comm.receive_json_from(timeout=0.05)
        with pytest.raises(TimeoutError):
            await comm.receive_json(timeout=0.05)
        with pytest.raises(AssertionError):  # and still an assertion failure, as ever
            await comm.receive_message(timeout=0.05)
        with pytest.raises(ReceiveTimeout):
            await comm.receive_all_messages(timeout=0.05)


async def test_receive_nothing_raises_naming_what_came(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_json_to(PING)
        with pytest.raises(CommunicatorError, match=r'expected nothing, received .*"pong"'):
            await comm.receive_nothing(timeout=5)


async def test_chanx_1_names(driver: Driver) -> None:
    headers = {"authorization": f"Bearer {VALID_TOKEN}"}
    async with driver.communicator(AUTH_PATH, headers=headers) as comm:
        auth = await comm.wait_for_auth(max_auth_time=1)
        assert auth.payload.status_code == 200
    refused = driver.communicator(AUTH_PATH)
    await refused.connect()
    await refused.assert_closed()
    await refused.disconnect()
