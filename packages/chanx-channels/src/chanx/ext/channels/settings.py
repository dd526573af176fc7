"""The ``CHANX`` Django setting: defaults for every chanx consumer of a project.

::

    # settings.py
    CHANX = {
        "SEND_COMPLETION": False,          # complete / group_complete / event_complete
        "LOG_WEBSOCKET_MESSAGE": True,     # log each received and sent action (INFO)
        "LOG_IGNORED_ACTIONS": [],         # actions never logged
        "MAX_MESSAGE_SIZE": 1048576,       # largest text frame parsed, in UTF-8 bytes
        "CLOSE_OLD_CONNECTIONS": "auto",   # database connection clean-up between frames
        "OUTBOX_MAX_MESSAGES": 1000,       # group messages and events queued for a slow client
        "OUTBOX_MAX_BYTES": 1048576,       # ... and their UTF-8 bytes (None: no bound)
        "OUTBOX_OVERFLOW": "close",        # over a bound: "close" (4429) or "drop_oldest"
    }

Every key is optional; the values above are the defaults. Values are read each time a
consumer needs them, so ``override_settings(CHANX={...})`` takes effect in tests, and a
class attribute set on a consumer subclass (``send_completion = True``) wins over the
setting. An unknown key raises ``ImproperlyConfigured`` (a typo is never ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chanx.constants import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_OUTBOX_MAX_BYTES,
    DEFAULT_OUTBOX_MAX_MESSAGES,
)

T = TypeVar("T")

DEFAULTS: Mapping[str, Any] = {
    "SEND_COMPLETION": False,
    "LOG_WEBSOCKET_MESSAGE": True,
    "LOG_IGNORED_ACTIONS": (),
    "MAX_MESSAGE_SIZE": DEFAULT_MAX_MESSAGE_SIZE,
    "CLOSE_OLD_CONNECTIONS": "auto",
    "OUTBOX_MAX_MESSAGES": DEFAULT_OUTBOX_MAX_MESSAGES,
    "OUTBOX_MAX_BYTES": DEFAULT_OUTBOX_MAX_BYTES,
    "OUTBOX_OVERFLOW": "close",
}
"""Every ``CHANX`` key and its default."""

_checked: object = None


def chanx_setting(key: str) -> Any:
    """The current value of ``CHANX[key]``, or its default."""
    configured: Any = getattr(settings, "CHANX", None)
    if not configured:
        return DEFAULTS[key]
    global _checked
    if configured is not _checked:
        _check(configured)
        _checked = configured
    return configured.get(key, DEFAULTS[key])


def _check(configured: object) -> None:
    if not isinstance(configured, Mapping):
        raise ImproperlyConfigured(f"CHANX must be a dict, not {type(configured).__name__}")
    unknown = sorted(set(configured) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"unknown CHANX key(s) {', '.join(unknown)}; known keys: {', '.join(DEFAULTS)}"
        )


class FromSettings(Generic[T]):
    """A class attribute whose value is ``CHANX[key]`` at the moment it is read.

    Assigning a plain value to the same name on a subclass replaces it for that subclass.
    """

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        if key not in DEFAULTS:
            raise ValueError(f"unknown CHANX key {key!r}")
        self.key = key

    @overload
    def __get__(self, instance: None, owner: type) -> T: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object, owner: type | None = None) -> T:
        value: T = chanx_setting(self.key)
        return value

    def __repr__(self) -> str:
        return f"<from CHANX[{self.key!r}]>"
