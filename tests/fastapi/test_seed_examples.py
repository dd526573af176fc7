"""The testing guide's FastAPI examples, as written, against the example app's mounting
(consumers on a prefixed APIRouter, the app's own in-memory layer)."""

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator
from examples.fastapi_chat.consumers import (
    AIConsumer,
    ChatConsumer,
    MembersConsumer,
    RoomChatConsumer,
    room_group,
)
from examples.fastapi_chat.main import app
from examples.fastapi_chat.messages import (
    Announcement,
    AnnouncementEvent,
    AnnouncementPayload,
    ChatMessage,
    ChatReply,
    ClearRoomMessage,
    GenerateStoryMessage,
    RoomMessage,
    StreamingMessage,
)


@pytest.mark.asyncio
async def test_ping_pong():
    # Context manager automatically connects and disconnects WebSocket
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # WebSocket is now connected and ready
        await comm.send_message(PingMessage())
        messages = await comm.receive_all_messages()
        # WebSocket automatically disconnected when exiting context
        assert len(messages) == 1
        assert isinstance(messages[0], PongMessage)


@pytest.mark.asyncio
async def test_chat_broadcasting():
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
        assert isinstance(second_replies[0], RoomMessage)
        assert second_replies[0].payload.message == "Hello"


@pytest.mark.asyncio
async def test_streaming_response():
    async with WebsocketCommunicator(app, "/ws/ai-chat", consumer=AIConsumer) as comm:
        await comm.send_message(GenerateStoryMessage(payload={"prompt": "Tell me a story"}))

        messages = await comm.receive_all_messages(
            stop_action=EVENT_ACTION_COMPLETE,
            timeout=5.0,  # Longer timeout for AI responses
        )

        streaming_messages = [m for m in messages if m.action == "streaming"]
        assert len(streaming_messages) >= 1
        assert all(isinstance(m, StreamingMessage) for m in streaming_messages)
        assert streaming_messages[-1].payload.last
        assert [m.payload.index for m in streaming_messages] == list(range(len(messages)))


async def test_manual_connection_management():
    comm = WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer)
    await comm.connect()
    await comm.send_message(ChatMessage(payload={"message": "hi"}))
    messages = await comm.receive_all_messages(stop_action="complete", timeout=2.0)
    assert messages == [ChatReply(payload={"message": "hi"})]
    await comm.disconnect()


async def test_custom_stop_actions():
    async with WebsocketCommunicator(app, "/ws/ai-chat", consumer=AIConsumer) as comm:
        await comm.send_message(GenerateStoryMessage(payload={"prompt": "a dragon"}))
        # Any action can end the collection; that message is included.
        head = await comm.receive_all_messages(stop_action="streaming")
        assert len(head) == 1
        assert head[0].payload.index == 0
        rest = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert rest[0].payload.index == 1
        assert rest[-1].payload.last


@pytest.mark.off_contract("the testing guide's raw-JSON example sends an unhandled action")
async def test_raw_json_methods():
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # Raw JSON methods (for low-level testing)
        await comm.send_json({"action": "custom", "payload": {"data": "test"}})
        json_response = await comm.receive_json(timeout=1.0)
        assert json_response["action"] == "error"
        assert await comm.receive_json(timeout=1.0) == {"action": "complete", "payload": None}

        await comm.send_json({"action": "chat", "payload": {"message": "raw"}})
        all_json = await comm.receive_all_json(timeout=2.0)
        assert all_json == [{"action": "chat_reply", "payload": {"message": "raw"}}]

        # Receive exactly one message
        await comm.send_message(PingMessage())
        single_message = await comm.receive_message(timeout=1.0)
        assert single_message == PongMessage()
        await comm.receive_all_messages()

        # Verify no messages are sent (useful for negative testing)
        await comm.receive_nothing(timeout=0.5)


@pytest.mark.off_contract("the testing guide's bad-input example, run as written")
async def test_invalid_message_ignored():
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # Send invalid JSON
        await comm.send_json({"invalid": "format"})
        # Should receive no messages back
        await comm.receive_nothing(timeout=0.5)


async def test_no_unauthorized_messages():
    # Connect without authentication
    communicator = WebsocketCommunicator(app, "/ws/members/lobby", consumer=MembersConsumer)
    await communicator.connect()
    # Send a message that should be rejected
    await communicator.send_message(ClearRoomMessage())
    # Verify no response is sent (should timeout)
    await communicator.receive_nothing(timeout=0.5)
    auth_msg = await communicator.wait_for_auth()
    assert auth_msg.payload.status_code == 401
    await communicator.disconnect()


async def test_failed_authentication():
    comm = WebsocketCommunicator(
        app,
        "/ws/members/lobby",
        headers={"authorization": "Bearer stolen"},
        consumer=MembersConsumer,
    )
    await comm.connect()
    # Test failed authentication
    auth_msg = await comm.wait_for_auth()
    assert auth_msg.payload.status_code == 403
    await comm.disconnect()


async def test_successful_authentication():
    headers = {"authorization": "Bearer bob-token"}
    async with WebsocketCommunicator(
        app, "/ws/members/lobby", headers=headers, consumer=MembersConsumer
    ) as comm:
        # Test successful authentication
        await comm.assert_authenticated_status_ok()


async def test_event_broadcasting_from_outside_the_websocket():
    async with (
        WebsocketCommunicator(app, "/ws/room/news", consumer=RoomChatConsumer) as reader,
        WebsocketCommunicator(app, "/ws/room/elsewhere", consumer=RoomChatConsumer) as other,
    ):
        # Send event from outside WebSocket (HTTP view, task, etc.)
        await RoomChatConsumer.broadcast_event(
            AnnouncementEvent(payload=AnnouncementPayload(text="System notification")),
            groups=[room_group("news")],
        )
        messages = await reader.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert messages == [Announcement(payload={"text": "System notification"})]
        await other.receive_nothing()


async def test_completion_stop_action_needs_send_completion():
    # The guide's warning made concrete: a consumer without completion signals gets a
    # clear error instead of a silent timeout.
    from chanx.ext.fastapi import AsyncJsonWebsocketConsumer
    from chanx.testing import CommunicatorError

    class Quiet(AsyncJsonWebsocketConsumer):
        log_websocket_message = False

    from fastapi import FastAPI

    quiet_app = FastAPI()
    quiet_app.add_api_websocket_route("/ws/quiet", Quiet.as_endpoint())
    async with WebsocketCommunicator(quiet_app, "/ws/quiet", consumer=Quiet) as comm:
        await comm.send_message(PingMessage())
        with pytest.raises(CommunicatorError, match="send_completion"):
            await comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
