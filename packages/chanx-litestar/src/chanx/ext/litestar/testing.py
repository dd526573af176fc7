"""Testing Litestar consumers with :class:`chanx.testing.WebsocketCommunicator`.

The communicator drives the app in-process; the app's lifespan must be running so that
its ``ChannelsPlugin`` and chanx layer are started. ``AuthenticatedCommunicator`` is
core's (:class:`chanx.testing.AuthenticatedCommunicator`): on Litestar the identity goes
where the app's authentication middleware reads it (``headers``, a cookie, the query
string). A pytest fixture::

    @pytest.fixture
    async def app():
        async with lifespan(create_app(memory_channels())) as app:
            yield app
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from chanx.testing import AuthenticatedCommunicator


def memory_channels(**kwargs: Any) -> ChannelsPlugin:
    """A ``ChannelsPlugin`` on a fresh in-memory backend, arbitrary channels allowed
    (``kwargs`` go to ``ChannelsPlugin``)."""
    kwargs.setdefault("arbitrary_channels_allowed", True)
    return ChannelsPlugin(backend=MemoryChannelsBackend(), **kwargs)


@asynccontextmanager
async def lifespan(app: Litestar, timeout: float = 10.0) -> AsyncIterator[Litestar]:
    """Run ``app``'s startup, then the block, then its shutdown, as a server does;
    yields ``app``.

    The lifespan runs in a task of its own, so entering and leaving it from different
    tasks (as pytest-asyncio does with async fixtures) is fine. A startup failure is
    raised here; a startup or shutdown that takes longer than ``timeout`` seconds
    raises ``RuntimeError``.
    """
    started = asyncio.Event()
    stop = asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.get_running_loop().create_task(run(), name="litestar lifespan")
    waiter = asyncio.ensure_future(started.wait())
    try:
        await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        with suppress(asyncio.CancelledError):
            await waiter
    if task.done():
        _raise_startup_error(task)
    if not started.is_set():
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        raise RuntimeError(f"the app's startup did not finish within {timeout}s")
    try:
        yield app
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"the app's shutdown did not finish within {timeout}s") from None


def _raise_startup_error(task: asyncio.Task[None]) -> None:
    error = task.exception()
    # Litestar's lifespan runs in a task group: show the error, not a group of one.
    grouped: tuple[BaseException, ...]
    while len(grouped := getattr(error, "exceptions", ())) == 1:
        error = grouped[0]
    if error is None:
        raise RuntimeError("the app's lifespan ended during startup")
    raise error


__all__ = ["AuthenticatedCommunicator", "lifespan", "memory_channels"]
