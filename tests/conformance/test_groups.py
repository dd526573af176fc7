"""Groups: room broadcast, exclude_current, isolation, leaving on disconnect."""

from __future__ import annotations

from chanx.constants import GROUP_ACTION_COMPLETE
from chanx.messages.incoming import PingMessage
from tests.conformance.behaviours import ShoutMessage, ShoutNotice, ShoutPayload, Text
from tests.conformance.drivers import Driver


def shout(text: str, exclude_me: bool = False) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text, exclude_me=exclude_me))


async def test_broadcast_reaches_every_member_including_sender(driver: Driver) -> None:
    path = "/ws/room/lobby"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        await first.send_message(shout("hello"))
        expected = [ShoutNotice(payload=Text(text="hello"))]
        assert await first.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert await first.receive_all_messages() == []  # then the sender's own `complete`
        await second.receive_nothing()


async def test_exclude_current_skips_the_sender_only(driver: Driver) -> None:
    path = "/ws/room/quiet"
    async with (
        driver.communicator(path) as sender,
        driver.communicator(path) as other,
        driver.communicator(path) as third,
    ):
        await sender.send_message(shout("psst", exclude_me=True))
        assert await sender.receive_all_messages() == []
        await sender.receive_nothing()
        for receiver in (other, third):
            got = await receiver.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [ShoutNotice(payload=Text(text="psst"))]


async def test_rooms_are_isolated(driver: Driver) -> None:
    async with (
        driver.communicator("/ws/room/red") as red,
        driver.communicator("/ws/room/blue") as blue,
    ):
        await red.send_message(shout("red only"))
        assert len(await red.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)) == 1
        await red.receive_all_messages()
        await blue.receive_nothing(timeout=0.2)


async def test_group_complete_follows_each_relayed_message(driver: Driver) -> None:
    path = "/ws/room/order"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        for text in ("a", "b"):
            await first.send_message(shout(text))
            await first.receive_all_messages()
        frames = [await second.receive_json() for _ in range(4)]
        assert [f["action"] for f in frames] == [
            "shout_notice",
            "group_complete",
            "shout_notice",
            "group_complete",
        ]
        assert [frames[0]["payload"]["text"], frames[2]["payload"]["text"]] == ["a", "b"]


async def test_disconnected_member_no_longer_receives(driver: Driver) -> None:
    path = "/ws/room/leaving"
    async with driver.communicator(path) as stays:
        leaver = driver.communicator(path)
        await leaver.connect()
        await leaver.disconnect()
        await stays.send_message(shout("after"))
        got = await stays.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert got == [ShoutNotice(payload=Text(text="after"))]
        await stays.receive_all_messages()
        await stays.send_message(PingMessage())
        assert len(await stays.receive_all_messages()) == 1
