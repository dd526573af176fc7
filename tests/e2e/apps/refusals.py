"""Frames daphne refuses to send, for ``daphne tests.e2e.apps.refusals:app``.

Each path exists twice, under ``/ws/core/`` (the core consumer as a plain ASGI app) and
``/ws/channels/`` (chanx's Channels consumer, over Channels' in-memory layer).

* A client that closes while the app still has frames for it: ``holder`` joins the
  group ``holders_<family>``; its ``hold`` handler sends 8 MiB of ``filler`` (more than
  the sockets take, so daphne keeps some), logs :data:`HOLDING`, waits until a
  ``release`` comes on ``releaser``, then answers ``released``. ``release`` first
  broadcasts a ``note`` to the holders. A holder that has sent a close frame (and reads
  nothing) can no longer be written to, though the app learns of it only when it next
  reads: the release writes to it twice (a group delivery, the handler's own reply).
* A frame over daphne's size limit (``--websocket_max_message_size``, 1 MiB by
  default, for what it sends as for what it receives): ``listener`` joins
  ``listeners_<family>``, and ``shout`` (with a size in characters) broadcasts a
  ``text`` of that size to the listeners, then answers ``shouted``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

import tests.e2e.apps.django_settings  # noqa: F401  (configures Django before Channels loads)
from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.ext.channels.websocket import (
    AsyncJsonWebsocketConsumer as ChannelsConsumer,
)
from chanx.messages.base import BaseMessage

logger = logging.getLogger("tests.refusals")
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

HOLDING = "holding"
"""Logged (with the family) once a holder's handler has sent its filler and waits."""
ENDED = "connection ended"
"""Logged (with the path and close code) once a holder's or listener's connection is
over."""

_releases: dict[str, asyncio.Event] = {}


class Hold(BaseMessage):
    action: Literal["hold"] = "hold"
    payload: None = None


class Release(BaseMessage):
    action: Literal["release"] = "release"
    payload: None = None


class Released(BaseMessage):
    action: Literal["released"] = "released"
    payload: None = None


class Filler(BaseMessage):
    action: Literal["filler"] = "filler"
    payload: str


class Note(BaseMessage):
    action: Literal["note"] = "note"
    payload: None = None


class Shout(BaseMessage):
    action: Literal["shout"] = "shout"
    payload: int


class Shouted(BaseMessage):
    action: Literal["shouted"] = "shouted"
    payload: None = None


class Text(BaseMessage):
    action: Literal["text"] = "text"
    payload: str


def _release_of(family: str) -> asyncio.Event:
    return _releases.setdefault(family, asyncio.Event())


class Behaviour:
    family = ""
    role = ""
    log_websocket_message = False

    async def get_groups(self) -> list[str]:
        return [f"{self.role}s_{self.family}"] if self.role in ("holder", "listener") else []

    async def on_disconnect(self, code: int) -> None:
        logger.info("%s: /ws/%s/%s with %s", ENDED, self.family, self.role, code)


class Holder(Behaviour):
    role = "holder"

    @ws_handler(output_type=Filler)
    async def handle_hold(self, message: Hold) -> Released:
        for _ in range(16):
            await self.send_message(Filler(payload="x" * 2**19))  # type: ignore[attr-defined]
        logger.info("%s: %s", HOLDING, self.family)
        await _release_of(self.family).wait()
        return Released()


class Releaser(Behaviour):
    role = "releaser"

    @ws_handler(output_type=Note)
    async def handle_release(self, message: Release) -> Released:
        await self.broadcast_message(Note(), [f"holders_{self.family}"])  # type: ignore[attr-defined]
        _release_of(self.family).set()
        return Released()


class Listener(Behaviour):
    role = "listener"


class Shouter(Behaviour):
    role = "shouter"

    @ws_handler(output_type=Text)
    async def handle_shout(self, message: Shout) -> Shouted:
        text = Text(payload="x" * message.payload)
        await self.broadcast_message(text, [f"listeners_{self.family}"])  # type: ignore[attr-defined]
        return Shouted()


routes = []
for family, base in (("core", AsyncJsonWebsocketConsumer), ("channels", ChannelsConsumer)):
    for behaviour in (Holder, Releaser, Listener, Shouter):
        consumer = type(behaviour.__name__, (behaviour, base), {"family": family})
        routes.append(path(f"ws/{family}/{behaviour.role}", consumer.as_asgi()))

app = ProtocolTypeRouter({"websocket": URLRouter(routes)})
