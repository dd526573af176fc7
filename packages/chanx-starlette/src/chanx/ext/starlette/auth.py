"""Starlette authentication in chanx terms: what ``AuthenticationMiddleware`` sets
(``scope["user"]``, ``scope["auth"]``) turned into a chanx decision by :func:`requires`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chanx.core.auth import AuthResult

if TYPE_CHECKING:
    from chanx.core.websocket import AsyncJsonWebsocketConsumer


class ScopesAuthenticator:
    """Admits connections whose credentials hold every one of ``scopes``: an anonymous
    user is refused with 401, an authenticated one missing a scope with
    ``status_code``. Made by :func:`requires`."""

    def __init__(self, scopes: tuple[str, ...], status_code: int = 403) -> None:
        self.scopes = scopes
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"<ScopesAuthenticator {self.scopes!r}>"

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        """The core authenticator protocol, over ``scope["user"]`` and ``scope["auth"]``."""
        scope = consumer.scope
        if "auth" not in scope:
            raise RuntimeError(
                "requires(...) reads what Starlette's AuthenticationMiddleware sets: add "
                "Middleware(AuthenticationMiddleware, backend=...) to the app"
            )
        user, granted = scope["user"], scope["auth"].scopes
        if not getattr(user, "is_authenticated", False):
            return AuthResult.deny(401, "authentication required")
        if any(needed not in granted for needed in self.scopes):
            return AuthResult.deny(self.status_code, "permission denied")
        return AuthResult.allow(user)

    async def authorize(self, consumer: AsyncJsonWebsocketConsumer, user: Any) -> AuthResult:
        """For a user known without credentials (a test's ``user=``): the same scope
        checks, on the ``auth`` the connection was made with."""
        return await self.authenticate(consumer)


def requires(*scopes: str, status_code: int = 403) -> ScopesAuthenticator:
    """An authenticator admitting only authenticated users whose credentials hold
    ``scopes`` (none: any authenticated user), like Starlette's ``requires`` decorator
    for HTTP endpoints: ``authenticator = requires("authenticated")``."""
    return ScopesAuthenticator(scopes, status_code)
