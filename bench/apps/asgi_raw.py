"""Starlette by hand: a websocket endpoint and a module-level set of sockets."""

from __future__ import annotations

from starlette.routing import Router, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.apps.raw_messages import answer

members: set[WebSocket] = set()


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    members.add(websocket)
    try:
        while True:
            reply, broadcast = answer(await websocket.receive_text())
            if reply is not None:
                await websocket.send_text(reply)
            elif broadcast is not None:
                for member in tuple(members):
                    try:
                        await member.send_text(broadcast)
                    except Exception:
                        members.discard(member)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(websocket)


app = Router(routes=[WebSocketRoute("/ws", endpoint)])
