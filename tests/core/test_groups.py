"""Group names: the helper, the rules, and what the engine does with a name a layer refuses."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chanx.constants import CLOSE_INVALID_GROUP, CLOSE_LAYER_UNAVAILABLE
from chanx.core.decorators import ws_handler
from chanx.core.groups import (
    ANY_STRING,
    PORTABLE,
    UTF8_STRING,
    GroupNameRule,
    InvalidGroupName,
    group_name,
    group_name_rule_of,
)
from chanx.core.layer import LayerUnavailable, Receiver
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator

# ---------------------------------------------------------------------- group_name()


def test_group_name_is_readable_and_portable() -> None:
    name = group_name("room", "Café de Paris")
    assert re.fullmatch(r"room_Cafe_de_Paris\.[a-z2-7]{16}", name), name
    assert PORTABLE.accepts(name)


def test_group_name_is_stable_across_processes_and_releases() -> None:
    # A fixed value: changing the algorithm would split running deployments' groups.
    assert group_name("room", "lobby") == "room_lobby.t7ky2uxywgqk44vt"
    assert group_name("user", 42) == group_name("user", "42")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("room", "a b"), ("room", "a_b")),
        (("room", "a b"), ("room", "a-b")),
        (("a", "b"), ("a_b",)),
        (("a", "b"), ("ab",)),
        (("room", "x" * 60), ("room", "x" * 61)),
        (("room", "é"), ("room", "e")),
        (("room", ""), ("room",)),
    ],
)
def test_different_parts_give_different_names(one: tuple[str, ...], other: tuple[str, ...]) -> None:
    assert group_name(*one) != group_name(*other)


@settings(max_examples=200, database=None)
@given(parts=st.lists(st.text() | st.integers(), min_size=1, max_size=4))
def test_any_parts_give_a_name_every_layer_accepts(parts: list[str | int]) -> None:
    name = group_name(*parts)
    assert PORTABLE.accepts(name)
    assert len(name) <= 65
    assert group_name(*parts) == name


@settings(max_examples=200, database=None)
@given(a=st.lists(st.text(), min_size=1, max_size=3), b=st.lists(st.text(), min_size=1, max_size=3))
def test_distinct_parts_never_share_a_name(a: list[str], b: list[str]) -> None:
    if a != b:
        assert group_name(*a) != group_name(*b)


def test_group_name_needs_parts_of_text_or_integers() -> None:
    with pytest.raises(TypeError, match="at least one part"):
        group_name()
    with pytest.raises(TypeError, match="not float"):
        group_name("room", 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not bool"):
        group_name("room", True)


# ---------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("rule", "name", "accepted"),
    [
        (ANY_STRING, "a b\n\x00é\ud800", True),
        (UTF8_STRING, "a b\n\x00é", True),
        (UTF8_STRING, "lone \ud800", False),
        (PORTABLE, "room_a-b.c", True),
        (PORTABLE, "x" * 99, True),
        (PORTABLE, "x" * 100, False),
        (PORTABLE, "", False),
        (PORTABLE, "a b", False),
        (PORTABLE, "é", False),
        (PORTABLE, "٣", False),  # a digit, but not an ASCII one
        (PORTABLE, "abc\n", False),
    ],
)
def test_rules(rule: GroupNameRule, name: str, accepted: bool) -> None:
    assert rule.accepts(name) is accepted
    if accepted:
        rule.check(name)
    else:
        with pytest.raises(InvalidGroupName):
            rule.check(name)


def test_names_must_be_strings_whatever_the_rule() -> None:
    with pytest.raises(InvalidGroupName, match="a group name must be a string, not int"):
        ANY_STRING.check(42)


def test_invalid_group_name_message_escapes_and_cuts_the_name() -> None:
    name = "evil\nINFO forged line \x1b[31m" + "z" * 200
    with pytest.raises(InvalidGroupName) as raised:
        PORTABLE.check(name, InMemoryGroupLayer())
    message = str(raised.value)
    assert "\n" not in message
    assert "\x1b" not in message
    assert "\\nINFO forged line \\x1b[31m" in message
    assert "z" * 65 not in message
    assert f"({len(name)} characters)" in message
    assert "InMemoryGroupLayer" in message
    assert PORTABLE.description in message
    assert "group_name(" in message
    assert raised.value.name == name


def test_layers_state_their_rule() -> None:
    assert group_name_rule_of(InMemoryGroupLayer()) is ANY_STRING
    assert group_name_rule_of(object()) is UTF8_STRING


# ---------------------------------------------------------------------- the engine


class StrictLayer(InMemoryGroupLayer):
    """An in-memory layer with Channels' rule, to see the engine enforce a rule."""

    group_name_rule = PORTABLE


class Shout(BaseMessage):
    action: Literal["g_shout"] = "g_shout"
    payload: str


class JoinMessage(BaseMessage):
    action: Literal["g_join"] = "g_join"
    payload: str


class StrictRoom(AsyncJsonWebsocketConsumer):
    send_completion = True
    layer = StrictLayer()

    async def get_groups(self) -> Iterable[str]:
        return ["lobby", f"room_{self.path_params['room']}"]

    @ws_handler
    async def handle_join(self, message: JoinMessage) -> None:
        await self.join_group(message.payload)

    @ws_handler
    async def handle_shout(self, message: Shout) -> None:
        await self.broadcast_message(PongMessage(), groups=[message.payload])


def room_app(consumer: type[AsyncJsonWebsocketConsumer]) -> object:
    from starlette.routing import Router, WebSocketRoute

    return Router(routes=[WebSocketRoute("/ws/room/{room}", consumer.as_asgi())])


async def test_a_group_the_layer_refuses_closes_4400_with_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = room_app(StrictRoom)
    with caplog.at_level(logging.DEBUG, logger="chanx"):
        comm = WebsocketCommunicator(app, "/ws/room/a%20b%0Aforged")  # type: ignore[arg-type]
        assert (await comm.connect())[0] is True
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_INVALID_GROUP == 4400
    await comm.disconnect()
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    [record] = records
    line = record.getMessage()
    assert "StrictRoom refused the connection (close 4400)" in line
    assert "'room_a b\\nforged'" in line
    assert PORTABLE.description in line
    assert record.exc_info is None
    assert "Exception" not in caplog.text
    # Nothing was joined: not even the valid "lobby" that came first.
    assert StrictRoom.layer.group_names() == []  # type: ignore[union-attr]


async def test_join_group_and_broadcast_with_a_bad_name_raise_a_clear_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = room_app(StrictRoom)
    async with WebsocketCommunicator(app, "/ws/room/ok") as comm:  # type: ignore[arg-type]
        for message in (JoinMessage(payload="a b"), Shout(payload="é" * 3)):
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="chanx"):
                await comm.send_message(message)
                [error] = await comm.receive_all_json()
            assert error["payload"]["errors"][0]["type"] == "internal_error"
            [record] = caplog.records
            assert record.exc_info is not None
            assert isinstance(record.exc_info[1], InvalidGroupName)
            assert "breaks the group-name rule of StrictLayer" in str(record.exc_info[1])
        assert comm.tracker is not None
        assert comm.tracker.consumer.joined_groups == ("lobby", "room_ok")  # type: ignore[union-attr]


async def test_broadcast_event_with_a_bad_name_raises() -> None:
    with pytest.raises(InvalidGroupName):
        await StrictRoom.broadcast_event(Shout(payload="x"), ["fine", "not fine"])


class UnreachableLayer(InMemoryGroupLayer):
    async def join(self, group: str, receiver: Receiver) -> None:
        raise LayerUnavailable("nothing listens at redis://127.0.0.1:1")


class Unreachable(AsyncJsonWebsocketConsumer):
    groups = ["lobby"]
    layer = UnreachableLayer()


async def test_an_unreachable_layer_at_connect_closes_4503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="chanx"):
        comm = WebsocketCommunicator(Unreachable.as_asgi(), "/ws")
        await comm.connect()
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_LAYER_UNAVAILABLE == 4503
    assert "Unreachable closed a connection (close 4503): the group layer is unavailable" in (
        caplog.text
    )
    await comm.disconnect()
