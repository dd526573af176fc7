"""Wire-level constants shared by the engine, the adapters and the test communicators."""

from typing import Final

MESSAGE_ACTION_COMPLETE: Final = "complete"
"""Sent after a client message has been fully handled (replies and error replies included)."""

GROUP_ACTION_COMPLETE: Final = "group_complete"
"""Sent to each receiver right after each relayed group message."""

EVENT_ACTION_COMPLETE: Final = "event_complete"
"""Sent to each receiver after each handled server-side event."""

COMPLETION_ACTIONS: Final = frozenset(
    {MESSAGE_ACTION_COMPLETE, GROUP_ACTION_COMPLETE, EVENT_ACTION_COMPLETE}
)
"""Every completion action; the communicator drops these from collected messages."""

PING_ACTION: Final = "ping"
PONG_ACTION: Final = "pong"
ERROR_ACTION: Final = "error"
AUTHENTICATION_ACTION: Final = "authentication"

DEFAULT_MAX_MESSAGE_SIZE: Final = 1024 * 1024
"""Largest text frame (in UTF-8 bytes) the engine parses; larger ones get an ``error`` reply."""

DEFAULT_OUTBOX_MAX_MESSAGES: Final = 1000
"""Default bound on the group messages and events queued for one slow connection."""

DEFAULT_OUTBOX_MAX_BYTES: Final = 1024 * 1024
"""Default bound on the UTF-8 bytes queued for one slow connection (as large as the
largest frame a client may send by default)."""

AUTH_FAILURE_CLOSE_BASE: Final = 4000
"""A failed authentication closes with ``4000 + status_code`` (4401, 4403, ...)."""

# Close codes. Every one is in the 4000-4999 range that every server accepts (uvicorn on
# websockets and wsproto, daphne, hypercorn) and that reaches every client; they follow
# the authentication scheme: 4000 + the HTTP status that says the same thing.

CLOSE_INVALID_GROUP: Final = 4400
"""The connection's groups break the layer's group-name rule (a name built from the URL)."""

CLOSE_SLOW_CONSUMER: Final = 4429
"""The client fell too far behind: its outbox went over its bound (policy ``"close"``)."""

CLOSE_SERVER_ERROR: Final = 4500
"""A connect hook (``get_groups``, ``post_authentication``, ...) raised, or the server
refused to send a group message or event reply to the client; logged."""

CLOSE_LAYER_UNAVAILABLE: Final = 4503
"""The group layer's backing service (Redis, ...) cannot be reached."""
