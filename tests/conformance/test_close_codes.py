"""Close codes the engine sends, the same on every adapter (constants in chanx.constants;
tests/e2e shows clients of real servers receive them)."""

from __future__ import annotations

import logging

import pytest

from chanx.constants import CLOSE_SERVER_ERROR
from tests.conformance.behaviours import BROKEN_PATH
from tests.conformance.drivers import Driver


async def test_a_failing_connect_hook_closes_4500_and_logs_the_traceback(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    comm = driver.communicator(BROKEN_PATH)
    with caplog.at_level(logging.ERROR, logger="chanx"):
        assert (await comm.connect())[0] is True
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_SERVER_ERROR
    if driver.server_here:
        [record] = caplog.records
        assert record.getMessage() == "BrokenConsumer: connect failed (close 4500)"
        assert record.exc_info is not None
        assert str(record.exc_info[1]) == "connect hook failed"
    await comm.disconnect()
