"""The ``CHANX`` Django setting: defaults for every chanx consumer of a project.

::

    # settings.py
    CHANX = {
        "SEND_COMPLETION": False,          # complete / group_complete / event_complete
        "LOG_WEBSOCKET_MESSAGE": False,    # log each received and sent action (INFO)
        "LOG_IGNORED_ACTIONS": [],         # actions never logged
        "MAX_MESSAGE_SIZE": 1048576,       # largest text frame parsed, in UTF-8 bytes
        "CLOSE_OLD_CONNECTIONS": "auto",   # database connection clean-up between frames
        "OUTBOX_MAX_MESSAGES": 1000,       # group messages and events queued for a slow client
        "OUTBOX_MAX_BYTES": 1048576,       # ... and their UTF-8 bytes (None: no bound)
        "OUTBOX_OVERFLOW": "close",        # over a bound: "close" (4429) or "drop_oldest"
    }

Every key is optional; the values above are the defaults. A class attribute set on a
consumer subclass (``send_completion = True``) wins over the setting. An unknown key raises
``ImproperlyConfigured`` (a typo is never ignored).

The setting is read once, on first use, and again only after Django's ``setting_changed``
signal names ``CHANX`` (``override_settings``, pytest-django's ``settings`` fixture), so
tests can change it while connections run and a message costs no settings lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from chanx.constants import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_OUTBOX_MAX_BYTES,
    DEFAULT_OUTBOX_MAX_MESSAGES,
)

T = TypeVar("T")

DEFAULTS: Mapping[str, Any] = {
    "SEND_COMPLETION": False,
    "LOG_WEBSOCKET_MESSAGE": False,
    "LOG_IGNORED_ACTIONS": (),
    "MAX_MESSAGE_SIZE": DEFAULT_MAX_MESSAGE_SIZE,
    "CLOSE_OLD_CONNECTIONS": "auto",
    "OUTBOX_MAX_MESSAGES": DEFAULT_OUTBOX_MAX_MESSAGES,
    "OUTBOX_MAX_BYTES": DEFAULT_OUTBOX_MAX_BYTES,
    "OUTBOX_OVERFLOW": "close",
}
"""Every ``CHANX`` key and its default."""

_resolved: dict[str, Any] | None = None
_descriptors: list[FromSettings[Any]] = []


def chanx_setting(key: str) -> Any:
    """The current value of ``CHANX[key]``, or its default."""
    values = _resolved if _resolved is not None else _resolve()
    return values[key]


def _resolve() -> dict[str, Any]:
    global _resolved
    configured: Any = getattr(settings, "CHANX", None)
    if configured is None:
        values = dict(DEFAULTS)
    else:
        _check(configured)
        values = {**DEFAULTS, **configured}
    _resolved = values
    return values


def _check(configured: object) -> None:
    if not isinstance(configured, Mapping):
        raise ImproperlyConfigured(f"CHANX must be a dict, not {type(configured).__name__}")
    unknown = sorted(set(configured) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"unknown CHANX key(s) {', '.join(unknown)}; known keys: {', '.join(DEFAULTS)}"
        )


def forget_chanx_setting() -> None:
    """Drop the values read from ``CHANX``: the next use reads the setting again.
    Connected to Django's ``setting_changed`` signal for ``CHANX``."""
    global _resolved
    _resolved = None
    for descriptor in _descriptors:
        descriptor.reinstall()


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "CHANX":
        forget_chanx_setting()


setting_changed.connect(_setting_changed, dispatch_uid="chanx.ext.channels.settings")


class FromSettings(Generic[T]):
    """A class attribute whose value is ``CHANX[key]`` (or its default).

    The first read replaces the descriptor on its class by the value itself, so later
    reads are plain attribute reads; a change of ``CHANX`` puts the descriptor back.
    Assigning a plain value to the same name on a subclass replaces it for that subclass.
    """

    __slots__ = ("key", "name", "owner")

    def __init__(self, key: str) -> None:
        if key not in DEFAULTS:
            raise ValueError(f"unknown CHANX key {key!r}")
        self.key = key
        self.owner: type | None = None
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name
        _descriptors.append(self)

    @overload
    def __get__(self, instance: None, owner: type) -> T: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object, owner: type | None = None) -> T:
        value: T = chanx_setting(self.key)
        if self.owner is not None:
            setattr(self.owner, self.name, value)
        return value

    def reinstall(self) -> None:
        """Put the descriptor back on its class (the value is read again when used)."""
        if self.owner is not None:
            setattr(self.owner, self.name, self)

    def __repr__(self) -> str:
        return f"<from CHANX[{self.key!r}]>"
