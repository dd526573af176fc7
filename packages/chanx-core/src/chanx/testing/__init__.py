"""Test communicators: drive a websocket app and assert on what it answers.

``WebsocketCommunicator`` runs any ASGI application in-process: typed assertions
(``assert_receives``, ``refute_receives``), ``settle()`` (the application provably
idle, followed as it happens) and a ``receive_nothing()`` that returns once it is, the
completion-message collections, connecting as a user (``user=``).
``AuthenticatedCommunicator`` fails unless the connection is admitted; ``lifespan(app)``
runs an app's startup and shutdown around a block, as a server does;
``capture_broadcasts(Consumer)`` records what a consumer class sends to groups.
:mod:`chanx.testing.live` runs the same API over real sockets to uvicorn or daphne;
:mod:`chanx.testing.contract` checks every frame against the consumer's declared
messages; :mod:`chanx.testing.pytest_plugin` is the pytest plugin. Nothing here sleeps.
"""

from chanx.testing.asgi import AuthenticatedCommunicator, WebsocketCommunicator
from chanx.testing.base import (
    BaseCommunicator,
    CommunicatorError,
    ConnectionClosed,
    ReceiveTimeout,
)
from chanx.testing.broadcasts import Broadcast, Broadcasts, capture_broadcasts
from chanx.testing.contract import ContractViolation
from chanx.testing.lifespan import lifespan

__all__ = [
    "AuthenticatedCommunicator",
    "BaseCommunicator",
    "Broadcast",
    "Broadcasts",
    "CommunicatorError",
    "ConnectionClosed",
    "ContractViolation",
    "ReceiveTimeout",
    "WebsocketCommunicator",
    "capture_broadcasts",
    "lifespan",
]
