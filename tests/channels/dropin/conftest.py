"""The drop-in suite: Channels' own scenarios and habits, in our words, against chanx's
consumer class, driven mostly by Channels' own test communicator (as a migrating project's
tests are). The project here has ``CHANX = {}``: no completion signals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test.utils import override_settings

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def plain_project() -> Iterator[None]:
    with override_settings(CHANX={}, CHANNEL_LAYERS=IN_MEMORY):
        yield
