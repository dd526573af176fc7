"""Testing helpers for FastAPI apps, on top of :class:`chanx.testing.WebsocketCommunicator`.

* :func:`lifespan`: run the app's startup and shutdown around a block, as a server does
  (needed for a Redis layer; harmless otherwise); the same as :func:`chanx.testing.lifespan`;
* :func:`override_dependencies`: ``app.dependency_overrides`` for the block only; the
  overrides apply to websocket authentication too;
* :class:`AuthenticatedCommunicator`: a connection that must be admitted, connected as a
  given user without crafting credentials (for this connection only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI

from chanx.ext.fastapi.auth import OVERRIDES_KEY
from chanx.testing import AuthenticatedCommunicator as CoreAuthenticatedCommunicator
from chanx.testing import lifespan
from chanx.testing.asgi import HeadersInput

__all__ = ["AuthenticatedCommunicator", "lifespan", "override_dependencies"]

_MISSING: Any = object()


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


class AuthenticatedCommunicator(CoreAuthenticatedCommunicator):
    """A communicator for a connection that must be admitted, connected as ``user``:
    :meth:`connect` (and ``async with``) fails, saying why, unless the connection
    authenticated with a 2xx status.

    No credentials are needed: for this connection only, the consumer's user dependency
    (the main dependency of its
    :class:`~chanx.ext.fastapi.auth.DependencyAuthenticator`) answers ``user``; the other
    dependencies (checks, mount dependencies) run as usual. ``dependency`` names another
    dependency to answer ``user`` instead (for a user read by a check, say). The app's
    ``dependency_overrides`` are left alone, so several such communicators may connect
    at once. The same as ``WebsocketCommunicator(app, path, user=user)`` plus the
    admission check.
    """

    def __init__(
        self,
        app: FastAPI,
        path: str,
        user: Any,
        headers: HeadersInput = None,
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[Any] | None = None,
        dependency: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(app, path, headers, subprotocols, consumer=consumer, user=user)
        self.app = app
        self.dependency = dependency
        if dependency is not None:
            self.scope[OVERRIDES_KEY] = {dependency: lambda: user}
