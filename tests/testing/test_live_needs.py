"""Live mode without its dependencies says what to install (docs/testing.md's live-mode
example, run after its setup's ``pip install``, met a bare ``No module named
'websockets'`` from deep inside the communicator)."""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec

import pytest

from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.testing.live import LIVE_MODE_NEEDS, LiveCommunicator, UvicornLiveServer


class Echo(AsyncJsonWebsocketConsumer):
    pass


def uninstall(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """As if ``name`` were not installed: not imported, and not found."""
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, module)
    find_spec = importlib.util.find_spec

    def without(module: str, package: str | None = None) -> ModuleSpec | None:
        return None if module == name else find_spec(module, package)

    monkeypatch.setattr(importlib.util, "find_spec", without)


async def test_a_live_communicator_without_websockets(monkeypatch: pytest.MonkeyPatch) -> None:
    uninstall(monkeypatch, "websockets")
    comm = LiveCommunicator("ws://127.0.0.1:9/ws")
    with pytest.raises(ModuleNotFoundError) as missing:
        await comm.connect()
    assert str(missing.value) == f"websockets is not installed; {LIVE_MODE_NEEDS}"
    assert 'pip install "chanx-core[testing]"' in str(missing.value)


async def test_a_live_server_without_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    uninstall(monkeypatch, "uvicorn")
    server = UvicornLiveServer(Echo.as_asgi())
    with pytest.raises(ModuleNotFoundError, match=r"uvicorn is not installed; live mode needs"):
        await server.start()
