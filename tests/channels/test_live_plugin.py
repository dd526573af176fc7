"""The pytest plugin's communicator with a Django application given by its import path:
imported in-process, served by daphne (one process for the session) in live mode, the
same test body either way."""

from __future__ import annotations

import json

import pytest

from chanx.testing.daphne import DaphneLiveServer
from chanx.testing.live import LiveCommunicator
from chanx.testing.pytest_plugin import Communicators
from tests.conformance.behaviours import ECHO_PATH, EchoMessage, EchoReply, Text, WhoAmIMessage

APPLICATION = "tests.conformance.live_channels_app:application"
MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["in_process", "live"])
async def test_an_application_by_import_path(
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    chanx_daphne_servers: dict[str, DaphneLiveServer],
) -> None:
    monkeypatch.setenv("CHANX_TEST_CHANNEL_LAYERS", json.dumps(MEMORY_LAYER))
    communicator = Communicators(mode, chanx_daphne_servers)
    try:
        async with communicator(APPLICATION, ECHO_PATH, user={"name": "zed"}) as comm:
            assert isinstance(comm, LiveCommunicator) is (mode == "live")
            await comm.assert_authenticated_status_ok()
            await comm.send_message(EchoMessage(payload=Text(text="by path")))
            assert await comm.assert_receives(EchoReply, text="by path")
            await comm.refute_receives()
            assert comm.channel_name  # followed in-process, reported by daphne
        async with communicator(APPLICATION, "/ws/auth", user={"name": "zed"}) as comm:
            await comm.send_message(WhoAmIMessage())
            reply = await comm.receive_all_messages()
            assert [m.payload for m in reply] == [{"name": "zed"}]  # type: ignore[attr-defined]
    finally:
        await communicator.close()
    if mode == "live":
        assert set(chanx_daphne_servers) == {APPLICATION}
