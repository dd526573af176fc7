"""Message models: the ``{"action": ..., "payload": ...}`` envelope and the built-in messages."""

from chanx.messages.base import BaseMessage

__all__ = ["BaseMessage"]
