"""Starting a coroutine in the caller and finishing it in a task: values, bare yields,
cancellation, exceptions and closing reach the coroutine as ``await`` would pass them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import pytest

from chanx.core.eager import Resumed, run_detached


async def until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def drive(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Start ``coro`` here, then let a task finish it, as the outbox does."""
    yielded = coro.send(None)

    async def finish() -> Any:
        return await Resumed(coro, yielded)

    return asyncio.ensure_future(finish())


async def test_a_resumed_coroutine_waits_on_its_future_and_returns_its_value() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def waits() -> int:
        return await future + 1

    task = await drive(waits())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()  # really waiting on the future, not spinning
    future.set_result(41)
    assert await task == 42


async def test_a_resumed_coroutine_may_yield_bare_and_await_again() -> None:
    steps: list[int] = []

    async def yields() -> str:
        for n in range(3):
            steps.append(n)
            await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        return "done"

    task = await drive(yields())
    assert steps == [0]
    assert await task == "done"
    assert steps == [0, 1, 2]


async def test_cancelling_the_task_cancels_the_resumed_coroutine_inside() -> None:
    seen: list[str] = []
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        try:
            await future
        except asyncio.CancelledError:
            seen.append("cancelled inside")
            raise
        finally:
            seen.append("cleaned up")

    task = await drive(waits())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled inside", "cleaned up"]
    assert future.cancelled()


async def test_a_resumed_coroutine_may_handle_a_cancellation_and_go_on() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def shrugs() -> str:
        try:
            await future
        except asyncio.CancelledError:
            await asyncio.sleep(0)
            return "kept going"
        return "not cancelled"

    task = await drive(shrugs())
    await asyncio.sleep(0)
    task.cancel()
    assert await task == "kept going"


async def test_an_exception_after_resuming_reaches_the_awaiting_task() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def fails() -> None:
        await future
        raise KeyError("after the wait")

    task = await drive(fails())
    future.set_result(None)
    with pytest.raises(KeyError, match="after the wait"):
        await task


async def test_closing_the_resumer_closes_the_coroutine() -> None:
    seen: list[str] = []
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        try:
            await future
        finally:
            seen.append("closed")

    coro = waits()
    yielded = coro.send(None)
    resumer = Resumed(coro, yielded).__await__()
    assert next(resumer) is future
    resumer.close()
    assert seen == ["closed"]


async def test_run_detached_finishes_a_waiting_coroutine_and_logs_its_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = asyncio.Event()
    done: list[str] = []

    async def later() -> None:
        await gate.wait()
        done.append("finished")
        raise RuntimeError("the server said no")

    with caplog.at_level(logging.DEBUG, logger="chanx.outbox"):
        run_detached(later(), "closing something")
        assert done == []
        gate.set()
        await until(lambda: "closing something failed" in caplog.text)
    assert done == ["finished"]
