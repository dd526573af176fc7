"""The Django examples of the testing guide (seed/testing-guide.txt), as written there,
against the example project's ``ChatConsumer``."""

from __future__ import annotations

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE
from chanx.ext.channels.testing import WebsocketTestCase
from examples.django_chat.chat.consumers import ChatConsumer
from examples.django_chat.chat.messages import (
    ChatMessage,
    ChatNotice,
    NotificationEvent,
    ProtectedMessage,
    TestMessage,
    TestReply,
)


class TestChatConsumer(WebsocketTestCase):
    consumer = ChatConsumer

    def setUp(self):
        super().setUp()
        self.ws_path = "/ws/chat/"

    def get_ws_headers(self):
        self.user, headers = self.create_user_and_ws_headers()
        return headers

    async def test_authenticated_chat(self):
        await self.auth_communicator.connect()
        await self.auth_communicator.assert_authenticated_status_ok()

        await self.auth_communicator.send_message(ChatMessage(payload={"message": "Hello"}))

        messages = await self.auth_communicator.receive_all_messages()
        assert len(messages) >= 1
        assert isinstance(messages[0], ChatNotice)
        assert messages[0].payload.message == "Hello"
        assert messages[0].payload.sender == self.user.username

    async def test_multi_user_chat(self):
        # First user
        await self.auth_communicator.connect()
        await self.auth_communicator.assert_authenticated_status_ok()

        # Second user
        second_user, second_headers = await self.acreate_user_and_ws_headers()
        second_comm = self.create_communicator(headers=second_headers)
        await second_comm.connect()
        await second_comm.assert_authenticated_status_ok()

        # Test interaction between users
        await second_comm.send_message(ChatMessage(payload={"message": "Hi from two"}))
        [sent] = await second_comm.receive_all_messages()
        [heard] = await self.auth_communicator.receive_all_messages(stop_action="group_complete")
        assert sent == heard
        assert heard.payload.sender == second_user.username
        assert second_user.pk != self.user.pk

    async def test_connection_lifecycle(self):
        await self.auth_communicator.connect()
        await self.auth_communicator.assert_authenticated_status_ok()

        # Use connection
        await self.auth_communicator.send_message(TestMessage())
        messages = await self.auth_communicator.receive_all_messages()
        assert messages == [TestReply()]

        # Cleanup handled automatically

    async def test_event_broadcasting(self):
        await self.auth_communicator.connect()
        await self.auth_communicator.assert_authenticated_status_ok()

        # Send event from outside WebSocket (HTTP view, task, etc.)
        await ChatConsumer.broadcast_event(
            NotificationEvent(payload={"message": "System notification"}),
            groups=[f"user_{self.user.id}"],
        )

        messages = await self.auth_communicator.receive_all_messages(
            stop_action=EVENT_ACTION_COMPLETE
        )
        assert len(messages) == 1
        assert messages[0].payload.message == "System notification"

    async def test_no_unauthorized_messages(self):
        # Connect without authentication
        await self.communicator.connect()

        # Send a message that should be rejected
        await self.communicator.send_message(ProtectedMessage())

        # Verify no response is sent (should timeout)
        await self.communicator.receive_nothing(timeout=0.5)

        # ... because the connection was refused before any handler could run.
        assert (await self.communicator.wait_for_auth()).payload.status_code == 403
        assert self.communicator.close_code == 4403

    @pytest.mark.off_contract("the testing guide's bad-input example, run as written")
    async def test_invalid_message_ignored(self):
        await self.auth_communicator.connect()
        await self.auth_communicator.assert_authenticated_status_ok()

        # Send invalid JSON
        await self.auth_communicator.send_json({"invalid": "format"})

        # Should receive no messages back
        await self.auth_communicator.receive_nothing(timeout=0.5)

    async def test_failed_authentication(self):
        comm = self.communicator
        await comm.connect()

        # Test failed authentication
        auth_msg = await comm.wait_for_auth()
        assert auth_msg.payload.status_code == 403
