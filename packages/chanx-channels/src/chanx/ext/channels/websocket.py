"""The chanx consumer for Django Channels.

:class:`AsyncJsonWebsocketConsumer` is a Channels ``AsyncJsonWebsocketConsumer`` (the
same name, and a subclass of it) running the chanx engine: typed handlers, completion
signals, error replies, authentication, groups and events. What a Channels consumer relies
on keeps its Channels meaning: ``as_asgi()``, ``scope``, ``channel_layer``,
``channel_name`` (set before ``connect()`` runs), ``connect()`` / ``accept()`` /
``close()`` / ``DenyConnection`` / ``AcceptConnection``, ``disconnect(code)``,
``receive_json(content)`` (for the frames no chanx handler takes), ``send_json``,
``encode_json`` / ``decode_json`` and type-named handlers for channel-layer messages::

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
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any, ClassVar, cast

from channels.consumer import get_handler_name
from channels.exceptions import AcceptConnection, DenyConnection, StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer as ChannelsJsonConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from pydantic_core import to_json

from chanx.constants import CLOSE_LAYER_UNAVAILABLE, CLOSE_SERVER_ERROR
from chanx.core.auth import known_user
from chanx.core.layer import (
    WIRE_TYPE,
    GroupLayer,
    GroupMessage,
    LayerUnavailable,
    envelope_from_wire,
)
from chanx.core.layer import outages as layer_outages
from chanx.core.memory import default_layer
from chanx.core.observe import current_observer
from chanx.core.outbox import OverflowPolicy
from chanx.core.transport import ASGITransport, ConnectionGone
from chanx.core.types import ASGIReceive, ASGISend, Message, Scope
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.channels.db import CleanupMode, clean_old_connections, needs_cleanup
from chanx.ext.channels.layer import UNAVAILABLE_ERRORS, ChannelsGroupLayer
from chanx.ext.channels.settings import FromSettings
from chanx.messages.base import BaseMessage

logger = logging.getLogger("chanx.channels")

LAYER_FAILURE_CLOSE_CODE = CLOSE_LAYER_UNAVAILABLE
"""Close code sent when the channel layer stops delivering (e.g. Redis went away)."""


class ChannelsTransport(ASGITransport):
    """The engine's transport on a Channels connection.

    The handshake answers with the subprotocol and headers the consumer's
    ``accept(subprotocol, headers)`` asked for, and only when the first frame goes out or
    the connection is in its groups: a client that sees its connection accepted is in its
    groups already, as with Channels (which joins before accepting). Once the connection
    is closed (by the engine or by ``close()``), frames are dropped instead of reaching a
    server that would refuse them.
    """

    __slots__ = ("closed", "headers", "subprotocol")

    def __init__(self, send: ASGISend) -> None:
        super().__init__(send)
        self.subprotocol: str | None = None
        self.headers: Iterable[Any] | None = None
        self.closed = False

    async def accept(self, subprotocol: str | None = None) -> None:
        message: dict[str, Any] = {
            "type": "websocket.accept",
            "subprotocol": self.subprotocol or subprotocol,
        }
        if self.headers:
            message["headers"] = list(self.headers)
        self._handshake = message

    async def send_text(self, text: str) -> None:
        if self._handshake is not None:
            await self.answer_handshake()
        if self.closed:
            return
        try:
            await self._send({"type": "websocket.send", "text": text})
        except self._gone as exc:
            raise ConnectionGone from exc

    async def send_frame(self, message: dict[str, Any]) -> None:
        """Send a ``websocket.send`` event the consumer made itself (Channels' ``send``:
        text as given, never re-encoded, or bytes)."""
        if self._handshake is not None:
            await self.answer_handshake()
        if self.closed:
            return
        try:
            await self._send(message)
        except self._gone as exc:
            raise ConnectionGone from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            await self.answer_handshake()  # so the client sees the code
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
            self.closed = True  # not before: a close the server refused closed nothing


class EncodingTransport(ChannelsTransport):
    """A :class:`ChannelsTransport` for consumers that override ``encode_json``: every
    frame the engine sends is re-encoded by it, so the consumer's wire format holds for
    replies, errors, group messages and completion signals alike."""

    __slots__ = ("_encode",)

    def __init__(self, send: ASGISend, encode: Callable[[Any], Awaitable[str]]) -> None:
        super().__init__(send)
        self._encode = encode

    async def send_text(self, text: str) -> None:
        await super().send_text(await self._encode(json.loads(text)))


class AsyncJsonWebsocketConsumer(ChannelsJsonConsumer, CoreConsumer):  # type: ignore[misc]
    """A Channels websocket consumer with chanx's typed handlers.

    **Connecting.** As in Channels, the connection has its ``channel_name`` (and is
    reading the channel layer) before :meth:`connect` runs, and :meth:`connect` decides:
    the default calls :meth:`accept`. :meth:`accept` answers the handshake, then runs
    chanx's connection sequence: ``authenticate()`` (a refusal closes with
    ``4000 + status``), ``get_groups()`` (default: ``groups``) joined, the
    ``authentication`` message, ``post_authentication()``. It returns once that is done,
    so code after ``await self.accept()`` sees ``self.user`` and the joined groups.
    ``close()`` before accepting, or raising ``DenyConnection``, refuses the handshake;
    raising ``AcceptConnection`` accepts. An exception from :meth:`connect` is logged and
    closes the connection with ``CLOSE_SERVER_ERROR`` (``CLOSE_LAYER_UNAVAILABLE`` when
    the channel layer is unreachable).

    **Frames.** A text frame whose ``action`` has a ``@ws_handler`` goes to it (``ping``
    included); any other goes to :meth:`receive_json` when the class overrides it, and to
    chanx's engine otherwise (an ``unknown_action`` error, or, for frames that are not
    chanx messages, a log line and no reply). Overriding :meth:`receive` replaces all of
    that, as in Channels; call ``super().receive(...)`` to keep it. ``decode_json`` and
    ``encode_json`` overrides apply to every frame, both ways.

    **Disconnecting.** chanx leaves the groups, forgets the channel and runs
    ``on_disconnect(code)``; then :meth:`disconnect` runs (Channels' hook).

    Configuration comes from the ``CHANX`` setting unless a subclass sets the attribute
    itself: ``send_completion``, ``log_websocket_message``, ``log_ignored_actions``,
    ``max_message_size``, ``close_old_connections`` (see :mod:`chanx.ext.channels.db`)
    and the outbox's ``outbox_max_messages``, ``outbox_max_bytes``, ``outbox_overflow``.

    Groups and events travel over the channel layer ``channel_layer_alias`` names in
    ``CHANNEL_LAYERS`` (``"default"``), so they reach consumers in every process. Without
    a configured channel layer, chanx's in-process layer is used: groups and events work
    within one process and ``self.channel_layer`` is ``None``. Setting ``layer`` (a chanx
    group layer) overrides both.
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
    transport: ChannelsTransport

    # What the class overrides, found when it is created.
    _decodes_frames: ClassVar[bool] = False
    _decodes_itself: ClassVar[bool] = False
    _encodes_itself: ClassVar[bool] = False
    _overrides_receive: ClassVar[bool] = False
    _frames_to_engine: ClassVar[bool] = True  # text frames may skip dispatch
    _envelopes_to_engine: ClassVar[bool] = True  # chanx envelopes may skip dispatch
    _warned: ClassVar[set[str]] = set()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("decode_json", "encode_json"):
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(
                    f"{cls.__qualname__}.{name} must be an async classmethod "
                    f"(`@classmethod async def {name}(cls, ...)`), as in Channels' "
                    "AsyncJsonWebsocketConsumer"
                )
        base = AsyncJsonWebsocketConsumer
        cls._decodes_itself = _overrides(cls, base, "decode_json")
        cls._encodes_itself = _overrides(cls, base, "encode_json")
        cls._decodes_frames = cls._decodes_itself or _overrides(cls, base, "receive_json")
        cls._overrides_receive = _overrides(cls, base, "receive") or _overrides(
            cls, base, "websocket_receive"
        )
        custom_dispatch = _overrides(cls, base, "dispatch")
        cls._frames_to_engine = not (
            custom_dispatch or cls._overrides_receive or cls._decodes_frames
        )
        cls._envelopes_to_engine = not (custom_dispatch or _overrides(cls, base, "chanx_envelope"))
        cls._warned = set()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        ChannelsJsonConsumer.__init__(self, *args, **kwargs)
        CoreConsumer.__init__(self)
        self._dispatching = asyncio.Lock()
        self._accepted = False
        self._admitted = False
        self._closing: int | None = None  # the close code once closing after a failure
        self._disconnected = False
        self._torn_down = False
        self._frame_reached_chanx = False
        self._layer_error: LayerUnavailable | None = None
        self._reader: asyncio.Task[None] | None = None
        # Followed by a test communicator only: a layer message taken and not yet
        # handled, and who waits for the end of that (see _activity).
        self._layer_message = False
        self._layer_message_done: asyncio.Future[None] | None = None

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
        """Serve one connection. As in Channels, the connection gets its channel first;
        client frames and channel-layer messages then go through :meth:`dispatch`, one
        at a time."""
        self.scope = scope
        self.base_send = send
        self.transport = (
            EncodingTransport(send, self.encode_json)
            if self._encodes_itself
            else ChannelsTransport(send)
        )
        known = known_user(scope)
        if known is not None:  # a test's user=: in place of AuthMiddlewareStack's user
            scope["user"] = known.user
        self.user = scope.get("user")
        self._layer = group_layer = type(self).get_layer()
        if isinstance(group_layer, ChannelsGroupLayer):
            self.channel_layer = group_layer.channel_layer
        else:
            self.channel_layer = get_channel_layer(self.channel_layer_alias)
        try:
            await self.register()
        except LayerUnavailable as exc:
            self._layer_error = exc  # the connect event closes with CLOSE_LAYER_UNAVAILABLE
        else:
            if isinstance(group_layer, ChannelsGroupLayer):
                self._reader = asyncio.ensure_future(self._read_layer())
        code = 1000
        frames_to_engine = self._frames_to_engine
        try:
            while True:
                message = await receive()
                async with self._dispatching:
                    if self._closing is not None and message["type"] != "websocket.disconnect":
                        continue
                    text = message.get("text") if frames_to_engine else None
                    if text is not None and message["type"] == "websocket.receive":
                        # What dispatch -> websocket_receive -> receive would do, for a
                        # class that overrides none of them, minus three calls per frame.
                        if needs_cleanup(self.close_old_connections):
                            await clean_old_connections()
                        await self.handle_text(text)
                    else:
                        await self.dispatch(message)
        except StopConsumer:
            pass
        except BaseException:
            code = CLOSE_SERVER_ERROR
            raise
        finally:
            reader = self._reader
            if reader is not None:
                # Not awaited: some channels_redis reads ignore a cancellation that lands
                # at the wrong moment (Python 3.11's wait_for) and finish seconds later.
                reader.cancel()
                reader.add_done_callback(_reader_ended)
            if not self._disconnected:
                # Whatever ended the consumer, the client is told: a server keeps a
                # socket open after its application returned.
                await self._close_transport(code if self._closing is None else self._closing)
            await self._teardown(1006)

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

    # ------------------------------------------------------------------ connecting

    async def websocket_connect(self, message: Message) -> None:
        """Channels' handler for the connect event: runs :meth:`connect`
        (``AcceptConnection`` accepts, ``DenyConnection`` refuses, as in Channels) and
        ends the consumer when the connection was refused."""
        observer = current_observer.get()
        if observer is not None:
            observer.consumer_started(self)
        try:
            if self._layer_error is not None:
                await self._fail_connect(self._layer_error)
            else:
                try:
                    await self.connect()
                except AcceptConnection:
                    await self.accept()
                except DenyConnection:
                    await self.close()
        except Exception as exc:
            await self._fail_connect(exc)
        finally:
            if observer is not None:
                observer.consumer_ready(self)
        if self._closing is not None or (self.transport.closed and not self._admitted):
            raise StopConsumer
        if not self._accepted and not self.transport.closed:
            self._warn_once(
                "pending",
                "%s.connect() returned without accept() or close(): the handshake stays "
                "pending until one of them is called, as in Channels",
            )

    async def connect(self) -> None:
        """Channels' hook for a new connection; the default accepts it (:meth:`accept`
        runs chanx's connection sequence)."""
        await self.accept()

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[Any] | None = None
    ) -> None:
        """Accept the handshake (Channels' signature), then authenticate, join groups,
        send the ``authentication`` message and run ``post_authentication``. Returns once
        the connection is in, or closed because authentication refused it.

        ``subprotocol`` defaults to what :meth:`select_subprotocol` picks. A second call
        does nothing.
        """
        if self._accepted:
            logger.debug("%s.accept() called again; ignored", type(self).__name__)
            return
        self._accepted = True
        self.transport.subprotocol = subprotocol
        self.transport.headers = headers
        # websocket_connect reports when connecting is over (connect() may go on after
        # accept()), so the engine's own reports are left out here.
        token = current_observer.set(None)
        try:
            self._admitted = await self.handle_connect()
        finally:
            current_observer.reset(token)
        await self.transport.answer_handshake()

    async def _fail_connect(self, error: BaseException) -> None:
        name = type(self).__name__
        if _unavailable(error):
            code = CLOSE_LAYER_UNAVAILABLE
            # One warning per outage, whatever the number of connections it turns away.
            layer_outages.note(f"{name} closed a connection (close {code})", error)
        else:
            code = CLOSE_SERVER_ERROR
            logger.error(
                "%s.connect() failed (%s: %s); closing the connection with code %d",
                name,
                type(error).__name__,
                error,
                code,
                exc_info=error,
            )
        self._closing = code
        if self.transport.closed:
            return
        if not self._accepted:
            self._accepted = True
            await self.transport.accept()  # answered by the close, so the client sees the code
        await self._close_transport(code)

    # ------------------------------------------------------------------ frames

    async def websocket_receive(self, message: Message) -> None:
        """Channels' handler for a frame: passes it to :meth:`receive`."""
        text = message.get("text")
        if self._overrides_receive:
            self._frame_reached_chanx = False
        if text is not None:
            await self.receive(text_data=text)
        else:
            await self.receive(bytes_data=message.get("bytes") or b"")
        if self._overrides_receive and not self._frame_reached_chanx:
            self._warn_once(
                "receive",
                "%s.receive() kept a frame from chanx (no super().receive()): frames it "
                "keeps never reach @ws_handler methods or the built-in ping",
                level=logging.INFO,
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Channels' hook for one frame. A text frame goes to the ``@ws_handler`` of its
        ``action``; one no handler takes goes to :meth:`receive_json` when the class
        overrides it. Binary frames are answered with an ``error`` (chanx speaks JSON
        text frames)."""
        self._frame_reached_chanx = True
        if text_data is None:
            await self.handle_bytes(bytes_data or b"")
        elif self._decodes_frames:
            await self._receive_decoded(text_data)
        else:
            await self.handle_text(text_data)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Channels' hook for a decoded frame; called for the frames no ``@ws_handler``
        takes when a subclass overrides it. This default hands ``content`` to chanx's
        engine: an unknown action gets an ``error`` reply, a frame that is not a chanx
        message is logged and ignored."""
        text = self._engine_text(content)
        if text is not None:
            await self.handle_text(text)

    async def _receive_decoded(self, text: str) -> None:
        limit = self.max_message_size
        if len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit:
            await self.handle_text(text)  # refused there, as every oversized frame
            return
        try:
            content = await self.decode_json(text)
        except (ValueError, RecursionError) as exc:  # json.loads on deep nesting: RecursionError
            self._refused(
                "not a chanx message",
                "ignored a frame decode_json() refused (%s)",
                type(exc).__name__,
            )
            return
        action = content.get("action") if isinstance(content, dict) else None
        if isinstance(action, str) and action in self.message_handlers.by_action:
            if self._decodes_itself:
                reencoded = self._engine_text(content)
                if reencoded is None:
                    return
                text = reencoded
            await self.handle_text(text)
        else:
            await self.receive_json(content)

    def _engine_text(self, content: Any) -> str | None:
        """``content`` (what ``decode_json`` returned) as JSON text for the engine;
        ``None``, logged, when it has none (a string holding half of a surrogate pair,
        nesting deeper than the serializer goes): like text that is not JSON, such a
        frame is ignored."""
        try:
            return to_json(content).decode()
        except (ValueError, RecursionError) as exc:
            self._refused(
                "not a chanx message",
                "ignored a frame that has no JSON form (%s)",
                type(exc).__name__,
            )
            return None

    # ------------------------------------------------------------------ disconnecting

    async def websocket_disconnect(self, message: Message) -> None:
        """Channels' handler for the close: chanx leaves the groups and runs
        ``on_disconnect``, then :meth:`disconnect` runs, then database connections are
        cleaned up as configured, and the consumer ends."""
        code = message.get("code", 1005)
        self._disconnected = True
        await self._teardown(code)
        try:
            await self.disconnect(code)
        finally:
            if needs_cleanup(self.close_old_connections):
                await clean_old_connections()
        raise StopConsumer

    async def disconnect(self, code: int) -> None:
        """Channels' hook, run once the connection has closed, after chanx has left its
        groups and run ``on_disconnect``. Nothing to call ``super()`` for."""

    async def _teardown(self, code: int) -> None:
        if not self._torn_down:
            self._torn_down = True
            await self.handle_disconnect(code)

    # ------------------------------------------------------------------ channel layer

    async def chanx_envelope(self, message: Message) -> None:
        """A chanx group message or event from the channel layer."""
        try:
            envelope = envelope_from_wire(cast("dict[str, Any]", message))
        except (KeyError, ValueError):
            logger.warning("ignored a malformed chanx envelope on %s", self.channel_name)
            return
        await self.deliver(envelope)

    async def _read_layer(self) -> None:
        # Beside the client loop, from registration on (as Channels reads from its start).
        # Channels' in-memory layer scans every channel and group at the start of each
        # receive. One group_send wakes every member's reader at once: if each ran its
        # next receive (the scan) right after writing its frame, the last member would
        # write only after all the others' scans. Yielding once lets every woken reader
        # write first (bench/RESULTS.md: fan-out to 1000 members on this layer, the last
        # one served about 4x sooner, with 40% less CPU). Other layers' receives are
        # cheap: no yield there.
        #
        # chanx's own envelopes only enter the connection's outbox (events wait there
        # for the consumer's event worker), so they are taken without the dispatch
        # lock: while a handler waits for a client that reads slowly, they keep leaving
        # the channel layer, whose channels drop what is over their capacity, and queue
        # in the outbox, bounded and in order. Other messages (type-named handlers of
        # the user's) are dispatched one at a time with client frames, as in Channels.
        scans_on_receive = isinstance(self.channel_layer, InMemoryChannelLayer)
        envelopes_to_engine = self._envelopes_to_engine
        observed = current_observer.get() is not None
        while True:
            try:
                message = await self.channel_layer.receive(self.channel_name)
            except Exception as exc:
                await self._layer_failed(exc)
                return
            if observed:
                self._layer_message = True
            try:
                if self._closing is not None:
                    return
                if envelopes_to_engine and message.get("type") == WIRE_TYPE:
                    try:
                        # dispatch's work for chanx's own messages, one call less.
                        if message.get("kind") != "message" and needs_cleanup(
                            self.close_old_connections
                        ):
                            await clean_old_connections()
                        await self.chanx_envelope(message)
                    except Exception as exc:
                        async with self._dispatching:
                            await self._layer_message_failed(message, exc)
                        return
                elif not await self._dispatch_layer_message(message):
                    return
            finally:
                if observed:
                    self._end_layer_message()
            if scans_on_receive:
                await asyncio.sleep(0)

    async def _dispatch_layer_message(self, message: Message) -> bool:
        """Dispatch a layer message that is not chanx's own, one at a time with client
        frames; returns whether the reader goes on."""
        async with self._dispatching:
            if self._closing is not None:
                return False
            try:
                await self.dispatch(message)
            except StopConsumer:
                logger.info(
                    "%r stopped the consumer of %s; closing with code 1000",
                    message.get("type"),
                    self.channel_name,
                )
                await self._close_for(1000)
                return False
            except Exception as exc:
                await self._layer_message_failed(message, exc)
                return False
        return True

    async def _layer_message_failed(self, message: Message, exc: Exception) -> None:
        """A layer message's handling raised: log it, close with ``CLOSE_SERVER_ERROR``
        (the caller holds the dispatch lock)."""
        logger.error(
            "%r from the layer failed for %s (%s: %s); closing with code %d",
            message.get("type"),
            self.channel_name,
            type(exc).__name__,
            exc,
            CLOSE_SERVER_ERROR,
            exc_info=exc,
        )
        await self._close_for(CLOSE_SERVER_ERROR)

    def _end_layer_message(self) -> None:
        self._layer_message = False
        waiter, self._layer_message_done = self._layer_message_done, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _activity(self) -> Awaitable[None] | None:
        """The engine's activity (outbox, events), plus a message from the channel layer
        being handled or waiting in an in-memory channel layer's queue for this
        connection (test communicators follow these to know when all is done)."""
        activity = super()._activity()
        if activity is not None:
            return activity
        channels = getattr(self.channel_layer, "channels", None)  # InMemoryChannelLayer's
        queue = channels.get(self.channel_name) if isinstance(channels, dict) else None
        if not self._layer_message and (queue is None or queue.empty()):
            return None
        if self._layer_message_done is None:
            self._layer_message_done = asyncio.get_running_loop().create_future()
        return self._layer_message_done

    async def _layer_failed(self, error: BaseException) -> None:
        """This connection's layer read failed. An unreachable layer may have lost every
        group membership of this process (channels_redis keeps them in Redis), so every
        connection of the process on that layer is closed: clients reconnect and join
        again once it is back. Any other failure closes this connection only."""
        if self._closing is not None:
            return
        if not _unavailable(error):
            logger.error(
                "reading the channel layer failed for %s (%s: %s); closing with code %d",
                self.channel_name,
                type(error).__name__,
                error,
                CLOSE_SERVER_ERROR,
                exc_info=error,
            )
            async with self._dispatching:
                await self._close_for(CLOSE_SERVER_ERROR)
            return
        layer = cast("ChannelsGroupLayer", self._layer)
        peers = [
            peer
            for peer in layer.receivers()
            if isinstance(peer, AsyncJsonWebsocketConsumer) and peer._closing is None
        ]
        for peer in peers:
            peer._closing = CLOSE_LAYER_UNAVAILABLE  # no frame is handled from now on
        self._closing = CLOSE_LAYER_UNAVAILABLE
        news = await layer.connection_lost()
        # The first failure seen gets the traceback; more while the layer stays down
        # (clients reconnecting during an outage) get one line each.
        logger.log(
            logging.ERROR if news else logging.WARNING,
            "channel layer %s stopped delivering (%s: %s); closing its %d connection(s) "
            "in this process with code %d",
            layer.describe(),
            type(error).__name__,
            error,
            len(peers),
            CLOSE_LAYER_UNAVAILABLE,
            exc_info=error if news else None,
        )
        for peer in peers:
            if peer is not self:
                _in_background(peer._close_when_free(CLOSE_LAYER_UNAVAILABLE))
        async with self._dispatching:
            await self._close_for(CLOSE_LAYER_UNAVAILABLE)

    async def _close_when_free(self, code: int) -> None:
        async with self._dispatching:
            await self._close_for(code)

    async def _close_for(self, code: int) -> None:
        """Close from the server side after a failure (the caller holds the dispatch
        lock): frames are no longer handled, groups are left at once."""
        self._closing = code
        await self._close_transport(code)
        await self._teardown(code)

    async def _close_transport(self, code: int) -> None:
        if self.transport.closed:
            return
        logger.debug("closing %s with code %d", getattr(self, "channel_name", "?"), code)
        try:
            await self.transport.close(code)
        except Exception:
            logger.warning("could not close the connection with code %d", code, exc_info=True)

    # ------------------------------------------------------------------ sending

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send a frame (Channels' signature: ``close=True`` closes afterwards). It goes
        through the connection's outbox, after the frames already there (replies, group
        messages), as every frame of the connection does. Frames sent once the
        connection is closed, or the client has gone, are dropped."""
        if text_data is not None:
            frame: dict[str, Any] = {"type": "websocket.send", "text": text_data}
        elif bytes_data is not None:
            frame = {"type": "websocket.send", "bytes": bytes_data}
        else:
            raise ValueError("You must pass one of bytes_data or text_data")
        transport = self.transport
        if transport.closed:
            logger.debug("dropped a frame sent after the close on %s", self.channel_name)
            return
        try:
            await self.outbox.write(lambda: transport.send_frame(frame))
        except ConnectionGone:
            logger.debug("dropped a frame for %s: the client has gone", self.channel_name)
            return
        if close:
            await self.close(close)

    async def send_json(self, content: Any, close: bool = False) -> None:
        """Send any JSON value, encoded by :meth:`encode_json` (Channels' signature:
        ``close=True`` closes afterwards)."""
        await self.send(text_data=await self.encode_json(content), close=close)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close the connection (Channels' signature; no ``code`` means 1000). Before
        :meth:`accept`, this refuses the handshake. The close goes through the outbox:
        after this connection's own frames already there; group messages and events
        still queued are discarded."""
        transport = self.transport
        if transport.closed:
            return
        number = 1000 if code is None or isinstance(code, bool) else code
        try:
            await self.outbox.close(number, reason or "")
        except ConnectionGone:
            logger.debug("%s: the client had gone before the close", self.channel_name)
        transport.closed = True

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
        text = message.model_dump_json(by_alias=True)
        joined = self.joined_groups
        targets = joined if groups is None else (groups,) if isinstance(groups, str) else groups
        to_others = GroupMessage(text, self.channel_name)
        to_me = GroupMessage(text)
        for group in tuple(targets):
            await layer.send_group(group, to_others)
            if not exclude_current and group in joined:
                await self.deliver(to_me)

    # ------------------------------------------------------------------ internals

    def _warn_once(self, key: str, text: str, level: int = logging.WARNING) -> None:
        warned = type(self)._warned
        if key not in warned:
            warned.add(key)
            logger.log(level, text, type(self).__qualname__)


def _overrides(cls: type, base: type, name: str) -> bool:
    """Whether ``cls`` defines ``name`` differently from ``base``."""
    mine, theirs = getattr(cls, name), getattr(base, name)
    return getattr(mine, "__func__", mine) is not getattr(theirs, "__func__", theirs)


def _unavailable(error: BaseException) -> bool:
    return isinstance(error, (LayerUnavailable, *UNAVAILABLE_ERRORS))


_background: set[asyncio.Task[None]] = set()


def _in_background(work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _reader_ended(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.debug("layer reader ended with %r", task.exception())
