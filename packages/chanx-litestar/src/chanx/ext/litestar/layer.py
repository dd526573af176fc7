"""chanx groups over Litestar's ``ChannelsPlugin``: whatever backend the app configures.

Mapping (one :class:`ChannelsPluginLayer` per app and process):

* a group is one plugin channel, ``<prefix>g.<group>``, or ``<prefix>h.<digest>`` when
  that would be longer than 63 bytes (PostgreSQL's limit) or hold a NUL character or a
  lone surrogate (which no backend can carry): so any string is a group name; the process
  holds one plugin subscription per group that has local members, not one per connection;
* each process has an inbox channel, ``<prefix>i.<origin>``; a connection's channel name
  is ``<inbox>!<n>``, so ``send_to`` knows which process to publish to;
* local members are delivered to directly; the envelope is then published once (core
  wire format plus ``origin``/``seq``) for the other processes, and each process drops
  its own echo. A group message is serialized once per broadcast, whatever the number
  of members or processes.

When the backend cannot be reached, sends and joins raise :class:`BackendUnavailable` (a
:class:`~chanx.core.layer.LayerUnavailable`: a handler gets an ``error`` of type
``layer_unavailable``, a connecting client a close with ``CLOSE_LAYER_UNAVAILABLE``).
Litestar's ``ChannelsPlugin`` reads its backend in one task that ends for good when the
connection is lost; from then on this process would stay deaf to the others, so the
layer closes its connections with ``CLOSE_LAYER_UNAVAILABLE`` and refuses new ones until
the process restarts (:attr:`ChannelsPluginLayer.failure` says why).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.plugin import ChannelsException
from litestar.exceptions import ImproperlyConfiguredException

from chanx.constants import CLOSE_LAYER_UNAVAILABLE
from chanx.core.groups import ANY_STRING, GroupNameRule
from chanx.core.layer import (
    Envelope,
    LayerUnavailable,
    Receiver,
    deliver_all,
    envelope_from_wire,
    envelope_to_wire,
    unguessable_name_part,
)
from chanx.core.websocket import AsyncJsonWebsocketConsumer

logger = logging.getLogger("chanx.litestar")

MAX_CHANNEL_LENGTH = 63
"""Longest channel name used (PostgreSQL's identifier limit); longer group names are hashed."""
MAX_PREFIX_LENGTH = 32

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


class BackendUnavailable(LayerUnavailable):
    """The ChannelsPlugin's backend cannot be reached, or the plugin stopped reading it."""


def _backend_errors() -> tuple[type[BaseException], ...]:
    """What the Redis and PostgreSQL backends raise when their server is unreachable."""
    errors: list[type[BaseException]] = [OSError, asyncio.TimeoutError]
    try:
        from redis.exceptions import ConnectionError, TimeoutError
    except ImportError:
        pass
    else:
        errors += [ConnectionError, TimeoutError]
    try:
        from psycopg import OperationalError
    except ImportError:
        pass
    else:
        errors.append(OperationalError)
    return tuple(errors)


BACKEND_ERRORS = _backend_errors()


@dataclass(eq=False)
class _Group:
    name: str
    channel: str
    members: dict[str, Receiver] = field(default_factory=dict)
    subscriber: Subscriber | None = None
    reader: asyncio.Task[None] | None = None
    # (origin, seq) of messages a backend with history replays on subscribe: not news.
    replayed: set[tuple[str, int]] = field(default_factory=set)
    # Serializes this group's subscribe/unsubscribe; other groups proceed meanwhile.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ChannelsPluginLayer:
    """A :class:`~chanx.core.layer.GroupLayer` on a Litestar ``ChannelsPlugin``.

    :class:`~chanx.ext.litestar.ChanxPlugin` creates one per app and starts it with the app;
    :func:`~chanx.ext.litestar.standalone_layer` makes one for processes without an app.
    The plugin must allow arbitrary channels (groups and inboxes are created at runtime).
    All processes of one deployment must use the same ``prefix``. Any string is a group
    name (see :meth:`group_channel`).
    """

    group_name_rule: GroupNameRule = ANY_STRING
    """Any string: names no backend could carry are hashed."""

    def __init__(self, plugin: ChannelsPlugin, *, prefix: str = "chanx.") -> None:
        if len(prefix.encode()) > MAX_PREFIX_LENGTH:
            raise ImproperlyConfiguredException(
                f"chanx channel prefix {prefix!r} is longer than {MAX_PREFIX_LENGTH} bytes"
            )
        self.plugin = plugin
        self.prefix = prefix
        self._origin = ""
        self._inbox = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._receivers: dict[str, Receiver] = {}
        self._groups: dict[str, _Group] = {}
        self._seq = itertools.count(1)
        self._inbox_subscriber: Subscriber | None = None
        self._inbox_reader: asyncio.Task[None] | None = None
        self._history = True  # until the backend says it keeps none
        self.failure: str | None = None
        """Why this process stopped receiving from the backend (``None``: it receives)."""

    def __repr__(self) -> str:
        state = f"origin={self._origin}" if self._running else "stopped"
        return f"<ChannelsPluginLayer prefix={self.prefix!r} {state}>"

    # ------------------------------------------------------------------ lifecycle

    @property
    def in_process(self) -> bool:
        """Whether the plugin's backend keeps its messages in this process (Litestar's
        ``MemoryChannelsBackend``). Members in this process are delivered to before a
        send returns; what the backend carries is for other processes (none, with a
        memory backend of the app's own), so test communicators can know when nothing is
        in flight. Two apps sharing one memory backend are two processes to chanx: a
        test's ``settle()`` does not follow deliveries between them."""
        backend = getattr(self.plugin, "_backend", None)
        return isinstance(backend, MemoryChannelsBackend) and len(_layers_on(backend)) <= 1

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the layer was started on (``None`` before); the ``*_sync``
        senders submit to it from other threads."""
        return self._loop

    @property
    def running(self) -> bool:
        """Started (the app's lifespan is running) and not stopped."""
        return self._running

    @property
    def inbox(self) -> str:
        """This process's inbox channel (for ``send_to`` from other processes)."""
        return self._inbox

    async def start(self) -> None:
        """Subscribe this process's inbox. The plugin must be started already."""
        if self._running:
            return
        self._origin = uuid.uuid4().hex[:16]
        self._inbox = f"{self.prefix}i.{self._origin}"
        self._loop = asyncio.get_running_loop()
        try:
            subscriber = await self.plugin.subscribe(self._inbox)
        except ChannelsException as exc:
            raise ImproperlyConfiguredException(
                "chanx creates channels at runtime (one per group and one inbox per process): "
                "configure ChannelsPlugin(..., arbitrary_channels_allowed=True)"
            ) from exc
        self._inbox_subscriber = subscriber
        self._inbox_reader = self._loop.create_task(
            self._read(subscriber, self._from_inbox), name=f"chanx inbox {self._inbox}"
        )
        self._running = True
        self.failure = None
        _layers_on(getattr(self.plugin, "_backend", None)).add(self)
        # The plugin's one reader of the backend (Litestar keeps it private).
        plugin_reader = getattr(self.plugin, "_sub_task", None)
        if isinstance(plugin_reader, asyncio.Task):
            plugin_reader.add_done_callback(self._plugin_stopped_reading)

    async def stop(self) -> None:
        """Stop reading and forget every receiver and group.

        Runs at app shutdown, when the plugin may be shut down already: it makes no
        plugin calls, the plugin's own shutdown ends its subscriptions.
        """
        self._running = False
        _layers_on(getattr(self.plugin, "_backend", None)).discard(self)
        tasks = [self._inbox_reader, *(g.reader for g in self._groups.values())]
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
        self._inbox_reader = self._inbox_subscriber = None
        self._groups.clear()
        self._receivers.clear()

    # ------------------------------------------------------------------ names

    def group_channel(self, group: str) -> str:
        """The plugin channel that carries ``group``: ``<prefix>g.<group>``, hashed to
        ``<prefix>h.<digest>`` when longer than 63 bytes or not storable as is (a NUL
        character, a lone surrogate)."""
        name = f"{self.prefix}g.{group}"
        try:
            size = len(name.encode())
        except UnicodeEncodeError:
            size = MAX_CHANNEL_LENGTH + 1
        if size <= MAX_CHANNEL_LENGTH and "\x00" not in group:
            return name
        digest = hashlib.sha256(group.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"{self.prefix}h.{digest}"

    def group_names(self) -> list[str]:
        """Groups with members in this process (for tests and introspection)."""
        return list(self._groups)

    def members(self, group: str) -> list[str]:
        """Channel names of ``group``'s members in this process."""
        state = self._groups.get(group)
        return list(state.members) if state else []

    # ------------------------------------------------------------------ GroupLayer

    async def add_receiver(self, receiver: Receiver) -> str:
        """Register a connection of this process; its channel name names this process's
        inbox, so that ``send_to`` from any process reaches it."""
        self._check_running()
        name = f"{self._inbox}!{unguessable_name_part()}"
        self._receivers[name] = receiver
        return name

    async def remove_receiver(self, receiver: Receiver) -> None:
        """Forget a connection (after it left its groups)."""
        self._receivers.pop(receiver.channel_name, None)

    async def join(self, group: str, receiver: Receiver) -> None:
        """Add a member; the first member of a group in this process subscribes to the
        group's channel."""
        self._check_running()
        state = self._groups.get(group)
        if state is None:
            state = self._groups[group] = _Group(group, self.group_channel(group))
        state.members[receiver.channel_name] = receiver
        try:
            await self._sync_subscription(state)
        except BaseException:
            state.members.pop(receiver.channel_name, None)
            if not state.members and state.subscriber is None and self._groups.get(group) is state:
                del self._groups[group]
            raise

    async def leave(self, group: str, receiver: Receiver) -> None:
        """Remove a member; the last one in this process unsubscribes from the group."""
        state = self._groups.get(group)
        if state is None:
            return
        state.members.pop(receiver.channel_name, None)
        if not state.members:
            await self._sync_subscription(state)

    async def send_group(self, group: str, envelope: Envelope) -> None:
        """Deliver to the group's members in this process, then publish once for the
        other processes."""
        self._check_running()
        state = self._groups.get(group)
        if state is not None and state.members:
            await deliver_all(tuple(state.members.values()), envelope)
        await self._publish(self.group_channel(group), envelope)

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        """Deliver to one connection, directly when it is in this process, else through
        its process's inbox."""
        self._check_running()
        inbox, separator, _ = channel_name.rpartition("!")
        if inbox == self._inbox:
            await self._deliver_to(channel_name, envelope)
        elif separator and inbox.startswith(f"{self.prefix}i."):
            await self._publish(inbox, envelope, to=channel_name)
        else:
            logger.warning("send_to %r: not a chanx channel name of this deployment", channel_name)

    # ------------------------------------------------------------------ internals

    def _plugin_stopped_reading(self, reader: asyncio.Task[Any]) -> None:
        if not self._running or reader.cancelled() or self._loop is None:
            return  # the app is shutting down
        error = reader.exception()
        why = f"{type(error).__name__}: {error}" if error else "its event stream ended"
        self.failure = f"the ChannelsPlugin stopped reading its backend ({why})"
        logger.error(
            "%s: closing this process's %d chanx connections with code %d and refusing new "
            "ones; restart the process (or use chanx.core.redis.RedisGroupLayer, which "
            "reconnects)",
            self.failure,
            len(self._receivers),
            CLOSE_LAYER_UNAVAILABLE,
        )
        self._loop.create_task(self._close_all(), name="chanx close on backend loss")

    async def _close_all(self) -> None:
        for receiver in list(self._receivers.values()):
            if isinstance(receiver, AsyncJsonWebsocketConsumer):
                try:
                    await receiver.close(CLOSE_LAYER_UNAVAILABLE)
                except Exception:
                    logger.debug("closing %s failed", receiver.channel_name, exc_info=True)

    def _check_running(self) -> None:
        if self.failure is not None:
            raise BackendUnavailable(f"{self.failure}; restart the process")
        if not self._running:
            raise RuntimeError(
                "the chanx layer is not running: the Litestar app's lifespan has not started "
                "(serve it with an ASGI server, or in tests use "
                "`async with chanx.ext.litestar.testing.lifespan(app)`)"
            )

    async def _sync_subscription(self, state: _Group) -> None:
        """Subscribe a group that has members and no subscription; drop an empty one."""
        async with state.lock:
            if state.members and state.subscriber is None:
                try:
                    state.replayed = await self._history_ids(state.channel)
                    state.subscriber = await self.plugin.subscribe(state.channel)
                except BACKEND_ERRORS as exc:
                    raise BackendUnavailable(f"subscribing on the channels backend: {exc}") from exc
                state.reader = asyncio.get_running_loop().create_task(
                    self._read(state.subscriber, self._group_reader(state)),
                    name=f"chanx {state.channel}",
                )
            elif not state.members and self._groups.get(state.name) is state:
                # A later join makes a new state (and subscription) for the name.
                del self._groups[state.name]
                if state.subscriber is not None and self._running:
                    # Ends the reader: the plugin puts the end marker in its stream.
                    try:
                        await self.plugin.unsubscribe(state.subscriber, state.channel)
                    except BACKEND_ERRORS:
                        logger.debug("unsubscribing %s failed", state.channel, exc_info=True)

    async def _history_ids(self, channel: str) -> set[tuple[str, int]]:
        """Messages a backend with history (Redis streams) will replay on subscribe."""
        if not self._history:
            return set()
        probe = Subscriber(self.plugin)
        try:
            await self.plugin.put_subscriber_history(probe, channel)
        except NotImplementedError:
            self._history = False
            return set()
        await probe.put(None)
        found: set[tuple[str, int]] = set()
        async for data in probe.iter_events():
            wire = _parse(data)
            if wire is not None:
                found.add((wire.get("origin", ""), wire.get("seq", 0)))
        return found

    async def _publish(self, channel: str, envelope: Envelope, to: str | None = None) -> None:
        wire = envelope_to_wire(envelope)
        wire["origin"] = self._origin
        wire["seq"] = next(self._seq)
        if to is not None:
            wire["to"] = to
        try:
            await self.plugin.wait_published(_encode(wire), channel)
        except BACKEND_ERRORS as exc:
            raise BackendUnavailable(f"publishing on the channels backend: {exc}") from exc

    def _group_reader(self, state: _Group) -> Callable[[dict[str, Any], Envelope], Awaitable[None]]:
        async def deliver(wire: dict[str, Any], envelope: Envelope) -> None:
            if state.replayed:
                key = (wire.get("origin", ""), wire.get("seq", 0))
                if key in state.replayed:
                    state.replayed.discard(key)
                    return
            if state.members:
                await deliver_all(tuple(state.members.values()), envelope)

        return deliver

    async def _deliver_to(self, channel_name: str, envelope: Envelope) -> None:
        receiver = self._receivers.get(channel_name)
        if receiver is not None:
            await deliver_all((receiver,), envelope)

    async def _from_inbox(self, wire: dict[str, Any], envelope: Envelope) -> None:
        to = wire.get("to")
        if isinstance(to, str):
            await self._deliver_to(to, envelope)

    async def _read(
        self,
        subscriber: Subscriber,
        deliver: Callable[[dict[str, Any], Envelope], Awaitable[None]],
    ) -> None:
        """Deliver what other processes publish on one subscription, until it ends."""
        async for data in subscriber.iter_events():
            wire = _parse(data)
            if wire is None or wire.get("origin") == self._origin:
                continue
            try:
                envelope = envelope_from_wire(wire)
            except (KeyError, ValueError):
                logger.warning("ignored a malformed chanx envelope", exc_info=True)
                continue
            try:
                await deliver(wire, envelope)
            except Exception:  # pragma: no cover - deliver_all isolates receivers already
                logger.exception("chanx delivery failed")


_running_on: weakref.WeakKeyDictionary[Any, weakref.WeakSet[ChannelsPluginLayer]] = (
    weakref.WeakKeyDictionary()
)


def _layers_on(backend: Any) -> weakref.WeakSet[ChannelsPluginLayer]:
    """The running layers of this process on ``backend`` (an empty set for ``None``)."""
    if backend is None:
        return weakref.WeakSet()
    layers = _running_on.get(backend)
    if layers is None:
        layers = _running_on[backend] = weakref.WeakSet()
    return layers


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        wire = _decode(data)
    except msgspec.DecodeError:
        logger.warning("ignored a message that is not a chanx envelope (%d bytes)", len(data))
        return None
    return wire
