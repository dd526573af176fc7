"""chanx-channels' pytest plugin (its ``pytest11`` entry point), beside chanx-core's.

Its one fixture, ``chanx_channel_layers``, is automatic: once Django is configured, each
test starts with fresh in-memory Channels layers (every ``CHANNEL_LAYERS`` alias whose
backend is ``InMemoryChannelLayer`` is built anew when first used), so no group
membership or queued message leaks from one test into the next. Layers that live
outside the process (channels_redis) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def chanx_channel_layers() -> Iterator[None]:
    """Fresh in-memory Channels layers for the test (when Django is configured)."""
    _drop_memory_layers()
    yield
    _drop_memory_layers()


def _drop_memory_layers() -> None:
    from django.conf import settings

    if not settings.configured:
        return
    from channels.layers import InMemoryChannelLayer, channel_layers

    for alias, backend in list(channel_layers.backends.items()):
        if isinstance(backend, InMemoryChannelLayer):
            del channel_layers.backends[alias]
