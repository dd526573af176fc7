"""docs/adapters.md's worked example is a working adapter: its code blocks, run as one
module, pass the whole conformance suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conformance.test_aliases import *  # noqa: F403
from tests.conformance.test_auth import *  # noqa: F403
from tests.conformance.test_bad_input import *  # noqa: F403
from tests.conformance.test_close_codes import *  # noqa: F403
from tests.conformance.test_events import *  # noqa: F403
from tests.conformance.test_fuzz import *  # noqa: F403
from tests.conformance.test_groups import *  # noqa: F403
from tests.conformance.test_messages import *  # noqa: F403
from tests.conformance.test_origins import *  # noqa: F403
from tests.conformance.test_slow_reader import *  # noqa: F403
from tests.docs.test_snippets import python_blocks, run_as_module

EXAMPLE = run_as_module("adapters_doc_example", "\n".join(python_blocks("docs/adapters.md")))


@pytest.fixture
async def driver() -> AsyncIterator[Any]:
    selected = EXAMPLE["DRIVER"]
    async with selected.running():
        yield selected
