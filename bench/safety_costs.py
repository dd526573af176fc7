"""What the engine's checks cost, in-process on the plain ASGI driver: CPU time per round
trip of a valid frame, of an invalid one (answered with an ``error`` built without the
client's text), and per connection carrying an ``Origin`` and a cookie (origin check,
group-name check). Prints the best of several batches (CPU time, so a busy machine
disturbs it less than wall time).

    python -m bench.safety_costs [--batches 7]

To compare with another checkout, run the same command with that checkout's core first
on the path: ``PYTHONPATH=<checkout>/packages/chanx-core/src python -m bench.safety_costs``
(the script uses nothing newer than the engine's public API).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from bench.report import emit
from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    radius: float


class Square(BaseModel):
    kind: Literal["square"] = "square"
    side: float


class DrawPayload(BaseModel):
    shape: Annotated[Circle | Square, Field(discriminator="kind")]
    tags: dict[str, str] = {}


class Draw(BaseMessage):
    action: Literal["draw"] = "draw"
    payload: DrawPayload


class Drawn(BaseMessage):
    action: Literal["drawn"] = "drawn"


class Canvas(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    groups = ["canvas"]

    @ws_handler
    async def handle_draw(self, message: Draw) -> Drawn:
        return Drawn()


VALID = json.dumps({"action": "draw", "payload": {"shape": {"kind": "circle", "radius": 1}}})
INVALID = json.dumps({"action": "draw", "payload": {"shape": {"kind": "x"}, "tags": {"k": 5}}})
HEADERS = {"origin": "http://testserver", "cookie": "session=abc"}


async def best_of(batches: int, size: int, run: Callable[[], Awaitable[None]]) -> float:
    """The lowest CPU time per call, in microseconds, over ``batches`` of ``size`` calls."""
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(size):
            await run()
        best = min(best, (time.process_time() - started) / size * 1e6)
    return best


async def main(batches: int) -> None:
    logging.disable(logging.CRITICAL)  # invalid frames log a line each
    app = Canvas.as_asgi()
    async with WebsocketCommunicator(app, "/") as comm:
        for metric, frame in (("valid_frame", VALID), ("invalid_frame", INVALID)):

            async def round_trip(frame: str = frame) -> None:
                await comm.send_text(frame)
                await comm.receive_all_json()

            await best_of(1, 300, round_trip)  # warm up
            emit(
                "safety",
                "asgi",
                "chanx",
                metric,
                await best_of(batches, 2000, round_trip),
                "us_cpu",
            )

    async def connection() -> None:
        other = WebsocketCommunicator(app, "/", headers=HEADERS)
        await other.connect()
        await other.disconnect()

    emit("safety", "asgi", "chanx", "connection", await best_of(batches, 500, connection), "us_cpu")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=7)
    asyncio.run(main(parser.parse_args().batches))
