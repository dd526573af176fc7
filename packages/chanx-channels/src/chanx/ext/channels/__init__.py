"""chanx for Django Channels: typed consumers that are real Channels consumers.

* :class:`AsyncJsonWebsocketConsumer` (``chanx.ext.channels.websocket``): mount it with
  ``Consumer.as_asgi()`` in a ``URLRouter``; groups and events go over ``CHANNEL_LAYERS``;
* :class:`SessionAuthenticator` and the handler checks ``is_authenticated``, ``is_staff``,
  ``is_superuser``, ``has_perms`` (``chanx.ext.channels.auth``);
* :class:`DRFAuthenticator` and ``drf_permissions`` (``chanx.ext.channels.drf``, needs the
  ``drf`` extra: ``pip install "chanx-channels[drf]"``);
* :class:`ChannelsGroupLayer` and :class:`ChannelLayerUnavailable`
  (``chanx.ext.channels.layer``);
* ``WebsocketTestCase`` for tests: ``chanx.ext.channels.testing``.

The names above load on first use, so importing this package neither needs Django
settings nor imports Channels.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chanx.ext.channels.auth import (
        SessionAuthenticator,
        has_perms,
        is_authenticated,
        is_staff,
        is_superuser,
    )
    from chanx.ext.channels.drf import DRFAuthenticator, drf_permissions
    from chanx.ext.channels.layer import ChannelLayerUnavailable, ChannelsGroupLayer
    from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer

_MODULE_OF = {
    "AsyncJsonWebsocketConsumer": "websocket",
    "ChannelLayerUnavailable": "layer",
    "ChannelsGroupLayer": "layer",
    "DRFAuthenticator": "drf",
    "SessionAuthenticator": "auth",
    "drf_permissions": "drf",
    "has_perms": "auth",
    "is_authenticated": "auth",
    "is_staff": "auth",
    "is_superuser": "auth",
}

__all__ = [
    "AsyncJsonWebsocketConsumer",
    "ChannelLayerUnavailable",
    "ChannelsGroupLayer",
    "DRFAuthenticator",
    "SessionAuthenticator",
    "drf_permissions",
    "has_perms",
    "is_authenticated",
    "is_staff",
    "is_superuser",
]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the DRF module reads Django settings when imported, and a
    # project may import this package before its settings are configured.
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
