"""Running an ASGI app's lifespan around a block, as a server does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from chanx.core.types import Message

AppT = TypeVar("AppT", bound=Callable[..., Any])
"""Any ASGI application."""


@asynccontextmanager
async def lifespan(app: AppT, timeout: float = 10.0) -> AsyncIterator[AppT]:
    """Run ``app``'s startup, then the block, then its shutdown, as a server does;
    yields ``app``. Needed for an app whose layer must start (Redis); harmless otherwise.

    A failed startup raises ``RuntimeError`` with the app's message (for a Redis layer
    whose server is down, the connection error); so does a startup or shutdown that
    takes longer than ``timeout`` seconds."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await to_app.get()

    async def send(message: Message) -> None:
        await from_app.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, receive, send))
    try:
        await to_app.put({"type": "lifespan.startup"})
        reply = await _reply(from_app, task, timeout)
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"app startup failed: {reply.get('message', '')}")
        yield app
        await to_app.put({"type": "lifespan.shutdown"})
        reply = await _reply(from_app, task, timeout)
        if reply["type"] != "lifespan.shutdown.complete":
            raise RuntimeError(f"app shutdown failed: {reply.get('message', '')}")
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _reply(
    replies: asyncio.Queue[Message], task: asyncio.Future[Any], timeout: float
) -> Message:
    getter = asyncio.ensure_future(replies.get())
    done, _ = await asyncio.wait({getter, task}, timeout=timeout, return_when="FIRST_COMPLETED")
    if getter in done:
        return getter.result()
    getter.cancel()
    if task in done:
        error = task.exception()
        raise RuntimeError(f"the app ended during its lifespan: {error!r}") from error
    raise RuntimeError(f"the app's lifespan did not answer within {timeout}s")
