"""The CHANX setting: defaults, read once per change (override_settings reaches running
connections), class attributes win, typos refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from channels.routing import URLRouter
from django.core.exceptions import ImproperlyConfigured
from django.test.utils import override_settings
from django.urls import path

from chanx.constants import DEFAULT_MAX_MESSAGE_SIZE
from chanx.ext.channels import settings as chanx_settings
from chanx.ext.channels.settings import DEFAULTS, FromSettings, chanx_setting
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import CommunicatorError, WebsocketCommunicator


class FromProject(AsyncJsonWebsocketConsumer):
    pass


class Pinned(AsyncJsonWebsocketConsumer):
    send_completion = True
    max_message_size = 64


APP = URLRouter([path("project", FromProject.as_asgi()), path("pinned", Pinned.as_asgi())])


@pytest.fixture(autouse=True)
def in_memory_layer() -> Iterator[None]:
    with override_settings(
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    ):
        yield


def test_defaults_without_a_chanx_setting() -> None:
    with override_settings(CHANX=None):
        assert FromProject.send_completion is False
        assert FromProject.log_websocket_message is False
        assert tuple(FromProject.log_ignored_actions) == ()
        assert FromProject.max_message_size == DEFAULT_MAX_MESSAGE_SIZE
        assert FromProject.close_old_connections == "auto"
        assert {key: chanx_setting(key) for key in DEFAULTS} == dict(DEFAULTS)


def test_the_test_settings_turn_completion_on() -> None:
    assert FromProject.send_completion is True  # tests/channels/settings.py
    assert FromProject().send_completion is True


def test_values_are_read_when_used_and_class_attributes_win() -> None:
    with override_settings(CHANX={"SEND_COMPLETION": False, "MAX_MESSAGE_SIZE": 10}):
        assert FromProject.send_completion is False
        assert FromProject.max_message_size == 10
        assert Pinned.send_completion is True
        assert Pinned.max_message_size == 64


async def test_override_settings_reaches_a_running_connection() -> None:
    async with WebsocketCommunicator(APP, "/project") as comm:
        with override_settings(CHANX={"SEND_COMPLETION": False}):
            with pytest.raises(CommunicatorError, match="does not send completion"):
                await comm.receive_all_messages()
            await comm.send_message(PingMessage())
            assert await comm.receive_message() == PongMessage()
            await comm.receive_nothing()  # no `complete` after it
        await comm.send_message(PingMessage())
        assert await comm.receive_all_messages() == [PongMessage()]


async def test_max_message_size_from_settings() -> None:
    with override_settings(CHANX={"SEND_COMPLETION": True, "MAX_MESSAGE_SIZE": 20}):
        async with WebsocketCommunicator(APP, "/project") as comm:
            await comm.send_text('{"action": "ping", "payload": null, "pad": "xxxxxxxx"}')
            [error] = await comm.receive_all_json()
            assert error["payload"]["errors"][0]["type"] == "message_too_large"


async def test_message_logging_follows_the_settings(caplog: pytest.LogCaptureFixture) -> None:
    chanx = {"SEND_COMPLETION": True, "LOG_WEBSOCKET_MESSAGE": True}
    with override_settings(CHANX=chanx), caplog.at_level(logging.INFO, logger="chanx"):
        async with WebsocketCommunicator(APP, "/project") as comm:
            await comm.send_message(PingMessage())
            await comm.receive_all_messages()
            assert "received 'ping'" in caplog.text
            assert "sent 'pong'" in caplog.text
            caplog.clear()
            with override_settings(CHANX={**chanx, "LOG_IGNORED_ACTIONS": ["ping", "pong"]}):
                await comm.send_message(PingMessage())
                await comm.receive_all_messages()
            assert "ping" not in caplog.text


def test_an_unknown_key_is_refused() -> None:
    with (
        override_settings(CHANX={"SEND_COMPLETIONS": True}),
        pytest.raises(ImproperlyConfigured, match="SEND_COMPLETIONS"),
    ):
        _ = FromProject.send_completion


def test_chanx_must_be_a_dict() -> None:
    with (
        override_settings(CHANX=["SEND_COMPLETION"]),
        pytest.raises(ImproperlyConfigured, match="must be a dict"),
    ):
        _ = FromProject.send_completion


def test_from_settings_names_a_known_key() -> None:
    with pytest.raises(ValueError, match="unknown CHANX key"):
        FromSettings("NOPE")


class CountingSettings:
    """Django's settings as chanx sees them, counting the reads of ``CHANX``; with
    ``absent`` the project has no ``CHANX`` at all (the read raises AttributeError, as
    Django's settings do)."""

    def __init__(self, real: Any, absent: bool) -> None:
        self.real, self.absent, self.reads = real, absent, 0

    def __getattr__(self, name: str) -> Any:
        if name == "CHANX":
            self.reads += 1
            if self.absent:
                raise AttributeError(name)
        return getattr(self.real, name)


@pytest.mark.parametrize("absent", [True, False], ids=["no CHANX", "CHANX"])
async def test_chanx_is_read_once_whatever_the_number_of_messages(
    absent: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingSettings(chanx_settings.settings, absent)
    monkeypatch.setattr(chanx_settings, "settings", counting)
    chanx_settings.forget_chanx_setting()
    try:
        with override_settings(CHANX={}):  # no completion signals when present
            chanx_settings.forget_chanx_setting()
            counting.reads = 0
            async with WebsocketCommunicator(APP, "/project") as comm:
                for _ in range(20):
                    await comm.send_message(PingMessage())
                    assert await comm.receive_message() == PongMessage()
            assert counting.reads == 1
    finally:
        monkeypatch.undo()
        chanx_settings.forget_chanx_setting()


def test_a_change_of_chanx_puts_the_descriptors_back() -> None:
    base = AsyncJsonWebsocketConsumer
    _ = FromProject.max_message_size
    assert base.__dict__["max_message_size"] == DEFAULT_MAX_MESSAGE_SIZE  # a plain value now
    with override_settings(CHANX={"MAX_MESSAGE_SIZE": 99}):
        assert isinstance(base.__dict__["max_message_size"], FromSettings)
        assert FromProject.max_message_size == 99
        assert FromProject().max_message_size == 99
        assert Pinned.max_message_size == 64
    assert FromProject.max_message_size == DEFAULT_MAX_MESSAGE_SIZE


def test_other_settings_changing_keep_the_values() -> None:
    _ = FromProject.send_completion
    with override_settings(DEBUG=True):
        assert AsyncJsonWebsocketConsumer.__dict__["send_completion"] is True
