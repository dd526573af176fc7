"""Starting a coroutine at once, in the caller, and finishing it in a task only if it has
to wait: what lets a delivery write to an idle connection with no task and no hop
(Python 3.12's eager tasks do the same, but not on 3.10 and 3.11).

The caller drives the coroutine with ``next(coro.__await__(), DONE)``: :data:`DONE` means
it is done (the same as ``coro.send(None)`` raising ``StopIteration``, without making
that exception: a coroutine that returns ``None`` ends its iteration with no exception
object, and the fast path does this once per delivery). Otherwise it returned what it
waits on, and awaiting :class:`Resumed` in a task carries on from there, as ``await
coro`` would have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any, Final, Generic, TypeVar

logger = logging.getLogger("chanx.outbox")

T = TypeVar("T")

DONE: Final[Any] = object()
"""What ``next(coro.__await__(), DONE)`` returns when the coroutine finished at once."""


class Resumed(Generic[T]):
    """Awaiting this finishes a coroutine that was started elsewhere and suspended.

    ``yielded`` is what the coroutine's first ``send(None)`` returned: a future it waits on
    (its ``_asyncio_future_blocking`` flag still set, so the task that awaits this waits on
    that future) or ``None`` (a bare ``yield``: the task just runs again). Values and
    exceptions the task sends or throws in (cancellation included) go to the coroutine,
    exactly as ``await coro`` would have passed them.
    """

    __slots__ = ("_coro", "_yielded")

    def __init__(self, coro: Coroutine[Any, Any, T], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, T]:
        coro, value = self._coro, self._yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    result: T = done.value
                    return result
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    result = done.value
                    return result


_detached: set[asyncio.Task[Any]] = set()


def run_detached(coro: Coroutine[Any, Any, None], what: str) -> None:
    """Run ``coro`` now; if it suspends, let a task finish it, and nobody waits for it.
    Its failure is logged at DEBUG (``what`` names it)."""
    try:
        yielded = next(coro.__await__(), DONE)
    except Exception as exc:
        logger.debug("%s failed: %r", what, exc)
        return
    if yielded is DONE:
        return
    task = asyncio.get_running_loop().create_task(_finish(coro, yielded, what))
    _detached.add(task)
    task.add_done_callback(_detached.discard)


async def _finish(coro: Coroutine[Any, Any, None], yielded: Any, what: str) -> None:
    try:
        await Resumed(coro, yielded)
    except Exception as exc:
        logger.debug("%s failed: %r", what, exc)
