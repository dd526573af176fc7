"""chanx's group layer over a Django Channels channel layer.

Whatever ``CHANNEL_LAYERS`` configures (the in-memory layer, channels_redis'
``RedisChannelLayer`` or ``RedisPubSubChannelLayer``, or any other Channels layer) carries
chanx's group messages and events in the core wire format: a dict of type
``"chanx.envelope"``, which Channels dispatches to the consumer's ``chanx_envelope``
method. Consumers in other processes, and plain Channels code, therefore reach chanx
consumers through the layer as usual.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

from channels.layers import InMemoryChannelLayer, get_channel_layer

from chanx.core.groups import PORTABLE, GroupNameRule
from chanx.core.layer import Envelope, LayerUnavailable, Receiver, envelope_to_wire

logger = logging.getLogger("chanx.layer")

T = TypeVar("T")


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, asyncio.TimeoutError]
    try:
        from redis import exceptions as redis_errors
    except ImportError:  # pragma: no cover - channels_redis brings redis
        pass
    else:
        errors += [redis_errors.ConnectionError, redis_errors.TimeoutError]
    return tuple(errors)


UNAVAILABLE_ERRORS = _unavailable_errors()
"""Exceptions that mean "the layer's backing service cannot be reached"."""


class ChannelLayerUnavailable(LayerUnavailable):
    """The Channels layer's backing service (e.g. Redis) could not be reached.

    Raised by group and event operations in place of the backend's own connection
    error (kept as ``__cause__``), so logs and callers see which layer failed and during
    what. A :class:`chanx.core.layer.LayerUnavailable`, hence a ``ConnectionError``.
    """


class ChannelsGroupLayer:
    """A :class:`chanx.core.layer.GroupLayer` backed by a Channels channel layer.

    ``add_receiver`` allocates the connection's channel name with ``new_channel()``;
    groups map to ``group_add`` / ``group_discard`` / ``group_send``; ``send_to`` is
    ``send``. Delivery to consumers happens in their receive loop (see
    :class:`chanx.ext.channels.websocket.AsyncJsonWebsocketConsumer`), which closes every
    connection of the process on this layer when the layer stops delivering.

    Group names follow Channels' rule, on every Channels layer (even those that check
    nothing, so a project can switch layers): 1 to 99 ASCII letters, digits, ``-``,
    ``_`` or ``.``, and whatever else the channel layer's own
    ``require_valid_group_name`` demands.
    """

    def __init__(self, channel_layer: Any, alias: str | None = None) -> None:
        self.channel_layer = channel_layer
        self.alias = alias
        self._loop: asyncio.AbstractEventLoop | None = None
        self._receivers: dict[str, Receiver] = {}
        self.reachable = True
        """False from a failed operation (or read) on the layer until one succeeds."""
        self.group_name_rule = GroupNameRule(PORTABLE.description, self._valid_group_name)
        """Channels' rule (see the class documentation)."""

    def _valid_group_name(self, name: str) -> bool:
        if not PORTABLE.accepts(name):
            return False
        check = getattr(self.channel_layer, "require_valid_group_name", None)
        if check is None:
            return True
        try:
            return check(name) is not False
        except (TypeError, ValueError, AssertionError):
            return False

    @classmethod
    def for_alias(cls, alias: str) -> ChannelsGroupLayer | None:
        """The group layer over ``CHANNEL_LAYERS[alias]``, or ``None`` if it isn't set."""
        channel_layer = get_channel_layer(alias)
        if channel_layer is None:
            return None
        layer = _by_channel_layer.get(channel_layer)
        if layer is None:
            layer = _by_channel_layer[channel_layer] = cls(channel_layer, alias)
        return layer

    def __repr__(self) -> str:
        return f"<ChannelsGroupLayer {self.describe()}>"

    def describe(self) -> str:
        """The layer for messages and logs: its alias and class name."""
        name = type(self.channel_layer).__name__
        return name if self.alias is None else f"{self.alias!r} ({name})"

    @property
    def in_process(self) -> bool:
        """Whether the channel layer keeps its messages in this process (Channels'
        ``InMemoryChannelLayer``): test communicators can then know when nothing is in
        flight."""
        return isinstance(self.channel_layer, InMemoryChannelLayer)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop serving this process's connections (for the ``*_sync`` senders)."""
        return self._loop

    async def add_receiver(self, receiver: Receiver) -> str:
        """The connection's channel name, from the channel layer's ``new_channel()``."""
        self._loop = asyncio.get_running_loop()
        name: str = await self._guard("new_channel", self.channel_layer.new_channel())
        self._receivers[name] = receiver
        return name

    async def remove_receiver(self, receiver: Receiver) -> None:
        """Forget the connection here; Channels layers forget a channel nobody receives
        on by themselves."""
        self._receivers.pop(receiver.channel_name, None)

    def receivers(self) -> list[Receiver]:
        """The connections of this process registered on this layer."""
        return list(self._receivers.values())

    async def join(self, group: str, receiver: Receiver) -> None:
        """``group_add``; raises :class:`ChannelLayerUnavailable` if the layer is
        unreachable."""
        await self._guard(
            f"group_add({group!r})", self.channel_layer.group_add(group, receiver.channel_name)
        )

    async def leave(self, group: str, receiver: Receiver) -> None:
        """Leave ``group``; an unreachable layer is logged, not raised (the connection is
        going away either way, and the layer expires stale members itself)."""
        try:
            await self._guard(
                f"group_discard({group!r})",
                self.channel_layer.group_discard(group, receiver.channel_name),
            )
        except ChannelLayerUnavailable as exc:
            logger.warning("%s", exc)

    async def send_group(self, group: str, envelope: Envelope) -> None:
        """``group_send`` of the envelope's wire form; raises
        :class:`ChannelLayerUnavailable` if the layer is unreachable."""
        await self._guard(
            f"group_send({group!r})",
            self.channel_layer.group_send(group, envelope_to_wire(envelope)),
        )

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        """``send`` to one connection's channel; raises :class:`ChannelLayerUnavailable`
        if the layer is unreachable."""
        wire = envelope_to_wire(envelope)
        await self._guard(f"send({channel_name!r})", self.channel_layer.send(channel_name, wire))

    async def _guard(self, operation: str, call: Awaitable[T]) -> T:
        try:
            result = await call
        except UNAVAILABLE_ERRORS as exc:
            await self.connection_lost()
            raise ChannelLayerUnavailable(
                f"channel layer {self.describe()} unreachable during {operation}: {exc}"
            ) from exc
        self.reachable = True
        return result

    async def connection_lost(self) -> bool:
        """Note that the layer's server went away; returns whether that is news (the
        layer was reachable until now).

        channels_redis' ``RedisChannelLayer`` keeps a pool of connections, and one that
        was open when Redis died fails its next command even once Redis is back, so the
        pools are dropped here: the layer connects afresh when next used.
        """
        was_reachable, self.reachable = self.reachable, False
        close_pools = getattr(self.channel_layer, "close_pools", None)
        if close_pools is not None:
            try:
                await close_pools()
            except Exception:  # the connections are dropped however closing them goes
                logger.debug("closing the pools of %s failed", self.describe(), exc_info=True)
        return was_reachable


_by_channel_layer: weakref.WeakKeyDictionary[Any, ChannelsGroupLayer] = weakref.WeakKeyDictionary()
