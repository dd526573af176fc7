"""Built-in messages a client sends."""

from typing import Literal

from chanx.messages.base import BaseMessage


class PingMessage(BaseMessage):
    """A liveness probe; every consumer answers it with a ``pong``."""

    action: Literal["ping"] = "ping"
    payload: None = None
