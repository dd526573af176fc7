"""The example app on an in-memory channels backend, its lifespan running, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from chanx.ext.litestar.testing import lifespan, memory_channels
from examples.litestar_chat.app import create_app


@pytest.fixture
async def app() -> AsyncIterator[Litestar]:
    async with lifespan(create_app(memory_channels())) as app:
        yield app
