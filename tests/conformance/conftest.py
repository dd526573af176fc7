"""One ``driver`` fixture, parametrized over every adapter's driver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conformance.drivers import Driver, all_drivers

DRIVERS = all_drivers()


@pytest.fixture(
    params=[pytest.param(d, marks=[getattr(pytest.mark, m) for m in d.needs]) for d in DRIVERS],
    ids=[d.name for d in DRIVERS],
)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    selected: Driver = request.param
    async with selected.running():
        yield selected
