"""Quiescence: knowing that the application under test has nothing left to do.

Every communicator that has opened a connection on the running event loop reports what
is still going on at its end (:meth:`~chanx.testing.base.BaseCommunicator._pending`):

* nothing (``None``): idle;
* an awaitable that completes when that may have changed (a frame the application has
  not taken yet, a handler running, an outbox not empty, an event queued, a message in
  an in-process layer's queue);
* :data:`UNPROVABLE`: idleness cannot be known from this process (a live server, a
  layer that carries messages between processes).

:func:`settle` waits on those awaitables until every communicator reports idle at once,
re-evaluating each time one completes: no polling, no sleeping. Work that user code
starts on its own (``asyncio.create_task`` in a handler) is not seen.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from chanx.testing.base import BaseCommunicator


class _Unprovable:
    """The type of :data:`UNPROVABLE`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNPROVABLE"


UNPROVABLE: Final = _Unprovable()
"""A communicator's report that idleness cannot be proven from this process."""

Pending = Awaitable[None] | _Unprovable | None
"""What a communicator reports: ``None`` (idle), an awaitable, or :data:`UNPROVABLE`."""

_open: weakref.WeakSet[BaseCommunicator] = weakref.WeakSet()


def track(communicator: BaseCommunicator) -> None:
    """Count ``communicator`` among those :func:`settle` waits for (from its connect)."""
    _open.add(communicator)


def untrack(communicator: BaseCommunicator) -> None:
    """Stop counting it (once its connection is over)."""
    _open.discard(communicator)


def open_communicators() -> list[BaseCommunicator]:
    """The communicators counted now."""
    return list(_open)


async def settle(timeout: float) -> bool | Literal["unprovable"]:
    """Wait until every open communicator's end is idle at once: ``True``. ``False`` when
    ``timeout`` seconds ran out first; ``"unprovable"`` at once when one of them cannot
    know (the caller then waits out its timeout its own way)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        waits: list[Awaitable[None]] = []
        for communicator in list(_open):
            if communicator._loop is not loop:  # another test's, left open
                continue
            pending = communicator._pending()
            if pending is UNPROVABLE:
                _discard(waits)
                return "unprovable"
            if pending is not None:
                waits.append(pending)  # type: ignore[arg-type]
        if not waits:
            return True
        remaining = deadline - loop.time()
        if remaining <= 0:
            _discard(waits)
            return False
        # Futures are shared (other waiters may hold them): wait on them as they are and
        # never cancel them; coroutines get a task of ours, cancelled when not needed.
        futures = [w if isinstance(w, asyncio.Future) else asyncio.ensure_future(w) for w in waits]
        ours = [f for f, w in zip(futures, waits, strict=True) if f is not w]
        try:
            done, _ = await asyncio.wait(
                futures, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in ours:
                task.cancel()
        if not done:
            return False


def _discard(waits: list[Awaitable[None]]) -> None:
    """Close coroutines collected but never awaited (so none warns)."""
    for wait in waits:
        close = getattr(wait, "close", None)
        if close is not None and not isinstance(wait, asyncio.Future):
            close()
