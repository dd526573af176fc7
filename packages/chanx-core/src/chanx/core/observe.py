"""A hook through which a test communicator follows the consumer it is driving.

The communicator sets :data:`current_observer` in the context of the application task it
starts; the engine reports each connection's progress to it. Outside tests the variable
is unset and the engine pays one context-variable lookup per connection.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Protocol


class ConnectionObserver(Protocol):
    def consumer_started(self, consumer: Any) -> None:
        """The engine took the connection (before accepting it)."""

    def consumer_ready(self, consumer: Any) -> None:
        """Connect handling is over: accepted, authenticated, groups joined; or refused."""

    def consumer_finished(self, consumer: Any) -> None:
        """Disconnect handling is over."""


current_observer: ContextVar[ConnectionObserver | None] = ContextVar(
    "chanx_current_observer", default=None
)
