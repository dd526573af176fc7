"""Authentication for the example: bearer tokens, an admin guard.

Browsers cannot set headers on a websocket, so the token may also come as ``?token=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from chanx.core.auth import SecurityScheme


@dataclass(frozen=True)
class User:
    name: str
    is_admin: bool = False


TOKENS = {
    "alice-token": User("alice", is_admin=True),
    "bob-token": User("bob"),
}
"""A stand-in for a real token store."""


TOKEN_SCHEMES = (
    SecurityScheme("http", "bearer", "A token from the token store."),
    SecurityScheme("query", "token", "The same token, for browsers (no websocket headers)."),
)
"""Where :class:`TokenAuthMiddleware` looks for a token (documentation only)."""


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    """No token: anonymous (``connection.user`` is ``None``). Unknown token: 401."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header else connection.query_params.get("token")
        if not token:
            return AuthenticationResult(user=None, auth=None)
        user = TOKENS.get(token)
        if user is None:
            raise NotAuthorizedException("unknown token")
        return AuthenticationResult(user=user, auth=token)


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: admins pass, everyone else gets 403."""
    user = connection.scope.get("user")
    if user is None or not user.is_admin:
        raise PermissionDeniedException("admins only")
