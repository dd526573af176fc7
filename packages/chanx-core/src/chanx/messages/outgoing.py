"""Built-in messages the server sends: pong, errors, authentication result, completions."""

from typing import Any, Literal

from pydantic import BaseModel

from chanx.messages.base import BaseMessage


class PongMessage(BaseMessage):
    """The answer to :class:`~chanx.messages.incoming.PingMessage`."""

    action: Literal["pong"] = "pong"
    payload: None = None


class ErrorDetail(BaseModel):
    """One problem found in a client message. Never carries the client's input."""

    loc: list[str | int] = []
    msg: str
    type: str


class ErrorPayload(BaseModel):
    """Why a client message was refused."""

    detail: str
    errors: list[ErrorDetail] | None = None


class ErrorMessage(BaseMessage):
    """Reply to a message the server could not handle; the connection stays usable."""

    action: Literal["error"] = "error"
    payload: ErrorPayload


class AuthenticationPayload(BaseModel):
    """Outcome of the connection's authentication."""

    status_code: int
    status_text: str = ""
    data: Any = None


class AuthenticationMessage(BaseMessage):
    """Sent once per connection when the consumer has an authenticator."""

    action: Literal["authentication"] = "authentication"
    payload: AuthenticationPayload


class CompleteMessage(BaseMessage):
    """A client message has been fully handled."""

    action: Literal["complete"] = "complete"
    payload: None = None


class GroupCompleteMessage(BaseMessage):
    """A relayed group message has been delivered."""

    action: Literal["group_complete"] = "group_complete"
    payload: None = None


class EventCompleteMessage(BaseMessage):
    """A server-side event has been handled."""

    action: Literal["event_complete"] = "event_complete"
    payload: None = None


BUILTIN_OUTGOING: tuple[type[BaseMessage], ...] = (
    PongMessage,
    ErrorMessage,
    AuthenticationMessage,
    CompleteMessage,
    GroupCompleteMessage,
    EventCompleteMessage,
)
"""Messages any consumer may send, whatever its handlers declare."""
