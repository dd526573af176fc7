"""The message envelope and the built-in messages."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from chanx.messages.base import BaseMessage, is_message_class, message_classes_for
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import (
    AuthenticationMessage,
    CompleteMessage,
    ErrorMessage,
    EventCompleteMessage,
    GroupCompleteMessage,
    PongMessage,
)


class Greeting(BaseModel):
    name: str


class GreetMessage(BaseMessage):
    action: Literal["msg_test_greet"] = "msg_test_greet"
    payload: Greeting


def test_builtin_messages_serialize_to_the_wire_format() -> None:
    assert json.loads(PingMessage().model_dump_json()) == {"action": "ping", "payload": None}
    assert json.loads(PongMessage().model_dump_json()) == {"action": "pong", "payload": None}
    assert CompleteMessage().action == "complete"
    assert GroupCompleteMessage().action == "group_complete"
    assert EventCompleteMessage().action == "event_complete"


def test_payload_is_validated_from_plain_dicts() -> None:
    message = GreetMessage(payload={"name": "Ada"})  # type: ignore[arg-type]
    assert message.payload == Greeting(name="Ada")
    with pytest.raises(ValidationError):
        GreetMessage(payload={"nom": "Ada"})  # type: ignore[arg-type]


def test_action_is_fixed_by_the_literal() -> None:
    with pytest.raises(ValidationError):
        GreetMessage(action="other", payload=Greeting(name="x"))  # type: ignore[arg-type]
    assert GreetMessage.message_action == "msg_test_greet"


def test_a_class_without_literal_action_is_abstract() -> None:
    class Base(BaseMessage):
        pass

    assert Base.message_action is None
    assert not is_message_class(Base)
    assert is_message_class(GreetMessage)


def test_action_must_be_a_one_value_literal() -> None:
    with pytest.raises(TypeError, match="one-value Literal"):

        class TwoActions(BaseMessage):
            action: Literal["a", "b"] = "a"  # type: ignore[assignment]

    with pytest.raises(TypeError, match="one-value Literal"):

        class IntAction(BaseMessage):
            action: int = 3  # type: ignore[assignment]


def test_concrete_classes_are_registered_by_action() -> None:
    assert GreetMessage in message_classes_for("msg_test_greet")
    assert message_classes_for("msg_test_nothing_here") == []


def test_error_and_authentication_payloads_are_typed() -> None:
    error = ErrorMessage.model_validate(
        {"action": "error", "payload": {"detail": "x", "errors": [{"msg": "m", "type": "t"}]}}
    )
    assert error.payload.errors is not None
    assert error.payload.errors[0].loc == []
    auth = AuthenticationMessage.model_validate(
        {"action": "authentication", "payload": {"status_code": 403}}
    )
    assert auth.payload.status_code == 403
