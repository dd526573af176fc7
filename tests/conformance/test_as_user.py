"""Connecting as a user, one spelling everywhere: ``user=`` skips credentials, and the
consumer's authorization still runs for that user (its ``authorize``, per-handler
permissions), for this communicator only."""

from __future__ import annotations

import asyncio

from chanx.constants import EVENT_ACTION_COMPLETE
from tests.conformance.behaviours import (
    AUTH_PATH,
    ECHO_PATH,
    AdminMessage,
    NoticeEvent,
    NoticeReply,
    Text,
    WhoAmIMessage,
    WhoAmIReply,
)
from tests.conformance.drivers import Driver


async def test_a_user_connects_without_credentials(driver: Driver) -> None:
    async with driver.communicator(AUTH_PATH, user={"name": "bob"}) as comm:
        await comm.assert_authenticated_status_ok()
        assert (await comm.wait_for_auth()).payload.data == {"user": "bob"}
        await comm.send_message(WhoAmIMessage())
        assert await comm.assert_receives(WhoAmIReply) == WhoAmIReply(payload={"name": "bob"})


async def test_authorization_still_runs_for_that_user(driver: Driver) -> None:
    comm = driver.communicator(AUTH_PATH, user={"name": "mallory", "banned": True})
    assert (await comm.connect())[0] is True
    auth = await comm.wait_for_auth()
    assert (auth.payload.status_code, auth.payload.data) == (403, {"detail": "banned"})
    await comm.assert_closed(code=4403)
    await comm.disconnect()


async def test_per_handler_permissions_run_for_that_user(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH, user={"name": "bob"}) as comm:
        await comm.assert_authenticated_status_ok()  # a known user is always told
        await comm.send_message(AdminMessage())
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "permission_denied"


async def test_two_users_at_once_each_is_themselves(driver: Driver) -> None:
    """Per communicator, not app-wide: both connect concurrently."""
    alice = driver.communicator(AUTH_PATH, user={"name": "alice"})
    bob = driver.communicator(AUTH_PATH, user={"name": "bob"})
    await asyncio.gather(alice.connect(), bob.connect())
    try:
        for comm, name in ((alice, "alice"), (bob, "bob")):
            await comm.send_message(WhoAmIMessage())
            assert (await comm.assert_receives(WhoAmIReply)).payload == {"name": name}
        # Both are members of the consumer's groups, as any admitted connection.
        await driver.broadcast_event(NoticeEvent(payload=Text(text="hi")), ["authenticated"])
        for comm in (alice, bob):
            got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [NoticeReply(payload=Text(text="hi"))]
    finally:
        await alice.disconnect()
        await bob.disconnect()


async def test_without_user_credentials_are_still_required(driver: Driver) -> None:
    comm = driver.communicator(AUTH_PATH)
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 401
    await comm.disconnect()
