"""Authentication through the engine: result message, close code, no handler when refused."""

from __future__ import annotations

from chanx.constants import EVENT_ACTION_COMPLETE
from tests.conformance.behaviours import (
    AUTH_PATH,
    VALID_TOKEN,
    NoticeEvent,
    NoticeReply,
    Text,
    WhoAmIMessage,
)
from tests.conformance.drivers import Driver

GOOD = {"authorization": f"Bearer {VALID_TOKEN}"}


async def test_valid_token_authenticates_and_handlers_see_the_user(driver: Driver) -> None:
    async with driver.communicator(AUTH_PATH, headers=GOOD) as comm:
        await comm.assert_authenticated_status_ok()
        auth = await comm.wait_for_auth()
        assert auth.payload.data == {"user": "alice"}
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload == {"name": "alice"}


async def test_missing_token_gets_401_and_the_connection_closes(driver: Driver) -> None:
    comm = driver.communicator(AUTH_PATH)
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert auth.payload.status_code == 401
    assert auth.payload.status_text == "Unauthorized"
    await comm.send_message(WhoAmIMessage())
    await comm.receive_nothing(timeout=0.2)
    assert comm.close_code == 4401
    assert not comm.connected
    await comm.disconnect()


async def test_wrong_token_gets_403(driver: Driver) -> None:
    comm = driver.communicator(AUTH_PATH, headers={"authorization": "Bearer nope"})
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert auth.payload.status_code == 403
    assert auth.payload.data == {"detail": "bad token"}
    await comm.receive_nothing()
    assert comm.close_code == 4403
    await comm.disconnect()


async def test_refused_connection_never_joins_groups(driver: Driver) -> None:
    refused = driver.communicator(AUTH_PATH)
    await refused.connect()
    async with driver.communicator(AUTH_PATH, headers=GOOD) as admitted:
        await admitted.assert_authenticated_status_ok()
        await driver.broadcast_event(NoticeEvent(payload=Text(text="members")), ["authenticated"])
        got = await admitted.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [NoticeReply(payload=Text(text="members"))]
    await refused.receive_nothing()
    await refused.disconnect()
