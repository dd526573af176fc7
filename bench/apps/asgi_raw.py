"""Starlette by hand: a websocket endpoint on a router, broadcast through
:class:`~bench.apps.raw_hub.Hub` (this process's sockets; with ``BENCH_LAYER=redis`` one
``PUBLISH`` per broadcast and one redis-py subscription per process)."""

from __future__ import annotations

from starlette.routing import Router, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.apps.raw_hub import Hub
from bench.apps.raw_messages import answer

hub = Hub()


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


app = Router(routes=[WebSocketRoute("/ws", endpoint)], lifespan=hub.lifespan)
