"""Recording what a consumer class sends to groups and connections, with or without
delivering it: ``async with capture_broadcasts(ChatConsumer) as sent:``."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing.base import CommunicatorError
from chanx.testing.expect import Expectation

M = TypeVar("M", bound=BaseMessage)

Method = Literal["broadcast_message", "broadcast_event", "send_event"]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One recorded send: a ``broadcast_message`` or ``broadcast_event`` to one ``group``
    (a call to several groups is one record per group), or a ``send_event`` to one
    ``channel_name``."""

    method: Method
    message: BaseMessage
    group: str | None = None
    channel_name: str | None = None
    exclude_current: bool = False
    """``broadcast_message(..., exclude_current=True)``: the sender's connection skipped."""


class Broadcasts(list[Broadcast]):
    """What :func:`capture_broadcasts` recorded, in order, with helpers to look it up."""

    def to(self, group: str) -> list[BaseMessage]:
        """The messages and events sent to ``group``."""
        return [b.message for b in self if b.group == group]

    def groups(self) -> list[str]:
        """The groups sent to, in the order of the first send to each."""
        return list(dict.fromkeys(b.group for b in self if b.group is not None))

    @overload
    def assert_sent(
        self, expected: type[M], /, *, group: str | None = None, **fields: Any
    ) -> M: ...

    @overload
    def assert_sent(self, expected: M, /, *, group: str | None = None) -> M: ...

    def assert_sent(
        self, expected: type[M] | M, /, *, group: str | None = None, **fields: Any
    ) -> M:
        """The first recorded message matching ``expected`` (as for the communicator's
        ``assert_receives``: a class, a class and payload fields, or a message), sent to
        ``group`` when given; fails listing what was sent."""
        expectation = Expectation.of(expected, fields)
        for record in self:
            if (group is None or record.group == group) and expectation.match_message(
                record.message
            ):
                return record.message  # type: ignore[return-value]
        where = f" to {group!r}" if group is not None else ""
        raise CommunicatorError(
            f"no {expectation.describe()} was sent{where}; sent: {self._listed()}"
        )

    @overload
    def refute_sent(
        self, expected: type[M], /, *, group: str | None = None, **fields: Any
    ) -> None: ...

    @overload
    def refute_sent(self, expected: M, /, *, group: str | None = None) -> None: ...

    def refute_sent(
        self, expected: type[M] | M, /, *, group: str | None = None, **fields: Any
    ) -> None:
        """Fail if a recorded message matches ``expected`` (sent to ``group`` when given)."""
        expectation = Expectation.of(expected, fields)
        for record in self:
            if (group is None or record.group == group) and expectation.match_message(
                record.message
            ):
                raise CommunicatorError(f"{expectation.describe()} was sent: {_show(record)}")

    def _listed(self) -> str:
        if not self:
            return "nothing"
        return "; ".join(_show(record) for record in self[:20]) + (
            f" (+{len(self) - 20} more)" if len(self) > 20 else ""
        )


def _show(record: Broadcast) -> str:
    target = (
        f"group {record.group!r}"
        if record.group is not None
        else f"channel {record.channel_name!r}"
    )
    return f"{record.method} to {target}: {record.message!r}"


_patch_lock = threading.Lock()


class capture_broadcasts:
    """Record every ``broadcast_message``, ``broadcast_event`` and ``send_event`` of
    ``consumer`` (and its subclasses) while the block runs::

        async with capture_broadcasts(ChatConsumer) as sent:
            await ChatConsumer.broadcast_event(Notice(payload="hi"), groups=["lobby"])
        assert sent.to("lobby") == [Notice(payload="hi")]

    No connection is needed. ``deliver=False`` records without sending: no layer is
    touched (so no app needs to run), and the group-name rule is not checked. The
    ``*_sync`` forms are recorded too (they call the async ones). A plain ``with`` works
    as well as ``async with``.
    """

    def __init__(self, consumer: type[AsyncJsonWebsocketConsumer], *, deliver: bool = True) -> None:
        if not (isinstance(consumer, type) and issubclass(consumer, AsyncJsonWebsocketConsumer)):
            raise TypeError(f"capture_broadcasts() takes a consumer class, not {consumer!r}")
        self.consumer = consumer
        self.deliver = deliver
        self.sent = Broadcasts()
        self._saved: dict[str, Any] | None = None

    def __enter__(self) -> Broadcasts:
        if self._saved is not None:
            raise RuntimeError("this capture_broadcasts() is already in use")
        self._saved = _patch(self.consumer, self.sent, self.deliver)
        return self.sent

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        saved, self._saved = self._saved, None
        if saved is not None:
            _unpatch(self.consumer, saved)

    async def __aenter__(self) -> Broadcasts:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _patch(
    consumer: type[AsyncJsonWebsocketConsumer], sent: Broadcasts, deliver: bool
) -> dict[str, Any]:
    """Replace the three senders on ``consumer`` with recording ones; returns what
    :func:`_unpatch` puts back."""
    original_message = consumer.broadcast_message
    original_event = consumer.broadcast_event
    original_send = consumer.send_event

    async def broadcast_message(
        self: AsyncJsonWebsocketConsumer,
        message: BaseMessage,
        groups: Iterable[str] | str | None = None,
        exclude_current: bool = False,
    ) -> None:
        targets = self.joined_groups if groups is None else _names(groups)
        sent.extend(
            Broadcast("broadcast_message", message, group, None, exclude_current)
            for group in targets
        )
        if deliver:
            await original_message(self, message, groups, exclude_current)

    async def broadcast_event(
        cls: type[AsyncJsonWebsocketConsumer],
        event: BaseMessage,
        groups: Iterable[str] | str | None = None,
    ) -> None:
        targets = _names(cls.groups if groups is None else groups)
        sent.extend(Broadcast("broadcast_event", event, group) for group in targets)
        if deliver:
            await original_event.__func__(cls, event, targets)  # type: ignore[attr-defined]

    async def send_event(
        cls: type[AsyncJsonWebsocketConsumer], event: BaseMessage, channel_name: str
    ) -> None:
        sent.append(Broadcast("send_event", event, None, channel_name))
        if deliver:
            await original_send.__func__(cls, event, channel_name)  # type: ignore[attr-defined]

    replacements = {
        "broadcast_message": broadcast_message,
        "broadcast_event": classmethod(broadcast_event),
        "send_event": classmethod(send_event),
    }
    with _patch_lock:
        saved = {name: consumer.__dict__.get(name, _ABSENT) for name in replacements}
        for name, replacement in replacements.items():
            setattr(consumer, name, replacement)
    return saved


def _unpatch(consumer: type[AsyncJsonWebsocketConsumer], saved: dict[str, Any]) -> None:
    with _patch_lock:
        for name, previous in saved.items():
            if previous is _ABSENT:
                delattr(consumer, name)
            else:
                setattr(consumer, name, previous)


_ABSENT: Any = object()


def _names(groups: Iterable[str] | str) -> tuple[str, ...]:
    return (groups,) if isinstance(groups, str) else tuple(groups)
