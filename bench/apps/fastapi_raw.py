"""FastAPI by hand: an ``@app.websocket`` endpoint, validation with the TypeAdapter of
``raw_messages``, broadcast through :class:`~bench.apps.raw_hub.Hub`."""

from __future__ import annotations

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from bench.apps.raw_hub import Hub
from bench.apps.raw_messages import answer

hub = Hub()
app = FastAPI(lifespan=hub.lifespan)


@app.websocket("/ws")
async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    hub.add(websocket)
    try:
        while True:
            reply, broadcast = answer(await websocket.receive_text())
            if reply is not None:
                await websocket.send_text(reply)
            elif broadcast is not None:
                await hub.broadcast(broadcast)
    except WebSocketDisconnect:
        pass
    finally:
        hub.discard(websocket)
