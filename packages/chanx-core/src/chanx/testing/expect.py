"""What a typed assertion expects, and how a frame is held up against it.

``assert_receives(ChatReply)``, ``assert_receives(ChatReply, text="hi")`` and
``assert_receives(ChatReply(payload=...))`` each build an :class:`Expectation`: a message
class, and either a whole message to equal or payload fields to equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from chanx.messages.base import BaseMessage

M = TypeVar("M", bound=BaseMessage)

_MISSING: Any = object()


@dataclass(frozen=True)
class Expectation(Generic[M]):
    """A message of ``model`` (its action), equal to ``instance`` when given, else with
    ``fields``: ``payload=...`` compares the whole payload, any other name one attribute
    (or key) of the payload."""

    model: type[M]
    instance: M | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, expected: type[M] | M, fields: Mapping[str, Any]) -> Expectation[M]:
        """The expectation for ``assert_receives(expected, **fields)``."""
        if isinstance(expected, BaseMessage):
            if fields:
                raise TypeError(
                    "pass either a message to compare with, or a message class and fields, not both"
                )
            return cls(type(expected), expected)
        if not (isinstance(expected, type) and issubclass(expected, BaseMessage)):
            raise TypeError(f"expected a message class or a message, not {expected!r}")
        if expected.message_action is None:
            raise TypeError(
                f"{expected.__qualname__} has no Literal action: name a concrete message class"
            )
        return cls(expected, None, dict(fields))

    @property
    def action(self) -> str:
        action = self.model.message_action
        assert action is not None
        return action

    def match(self, data: Any) -> tuple[M | None, str | None]:
        """``(message, None)`` when ``data`` (a decoded frame) is what is expected;
        ``(None, why)`` when it has the action but is not; ``(None, None)`` otherwise."""
        if not isinstance(data, dict) or data.get("action") != self.action:
            return None, None
        try:
            message = self.model.model_validate(data)
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(message)'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)[:3]
            )
            return None, f"does not validate as {self.model.__name__} ({errors})"
        if self.instance is not None:
            if message == self.instance:
                return message, None
            return None, "differs"
        for name, wanted in self.fields.items():
            actual = _field(message, name)
            if actual is _MISSING:
                return None, f"its payload has no {name!r}"
            if actual != wanted:
                return None, f"{name}={actual!r}, not {wanted!r}"
        return message, None

    def match_message(self, message: BaseMessage) -> bool:
        """Whether ``message`` (a message object, not a frame) is what is expected."""
        if not isinstance(message, self.model):
            return False
        if self.instance is not None:
            return bool(message == self.instance)
        return all(_field(message, name) == wanted for name, wanted in self.fields.items())

    def describe(self) -> str:
        """The expectation as the test wrote it."""
        if self.instance is not None:
            return repr(self.instance)
        if not self.fields:
            return self.model.__name__
        shown = ", ".join(f"{name}={value!r}" for name, value in self.fields.items())
        return f"{self.model.__name__}({shown})"


def _field(message: BaseMessage, name: str) -> Any:
    if name == "payload":
        return message.payload
    payload = message.payload
    if isinstance(payload, Mapping):
        return payload.get(name, _MISSING)
    return getattr(payload, name, _MISSING)
