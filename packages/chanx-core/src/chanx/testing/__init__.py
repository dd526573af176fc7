"""Test communicators: drive a websocket app and assert on what it answers.

``WebsocketCommunicator`` runs any ASGI application in-process; it knows when the server
has finished answering from chanx's completion messages.
"""

from chanx.testing.asgi import WebsocketCommunicator
from chanx.testing.base import (
    BaseCommunicator,
    CommunicatorError,
    ConnectionClosed,
    ReceiveTimeout,
)

__all__ = [
    "BaseCommunicator",
    "CommunicatorError",
    "ConnectionClosed",
    "ReceiveTimeout",
    "WebsocketCommunicator",
]
