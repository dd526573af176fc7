"""Suite-wide: every communicator checks every frame against the consumer's declared
messages (chanx.testing.contract). A test that cannot be checked as a whole says why
with ``@pytest.mark.off_contract("reason")``; one that sends bad input on purpose wraps
those sends in ``comm.off_contract(reason)`` instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chanx.testing import contract


@pytest.fixture(autouse=True)
def contract_checking(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("off_contract")
    if marker is not None and not (marker.args and str(marker.args[0]).strip()):
        raise pytest.UsageError("@pytest.mark.off_contract needs a reason")
    previous = contract.set_default(marker is None)
    try:
        yield
    finally:
        contract.set_default(previous)
