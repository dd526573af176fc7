"""The seed guide's ``myapp.main``: a FastAPI app mounting core consumers."""

from __future__ import annotations

from fastapi import FastAPI

from tests.seed.myapp.consumers import AIConsumer, ChatConsumer, RoomChatConsumer

app = FastAPI()
app.router.add_websocket_route("/ws/chat", ChatConsumer.as_asgi())
app.router.add_websocket_route("/ws/room/{room_name}", RoomChatConsumer.as_asgi())
app.router.add_websocket_route("/ws/ai-chat", AIConsumer.as_asgi())
