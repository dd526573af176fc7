"""The demo as a bare ASGI application: a page at ``/``, rooms at ``/ws/room/{room}``.

No web framework: a consumer's ``as_asgi()`` is an ordinary ASGI app, so a few lines of
routing are enough.
"""

from __future__ import annotations

import re
from importlib.resources import files

from chanx.core.types import ASGIReceive, ASGISend, Scope
from examples.demo.consumers import RoomConsumer

ROOM_PATH = re.compile(r"^/ws/room/(?P<room>[\w-]{1,40})$")
PAGE = files("examples.demo").joinpath("index.html").read_bytes()
room_app = RoomConsumer.as_asgi()


async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    """Route websockets to the room consumer and serve the page over HTTP."""
    if scope["type"] == "websocket":
        match = ROOM_PATH.match(scope["path"])
        if match is None:
            await receive()
            await send({"type": "websocket.close", "code": 4404})
            return
        scope["path_params"] = match.groupdict()
        await room_app(scope, receive, send)
    elif scope["type"] == "http":
        found = scope["path"] == "/"
        body = PAGE if found else b"not found"
        kind = b"text/html; charset=utf-8" if found else b"text/plain"
        await send(
            {
                "type": "http.response.start",
                "status": 200 if found else 404,
                "headers": [(b"content-type", kind)],
            }
        )
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
