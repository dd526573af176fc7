"""Testing helpers for FastAPI apps, on top of :class:`chanx.testing.WebsocketCommunicator`.

* :func:`lifespan`: run the app's startup and shutdown around a block, as a server does
  (needed for a Redis layer; harmless otherwise); the same as :func:`chanx.testing.lifespan`;
* :func:`override_dependencies`: ``app.dependency_overrides`` for the block only; the
  overrides apply to websocket authentication too;
* :class:`AuthenticatedCommunicator`: a connection that must be admitted, connected as a
  given user without crafting credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI

from chanx.ext.fastapi.auth import DependencyAuthenticator
from chanx.testing import AuthenticatedCommunicator as CoreAuthenticatedCommunicator
from chanx.testing import lifespan
from chanx.testing.asgi import HeadersInput
from chanx.testing.base import DEFAULT_TIMEOUT

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
        """Connect as ``user``, then fail (:class:`~chanx.testing.CommunicatorError`,
        saying why) unless the connection was accepted and authenticated with a 2xx
        status."""
        user = self.user
        with override_dependencies(self.app, {self.dependency: lambda: user}):
            return await super().connect(timeout)
