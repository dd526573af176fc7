"""docs/testing.md runs as written: its example module, then every test function of its
other Python blocks, with the plugin's fixtures (in both modes when it says so)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from chanx.testing import contract
from chanx.testing.pytest_plugin import Communicators
from tests.docs.test_snippets import python_blocks, run_as_module

GUIDE = "docs/testing.md"


def guide_tests() -> list[Any]:
    """``(block number, test name, mode)`` for each test function in the guide."""
    blocks = python_blocks(GUIDE)
    found = []
    for number, block in enumerate(blocks[1:], 1):
        namespace = _namespace(block)
        for name, value in namespace.items():
            if name.startswith("test_") and inspect.iscoroutinefunction(value):
                modes = _marker(value, "chanx_modes")
                for mode in modes.args if modes else ("in_process",):
                    found.append(pytest.param(number, name, mode, id=f"{name}-{mode}"))
    return found


def _namespace(block: str) -> dict[str, Any]:
    run_as_module("chat", python_blocks(GUIDE)[0])
    namespace: dict[str, Any] = {}
    exec(compile(block, f"<{GUIDE}>", "exec"), namespace)
    return namespace


def _marker(function: Callable[..., Any], name: str) -> Any:
    return next((m for m in getattr(function, "pytestmark", []) if m.name == name), None)


def test_the_guide_has_its_example_and_tests() -> None:
    assert python_blocks(GUIDE)[0].startswith("from collections.abc import Iterable")
    assert len(guide_tests()) >= 12


@pytest.mark.off_contract("each guide test says itself whether it checks the contract")
@pytest.mark.parametrize(("number", "name", "mode"), guide_tests())
async def test_the_guides_tests_pass(number: int, name: str, mode: str) -> None:
    test = _namespace(python_blocks(GUIDE)[number])[name]
    off = _marker(test, "off_contract")
    previous = contract.set_default(off is None)
    made = Communicators(mode, {})
    fixtures = {"communicator": made, "chanx_mode": mode}
    try:
        await test(
            **{parameter: fixtures[parameter] for parameter in inspect.signature(test).parameters}
        )
    finally:
        contract.set_default(previous)
        await made.close()
