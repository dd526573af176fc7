"""The seed guide's FastAPI/ASGI examples on Litestar: only how the app is built differs
(the ``app`` fixture: the example app with an in-memory ChannelsPlugin, lifespan running)."""

from __future__ import annotations

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator
from examples.litestar_chat.consumers import AIConsumer, ChatConsumer, RoomChatConsumer
from examples.litestar_chat.messages import (
    ChatMessage,
    GenerateStoryMessage,
    NotificationEvent,
    NotificationMessage,
)


@pytest.mark.asyncio
async def test_ping_pong(app):
    # Context manager automatically connects and disconnects WebSocket
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # WebSocket is now connected and ready
        await comm.send_message(PingMessage())
        messages = await comm.receive_all_messages()
        # WebSocket automatically disconnected when exiting context
        assert len(messages) == 1
        assert isinstance(messages[0], PongMessage)


@pytest.mark.asyncio
async def test_chat_broadcasting(app):
    # Note: consumer parameter is required for completion signals
    async with (
        WebsocketCommunicator(app, "/ws/room/test", consumer=RoomChatConsumer) as first_comm,
        WebsocketCommunicator(app, "/ws/room/test", consumer=RoomChatConsumer) as second_comm,
    ):
        # Send a message that triggers broadcasting
        await first_comm.send_message(ChatMessage(payload={"message": "Hello"}))

        # Use GROUP_ACTION_COMPLETE for broadcast scenarios
        first_replies = await first_comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        second_replies = await second_comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)

        assert len(first_replies) == 1
        assert len(second_replies) == 1


async def test_manual_connection_management(app):
    comm = WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer)
    await comm.connect()
    # ... do work ...
    await comm.send_message(PingMessage())
    messages = await comm.receive_all_messages(stop_action="complete", timeout=2.0)
    assert messages == [PongMessage()]
    await comm.disconnect()


async def test_raw_json_and_single_message_methods(app):
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # Raw JSON methods (for low-level testing)
        await comm.send_json({"action": "custom", "payload": {"data": "test"}})
        json_response = await comm.receive_json(timeout=1.0)
        assert json_response == {"action": "custom_reply", "payload": {"data": "test"}}

        # Receive exactly one message (here, the completion that follows)
        single_message = await comm.receive_message(timeout=1.0)
        assert single_message.action == "complete"

        # Verify no messages are sent (useful for negative testing)
        await comm.receive_nothing(timeout=0.5)

        # Receive all JSON (without message parsing)
        await comm.send_message(PingMessage())
        all_json = await comm.receive_all_json(timeout=2.0)
        assert all_json == [{"action": "pong", "payload": None}]


async def test_event_broadcasting_from_outside(app):
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # Send event from outside WebSocket (HTTP view, task, etc.)
        await ChatConsumer.broadcast_event(
            NotificationEvent(payload={"message": "System notification"}), groups=["users"]
        )
        messages = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert len(messages) == 1
        assert messages[0] == NotificationMessage(payload={"message": "System notification"})


@pytest.mark.asyncio
async def test_streaming_response(app):
    async with WebsocketCommunicator(app, "/ws/ai-chat", consumer=AIConsumer) as comm:
        await comm.send_message(GenerateStoryMessage(payload={"prompt": "Tell me a story"}))

        messages = await comm.receive_all_messages(
            stop_action=EVENT_ACTION_COMPLETE,
            timeout=5.0,  # Longer timeout for AI responses
        )

        streaming_messages = [m for m in messages if m.action == "streaming"]
        assert len(streaming_messages) >= 1
        story = " ".join(m.payload.text for m in streaming_messages)
        assert story == "Once upon a time someone asked: Tell me a story. The end."


async def test_custom_stop_actions(app):
    async with WebsocketCommunicator(app, "/ws/ai-chat", consumer=AIConsumer) as comm:
        await comm.send_message(GenerateStoryMessage(payload={"prompt": "a dragon"}))
        # Using a custom action as the stop condition: it is included, last.
        head = await comm.receive_all_messages(stop_action="streaming")
        assert [m.action for m in head] == ["streaming"]
        assert head[0].payload.text == "Once"
        rest = await comm.receive_all_messages(stop_action="event_complete")
        assert rest[-1].payload.text == "end."


async def test_consumer_parameter_may_be_omitted(app):
    """The guide's "incorrect" form works too: the communicator finds the consumer."""
    async with WebsocketCommunicator(app, "/ws/room/solo") as comm:
        await comm.send_message(ChatMessage(payload={"message": "alone"}))
        messages = await comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert [m.action for m in messages] == ["chat_notification"]


@pytest.mark.off_contract("the testing guide's bad-input example, run as written")
async def test_no_reply_to_an_invalid_message(app):
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # Send invalid JSON
        await comm.send_json({"invalid": "format"})
        # Should receive no messages back
        await comm.receive_nothing(timeout=0.5)


async def test_no_unauthorized_messages(app):
    # Connect without authentication, to a route whose guard requires a user
    communicator = WebsocketCommunicator(app, "/ws/members", consumer=ChatConsumer)
    await communicator.connect()

    # Send a message that should be rejected
    await communicator.send_message(PingMessage())

    # Verify no response is sent (should timeout)
    await communicator.receive_nothing(timeout=0.5)
    auth_msg = await communicator.wait_for_auth()
    assert auth_msg.payload.status_code == 401


async def test_successful_and_failed_authentication(app):
    admitted = WebsocketCommunicator(
        app, "/ws/members", headers={"authorization": "Bearer bob-token"}, consumer=ChatConsumer
    )
    await admitted.connect()
    # Test successful authentication
    await admitted.assert_authenticated_status_ok()
    await admitted.disconnect()

    refused = WebsocketCommunicator(
        app, "/ws/members", headers={"authorization": "Bearer stolen"}, consumer=ChatConsumer
    )
    await refused.connect()
    # Test failed authentication
    auth_msg = await refused.wait_for_auth()
    assert auth_msg.payload.status_code == 401
    await refused.disconnect()
