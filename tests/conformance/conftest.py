"""One ``driver`` fixture, parametrized over every adapter's driver, in-process and over
real sockets (live-server mode). A scenario that cannot run over real sockets says why
with ``@pytest.mark.in_process(reason)``, one that needs the server in the test's process
with ``@pytest.mark.same_process(reason)``; those runs are deselected (and counted as
such in pytest's summary)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

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


@pytest.fixture(scope="session", autouse=True)
def stop_live_servers() -> Iterator[None]:
    """Live servers that outlive a test (daphne) stop with the session."""
    yield
    for driver in DRIVERS:
        stop = getattr(driver, "stop", None)
        if stop is not None:
            stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        driver = callspec.params.get("driver") if callspec is not None else None
        live = getattr(driver, "live", False)
        elsewhere = not getattr(driver, "server_here", True)
        cannot = (live and item.get_closest_marker("in_process")) or (
            elsewhere and item.get_closest_marker("same_process")
        )
        (dropped if cannot else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
