"""FastAPI as its users write it: ``receive_json`` / ``send_json`` (the standard ``json``
module), a branch per action, the payload validated with a Pydantic model, broadcast
through :class:`~bench.apps.raw_hub.Hub`."""

from __future__ import annotations

import json

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from bench.apps.idiomatic_messages import error_frame
from bench.apps.raw_hub import Hub
from bench.apps.raw_messages import ChatPayload

hub = Hub()
app = FastAPI(lifespan=hub.lifespan)


@app.websocket("/ws")
async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    hub.add(websocket)
    try:
        while True:
            data = await websocket.receive_json()
            action = data.get("action") if isinstance(data, dict) else None
            if action == "ping":
                await websocket.send_json({"action": "pong", "payload": None})
            elif action == "chat":
                try:
                    payload = ChatPayload.model_validate(data.get("payload"))
                except ValidationError:
                    await websocket.send_json(error_frame("invalid", "invalid chat payload"))
                    continue
                await websocket.send_json({"action": "chat_ack", "payload": payload.model_dump()})
            elif action == "shout" and isinstance(data.get("payload"), str):
                notice = {"action": "shout_notice", "payload": data["payload"]}
                await hub.broadcast(json.dumps(notice, separators=(",", ":")))
            else:
                await websocket.send_json(error_frame("unknown", "unknown action"))
    except WebSocketDisconnect:
        pass
    finally:
        hub.discard(websocket)
