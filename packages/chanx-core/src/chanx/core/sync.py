"""Calling async senders from synchronous code (Django views, tasks, scripts, threads)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import async_to_sync

T = TypeVar("T")


def call_sync(
    factory: Callable[[], Awaitable[T]], loop: asyncio.AbstractEventLoop | None = None
) -> T:
    """Run ``factory()`` to completion from synchronous code and return its result.

    With ``loop`` given and running in another thread (the loop serving the connections
    of this process), the coroutine runs there, so in-process receivers are reached on
    their own loop. Otherwise asgiref's ``async_to_sync`` runs it (on the outer loop when
    called from ``sync_to_async`` code, else on a fresh one).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "a *_sync sender was called from async code; await the async variant instead"
        )
    if loop is not None and loop.is_running() and not loop.is_closed():
        return asyncio.run_coroutine_threadsafe(_as_coroutine(factory), loop).result()
    return async_to_sync(_as_coroutine)(factory)


async def _as_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()
