"""The message envelope every chanx message shares."""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel

_registry: dict[str, list[type[BaseMessage]]] = {}


def _literal_action(cls: type[BaseModel]) -> str | None:
    field = cls.model_fields.get("action")
    if field is None:
        return None
    annotation = field.annotation
    if get_origin(annotation) is Literal:
        values = get_args(annotation)
        if len(values) == 1 and isinstance(values[0], str):
            return values[0]
    return None


class BaseMessage(BaseModel):
    """A message on the wire: ``{"action": <string>, "payload": <any>}``.

    Subclasses fix ``action`` with a one-value ``Literal`` and declare a typed ``payload``::

        class ChatMessage(BaseMessage):
            action: Literal["chat"] = "chat"
            payload: ChatPayload

    Unions of messages are discriminated on ``action``. A subclass without a ``Literal``
    action is abstract: it can be a base for others but never travels on its own.
    """

    action: str
    payload: Any = None

    message_action: ClassVar[str | None] = None
    """The ``Literal`` action of this class, or ``None`` for an abstract base."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.message_action = _literal_action(cls)
        if cls.message_action is None:
            annotation = cls.model_fields["action"].annotation
            if annotation is not str:
                raise TypeError(
                    f"{cls.__qualname__}.action must be a one-value Literal, e.g. "
                    f'action: Literal["chat"] = "chat" (got {annotation!r})'
                )
            return
        _registry.setdefault(cls.message_action, []).append(cls)


def message_classes_for(action: str) -> list[type[BaseMessage]]:
    """Every concrete message class defined so far whose action is ``action``."""
    return list(_registry.get(action, ()))


def is_message_class(obj: object) -> typing.TypeGuard[type[BaseMessage]]:
    """True for a concrete (``Literal``-action) message class."""
    return isinstance(obj, type) and issubclass(obj, BaseMessage) and obj.message_action is not None
