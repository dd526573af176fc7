"""chanx's pytest plugin, run as users run it: pytest in a fresh process on a small
project, under pytest-asyncio's auto mode and its strict mode, in-process and live."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.servers import ROOT

APP = """
import asyncio
from typing import Literal

from chanx.core.decorators import ws_handler
from chanx.core.memory import default_layer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage


class Hello(BaseMessage):
    action: Literal["hello"] = "hello"
    payload: str


class Hi(BaseMessage):
    action: Literal["hi"] = "hi"
    payload: str


class Greeter(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    groups = ["lobby"]

    @ws_handler
    async def handle(self, message: Hello) -> Hi:
        name = self.user if self.user is not None else message.payload
        return Hi(payload=f"hi {name}")


class Stuck(AsyncJsonWebsocketConsumer):
    async def on_disconnect(self, code: int) -> None:
        await asyncio.Event().wait()


greeter = Greeter.as_asgi()
stuck = Stuck.as_asgi()
STARTED = []


async def with_lifespan(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        STARTED.append("up")
        await send({"type": "lifespan.startup.complete"})
        await receive()
        STARTED.append("down")
        await send({"type": "lifespan.shutdown.complete"})
    else:
        await greeter(scope, receive, send)
"""

TESTS = """
import pytest

from chanx.core.memory import default_layer
from chanx.testing.live import LiveCommunicator
from chanx.testing import WebsocketCommunicator
from app import Hello, Hi, greeter, stuck, with_lifespan, STARTED

MARK = {mark}
SEEN_LAYERS = []


@MARK
async def test_typed_round_trip(communicator, chanx_mode):
    async with communicator(greeter, "/ws") as comm:
        await comm.send_message(Hello(payload="ann"))
        assert await comm.assert_receives(Hi) == Hi(payload="hi ann")
        assert await comm.receive_all_messages() == []
        assert await comm.receive_nothing()
    kind = LiveCommunicator if chanx_mode == "live" else WebsocketCommunicator
    assert isinstance(comm, kind), (chanx_mode, type(comm))


@MARK
async def test_as_a_user_and_left_open(communicator):
    comm = communicator(greeter, "/ws", user="bob")
    await comm.connect()  # never closed by the test: the fixture does it
    await comm.send_message(Hello(payload="?"))
    assert (await comm.assert_receives(Hi)).payload == "hi bob"
    SEEN_LAYERS.append(default_layer())
    assert default_layer().group_names() == ["lobby"]


@MARK
async def test_each_test_gets_a_fresh_layer(communicator):
    assert default_layer() is not SEEN_LAYERS[0]
    assert default_layer().group_names() == []


@MARK
@pytest.mark.chanx_modes("in_process", "live")
async def test_both_modes(communicator, chanx_mode):
    assert communicator.live is (chanx_mode == "live")
    async with communicator(greeter, "/ws") as comm:
        await comm.send_message(Hello(payload=chanx_mode))
        await comm.assert_receives(Hi, payload=f"hi {{chanx_mode}}")


@MARK
async def test_lifespan_runs_around_the_test(communicator, chanx_lifespan):
    app = await chanx_lifespan(with_lifespan)
    assert STARTED == ["up"]
    async with communicator(app, "/ws") as comm:
        await comm.send_message(Hello(payload="x"))
        await comm.assert_receives(Hi)


@MARK
async def test_contract_checking_is_on(communicator):
    async with communicator(greeter, "/ws") as comm:
        with pytest.raises(AssertionError, match="has no handler for action 'nope'"):
            await comm.send_json({{"action": "nope"}})


@MARK
@pytest.mark.off_contract("this test sends an unknown action on purpose")
async def test_contract_checking_can_be_turned_off(communicator):
    async with communicator(greeter, "/ws") as comm:
        await comm.send_json({{"action": "nope"}})
        [error] = await comm.receive_all_json()
        assert error["payload"]["detail"] == "Unknown action"


@MARK
async def test_a_live_server_of_ones_own(chanx_live_server):
    server = await chanx_live_server(greeter)
    assert server.url.startswith("ws://127.0.0.1:")
    async with server.communicator("/ws", user="gil") as comm:
        await comm.send_message(Hello(payload="?"))
        assert (await comm.assert_receives(Hi)).payload == "hi gil"


@MARK
async def test_a_hanging_close_fails_the_test(communicator):
    comm = communicator(stuck, "/ws/stuck")
    await comm.connect()
"""


def project(tmp_path: Path, mark: str) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "test_plugin_use.py").write_text(textwrap.dedent(TESTS.format(mark=mark)))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nchanx_check_contract = true\n"
    )
    return tmp_path


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-q",
            "--chanx-close-timeout=0.5",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": f"{folder}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )


def outcome(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


HANGING = (
    "the connection to '/ws/stuck' made by the communicator fixture did not close within "
    "0.5s at the end of the test"
)


@pytest.mark.parametrize(
    ("mode", "mark"),
    [("auto", "lambda test: test"), ("strict", "pytest.mark.asyncio")],
)
def test_the_plugin_in_each_asyncio_mode(tmp_path: Path, mode: str, mark: str) -> None:
    result = run(project(tmp_path, mark), f"--asyncio-mode={mode}")
    assert outcome(result).startswith("10 passed, 1 error"), result.stdout + result.stderr
    assert HANGING in result.stdout
    assert "test_a_hanging_close_fails_the_test" in result.stdout


def test_the_same_tests_live(tmp_path: Path) -> None:
    """``--chanx-live``: every communicator goes over a real socket to uvicorn."""
    result = run(project(tmp_path, "lambda test: test"), "--asyncio-mode=auto", "--chanx-live")
    assert outcome(result).startswith("10 passed, 1 error"), result.stdout + result.stderr
    assert HANGING in result.stdout
