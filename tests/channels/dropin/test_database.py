"""Channels' database scenario on chanx's class: inside a ``django.test.TestCase`` (one
transaction around each test, on a database that lives in a file, where closing a
connection really closes it), a consumer that queries through ``database_sync_to_async``
and is driven by Channels' ``WebsocketCommunicator`` leaves the test's connection open.

Channels' communicator replaces ``channels.db.close_old_connections`` with a no-op while
it talks to the application; chanx's clean-up between frames goes through that name, so
it is replaced too (calling Django's function directly would close the test's connection
and the test would fail with "Cannot operate on a closed database")."""

from __future__ import annotations

from typing import Literal
from unittest import mock

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from channels.testing.application import no_op
from django.db import connections
from django.test import TestCase

from chanx.core.decorators import ws_handler
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage

ALIAS = "hygiene"  # tests/channels/settings.py: a file database
TIMEOUT = 5


@database_sync_to_async
def basic_query() -> int:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1234")
        value: int = cursor.fetchone()[0]
        return value


class Count(BaseMessage):
    action: Literal["count"] = "count"
    payload: None = None


class Counted(BaseMessage):
    action: Literal["counted"] = "counted"
    payload: int


class QueryingConsumer(AsyncJsonWebsocketConsumer):
    close_old_connections = True  # the clean-up runs before every frame, as in Channels

    async def connect(self) -> None:
        await basic_query()
        await self.accept("fun")

    @ws_handler
    async def handle_count(self, message: Count) -> Counted:
        return Counted(payload=await basic_query())


class ConnectionClosingTests(TestCase):
    databases = {"default", ALIAS}

    async def test_the_test_connection_survives_the_consumer(self) -> None:
        name = connections[ALIAS].settings_dict["TEST"]["NAME"]
        assert ":memory:" not in name  # the failure only shows on a file database
        communicator = WebsocketCommunicator(QueryingConsumer.as_asgi(), "/")
        connected, subprotocol = await communicator.connect(TIMEOUT)
        assert connected
        assert subprotocol == "fun"
        await communicator.send_json_to({"action": "count", "payload": None})
        reply = await communicator.receive_json_from(TIMEOUT)
        assert reply == {"action": "counted", "payload": 1234}
        # Still the test's connection, open, inside the test's transaction.
        assert await sync_to_async(usable_in_transaction)()
        # Disconnecting cleans up outside the communicator's send/receive calls (Channels'
        # own consumers close the test's connection there too), so it runs under the same
        # replacement the communicator uses.
        with mock.patch("channels.db.close_old_connections", no_op):
            await communicator.disconnect(timeout=TIMEOUT)
        assert await sync_to_async(usable_in_transaction)()


def usable_in_transaction() -> bool:
    connection = connections[ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return bool(connection.in_atomic_block)
