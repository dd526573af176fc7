"""The framework-neutral consumer: one instance per connection, handlers routed by action.

Adapters drive a consumer through its entry points (``handle_connect``, ``handle_text``,
``handle_bytes``, ``handle_disconnect``, and ``deliver`` for what the group layer brings)
after setting ``scope`` and ``transport``; :meth:`AsyncJsonWebsocketConsumer.as_asgi` is
the plain-ASGI driver.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl

from pydantic import TypeAdapter, ValidationError

from chanx.constants import (
    AUTH_FAILURE_CLOSE_BASE,
    CLOSE_INVALID_GROUP,
    CLOSE_LAYER_UNAVAILABLE,
    CLOSE_SERVER_ERROR,
    CLOSE_SLOW_CONSUMER,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_OUTBOX_MAX_BYTES,
    DEFAULT_OUTBOX_MAX_MESSAGES,
    EVENT_ACTION_COMPLETE,
    GROUP_ACTION_COMPLETE,
    MESSAGE_ACTION_COMPLETE,
)
from chanx.core.auth import Authenticator, Authorizes, AuthResult, known_user
from chanx.core.binding import current_layer
from chanx.core.decorators import ws_handler
from chanx.core.eager import run_detached
from chanx.core.escape import for_log
from chanx.core.groups import InvalidGroupName, group_name_rule_of
from chanx.core.handlers import Handler, HandlerTable, union_adapter
from chanx.core.layer import (
    Envelope,
    EventEnvelope,
    GroupLayer,
    GroupMessage,
    LayerUnavailable,
)
from chanx.core.layer import outages as layer_outages
from chanx.core.observe import current_observer
from chanx.core.origins import REFUSED_CLOSE_CODE, OriginPolicy, log_refusal, origin_refusal
from chanx.core.outbox import Outbox, OverflowPolicy, check_limits
from chanx.core.refusals import RefusalLog
from chanx.core.sync import call_sync
from chanx.core.transport import ConnectionGone, Transport
from chanx.core.validation import public_errors
from chanx.messages.base import BaseMessage, message_classes_for
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import (
    BUILTIN_OUTGOING,
    AuthenticationMessage,
    AuthenticationPayload,
    ErrorDetail,
    ErrorMessage,
    ErrorPayload,
    PongMessage,
)

if TYPE_CHECKING:
    from chanx.core.asgi import ConsumerApp
    from chanx.core.types import Scope

logger = logging.getLogger("chanx.consumer")

_COMPLETE = json.dumps({"action": MESSAGE_ACTION_COMPLETE, "payload": None}, separators=(",", ":"))
_GROUP_COMPLETE = json.dumps(
    {"action": GROUP_ACTION_COMPLETE, "payload": None}, separators=(",", ":")
)
_EVENT_COMPLETE = json.dumps(
    {"action": EVENT_ACTION_COMPLETE, "payload": None}, separators=(",", ":")
)

_PONG = PongMessage()  # one for every ping: it has nothing of its own

# Validation errors that mean "this frame is not a chanx message": logged, never answered.
_NOT_A_MESSAGE = {
    "json_invalid": "not valid JSON",
    "dict_type": "not a JSON object",
    "model_type": "not a JSON object",
    "model_attributes_type": "not a JSON object",
    "union_tag_not_found": "no 'action' key",
}


class AsyncJsonWebsocketConsumer:
    """Base class for typed WebSocket consumers.

    Declare each message as a :class:`~chanx.messages.base.BaseMessage` subclass and write
    one ``@ws_handler`` method per message; incoming frames are validated and routed by
    their ``action``. Server-side events go to ``@event_handler`` methods.

    Configuration is by class attribute:

    * ``send_completion``: send ``complete`` / ``group_complete`` / ``event_complete``
      after each handled message, relayed group message and handled event;
    * ``log_websocket_message``: log each received and sent action (INFO, logger
      ``chanx.consumer``), except those in ``log_ignored_actions``; off by default (a
      line per message is a cost on every message; turn it on while developing);
    * ``max_message_size``: largest text frame, in UTF-8 bytes, that is parsed;
    * ``groups``: groups every connection joins (override :meth:`get_groups` to compute
      them, e.g. from ``self.path_params`` with :func:`~chanx.core.groups.group_name`);
      a name the layer's rule refuses closes the connection with 4400;
    * ``allowed_origins``: which browser origins may connect (see
      :mod:`chanx.core.origins`); by default a cross-origin handshake carrying cookies is
      refused;
    * ``authenticator``: an :class:`~chanx.core.auth.Authenticator` (or override
      :meth:`authenticate`);
    * ``layer``: the :class:`~chanx.core.layer.GroupLayer`; when unset, the layer bound
      to the app (see :mod:`chanx.core.binding`), else the process-wide in-memory layer;
    * ``outgoing_messages``: message classes this consumer sends outside any handler
      (from ``post_authentication``, ``on_disconnect``, a task); handlers declare theirs
      with their return annotation and ``output_type``. The generated AsyncAPI document
      and the test communicator's contract check count them as declared.
    * ``outbox_max_messages``, ``outbox_max_bytes``, ``outbox_overflow``: the bounds of
      the connection's outbox (group messages and events waiting for a client that reads
      slowly; ``None``: unbounded) and what happens over them (see :attr:`outbox`).
    """

    send_completion: ClassVar[bool] = False
    log_websocket_message: ClassVar[bool] = False
    log_ignored_actions: ClassVar[Collection[str]] = ()
    max_message_size: ClassVar[int] = DEFAULT_MAX_MESSAGE_SIZE
    groups: ClassVar[Sequence[str]] = ()
    allowed_origins: ClassVar[Sequence[str] | None] = None
    authenticator: ClassVar[Authenticator | None] = None
    layer: ClassVar[GroupLayer | None] = None
    outgoing_messages: ClassVar[Sequence[type[BaseMessage]]] = ()
    outbox_max_messages: ClassVar[int | None] = DEFAULT_OUTBOX_MAX_MESSAGES
    outbox_max_bytes: ClassVar[int | None] = DEFAULT_OUTBOX_MAX_BYTES
    outbox_overflow: ClassVar[OverflowPolicy] = "close"

    message_handlers: ClassVar[HandlerTable]
    """Client-message handlers of this class, by action (built at class creation)."""
    event_handlers: ClassVar[HandlerTable]
    """Event handlers of this class, by action (built at class creation)."""

    scope: Scope
    channel_name: str
    user: Any
    _outbox: Outbox

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._build_tables(_defining_namespace())
        if "allowed_origins" in cls.__dict__:
            OriginPolicy.of(cls.allowed_origins)  # a malformed entry fails here, not later
        _check_outbox_settings(cls)

    @classmethod
    def _build_tables(cls, localns: Mapping[str, Any] | None = None) -> None:
        cls.message_handlers = HandlerTable.build(cls, "message", localns)
        cls.event_handlers = HandlerTable.build(cls, "event", localns)
        cls._outgoing_adapter = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = None
        self._layer: GroupLayer | None = None
        # A tuple, replaced on each join and leave: a tuple of strings is no object for
        # the garbage collector to scan (a list would be, for as long as the connection
        # is open), and it is its own snapshot for broadcasts and the disconnect.
        self._joined: tuple[str, ...] = ()
        # Handlers take turns on one connection; only event handlers can run beside a
        # message handler, so consumers without them need no lock.
        self._lock = asyncio.Lock() if self.event_handlers.by_action else None
        self._ending: asyncio.Task[None] | None = None
        self._refusals: RefusalLog | None = None
        self._connected = False
        self._registered = False

    # ------------------------------------------------------------------ built-in handlers

    @ws_handler(summary="Liveness check")
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        """Answer ``ping`` with ``pong``."""
        return _PONG

    # ------------------------------------------------------------------ hooks to override

    async def authenticate(self) -> AuthResult | None:
        """Decide whether this connection may proceed; ``None`` means no authentication
        step (and no ``authentication`` message). Defaults to ``self.authenticator``."""
        if self.authenticator is None:
            return None
        return await self.authenticator.authenticate(self)

    async def authorize(self, user: Any) -> AuthResult:
        """Decide for a connection whose user is known without credentials (a test
        connecting as a user: ``WebsocketCommunicator(app, path, user=alice)``, see
        :class:`~chanx.core.auth.KnownUser`); runs instead of :meth:`authenticate`.
        Defaults to the ``authenticator``'s ``authorize(consumer, user)`` when it has
        one (its checks other than credentials), else admits ``user``."""
        authenticator = self.authenticator
        if isinstance(authenticator, Authorizes):
            return await authenticator.authorize(self, user)
        return AuthResult.allow(user)

    async def get_groups(self) -> Iterable[str]:
        """Groups this connection joins once authenticated; defaults to ``groups``."""
        return self.groups

    async def post_authentication(self) -> None:
        """Runs once the connection is accepted, authenticated and in its groups."""

    async def on_disconnect(self, code: int) -> None:
        """Runs after the connection has closed and left its groups."""

    def select_subprotocol(self, requested: Sequence[str]) -> str | None:
        """The subprotocol to accept, from those the client offered (none by default)."""
        return None

    # ------------------------------------------------------------------ connection info

    @property
    def path_params(self) -> dict[str, Any]:
        """Path parameters from the router: Starlette/FastAPI/Litestar ``path_params`` or
        Channels ``url_route["kwargs"]``."""
        params = self.scope.get("path_params")
        if params is None:
            params = self.scope.get("url_route", {}).get("kwargs", {})
        return dict(params)

    @property
    def query_params(self) -> dict[str, str]:
        """The query string, last value winning for repeated keys."""
        raw = self.scope.get("query_string", b"")
        return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))

    @property
    def headers(self) -> dict[str, str]:
        """Request headers, names lower-cased, decoded as latin-1."""
        return {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in self.scope.get("headers", ())
        }

    @property
    def auth(self) -> Any:
        """The credentials authentication middleware put in ``scope["auth"]`` (Starlette's
        ``AuthCredentials``, Litestar's ``connection.auth``); ``None`` without."""
        return self.scope.get("auth")

    @property
    def joined_groups(self) -> tuple[str, ...]:
        """The groups this connection is in now."""
        return self._joined

    @property
    def transport(self) -> Transport:
        """How the engine talks to the client (set by the adapter before connecting)."""
        return self._transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self._transport = transport
        outbox: Outbox | None = self.__dict__.get("_outbox")
        if outbox is None:
            self._outbox = Outbox(
                transport,
                self,
                max_messages=self.outbox_max_messages,
                max_bytes=self.outbox_max_bytes,
                overflow=self.outbox_overflow,
            )
        else:
            outbox.bind(transport)

    @property
    def outbox(self) -> Outbox:
        """This connection's outbox: every frame to the client goes through it, in order.

        Group messages, events and ``send_to`` deliveries never wait on the client: they
        are written at once when the connection is idle, else queued within
        ``outbox_max_messages`` / ``outbox_max_bytes``. Over a bound, ``outbox_overflow``
        applies: ``"close"`` closes the connection with
        :data:`~chanx.constants.CLOSE_SLOW_CONSUMER` (4429), ``"drop_oldest"`` drops the
        oldest queued ones (counted in ``outbox.dropped``). The handler's own replies are
        never dropped: behind a backlog, the handler waits for them.
        """
        outbox: Outbox | None = self.__dict__.get("_outbox")
        if outbox is None:
            raise RuntimeError("the consumer has no transport yet")
        return outbox

    # ------------------------------------------------------------------ sending

    def send_message(self, message: BaseMessage) -> Awaitable[None]:
        """Send one message to this connection's client, after what its outbox holds;
        await the result: it is done once the message is written. (A plain method
        returning the outbox's awaitable: one coroutine less per reply.)"""
        if self.log_websocket_message and logger.isEnabledFor(logging.INFO):
            self._log("sent", message.action)
        # model_dump_json(by_alias=True) without its keyword handling, once per message
        text = message.__pydantic_serializer__.to_json(message, by_alias=True).decode()
        return self._outbox.send(text)

    def send_json(self, data: Any) -> Awaitable[None]:
        """Send any JSON-serializable value (no model, no validation); await the result,
        as for :meth:`send_message`."""
        return self._outbox.send(json.dumps(data, separators=(",", ":")))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close this connection (after this connection's own queued replies; group
        messages and events still queued are discarded)."""
        await self._outbox.close(code, reason)

    async def broadcast_message(
        self,
        message: BaseMessage,
        groups: Iterable[str] | str | None = None,
        exclude_current: bool = False,
    ) -> None:
        """Send ``message`` to every member of ``groups`` (default: the groups this
        connection is in). It is serialized once, whatever the number of members; each
        member gets ``group_complete`` after it when its consumer sends completions."""
        envelope = GroupMessage(
            message.model_dump_json(by_alias=True), self.channel_name if exclude_current else None
        )
        layer = self._layer_or_default()
        targets = self._joined if groups is None else _checked(layer, groups)
        for group in targets:
            await layer.send_group(group, envelope)

    async def join_group(self, group: str) -> None:
        """Add this connection to ``group`` (not once it has disconnected); a name the
        layer's rule refuses raises :class:`~chanx.core.groups.InvalidGroupName`."""
        if self._connected and group not in self._joined:
            layer = self._layer_or_default()
            group_name_rule_of(layer).check(group, layer)
            await layer.join(group, self)
            self._joined = (*self._joined, group)

    async def leave_group(self, group: str) -> None:
        """Remove this connection from ``group``."""
        if group in self._joined:
            self._joined = tuple(joined for joined in self._joined if joined != group)
            await self._layer_or_default().leave(group, self)

    # ------------------------------------------------------------------ events from anywhere

    @classmethod
    def get_layer(cls) -> GroupLayer:
        """The layer this consumer class uses: ``layer`` when set, else the one bound to
        the app serving the code running now or of the one running app (see
        :mod:`chanx.core.binding`), else the process-wide in-memory layer."""
        return cls.layer if cls.layer is not None else current_layer(cls)

    @classmethod
    async def broadcast_event(
        cls, event: BaseMessage, groups: Iterable[str] | str | None = None
    ) -> None:
        """Deliver ``event`` to the event handler of every connection in ``groups``
        (default: the class's ``groups``). Callable from anywhere in async code."""
        layer = cls.get_layer()
        envelope = EventEnvelope.of(event)
        for group in _checked(layer, cls.groups if groups is None else groups):
            await layer.send_group(group, envelope)

    @classmethod
    async def send_event(cls, event: BaseMessage, channel_name: str) -> None:
        """Deliver ``event`` to one connection, by its ``channel_name``."""
        await cls.get_layer().send_to(channel_name, EventEnvelope.of(event))

    @classmethod
    def broadcast_event_sync(
        cls, event: BaseMessage, groups: Iterable[str] | str | None = None
    ) -> None:
        """:meth:`broadcast_event` for synchronous code (views, tasks, scripts)."""
        call_sync(lambda: cls.broadcast_event(event, groups), cls.get_layer().loop)

    @classmethod
    def send_event_sync(cls, event: BaseMessage, channel_name: str) -> None:
        """:meth:`send_event` for synchronous code."""
        call_sync(lambda: cls.send_event(event, channel_name), cls.get_layer().loop)

    # ------------------------------------------------------------------ plain ASGI

    @classmethod
    def as_asgi(cls) -> ConsumerApp:
        """This consumer as an ASGI websocket application (one instance per connection)."""
        from chanx.core.asgi import ConsumerApp

        return ConsumerApp(cls)

    @classmethod
    def outgoing_message_types(cls) -> list[type[BaseMessage]]:
        """Every message type this consumer can send: its handlers' declared outputs,
        ``outgoing_messages`` and the built-ins."""
        found: list[type[BaseMessage]] = []
        for cls_ in (
            *cls.message_handlers.outputs(),
            *cls.event_handlers.outputs(),
            *cls.outgoing_messages,
            *BUILTIN_OUTGOING,
        ):
            if cls_ not in found:
                found.append(cls_)
        return found

    @classmethod
    def outgoing_adapter(cls) -> TypeAdapter[Any]:
        """A discriminated-union adapter over :meth:`outgoing_message_types` (cached)."""
        adapter: TypeAdapter[Any] | None = cls.__dict__.get("_outgoing_adapter")
        if adapter is None:
            adapter = union_adapter(cls.outgoing_message_types())
            assert adapter is not None
            cls._outgoing_adapter = adapter
        return adapter

    _outgoing_adapter: ClassVar[TypeAdapter[Any] | None] = None

    # ------------------------------------------------------------------ engine entry points

    async def handle_connect(self) -> bool:
        """Check the origin, accept, authenticate, join groups, run
        :meth:`post_authentication`. Returns whether the connection is open for messages."""
        observer = current_observer.get()
        if observer is not None:
            observer.consumer_started(self)
        name = type(self).__name__
        try:
            refusal = origin_refusal(self.scope, self.allowed_origins)
            if refusal is not None:
                log_refusal(name, refusal)
                await self.transport.close(REFUSED_CLOSE_CODE)
                return False
            requested = self.scope.get("subprotocols") or ()
            await self.transport.accept(self.select_subprotocol(requested))
            known = known_user(self.scope)
            result = await (self.authenticate() if known is None else self.authorize(known.user))
            if result is not None and not result.ok:
                await self._send_authentication(result)
                logger.info("authentication refused (%s)", result.status_code)
                await self.transport.close(AUTH_FAILURE_CLOSE_BASE + result.status_code)
                return False
            if result is not None:
                self.user = result.user
            await self.register()
            self._connected = True
            for group in _checked(self._layer_or_default(), await self.get_groups()):
                await self.join_group(group)
            if result is not None:
                await self._send_authentication(result)
            await self.transport.answer_handshake()  # in its groups: the client may know
            await self.post_authentication()
            return True
        except InvalidGroupName as exc:
            logger.warning(
                "%s refused the connection (close %d): %s", name, CLOSE_INVALID_GROUP, exc
            )
            await self.transport.close(CLOSE_INVALID_GROUP)
            return False
        except LayerUnavailable as exc:
            layer_outages.note(f"{name} closed a connection (close {CLOSE_LAYER_UNAVAILABLE})", exc)
            await self.transport.close(CLOSE_LAYER_UNAVAILABLE)
            return False
        except Exception:
            logger.exception("%s: connect failed (close %d)", name, CLOSE_SERVER_ERROR)
            await self.transport.close(CLOSE_SERVER_ERROR)
            return False
        finally:
            if observer is not None:
                observer.consumer_ready(self)

    async def register(self) -> None:
        """Register this connection with its group layer, which names it
        (``channel_name``); once only. :meth:`handle_connect` registers once authenticated;
        an adapter whose framework names every connection before its connect handler runs
        (Django Channels) calls this first."""
        if not self._registered:
            self.channel_name = await self._layer_or_default().add_receiver(self)
            self._registered = True

    async def handle_text(self, text: str) -> None:
        """Validate one text frame, route it to its handler, answer."""
        if not self._connected:
            return  # closed as a slow consumer: the close is under way
        limit = self.max_message_size
        # A character is 1 to 4 UTF-8 bytes: encode only when the length alone can't tell.
        if len(text) * 4 > limit and (len(text) > limit or _utf8_size(text) > limit):
            self._refused(
                "frame over max_message_size",
                "frame of %d characters over max_message_size=%d refused",
                len(text),
                self.max_message_size,
            )
            await self._refuse(
                f"Message too large (limit {self.max_message_size} bytes)", "message_too_large"
            )
            return
        handlers = self.message_handlers
        try:
            message = handlers.parse(text)
        except ValidationError as exc:
            await self._invalid_frame(exc, text)
            return
        action = message.action
        if self.log_websocket_message and logger.isEnabledFor(logging.INFO):
            self._log("received", action)
        handler = handlers.by_action[action]
        if self._lock is None:
            await self._handle_message(handler, message)
        else:
            async with self._lock:
                await self._handle_message(handler, message)

    async def handle_bytes(self, data: bytes) -> None:
        """Binary frames are refused with an ``error``: chanx speaks JSON text frames."""
        if not self._connected:
            return
        self._refused("binary frame", "binary frame of %d bytes refused", len(data))
        await self._refuse("Binary frames are not supported; send JSON text frames", "binary_frame")

    async def deliver(self, envelope: Envelope) -> None:
        """Take a group message or an event for this connection; never waits on the
        client. A group message (and its ``group_complete``) is written at once when the
        connection is idle, else queued in its :attr:`outbox`; an event is queued for
        this connection's event handler (events run one at a time, never beside a
        message handler)."""
        if not self._connected:
            return
        outbox = self._outbox
        if isinstance(envelope, GroupMessage):
            if envelope.exclude is not None and envelope.exclude == self.channel_name:
                return
            outbox.push(envelope.text, _GROUP_COMPLETE if self.send_completion else None)
            return
        handler = self.event_handlers.by_action.get(envelope.action)
        if handler is None:
            logger.debug("no event handler for %r on %s", envelope.action, type(self).__name__)
            return
        outbox.push_event(handler, envelope, envelope.size)

    async def handle_disconnect(self, code: int) -> None:
        """Stop delivery (queued messages and events are dropped), leave every group,
        run :meth:`on_disconnect` (only for a connection that got past authentication).
        Runs once; later calls do nothing."""
        was_connected, self._connected = self._connected, False
        try:
            outbox: Outbox | None = self.__dict__.get("_outbox")
            if outbox is not None:
                outbox.stop()
            if was_connected:
                for group in self._joined:
                    await self.leave_group(group)
            if self._registered:
                self._registered = False
                await self._layer_or_default().remove_receiver(self)
            if was_connected:
                await self.on_disconnect(code)
        finally:
            refusals, self._refusals = self._refusals, None
            summary = refusals.summary(self._describe()) if refusals is not None else None
            if summary is not None:
                logger.warning("%s", summary)
            observer = current_observer.get()
            if observer is not None:
                observer.consumer_finished(self)

    # ------------------------------------------------------------------ for test tools

    def _activity(self) -> Awaitable[None] | None:
        """What this connection is busy with, for the test communicators' ``settle()``:
        ``None`` when idle (nothing queued in its outbox, no write in flight, no event
        queued or being handled), else an awaitable that completes when that may have
        changed. Adapters with work of their own (a layer reader) add it."""
        outbox: Outbox | None = self.__dict__.get("_outbox")
        if outbox is None or outbox.idle:
            return None
        return outbox.wait_idle()

    def _layer_in_process(self) -> bool:
        """Whether everything this connection's layer carries stays in this process, so
        that a test can know when nothing is in flight (the layer's ``in_process``)."""
        return self._layer is None or bool(getattr(self._layer, "in_process", False))

    # ------------------------------------------------------------------ internals

    def _layer_or_default(self) -> GroupLayer:
        if self._layer is None:
            self._layer = type(self).get_layer()
        return self._layer

    async def _handle_message(self, handler: Handler, message: BaseMessage) -> None:
        try:
            if handler.permissions and not await self._permitted(handler, message):
                pass
            elif handler.streaming:
                await self._run(handler, message)
            else:  # _run's other half, inline: one coroutine less per message
                result = await handler.func(self, message)
                if result is not None:
                    if not isinstance(result, BaseMessage):
                        result = self._reply(handler, result, "returned")
                    await self.send_message(result)
        except ConnectionGone:
            raise
        except NotAMessage as exc:
            logger.error("%s", exc)
            await self.send_message(_error("Internal server error", "internal_error"))
        except LayerUnavailable as exc:
            await self._layer_unavailable(handler, exc)
        except Exception:
            logger.exception("handler %s failed on %r", handler.name, message.action)
            await self.send_message(_error("Internal server error", "internal_error"))
        if self.send_completion:
            await self._outbox.send(_COMPLETE)

    async def _run(self, handler: Handler, message: BaseMessage) -> None:
        if handler.streaming:
            stream: AsyncIterator[object] = handler.func(self, message)
            async for item in stream:
                if item is not None:
                    await self.send_message(self._reply(handler, item, "yielded"))
            return
        result = await handler.func(self, message)
        if result is not None:
            if not isinstance(result, BaseMessage):
                result = self._reply(handler, result, "returned")
            await self.send_message(result)

    def _reply(self, handler: Handler, value: object, verb: str) -> BaseMessage:
        if isinstance(value, BaseMessage):
            return value
        raise NotAMessage(
            f"{type(self).__name__}.{handler.name} {verb} {type(value).__name__!r}, "
            "not a message: return (or yield) a BaseMessage subclass instance or None; "
            "send other data with send_json()"
        )

    async def _permitted(self, handler: Handler, message: BaseMessage) -> bool:
        for check in handler.permissions:
            allowed = check(self, message)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                logger.info("permission denied for %r", message.action)
                await self.send_message(_error("Permission denied", "permission_denied"))
                return False
        return True

    async def _handle_queued_event(self, handler: Handler, envelope: EventEnvelope) -> None:
        assert self._lock is not None
        async with self._lock:
            await self._handle_event(handler, envelope)

    def _slow_consumer(self, bound: str) -> None:
        """The outbox went over ``bound`` (policy ``"close"``) and has stopped: close the
        connection with 4429 and run the disconnect path (:meth:`_end_now`)."""
        if self._ending is None:
            logger.warning(
                "%s is not reading fast enough: outbox over %s; closing it with %d",
                self._describe(),
                bound,
                CLOSE_SLOW_CONSUMER,
            )
            self._end_now(CLOSE_SLOW_CONSUMER)

    def _write_failed(self, exc: BaseException) -> None:
        """A delivery's write failed, the client being still there (the server refused
        the frame: daphne refuses frames over its size limit), and the outbox has
        stopped: rather than leave the client open and deaf, close the connection with
        4500 and run the disconnect path (:meth:`_end_now`)."""
        if self._ending is None:
            logger.error(
                "writing to %s failed (%s: %s); closing it with %d",
                self._describe(),
                type(exc).__name__,
                exc,
                CLOSE_SERVER_ERROR,
            )
            self._end_now(CLOSE_SERVER_ERROR)

    def _end_now(self, code: int) -> None:
        """Close with ``code`` and run the disconnect path, without waiting on the client.

        The close frame goes after what the client has not read yet: while its socket
        stays full the close waits (nobody waits for it), until the client reads or the
        server drops the connection. A handler still running goes on to its end, its
        sends discarded; the client's frames are ignored until the server reports the
        end of the connection."""
        run_detached(self.transport.close(code), f"closing {self._describe()} with {code}")
        self._ending = asyncio.get_running_loop().create_task(self._end_disconnect(code))

    async def _end_disconnect(self, code: int) -> None:
        try:
            await self.handle_disconnect(code)
        except Exception:
            logger.exception("disconnecting %s failed", self._describe())

    def _describe(self) -> str:
        name = getattr(self, "channel_name", None)
        return f"{type(self).__name__} {name or '(not connected)'}"

    async def _handle_event(self, handler: Handler, envelope: EventEnvelope) -> None:
        event = envelope.event
        try:
            if event is None or type(event) not in handler.message_types:
                event = self.event_handlers.validate_json(envelope.text)
        except ValidationError:
            logger.exception("event %r does not match %s", envelope.action, handler.name)
            return
        if self.log_websocket_message and logger.isEnabledFor(logging.INFO):
            self._log("event", envelope.action)
        try:
            await self._run(handler, event)
        except ConnectionGone:
            raise
        except NotAMessage as exc:
            logger.error("%s", exc)
            await self.send_message(_error("Internal server error", "internal_error"))
        except LayerUnavailable as exc:
            await self._layer_unavailable(handler, exc)
        except Exception:
            logger.exception("event handler %s failed on %r", handler.name, envelope.action)
            await self.send_message(_error("Internal server error", "internal_error"))
        if self.send_completion:
            await self._outbox.send(_EVENT_COMPLETE)

    async def _layer_unavailable(self, handler: Handler, exc: LayerUnavailable) -> None:
        layer_outages.note(f"handler {handler.name}", exc)
        await self.send_message(_error("Group layer unavailable", "layer_unavailable"))

    async def _invalid_frame(self, exc: ValidationError, text: str) -> None:
        errors = exc.errors(include_url=False, include_input=False)
        # Only an error about the frame as a whole (empty ``loc``) can mean "not a chanx
        # message" or "unknown action"; the same error types deeper down are payload errors.
        whole = errors[0]["type"] if len(errors) == 1 and not errors[0]["loc"] else None
        reason = _NOT_A_MESSAGE.get(whole) if whole else None
        if whole == "union_tag_invalid":
            try:
                action = json.loads(text).get("action")
            except Exception:  # pragma: no cover - validate_json already parsed it
                action = None
            if not isinstance(action, str):
                reason = "'action' is not a string"
            else:
                self._log_unknown_action(action)
                await self._refuse("Unknown action", "unknown_action", loc=["action"])
                return
        if reason is not None:
            self._refused(
                "not a chanx message", "ignored a frame that is not a chanx message: %s", reason
            )
            return
        # The first item of each location is the action: known, since it was routed.
        details = public_errors(errors, self.message_handlers.declared_names(), skip=1)
        logger.info("invalid message refused (%d errors)", len(details))
        await self.send_message(
            ErrorMessage(payload=ErrorPayload(detail="Invalid message", errors=details))
        )
        if self.send_completion:
            await self._outbox.send(_COMPLETE)

    def _log_unknown_action(self, action: str) -> None:
        """One line: the action (escaped, cut), the consumer, and what may be wrong."""
        name = type(self).__name__
        hint = ""
        declared = message_classes_for(action)
        if declared:
            classes = ", ".join(cls.__qualname__ for cls in declared)
            hint = f"; {classes} has this action, but no @ws_handler of {name} takes it"
        if logger.isEnabledFor(logging.DEBUG):
            hint += (
                f"; the actions it handles: {', '.join(sorted(self.message_handlers.by_action))}"
            )
        self._refused(
            "unknown action", "%s refused unknown action %s%s", name, for_log(action), hint
        )

    def _refused(self, kind: str, message: str, *args: Any) -> None:
        """Log a refused frame of ``kind``: the first of each kind per connection is a
        warning, the rest are summed up when it ends (:class:`RefusalLog`)."""
        refusals = self._refusals
        if refusals is None:
            refusals = self._refusals = RefusalLog()
        refusals.note(logger, kind, message, *args)

    async def _refuse(self, detail: str, kind: str, loc: list[str | int] | None = None) -> None:
        await self.send_message(_error(detail, kind, loc))
        if self.send_completion:
            await self._outbox.send(_COMPLETE)

    async def _send_authentication(self, result: AuthResult) -> None:
        payload = AuthenticationPayload(
            status_code=result.status_code, status_text=result.reason, data=result.data
        )
        await self.send_message(AuthenticationMessage(payload=payload))

    def _log(self, direction: Literal["sent", "received", "event"], action: str) -> None:
        """One line per message (callers check ``log_websocket_message`` and the level
        first, so a message costs no call when logging is off)."""
        if action not in self.log_ignored_actions:
            logger.info("%s %s %r", type(self).__name__, direction, action)


AsyncJsonWebsocketConsumer._build_tables()


def _defining_namespace() -> Mapping[str, Any] | None:
    """Local names of the scope running the ``class`` statement (past ``__init_subclass__``)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name == "__init_subclass__":
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_locals if frame is not None else None


def _as_groups(groups: Iterable[str] | str) -> Iterable[str]:
    return (groups,) if isinstance(groups, str) else groups


def _checked(layer: GroupLayer, groups: Iterable[str] | str) -> tuple[str, ...]:
    """``groups`` as a tuple, each name checked against ``layer``'s group-name rule."""
    names = tuple(_as_groups(groups))
    rule = group_name_rule_of(layer)
    for group in names:
        rule.check(group, layer)
    return names


class NotAMessage(TypeError):
    """A handler returned or yielded something that is not a message."""


def _check_outbox_settings(cls: type[AsyncJsonWebsocketConsumer]) -> None:
    """Bad outbox settings fail when the class is defined. Only plain class attributes
    are checked here; values read from elsewhere (a descriptor, such as the Django
    adapter's ``CHANX`` settings) are checked when a connection starts."""
    values: list[Any] = []
    for name in _OUTBOX_SETTINGS:
        value = next(k.__dict__[name] for k in cls.__mro__ if name in k.__dict__)
        if not (value is None or isinstance(value, (int, str))):
            return
        values.append(value)
    try:
        check_limits(*values)
    except ValueError as exc:
        raise TypeError(f"{cls.__qualname__}: {exc}") from None


_OUTBOX_SETTINGS = ("outbox_max_messages", "outbox_max_bytes", "outbox_overflow")


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _error(detail: str, kind: str, loc: list[str | int] | None = None) -> ErrorMessage:
    return ErrorMessage(
        payload=ErrorPayload(
            detail=detail, errors=[ErrorDetail(loc=loc or [], msg=detail, type=kind)]
        )
    )
