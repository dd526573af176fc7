"""Group layers: how messages and events reach connections, in this process or others.

A layer knows connections as *receivers* (anything with a ``channel_name`` and an async
``deliver(envelope)``) and moves two kinds of envelope:

* :class:`GroupMessage`: an outgoing message already serialized once by the sender,
  relayed as is to every member of a group (``exclude`` names a connection to skip);
* :class:`EventEnvelope`: a server-side event, handled by each receiver's event handler.

Layers that cross processes turn envelopes into plain dicts with :func:`envelope_to_wire`
and back with :func:`envelope_from_wire`, so every adapter speaks the same wire format.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from chanx.core.outbox import utf8_size
from chanx.core.transport import ConnectionGone
from chanx.messages.base import BaseMessage

logger = logging.getLogger("chanx.layer")

WIRE_TYPE = "chanx.envelope"
"""The ``type`` key of a wire envelope (also the Channels handler name ``chanx_envelope``)."""


class LayerUnavailable(ConnectionError):
    """The layer's backing service (Redis, a Channels layer's server, ...) cannot be
    reached. Layers raise a subclass of it from sends and joins; the engine answers a
    handler that hits it with an ``error`` of type ``layer_unavailable``."""


class OutageLog:
    """Logs an unreachable layer as one warning per ``interval`` seconds (with how many
    more failures it stood for), not a line or a traceback per message."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._quiet_until = float("-inf")
        self._since = 0

    def note(self, what: str, exc: BaseException) -> None:
        """Record one failure of ``what`` (a handler, a connection) caused by ``exc``."""
        now = self.clock()
        if now < self._quiet_until:
            self._since += 1
            logger.debug("%s: the group layer is unavailable (%s)", what, exc)
            return
        more = f"; {self._since} more since the last warning" if self._since else ""
        logger.warning("%s: the group layer is unavailable (%s)%s", what, exc, more)
        self._quiet_until, self._since = now + self.interval, 0

    def reset(self) -> None:
        """Forget the quiet period: the next failure is a warning again (for tests)."""
        self._quiet_until, self._since = float("-inf"), 0


outages = OutageLog()
"""The process's outage log: the engine and the adapters note each failure there, so an
outage is one warning per interval whichever connections hit it."""


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """A serialized outgoing message for every member of a group."""

    text: str
    exclude: str | None = None


@dataclass(slots=True)
class EventEnvelope:
    """A server-side event. In-process layers hand the model itself to receivers; the
    JSON text is produced only when something needs it (another process)."""

    action: str
    event: BaseMessage | None = None
    _text: str | None = field(default=None, repr=False)
    _size: int | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, event: BaseMessage) -> EventEnvelope:
        return cls(event.action, event)

    @property
    def text(self) -> str:
        if self._text is None:
            assert self.event is not None
            self._text = self.event.model_dump_json(by_alias=True)
        return self._text

    @property
    def size(self) -> int:
        """The UTF-8 size of :attr:`text` (what a queued event counts toward a
        connection's outbox bound); computed once per envelope, whatever the number of
        receivers."""
        if self._size is None:
            self._size = utf8_size(self.text)
        return self._size


Envelope = GroupMessage | EventEnvelope


def envelope_to_wire(envelope: Envelope) -> dict[str, Any]:
    """A JSON- and msgpack-safe dict for layers that cross processes."""
    if isinstance(envelope, GroupMessage):
        return {
            "type": WIRE_TYPE,
            "kind": "message",
            "text": envelope.text,
            "exclude": envelope.exclude,
        }
    return {"type": WIRE_TYPE, "kind": "event", "action": envelope.action, "text": envelope.text}


def envelope_from_wire(data: dict[str, Any]) -> Envelope:
    """The inverse of :func:`envelope_to_wire`; raises ``ValueError`` on anything else."""
    kind = data.get("kind")
    if kind == "message":
        return GroupMessage(str(data["text"]), data.get("exclude"))
    if kind == "event":
        return EventEnvelope(str(data["action"]), None, str(data["text"]))
    raise ValueError(f"not a chanx envelope: kind={kind!r}")


def unguessable_name_part() -> str:
    """The random part of a new channel name (96 bits, hex). A channel name is an
    address any code can send events to; knowing one connection's (a client may learn
    its own) must not give away the others', so layers never name connections by a
    count alone."""
    return secrets.token_hex(12)


@runtime_checkable
class Receiver(Protocol):
    """A connection as a layer sees it."""

    channel_name: str

    async def deliver(self, envelope: Envelope) -> None:
        """Take one envelope. Called on the receiver's event loop; never waits on the
        receiver's client (chanx consumers write at once or queue in their outbox), so
        one slow client never holds up a layer's delivery to the others."""


class GroupLayer(Protocol):
    """What an engine needs from a layer. Adapters map their framework's pub/sub onto it.

    A layer states which group names it accepts with a ``group_name_rule`` attribute (a
    :class:`chanx.core.groups.GroupNameRule`); the engine checks names against it before
    joining or sending. A layer without one is taken to accept any string that encodes
    as UTF-8 (:data:`chanx.core.groups.UTF8_STRING`).

    A layer whose messages never leave this process says so with ``in_process = True``:
    test communicators can then prove when nothing is in flight (``settle()``); without
    it they wait out their timeout instead, since a message may be on its way from
    another process.
    """

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop that owns this process's receivers, for the ``*_sync`` senders;
        ``None`` when the layer can be driven from any loop."""

    async def add_receiver(self, receiver: Receiver) -> str:
        """Register a connection; returns its channel name (the address for ``send_to``),
        which must not be guessable from another's (see :func:`unguessable_name_part`)."""

    async def remove_receiver(self, receiver: Receiver) -> None:
        """Forget a connection (after it has left its groups)."""

    async def join(self, group: str, receiver: Receiver) -> None:
        """Add a connection to a group."""

    async def leave(self, group: str, receiver: Receiver) -> None:
        """Remove a connection from a group; a group with no members is dropped."""

    async def send_group(self, group: str, envelope: Envelope) -> None:
        """Deliver to every member of ``group``, wherever it is connected."""

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        """Deliver to one connection by channel name."""


async def deliver_all(receivers: Iterable[Receiver], envelope: Envelope) -> None:
    """Deliver to each receiver in turn (none waits on its client); one failing receiver
    never stops the others."""
    for receiver in receivers:
        try:
            await receiver.deliver(envelope)
        except ConnectionGone:
            logger.debug("%s is gone; skipped", receiver.channel_name)
        except Exception:
            logger.warning("delivery to %s failed", receiver.channel_name, exc_info=True)
