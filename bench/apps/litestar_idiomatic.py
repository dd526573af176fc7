"""Litestar as its users write it: a ``@websocket_listener`` (Litestar runs the receive
loop and calls it per frame) decoding the frame with msgspec into a tagged union of
``Struct`` types (validated by msgspec), answering with msgspec-encoded ``Struct``
frames, broadcast through :class:`~bench.apps.raw_hub.Hub` (members added and removed by
the listener's ``connection_accept_handler`` / ``on_disconnect``)."""

from __future__ import annotations

import msgspec
from litestar import Litestar, WebSocket, websocket_listener

from bench.apps.idiomatic_messages import (
    Chat,
    ChatAck,
    Error,
    Incoming,
    Ping,
    Pong,
    ShoutNotice,
)
from bench.apps.raw_hub import Hub

hub = Hub()
decode = msgspec.json.Decoder(Incoming).decode
encode = msgspec.json.Encoder().encode
PONG = Pong()


async def join_and_accept(socket: WebSocket) -> None:
    hub.add(socket)  # a member before the client sees the connection accepted
    await socket.accept()


def left(socket: WebSocket) -> None:
    hub.discard(socket)


@websocket_listener("/ws", connection_accept_handler=join_and_accept, on_disconnect=left)
async def listener(data: str, socket: WebSocket) -> None:
    try:
        message = decode(data)
    except msgspec.ValidationError:
        await socket.send_data(encode(Error(payload=[{"type": "invalid"}])))
        return
    if type(message) is Ping:
        await socket.send_data(encode(PONG))
    elif type(message) is Chat:
        await socket.send_data(encode(ChatAck(payload=message.payload)))
    else:
        await hub.broadcast(encode(ShoutNotice(payload=message.payload)).decode())


app = Litestar(route_handlers=[listener], lifespan=[hub.lifespan])
