"""How long ``receive_nothing()`` takes when the app is idle, per framework, in-process.

    hatch run python -m bench.receive_nothing [--samples N] [--frameworks asgi,...]

Each framework's chanx bench app (``bench/apps/<framework>_chanx.py``: a consumer in a
group, the framework's in-memory layer) serves one in-process connection. Each sample
sends a ``ping``, reads the ``pong``, then times ``receive_nothing(timeout=1.0)``: the
communicator settles (the app is provably idle) and returns at once; before settle(),
it waited out its whole timeout every time. Also timed: ``settle()`` alone, and
``receive_nothing()`` straight after a ``ping`` whose ``pong`` it must catch (the app
busy: it fails naming the pong, after the handler has run). Prints median, p90 and max
in milliseconds, one JSON line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.inproc import lifespan
from bench.report import emit, load_app
from chanx.testing import CommunicatorError, WebsocketCommunicator
from chanx.testing.base import BaseCommunicator

PING = '{"action":"ping","payload":null}'
FRAMEWORKS = ["asgi", "fastapi", "litestar", "channels"]


async def timed(samples: int, step: Callable[[], Awaitable[None]]) -> list[float]:
    """``step``'s duration in milliseconds, ``samples`` times (after 50 to warm up)."""
    for _ in range(50):
        await step()
    gc.collect()
    durations = []
    for _ in range(samples):
        start = time.perf_counter()
        await step()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


async def measure(app: Any, samples: int) -> dict[str, list[float]]:
    async with lifespan(app) as state:
        comm: BaseCommunicator = WebsocketCommunicator(app, "/ws")
        comm.scope["state"] = dict(state)  # type: ignore[attr-defined]
        await comm.connect()

        async def idle_receive_nothing() -> None:
            await comm.send_text(PING)
            await comm.receive_json()
            start = time.perf_counter()
            assert await comm.receive_nothing(timeout=1.0)
            steps["receive_nothing_idle"].append((time.perf_counter() - start) * 1000)

        async def idle_settle() -> None:
            await comm.send_text(PING)
            await comm.receive_json()
            start = time.perf_counter()
            assert await comm.settle(timeout=1.0)
            steps["settle_idle"].append((time.perf_counter() - start) * 1000)

        async def busy_receive_nothing() -> None:
            await comm.send_text(PING)
            start = time.perf_counter()
            with contextlib.suppress(CommunicatorError):
                await comm.receive_nothing(timeout=1.0)
                raise AssertionError("the pong was missed")
            steps["receive_nothing_catches_pong"].append((time.perf_counter() - start) * 1000)
            await comm.receive_json()  # receive_nothing() left the pong to be read

        steps: dict[str, list[float]] = {
            "receive_nothing_idle": [],
            "settle_idle": [],
            "receive_nothing_catches_pong": [],
        }
        for step in (idle_receive_nothing, idle_settle, busy_receive_nothing):
            await timed(samples, step)
        await comm.disconnect()
    return {name: values[-samples:] for name, values in steps.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    args = parser.parse_args()
    for framework in args.frameworks.split(","):
        app = load_app(framework, "chanx")
        figures = asyncio.run(measure(app, args.samples))
        for name, values in figures.items():
            ordered = sorted(values)
            emit(
                "receive_nothing",
                framework,
                "chanx",
                name,
                statistics.median(values),
                "ms",
                p90=round(ordered[int(len(ordered) * 0.9)], 3),
                max=round(ordered[-1], 3),
                samples=len(values),
            )


if __name__ == "__main__":
    main()
