"""Measurements for the FastAPI adapter (in-process, plus the shared Redis).

    hatch run python -m bench.fastapi_layers [--redis redis://127.0.0.1:6379/0]

1. round trip of one message (ping -> pong + complete) through the FastAPI mount,
   against the bare core ``as_asgi()`` mount on a Starlette router;
2. connect + disconnect, without authentication and with a DependencyAuthenticator
   (OAuth2 bearer header + a user lookup);
3. one broadcast to 200 members: in-memory layer, Redis layer with the members in the
   sending process, and Redis layer with the members in another "process" (a second
   layer), timed until the last member has it.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from starlette.routing import Router, WebSocketRoute

from chanx.core.layer import Envelope, GroupLayer, GroupMessage
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.redis import RedisGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, DependencyAuthenticator
from chanx.messages.incoming import PingMessage
from chanx.testing import WebsocketCommunicator


class CorePing(CoreConsumer):
    send_completion = True
    log_websocket_message = False


class FastPing(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False


oauth2 = OAuth2PasswordBearer(tokenUrl="/token")
USERS = {"t": "alice"}


async def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    user = USERS.get(token)
    if user is None:
        raise HTTPException(403)
    return user


class AuthPing(FastPing):
    authenticator = DependencyAuthenticator(current_user)


def report(label: str, count: int, seconds: float) -> None:
    print(f"{label:<58} {seconds / count * 1e6:9.1f} us/op  {count / seconds:10.0f} op/s")


async def round_trips(app: object, path: str, count: int) -> float:
    async with WebsocketCommunicator(app, path) as comm:  # type: ignore[arg-type]
        ping = PingMessage()
        for _ in range(100):  # warm up
            await comm.send_message(ping)
            await comm.receive_all_json()
        start = time.perf_counter()
        for _ in range(count):
            await comm.send_message(ping)
            await comm.receive_all_json()
        return time.perf_counter() - start


async def connects(app: object, path: str, count: int, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        comm = WebsocketCommunicator(app, path, headers=headers)  # type: ignore[arg-type]
        await comm.connect()
        await comm.disconnect()
    return time.perf_counter() - start


class Member:
    def __init__(self, done: Callable[[], None]) -> None:
        self.channel_name = ""
        self.done = done

    async def deliver(self, envelope: Envelope) -> None:
        self.done()


async def fan_out(sender: GroupLayer, receiver: GroupLayer, members: int, count: int) -> float:
    remaining = 0
    finished: asyncio.Future[None] | None = None

    def one_done() -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0 and finished is not None:
            finished.set_result(None)

    group = f"bench-{uuid.uuid4().hex[:8]}"
    for _ in range(members):
        member = Member(one_done)
        member.channel_name = await receiver.add_receiver(member)
        await receiver.join(group, member)
    message = GroupMessage('{"action":"bench","payload":null}')
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    for _ in range(count):
        remaining = members
        finished = loop.create_future()
        await sender.send_group(group, message)
        await finished
    return time.perf_counter() - start


async def main(redis_url: str) -> None:
    core_app = Router(routes=[WebSocketRoute("/ws", CorePing.as_asgi())])
    fast_app = FastAPI()
    fast_app.add_api_websocket_route("/ws", FastPing.as_endpoint())
    fast_app.add_api_websocket_route("/auth", AuthPing.as_endpoint())

    n = 3000
    report(
        "round trip, core as_asgi() on a Starlette router", n, await round_trips(core_app, "/ws", n)
    )
    report("round trip, FastAPI as_endpoint()", n, await round_trips(fast_app, "/ws", n))

    n = 500
    report("connect+disconnect, core as_asgi()", n, await connects(core_app, "/ws", n, {}))
    report("connect+disconnect, FastAPI, no auth", n, await connects(fast_app, "/ws", n, {}))
    bearer = {"authorization": "Bearer t"}
    report(
        "connect+disconnect, FastAPI, OAuth2 dependency auth",
        n,
        await connects(fast_app, "/auth", n, bearer),
    )

    members, n = 200, 500
    memory = InMemoryGroupLayer()
    report(f"broadcast to {members}, in-memory layer", n, await fan_out(memory, memory, members, n))
    prefix = f"chanx-bench-{uuid.uuid4().hex[:8]}"
    async with (
        RedisGroupLayer(redis_url, prefix=prefix) as a,
        RedisGroupLayer(redis_url, prefix=prefix) as b,
    ):
        report(
            f"broadcast to {members}, Redis layer, members local",
            n,
            await fan_out(a, a, members, n),
        )
        report(
            f"broadcast to {members}, Redis layer, members in another process",
            n,
            await fan_out(a, b, members, n),
        )
        report(
            "broadcast to 1, Redis layer, member in another process",
            2000,
            await fan_out(a, b, 1, 2000),
        )


def run(main_: Callable[[str], Awaitable[None]]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    asyncio.run(main_(parser.parse_args().redis))


if __name__ == "__main__":
    run(main)
