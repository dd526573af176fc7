"""Core's Redis layer as each adapter binds it: a server that is down fails the app's
startup with a clear message; the deprecated FastAPI import paths still lead to it."""

from __future__ import annotations

import importlib
import sys

import pytest

from chanx.core.redis import RedisGroupLayer
from chanx.testing import lifespan
from tests.conformance.drivers import Driver
from tests.redis.test_conformance import ADAPTERS
from tests.servers import free_port


@pytest.mark.parametrize("adapter", ADAPTERS, ids=[adapter.name for adapter in ADAPTERS])
async def test_a_redis_that_is_down_fails_the_startup_clearly(adapter: Driver) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    app = adapter.app_with_layer(RedisGroupLayer(url, connect_timeout=0.5))
    with pytest.raises(
        RuntimeError, match=rf"(?s)startup failed.*cannot connect to Redis at {url}"
    ):
        async with lifespan(app):
            pass


def test_the_fastapi_import_paths_are_deprecated_aliases() -> None:
    import chanx.ext.fastapi

    with pytest.warns(DeprecationWarning, match=r"import it from chanx\.core\.redis"):
        assert chanx.ext.fastapi.RedisGroupLayer is RedisGroupLayer
    sys.modules.pop("chanx.ext.fastapi.redis", None)
    with pytest.warns(DeprecationWarning, match=r"from chanx\.core\.redis"):
        alias = importlib.import_module("chanx.ext.fastapi.redis")
    assert alias.RedisGroupLayer is RedisGroupLayer
