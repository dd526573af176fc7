"""End to end: a client that never reads, in a group with two that do, while a burst is
broadcast to the group, on real servers.

The never-reading client is a raw socket with a 4 KiB receive buffer: it completes the
handshake, answers one ping, then reads nothing during the burst. The burst comes from a
connection outside the group (its handler's turn never delays the members' events):
messages, or events whose handler replies to each member. On uvicorn (FastAPI,
Litestar, plain ASGI, and Django Channels), chanx's outbox holds the never-reader's
backlog within its bound (200 messages / 256 KiB here) and closes it with 4429 (or, with
``drop_oldest``, drops and counts); the fast members get everything, at once, and the
server's RSS stays put. On daphne, sends never wait (Twisted buffers every frame): chanx
never sees a backlog, the never-reader is not closed and later gets everything.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from bench.never_reader import NeverReader
from tests.servers import Server, free_port, python

pytestmark = pytest.mark.e2e

COUNT = 10_000
"""Chunks per burst: 5 MB of 512-byte chunks, about twice what the kernel's socket
buffers take for the never-reader on loopback, and 50 times the outbox's bound."""
SIZE = 512
RSS_BOUND = 8 * 1024 * 1024
"""Generous for noise (fast members' buffers, allocator state), far below what queueing
the burst for the never-reader would take (about 27 MB for 20,000 queued events)."""

APPS = {
    "asgi": "tests.e2e.apps.asgi_app:app",
    "fastapi": "tests.e2e.apps.fastapi_app:app",
    "litestar": "tests.e2e.apps.litestar_app:app",
    "channels": "tests.e2e.apps.channels_app:app",
}


@dataclass
class Served:
    server: Server
    port: int
    name: str
    sockets: list[NeverReader] = field(default_factory=list)
    """The never-readers of the running test (closed after it)."""

    @property
    def pid(self) -> int:
        return self.server.proc.pid

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


def serve(app: str, server: str, env: dict[str, str] | None = None) -> Served:
    port = free_port()
    if server == "daphne":
        command = python("-m", "daphne", "-b", "127.0.0.1", "-p", str(port), APPS[app])
    else:
        command = python("-m", "uvicorn", APPS[app], "--host", "127.0.0.1", "--port", str(port))
        command += ["--log-level", "warning"]
    started = Server(command, {"PYTHONUNBUFFERED": "1", **(env or {})})
    try:
        started.wait_for_port(port)
    except AssertionError:
        started.stop()
        raise
    return Served(started, port, f"{app} on {server}")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@dataclass
class Outcome:
    seconds: float
    rss_growth: int
    log: str
    slow: NeverReader


async def ready(url: str) -> ClientConnection:
    ws = await connect(url, max_queue=None)
    await ws.send('{"action":"ping","payload":null}')
    assert "pong" in str(await ws.recv())
    return ws


async def burst(served: Served, kind: str) -> Outcome:
    """Two fast members and a never-reader in the crowd; a burst of ``COUNT`` chunks.
    Returns once both fast members have every chunk, in order."""
    fast = [await ready(served.url("/ws/crowd")) for _ in range(2)]
    slow = NeverReader(served.port, "/ws/crowd")
    served.sockets.append(slow)
    slow.send_text('{"action":"ping","payload":null}')
    slow.receive_text_containing('"pong"')  # in the crowd now; from here it never reads
    received: list[list[int]] = [[], []]

    async def read(index: int, ws: ClientConnection) -> None:
        while len(received[index]) < COUNT:
            frame = json.loads(await ws.recv())
            if frame["action"] == "chunk":
                received[index].append(frame["payload"]["n"])

    readers = [asyncio.ensure_future(read(i, ws)) for i, ws in enumerate(fast)]
    burster = await ready(served.url("/ws/burster"))
    log_before = len(served.server.output)
    before = rss(served.pid)
    started = time.perf_counter()
    payload = {"count": COUNT, "size": SIZE, "kind": kind}
    await burster.send(json.dumps({"action": "burst", "payload": payload}))
    try:
        await asyncio.wait_for(asyncio.gather(*readers), 30)
    finally:
        got = [len(r) for r in received]
        for task in readers:
            task.cancel()
    seconds = time.perf_counter() - started
    growth = rss(served.pid) - before
    assert json.loads(await burster.recv()) == {"action": "burst_done", "payload": COUNT}
    for ws in (*fast, burster):
        await ws.close()
    assert got == [COUNT, COUNT]
    assert received == [list(range(COUNT))] * 2, (
        "a fast member missed chunks or got them out of order"
    )
    print(f"{served.name}, {kind}s: {seconds:.2f}s, RSS {growth / 2**20:+.1f} MiB")
    return Outcome(seconds, growth, served.server.output[log_before:], slow)


def chunk_numbers(texts: list[str]) -> list[int]:
    return [json.loads(text)["payload"]["n"] for text in texts]


def closing_sockets(served: Served) -> Iterator[Served]:
    try:
        yield served
    finally:
        for sock in served.sockets:
            sock.close()
        served.sockets.clear()


# ---------------------------------------------------------------------- uvicorn: close


@pytest.fixture(scope="module", params=["asgi", "fastapi", "litestar", "channels"])
def on_uvicorn(request: pytest.FixtureRequest) -> Iterator[Served]:
    served = serve(request.param, "uvicorn")
    yield served
    served.server.stop()


@pytest.fixture
def uvicorn_app(on_uvicorn: Served) -> Iterator[Served]:
    yield from closing_sockets(on_uvicorn)


@pytest.mark.parametrize("kind", ["message", "event"])
async def test_on_uvicorn_a_never_reader_is_closed_with_4429_and_holds_up_nobody(
    uvicorn_app: Served, kind: str
) -> None:
    outcome = await burst(uvicorn_app, kind)
    assert outcome.rss_growth < RSS_BOUND
    assert outcome.log.count("is not reading fast enough") == 1
    assert "outbox over outbox_max_messages=200; closing it with 4429" in outcome.log
    frames, code = await asyncio.to_thread(outcome.slow.read_to_the_end)
    assert code == 4429
    # What reached the socket before it filled, in order; the rest never queued up.
    numbers = chunk_numbers([f.text for f in frames])
    assert numbers == list(range(len(numbers)))
    assert 0 < len(numbers) < COUNT


# ---------------------------------------------------------------------- uvicorn: drop_oldest


@pytest.fixture(scope="module")
def dropping() -> Iterator[Served]:
    served = serve("asgi", "uvicorn", {"SLOW_OVERFLOW": "drop_oldest"})
    yield served
    served.server.stop()


@pytest.fixture
def dropping_app(dropping: Served) -> Iterator[Served]:
    yield from closing_sockets(dropping)


@pytest.mark.parametrize("kind", ["message", "event"])
async def test_with_drop_oldest_a_never_reader_stays_and_every_drop_is_counted(
    dropping_app: Served, kind: str
) -> None:
    outcome = await burst(dropping_app, kind)
    assert outcome.rss_growth < RSS_BOUND
    assert outcome.log.count("is not reading fast enough") == 1  # one warning per burst
    slow = outcome.slow
    slow.send_text('{"action":"stats","payload":null}')  # answered after its backlog
    texts = await asyncio.to_thread(read_until_stats, slow)
    stats = json.loads(texts.pop())["payload"]
    assert stats["dropped"] > 0
    # Every chunk is delivered or counted as dropped: the events still waiting for their
    # handler at the time of the stats are answered after it.
    missing = COUNT - stats["dropped"] - len(texts)
    texts += await asyncio.to_thread(read_texts, slow, missing)
    numbers = chunk_numbers(texts)
    assert numbers == sorted(numbers)
    assert len(numbers) + stats["dropped"] == COUNT
    assert stats["overflowed"] is None


def read_texts(slow: NeverReader, count: int) -> list[str]:
    return [slow.receive().text for _ in range(count)]


def read_until_stats(slow: NeverReader) -> list[str]:
    texts = []
    while True:
        frame = slow.receive()
        if frame.opcode == 0x1:
            texts.append(frame.text)
            if '"stats_reply"' in frame.text:
                return texts


# ---------------------------------------------------------------------- daphne


@pytest.fixture(scope="module")
def on_daphne() -> Iterator[Served]:
    served = serve("channels", "daphne")
    yield served
    served.server.stop()


@pytest.fixture
def daphne_app(on_daphne: Served) -> Iterator[Served]:
    yield from closing_sockets(on_daphne)


async def test_on_daphne_sends_never_wait_so_the_never_reader_is_buffered_by_daphne(
    daphne_app: Served,
) -> None:
    outcome = await burst(daphne_app, "message")
    assert "is not reading fast enough" not in outcome.log
    slow = outcome.slow
    slow.send_text('{"action":"stats","payload":null}')
    texts = await asyncio.to_thread(read_until_stats, slow)
    stats = json.loads(texts.pop())["payload"]
    # Every chunk arrives, late: daphne held what the kernel could not; chanx's outbox
    # never saw a send wait, so it never queued, dropped or closed.
    assert chunk_numbers(texts) == list(range(COUNT))
    assert stats == {"queued_messages": 0, "queued_bytes": 0, "dropped": 0, "overflowed": None}
    print(f"daphne held the never-reader's backlog: RSS {outcome.rss_growth / 2**20:+.1f} MiB")
