"""Handler discovery: from decorated methods to one routing table per consumer class.

Tables are built once, when the consumer class is created. Each holds the handlers by
action and one Pydantic ``TypeAdapter`` over the discriminated union of their message
types, so an incoming frame is validated straight from its text in a single call.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import Field, TypeAdapter

from chanx.core.decorators import HANDLER_ATTRIBUTE, HandlerOptions, Permission
from chanx.core.validation import declared_names
from chanx.messages.base import BaseMessage, is_message_class

_STREAM_ORIGINS = (
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.AsyncIterable,
)


@dataclass(frozen=True, slots=True)
class Handler:
    """One decorated method, resolved against its annotations."""

    name: str
    func: Callable[..., Any]
    message_types: tuple[type[BaseMessage], ...]
    output_types: tuple[type[BaseMessage], ...]
    streaming: bool
    options: HandlerOptions
    reply_types: tuple[type[BaseMessage], ...] = ()
    """The outputs its return annotation names: sent to this client as its answer."""
    permissions: tuple[Permission, ...] = field(init=False)
    """The checks run before it (from its decorator), read once per message."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", self.options.permissions)


def message_types_in(annotation: Any) -> list[type[BaseMessage]]:
    """The concrete message classes an annotation names (unions and streams unwrapped)."""
    if annotation is None or annotation is type(None):
        return []
    if is_message_class(annotation):
        return [annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        return message_types_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType) or origin in _STREAM_ORIGINS:
        found: list[type[BaseMessage]] = []
        for arg in get_args(annotation):
            for cls in message_types_in(arg):
                if cls not in found:
                    found.append(cls)
        return found
    if isinstance(annotation, (list, tuple)):
        return [c for item in annotation for c in message_types_in(item)]
    return []


def union_adapter(message_types: typing.Sequence[type[BaseMessage]]) -> TypeAdapter[Any] | None:
    """A ``TypeAdapter`` over the union of ``message_types``, discriminated on ``action``."""
    if not message_types:
        return None
    union: Any = Union[tuple(message_types)]  # noqa: UP007 - built at run time
    annotated: Any = Annotated[union, Field(discriminator="action")]
    return TypeAdapter(annotated)


def _resolve(
    owner: type,
    name: str,
    func: Callable[..., Any],
    options: HandlerOptions,
    localns: Mapping[str, Any] | None,
) -> Handler:
    where = f"{owner.__qualname__}.{name}"
    try:
        # localns: names of the scope the class was defined in (a test function, say),
        # for string annotations under ``from __future__ import annotations``.
        hints = typing.get_type_hints(func, localns=dict(localns) if localns else None)
    except Exception as exc:
        raise TypeError(f"cannot resolve the annotations of {where}: {exc}") from exc
    params = list(inspect.signature(func).parameters.values())
    if len(params) != 2:
        raise TypeError(f"{where} must take exactly (self, message)")
    incoming = message_types_in(hints.get(params[1].name))
    if not incoming:
        raise TypeError(
            f"{where}: annotate the message parameter with a BaseMessage subclass "
            "whose action is a Literal"
        )
    replies = message_types_in(hints.get("return"))
    outputs = list(replies)
    for cls in message_types_in(options.output_type):
        if cls not in outputs:
            outputs.append(cls)
    is_async = inspect.iscoroutinefunction(func)
    streaming = inspect.isasyncgenfunction(func)
    if not (is_async or streaming):
        raise TypeError(f"{where} must be declared with 'async def'")
    return Handler(name, func, tuple(incoming), tuple(outputs), streaming, options, tuple(replies))


@dataclass(frozen=True, slots=True)
class HandlerTable:
    """The handlers of one kind (client messages or events) for one consumer class."""

    by_action: dict[str, Handler]
    adapter: TypeAdapter[Any] | None
    _names: list[frozenset[str]] = field(default_factory=list, compare=False, repr=False)
    parse: Callable[[str], Any] = field(init=False, compare=False, repr=False)
    """:meth:`validate_json` without the method call (the engine's per-frame path)."""

    @classmethod
    def build(
        cls, consumer: type, kind: str, localns: Mapping[str, Any] | None = None
    ) -> HandlerTable:
        """Collect ``kind`` handlers over the class's MRO; fail on two handlers for one action.

        A method overridden in a subclass (same name) replaces the base's handler; an
        override without the decorator removes it.
        """
        by_action: dict[str, Handler] = {}
        seen: set[str] = set()
        for klass in consumer.__mro__:
            for name, attr in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                func = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
                options = getattr(func, HANDLER_ATTRIBUTE, None)
                if not isinstance(options, HandlerOptions) or options.kind != kind:
                    continue
                handler = _resolve(klass, name, func, options, localns)
                for message_type in handler.message_types:
                    action = message_type.message_action
                    assert action is not None
                    other = by_action.get(action)
                    if other is not None and other.name != name:
                        raise TypeError(
                            f"{consumer.__qualname__}: action {action!r} has two {kind} "
                            f"handlers, {other.name!r} and {name!r}; to replace an "
                            "inherited handler, override the method under its own name"
                        )
                    by_action[action] = handler
        inputs = [t for h in _unique(by_action.values()) for t in h.message_types]
        return cls(by_action, union_adapter(inputs))

    def __post_init__(self) -> None:
        adapter = self.adapter
        parse: Callable[[str], Any]
        if adapter is None:
            parse = _no_handlers
        elif adapter.pydantic_complete:
            parse = adapter.validator.validate_json  # the adapter's method adds a call
        else:
            parse = adapter.validate_json  # builds its schema once the names resolve
        object.__setattr__(self, "parse", parse)

    def validate_json(self, text: str) -> BaseMessage:
        """Parse and validate a frame into one of the handled message types."""
        message: BaseMessage = self.parse(text)
        return message

    def declared_names(self) -> frozenset[str]:
        """Every name the handled messages' schemas declare (computed once, on first use):
        what an error's ``loc`` may show a client."""
        if not self._names:
            schema = self.adapter.core_schema if self.adapter is not None else None
            self._names.append(declared_names(schema))
        return self._names[0]

    def outputs(self) -> list[type[BaseMessage]]:
        """Every message type these handlers declare they send."""
        found: list[type[BaseMessage]] = []
        for handler in _unique(self.by_action.values()):
            for out in handler.output_types:
                if out not in found:
                    found.append(out)
        return found

    def inputs(self) -> list[type[BaseMessage]]:
        """Every message type these handlers accept."""
        return [t for h in _unique(self.by_action.values()) for t in h.message_types]


def _no_handlers(text: str) -> Any:
    raise LookupError("no handlers of this kind")


def _unique(handlers: collections.abc.Iterable[Handler]) -> list[Handler]:
    out: list[Handler] = []
    for h in handlers:
        if all(h is not o for o in out):
            out.append(h)
    return out
