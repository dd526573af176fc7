"""Test communicators: drive a websocket app and assert on what it answers.

``WebsocketCommunicator`` runs any ASGI application in-process; it knows when the server
has finished answering from chanx's completion messages. :mod:`chanx.testing.contract`
checks every frame against the consumer's declared messages (off unless turned on).
"""

from chanx.testing.asgi import WebsocketCommunicator
from chanx.testing.base import (
    BaseCommunicator,
    CommunicatorError,
    ConnectionClosed,
    ReceiveTimeout,
)
from chanx.testing.contract import ContractViolation

__all__ = [
    "BaseCommunicator",
    "CommunicatorError",
    "ConnectionClosed",
    "ContractViolation",
    "ReceiveTimeout",
    "WebsocketCommunicator",
]
