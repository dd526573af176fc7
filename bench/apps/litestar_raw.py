"""Litestar by hand: a ``@websocket`` route handler (the low-level one; a
``@websocket_listener`` would run its own receive loop around a callback, with more
machinery per frame), validation with the TypeAdapter of ``raw_messages``, broadcast
through :class:`~bench.apps.raw_hub.Hub`."""

from __future__ import annotations

from litestar import Litestar, WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from bench.apps.raw_hub import Hub
from bench.apps.raw_messages import answer

hub = Hub()


@websocket("/ws")
async def endpoint(socket: WebSocket) -> None:
    await socket.accept()
    hub.add(socket)
    try:
        while True:
            reply, broadcast = answer(await socket.receive_text())
            if reply is not None:
                await socket.send_text(reply)
            elif broadcast is not None:
                await hub.broadcast(broadcast)
    except WebSocketDisconnect:
        pass
    finally:
        hub.discard(socket)


app = Litestar(route_handlers=[endpoint], lifespan=[hub.lifespan])
