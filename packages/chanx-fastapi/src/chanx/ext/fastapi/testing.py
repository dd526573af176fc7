"""Testing helpers for FastAPI apps, on top of :class:`chanx.testing.WebsocketCommunicator`.

* :func:`lifespan`: run the app's startup and shutdown around a block, as a server does
  (needed for a Redis layer; harmless otherwise);
* :func:`override_dependencies`: ``app.dependency_overrides`` for the block only; the
  overrides apply to websocket authentication too;
* :class:`AuthenticatedCommunicator`: a connection that must be admitted, connected as a
  given user without crafting credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from fastapi import FastAPI

from chanx.core.types import Message
from chanx.ext.fastapi.auth import DependencyAuthenticator
from chanx.testing import CommunicatorError, WebsocketCommunicator
from chanx.testing.asgi import HeadersInput
from chanx.testing.base import DEFAULT_TIMEOUT

__all__ = ["AuthenticatedCommunicator", "lifespan", "override_dependencies"]

_MISSING: Any = object()

AppT = TypeVar("AppT", bound=Callable[..., Any])
"""Any ASGI application (a FastAPI or Starlette app)."""


@asynccontextmanager
async def lifespan(app: AppT, timeout: float = 10.0) -> AsyncIterator[AppT]:
    """Run ``app``'s startup, then the block, then its shutdown, as a server does;
    yields ``app``.

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
        reply = await _lifespan_reply(from_app, task, timeout)
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"app startup failed: {reply.get('message', '')}")
        yield app
        await to_app.put({"type": "lifespan.shutdown"})
        reply = await _lifespan_reply(from_app, task, timeout)
        if reply["type"] != "lifespan.shutdown.complete":
            raise RuntimeError(f"app shutdown failed: {reply.get('message', '')}")
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _lifespan_reply(
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


@contextmanager
def override_dependencies(
    app: FastAPI, overrides: Mapping[Callable[..., Any], Callable[..., Any]]
) -> Iterator[None]:
    """Apply ``overrides`` to ``app.dependency_overrides`` for the block, then put back
    what was there (so no override outlives its test)."""
    saved = {
        dependency: app.dependency_overrides.get(dependency, _MISSING) for dependency in overrides
    }
    app.dependency_overrides.update(overrides)
    try:
        yield
    finally:
        for dependency, previous in saved.items():
            if previous is _MISSING:
                app.dependency_overrides.pop(dependency, None)
            else:
                app.dependency_overrides[dependency] = previous


class AuthenticatedCommunicator(WebsocketCommunicator):
    """A communicator for a connection that must be admitted: :meth:`connect` (and
    ``async with``) fails, saying why, unless the connection authenticated with a 2xx
    status.

    On FastAPI it connects as ``user``: while it connects, the consumer's user dependency
    (the main dependency of its
    :class:`~chanx.ext.fastapi.auth.DependencyAuthenticator`, or ``dependency``) is
    overridden to return ``user``, so no credentials are needed; the other dependencies
    (checks, mount dependencies) run as usual. Connect one communicator at a time (the
    override is app-wide while it lasts).
    """

    def __init__(
        self,
        app: FastAPI,
        path: str,
        user: Any,
        headers: HeadersInput = None,
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[Any],
        dependency: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(app, path, headers, subprotocols, consumer=consumer)
        if dependency is None:
            authenticator = getattr(consumer, "authenticator", None)
            main = (
                authenticator.dependency
                if isinstance(authenticator, DependencyAuthenticator)
                else None
            )
            if main is None or main.dependency is None:
                raise TypeError(
                    f"{consumer.__name__} has no DependencyAuthenticator with a user "
                    "dependency; pass dependency= to say which one to override"
                )
            dependency = main.dependency
        self.app = app
        self.user = user
        self.dependency = dependency

    async def connect(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, Any]:
        """Connect, then fail (:class:`~chanx.testing.CommunicatorError`, saying why)
        unless the connection was accepted and authenticated with a 2xx status."""
        user = self.user
        with override_dependencies(self.app, {self.dependency: lambda: user}):
            accepted, detail = await super().connect(timeout)
        if not accepted:
            raise CommunicatorError(f"the connection was not accepted (close code {detail})")
        await self.assert_authenticated_status_ok(timeout)
        return accepted, detail
