"""The chanx consumer for Django Channels.

:class:`AsyncJsonWebsocketConsumer` is a real Channels consumer (``as_asgi()``,
``URLRouter``, ``AuthMiddlewareStack``, ``scope["url_route"]``, ``channel_layer``,
``channel_name``, type-based ``dispatch``) running the chanx engine (typed handlers,
completion signals, error replies, authentication, groups and events)::

    class ChatConsumer(AsyncJsonWebsocketConsumer):
        authenticator = SessionAuthenticator()

        async def get_groups(self):
            return ["lobby"]

        @ws_handler(output_type=ChatNotice)
        async def handle_chat(self, message: ChatMessage) -> None:
            await self.broadcast_message(ChatNotice(payload=message.payload))

    websocket_urlpatterns = [path("ws/chat/", ChatConsumer.as_asgi())]
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Sequence
from typing import Any, ClassVar, cast

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer

from chanx.core.layer import WIRE_TYPE, GroupLayer, GroupMessage, envelope_from_wire
from chanx.core.memory import default_layer
from chanx.core.outbox import OverflowPolicy
from chanx.core.transport import ASGITransport
from chanx.core.types import ASGIReceive, ASGISend, Message, Scope
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.channels.db import CleanupMode, clean_old_connections, needs_cleanup
from chanx.ext.channels.layer import ChannelsGroupLayer
from chanx.ext.channels.settings import FromSettings
from chanx.messages.base import BaseMessage

logger = logging.getLogger("chanx.channels")

LAYER_FAILURE_CLOSE_CODE = 1011
"""Close code sent when the channel layer stops delivering (e.g. Redis went away)."""


class AsyncJsonWebsocketConsumer(AsyncWebsocketConsumer, CoreConsumer):  # type: ignore[misc]
    """A Channels websocket consumer with chanx's typed handlers.

    Configuration comes from the ``CHANX`` setting (read when used, so
    ``override_settings`` works) unless a subclass sets the attribute itself:
    ``send_completion``, ``log_websocket_message``, ``log_ignored_actions``,
    ``max_message_size``, ``close_old_connections`` (see :mod:`chanx.ext.channels.db`)
    and the outbox's ``outbox_max_messages``, ``outbox_max_bytes``, ``outbox_overflow``.

    Groups and events travel over the channel layer ``channel_layer_alias`` names in
    ``CHANNEL_LAYERS`` (``"default"``), so they reach consumers in every process. Without
    a configured channel layer, chanx's in-process layer is used: groups and events work
    within one process and ``self.channel_layer`` is ``None``. Setting ``layer`` (a chanx
    group layer) overrides both.

    Where Channels and chanx both name something, the Channels meaning is kept:
    ``as_asgi()``, ``dispatch()``, ``send()``, ``close(code=None, reason=None)``,
    ``send_json(content, close=False)``, ``accept()``. ``connect()`` and
    ``disconnect(code)`` run chanx's connection sequence; prefer the chanx hooks
    (``authenticate``, ``get_groups``, ``post_authentication``, ``on_disconnect``) over
    overriding them, and call ``super()`` if you do.
    """

    send_completion = FromSettings[bool]("SEND_COMPLETION")
    log_websocket_message = FromSettings[bool]("LOG_WEBSOCKET_MESSAGE")
    log_ignored_actions = FromSettings[Collection[str]]("LOG_IGNORED_ACTIONS")
    max_message_size = FromSettings[int]("MAX_MESSAGE_SIZE")
    close_old_connections = FromSettings[CleanupMode]("CLOSE_OLD_CONNECTIONS")
    outbox_max_messages = FromSettings[int | None]("OUTBOX_MAX_MESSAGES")
    outbox_max_bytes = FromSettings[int | None]("OUTBOX_MAX_BYTES")
    outbox_overflow = FromSettings[OverflowPolicy]("OUTBOX_OVERFLOW")
    groups: ClassVar[Sequence[str]] = ()

    channel_layer: Any
    """The Channels layer (Channels' attribute), ``None`` when none is configured."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        AsyncWebsocketConsumer.__init__(self, *args, **kwargs)
        CoreConsumer.__init__(self)
        self._serving = False
        self._layer = None
        self._dispatching = asyncio.Lock()
        self._closed = False

    # ------------------------------------------------------------------ layer

    @classmethod
    def get_layer(cls) -> GroupLayer:
        """``layer`` if set, else the Channels layer ``channel_layer_alias`` (wrapped in
        :class:`~chanx.ext.channels.layer.ChannelsGroupLayer`), else chanx's in-process
        layer."""
        if cls.layer is not None:
            return cls.layer
        layer = ChannelsGroupLayer.for_alias(cls.channel_layer_alias)
        return layer if layer is not None else default_layer()

    # ------------------------------------------------------------------ ASGI entry

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        """Serve one connection: client frames and channel-layer messages go through
        :meth:`dispatch`, one at a time, as in every Channels consumer."""
        self.scope = scope
        self.base_send = send
        self.transport = ASGITransport(send)
        self.user = scope.get("user")
        self._layer = group_layer = type(self).get_layer()
        from_layer = False
        if isinstance(group_layer, ChannelsGroupLayer):
            from_layer = True
            self.channel_layer = group_layer.channel_layer
        else:
            self.channel_layer = get_channel_layer(self.channel_layer_alias)
        reader: asyncio.Task[None] | None = None
        try:
            while True:
                message = await receive()
                async with self._dispatching:
                    if not self._closed or message["type"] == "websocket.disconnect":
                        await self.dispatch(message)
                if reader is None and from_layer and self._serving:
                    reader = asyncio.ensure_future(self._read_layer())
        except StopConsumer:
            pass
        finally:
            if reader is not None:
                # Not awaited: some channels_redis reads ignore a cancellation that lands
                # at the wrong moment (Python 3.11's wait_for) and finish seconds later.
                reader.cancel()
                reader.add_done_callback(_reader_ended)

    async def _read_layer(self) -> None:
        # Runs once the connection is in (a refused one never reads the layer), beside
        # the client loop; the dispatch lock keeps handling one message at a time.
        # Whatever ends it closes the socket; the server's disconnect then ends the
        # client loop.
        # Channels' in-memory layer scans every channel and group at the start of each
        # receive. One group_send wakes every member's reader at once: if each ran its
        # next receive (the scan) right after writing its frame, the last member would
        # write only after all the others' scans. Yielding once lets every woken reader
        # write first (bench/RESULTS.md: fan-out to 1000 members on this layer, the last
        # one served about 4x sooner, with 40% less CPU). Other layers' receives are
        # cheap: no yield there.
        scans_on_receive = isinstance(self.channel_layer, InMemoryChannelLayer)
        while True:
            try:
                message = await self.channel_layer.receive(self.channel_name)
            except Exception as exc:
                async with self._dispatching:
                    await self._close_after(f"{self._layer_name()} stopped delivering", exc)
                return
            async with self._dispatching:
                if self._closed:
                    return
                try:
                    await self.dispatch(message)
                except StopConsumer:
                    await self._close_after(f"{message['type']!r} stopped the consumer", None, 1000)
                    return
                except Exception as exc:
                    await self._close_after(f"{message['type']!r} from the layer failed", exc)
                    return
            if scans_on_receive:
                await asyncio.sleep(0)

    async def dispatch(self, message: Message) -> None:
        """Route a message to the method named after its type (Channels' rule), after
        cleaning up old database connections when ``close_old_connections`` asks for it.
        Relayed group messages run no user code and never trigger a clean-up."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if (message["type"] != WIRE_TYPE or message.get("kind") != "message") and needs_cleanup(
            self.close_old_connections
        ):
            await clean_old_connections()
        await handler(message)

    # ------------------------------------------------------------------ websocket events

    async def websocket_connect(self, message: Message) -> None:
        """Channels' handler for the connect event: runs :meth:`connect`, and ends the
        consumer when the connection was refused."""
        await self.connect()
        if not self._serving:
            await self.handle_disconnect(1006)
            raise StopConsumer

    async def connect(self) -> None:
        """Accept, authenticate, join groups (chanx's connection sequence)."""
        self._serving = await self.handle_connect()

    async def websocket_receive(self, message: Message) -> None:
        """Channels' handler for a frame: passes it to :meth:`receive`."""
        text = message.get("text")
        if text is not None:
            await self.receive(text_data=text)
        else:
            await self.receive(bytes_data=message.get("bytes") or b"")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Handle one frame: text is validated and routed to its handler."""
        if text_data is not None:
            await self.handle_text(text_data)
        else:
            await self.handle_bytes(bytes_data or b"")

    async def websocket_disconnect(self, message: Message) -> None:
        """Channels' handler for the close: runs :meth:`disconnect`, cleans up database
        connections as configured, and ends the consumer."""
        await self.disconnect(message.get("code", 1005))
        if needs_cleanup(self.close_old_connections):
            await clean_old_connections()
        raise StopConsumer

    async def disconnect(self, code: int) -> None:
        """Leave groups and run ``on_disconnect`` (chanx's disconnect sequence)."""
        await self.handle_disconnect(code)

    async def chanx_envelope(self, message: Message) -> None:
        """A chanx group message or event from the channel layer."""
        try:
            envelope = envelope_from_wire(cast("dict[str, Any]", message))
        except (KeyError, ValueError):
            logger.warning("ignored a malformed chanx envelope on %s", self.channel_name)
            return
        await self.deliver(envelope)

    def _layer_name(self) -> str:
        layer = self._layer
        name = layer.describe() if isinstance(layer, ChannelsGroupLayer) else repr(layer)
        return f"channel layer {name}"

    async def _close_after(
        self, what: str, error: BaseException | None, code: int = LAYER_FAILURE_CLOSE_CODE
    ) -> None:
        if error is not None:
            logger.error(
                "%s for %s (%s: %s); closing the connection with code %d",
                what,
                self.channel_name,
                type(error).__name__,
                error,
                code,
                exc_info=error,
            )
        else:
            logger.info("%s for %s; closing with code %d", what, self.channel_name, code)
        self._closed = True
        try:
            await self.transport.close(code)
        finally:
            await self.handle_disconnect(code)

    # ------------------------------------------------------------------ sending

    async def send_json(self, content: Any, close: bool = False) -> None:
        """Send any JSON value (Channels' signature: ``close=True`` closes afterwards)."""
        await CoreConsumer.send_json(self, content)
        if close:
            await self.close(close)

    async def broadcast_message(
        self,
        message: BaseMessage,
        groups: Iterable[str] | str | None = None,
        exclude_current: bool = False,
    ) -> None:
        """Send ``message`` to every member of ``groups`` (default: this connection's).

        Other members get it through the channel layer; this connection gets its own
        copy directly, so a handler's broadcast reaches its sender before the handler's
        ``complete``, as on every chanx adapter.
        """
        layer = self._layer_or_default()
        if not isinstance(layer, ChannelsGroupLayer):
            await super().broadcast_message(message, groups, exclude_current)
            return
        text = message.model_dump_json()
        joined = self.joined_groups
        targets = joined if groups is None else (groups,) if isinstance(groups, str) else groups
        to_others = GroupMessage(text, self.channel_name)
        to_me = GroupMessage(text)
        for group in tuple(targets):
            await layer.send_group(group, to_others)
            if not exclude_current and group in joined:
                await self.deliver(to_me)


def _reader_ended(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.debug("layer reader ended with %r", task.exception())
