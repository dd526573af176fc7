"""Each distribution, installed from the wheels into a clean environment outside the
repository, brings its own framework and no other, and its imports work there."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.packaging.conftest import DISTRIBUTIONS, ROOT, CleanEnv

FRAMEWORK_DISTRIBUTIONS = {"django", "channels", "fastapi", "starlette", "litestar"}
EXPECTED = {
    "chanx-core": (set(), "chanx.core.websocket"),
    "chanx-channels": ({"django", "channels"}, "chanx.ext.channels"),
    "chanx-fastapi": ({"fastapi", "starlette"}, "chanx.ext.fastapi"),
    "chanx-litestar": ({"litestar"}, "chanx.ext.litestar"),
    "chanx-starlette": ({"starlette"}, "chanx.ext.starlette"),
}
CHANX_ALONG = {"chanx-fastapi": {"chanx-starlette"}}
"""Other chanx packages an adapter builds on (FastAPI is Starlette underneath)."""


def test_every_package_is_covered() -> None:
    assert set(DISTRIBUTIONS) <= set(EXPECTED), "say what each new package may bring along"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_only_its_framework_comes_along(
    distribution: str, clean_env: Callable[[str], CleanEnv]
) -> None:
    frameworks, module = EXPECTED[distribution]
    env = clean_env(distribution)
    assert env.installed[distribution] == env.installed["chanx-core"]
    assert set(env.installed) & FRAMEWORK_DISTRIBUTIONS == frameworks
    others = {name for name in env.installed if name.startswith("chanx")}
    assert others == {"chanx-core", distribution, *CHANX_ALONG.get(distribution, ())}
    imported = env.run(
        "python", "-I", "-c", f"import {module}; print({module}.__name__)", cwd=ROOT.parent
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == module
