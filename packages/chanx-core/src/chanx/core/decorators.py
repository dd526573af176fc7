"""Decorators that mark consumer methods as handlers and attach channel metadata.

``@ws_handler`` marks a method that handles one client message type, ``@event_handler``
one that handles a server-side event; the message type comes from the first parameter's
annotation and the action from that type's ``Literal``. Both work bare or with options::

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoReply: ...

    @ws_handler(output_type=ChatNotice, summary="Post to the room")
    async def handle_chat(self, message: ChatMessage) -> None: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

Permission = Callable[[Any, Any], "bool | Awaitable[bool]"]
"""A check run before a handler: ``(consumer, message) -> bool`` (sync or async)."""

HANDLER_ATTRIBUTE = "__chanx_handler__"
CHANNEL_ATTRIBUTE = "__chanx_channel__"


@dataclass(frozen=True, slots=True)
class HandlerOptions:
    """What a decorator recorded on a handler method."""

    kind: Literal["message", "event"]
    output_type: Any = None
    summary: str | None = None
    description: str | None = None
    permissions: tuple[Permission, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """Class-level metadata for documentation: the channel's name, description and tags."""

    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


def _mark(
    kind: Literal["message", "event"],
    func: F | None,
    output_type: Any,
    summary: str | None,
    description: str | None,
    permissions: Sequence[Permission],
) -> F | Callable[[F], F]:
    def decorate(f: F) -> F:
        setattr(
            f,
            HANDLER_ATTRIBUTE,
            HandlerOptions(kind, output_type, summary, description, tuple(permissions)),
        )
        return f

    return decorate(func) if func is not None else decorate


@overload
def ws_handler(func: F, /) -> F: ...
@overload
def ws_handler(
    *,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
    permissions: Sequence[Permission] = (),
) -> Callable[[F], F]: ...
def ws_handler(
    func: F | None = None,
    /,
    *,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
    permissions: Sequence[Permission] = (),
) -> F | Callable[[F], F]:
    """Mark a consumer method as the handler of one client message type.

    The method takes the validated message; whatever it returns (a message, or the
    messages an async generator yields) is sent back to the client. ``output_type``
    declares messages the handler sends by other means (broadcasts, ``send_message``).
    ``permissions`` are checks run before the handler; a failed one answers with an
    ``error`` and the handler does not run.
    """
    return _mark("message", func, output_type, summary, description, permissions)


@overload
def event_handler(func: F, /) -> F: ...
@overload
def event_handler(
    *,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
) -> Callable[[F], F]: ...
def event_handler(
    func: F | None = None,
    /,
    *,
    output_type: Any = None,
    summary: str | None = None,
    description: str | None = None,
) -> F | Callable[[F], F]:
    """Mark a consumer method as the handler of one server-side event type.

    Events come from ``send_event`` / ``broadcast_event`` (HTTP views, tasks, other
    processes). What the handler returns or yields is sent to this connection's client,
    followed by ``event_complete`` when completion signals are on.
    """
    return _mark("event", func, output_type, summary, description, ())


def channel(
    *, name: str | None = None, description: str | None = None, tags: Sequence[str] = ()
) -> Callable[[C], C]:
    """Attach documentation metadata to a consumer class."""

    def decorate(cls: C) -> C:
        setattr(cls, CHANNEL_ATTRIBUTE, ChannelInfo(name, description, tuple(tags)))
        return cls

    return decorate
