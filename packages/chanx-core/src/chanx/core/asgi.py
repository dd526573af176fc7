"""The plain-ASGI driver: a consumer class as an ASGI websocket application."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from chanx.core.transport import ASGITransport, ConnectionGone
from chanx.core.types import ASGIReceive, ASGISend, Scope

if TYPE_CHECKING:
    from chanx.core.websocket import AsyncJsonWebsocketConsumer

logger = logging.getLogger("chanx.asgi")

C = TypeVar("C", bound="AsyncJsonWebsocketConsumer")


class ConsumerApp:
    """An ASGI application that runs one ``consumer_class`` instance per connection.

    Mount it on any ASGI router: ``WebSocketRoute("/ws", Chat.as_asgi())`` on
    Starlette/FastAPI, a ``URLRouter`` entry, or call it directly. HTTP requests get
    ``426 Upgrade Required``.
    """

    __slots__ = ("consumer_class",)

    def __init__(self, consumer_class: type[AsyncJsonWebsocketConsumer]) -> None:
        self.consumer_class = consumer_class

    def __repr__(self) -> str:
        return f"<ConsumerApp {self.consumer_class.__qualname__}>"

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await run_consumer(self.consumer_class(), scope, receive, send)
        elif kind == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 426,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"upgrade", b"websocket"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b"WebSocket endpoint"})


async def run_consumer(
    consumer: AsyncJsonWebsocketConsumer,
    scope: Scope,
    receive: ASGIReceive,
    send: ASGISend,
    gone: tuple[type[BaseException], ...] = (),
    *,
    frames: ASGISend | None = None,
) -> None:
    """Drive ``consumer`` over one ASGI websocket connection until it ends. ``gone``:
    what ``send`` raises once the client has gone, besides what servers raise
    (frameworks that wrap ``send`` add their own exceptions). ``frames``: where text
    frames go instead of ``send`` (see :class:`~chanx.core.transport.ASGITransport`)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    consumer.scope = scope
    consumer.transport = ASGITransport(send, gone, frames)
    code = 1006
    try:
        if not await consumer.handle_connect():
            return
        code = await serve_frames(consumer, receive)
    except ConnectionGone:
        logger.debug("client gone while sending; ending the connection")
    finally:
        await consumer.handle_disconnect(code)


async def serve_frames(consumer: AsyncJsonWebsocketConsumer, receive: ASGIReceive) -> int:
    """Hand each client frame to ``consumer`` until the client disconnects; returns the
    close code. Adapters whose framework accepts the connection its own way reuse this."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            if text is not None:
                await consumer.handle_text(text)
            else:
                await consumer.handle_bytes(message.get("bytes") or b"")
        elif kind == "websocket.disconnect":
            code: int = message.get("code", 1005)
            return code


def adapter_consumer(consumer_class: Any, base: type[C]) -> type[C]:
    """``consumer_class`` if it subclasses ``base`` (an adapter's consumer class), else a
    ``TypeError`` saying how to mount a core consumer instead (for adapters' endpoints)."""
    if not (isinstance(consumer_class, type) and issubclass(consumer_class, base)):
        where = base.__module__.rsplit(".", 1)[0]
        raise TypeError(
            f"{consumer_class!r} is not a {where}.{base.__name__}; mount a core consumer "
            "as a plain ASGI app instead: Consumer.as_asgi()"
        )
    return consumer_class
