"""Test communicators: drive a websocket app and assert on what it answers.

``WebsocketCommunicator`` runs any ASGI application in-process; it knows when the server
has finished answering from chanx's completion messages. ``AuthenticatedCommunicator``
fails unless the connection is admitted; ``lifespan(app)`` runs an app's startup and
shutdown around a block, as a server does. :mod:`chanx.testing.contract` checks every
frame against the consumer's declared messages (off unless turned on).
"""

from chanx.testing.asgi import AuthenticatedCommunicator, WebsocketCommunicator
from chanx.testing.base import (
    BaseCommunicator,
    CommunicatorError,
    ConnectionClosed,
    ReceiveTimeout,
)
from chanx.testing.contract import ContractViolation
from chanx.testing.lifespan import lifespan

__all__ = [
    "AuthenticatedCommunicator",
    "BaseCommunicator",
    "CommunicatorError",
    "ConnectionClosed",
    "ContractViolation",
    "ReceiveTimeout",
    "WebsocketCommunicator",
    "lifespan",
]
