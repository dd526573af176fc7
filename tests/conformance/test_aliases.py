"""Aliases (a Pydantic ``alias_generator``, camelCase here) are the wire names, on every
path a message takes: a reply, a group message, an event (across processes on the
layers that have them), and the communicator's own ``send_message``."""

from __future__ import annotations

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from tests.conformance.behaviours import (
    ECHO_PATH,
    Nickname,
    NicknameEvent,
    NicknameMessage,
    NicknameReply,
)
from tests.conformance.drivers import Driver

WIRE = {"displayName": "Ann", "favouriteColour": "teal"}
ANN = Nickname.model_validate(WIRE)


async def test_replies_use_aliases_and_inputs_are_read_by_them(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_json({"action": "nickname", "payload": WIRE})
        assert await comm.receive_all_json() == [{"action": "nickname_reply", "payload": WIRE}]
        await comm.send_message(NicknameMessage(payload=ANN))
        assert await comm.receive_all_messages() == [NicknameReply(payload=ANN)]


async def test_python_names_are_not_the_wire_names(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        with comm.off_contract("the Python field name instead of its alias, on purpose"):
            await comm.send_json({"action": "nickname", "payload": {"display_name": "Ann"}})
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"] == [
            {"loc": ["payload", "displayName"], "msg": "Field required", "type": "missing"}
        ]


async def test_group_messages_use_aliases(driver: Driver) -> None:
    path = "/ws/room/aliases"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        await first.send_message(NicknameMessage(payload=ANN))
        for comm in (first, second):
            frames = await comm.receive_all_json(stop_action=GROUP_ACTION_COMPLETE)
            assert frames == [{"action": "nickname_reply", "payload": WIRE}]


async def test_events_use_aliases(driver: Driver) -> None:
    async with driver.communicator("/ws/room/alias-events") as comm:
        await driver.broadcast_event(NicknameEvent(payload=ANN), ["room_alias-events"])
        frames = await comm.receive_all_json(stop_action=EVENT_ACTION_COMPLETE)
        assert frames == [{"action": "nickname_reply", "payload": WIRE}]
