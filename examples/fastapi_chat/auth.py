"""Token authentication, shared by the HTTP endpoints and the websocket consumers.

A token comes from an ``Authorization: Bearer`` header, a ``?token=`` query parameter
(browsers cannot set headers on websockets) or a ``session`` cookie.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


@dataclass(frozen=True)
class User:
    username: str
    moderator: bool = False


# A stand-in for a real user store.
USERS_BY_TOKEN = {
    "alice-token": User("alice", moderator=True),
    "bob-token": User("bob"),
}

bearer = HTTPBearer(auto_error=False)


async def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Query()] = None,
    session: Annotated[str | None, Cookie()] = None,
) -> str:
    """The caller's token, wherever it was put."""
    value = credentials.credentials if credentials else token or session
    if not value:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated")
    return value


async def get_current_user(token: Annotated[str, Depends(get_token)]) -> User:
    """The user a token belongs to; 403 for an unknown token."""
    user = USERS_BY_TOKEN.get(token)
    if user is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid token")
    return user


def is_moderator(consumer: object, message: object) -> bool:
    """A per-handler permission: only moderators pass."""
    user = getattr(consumer, "user", None)
    return isinstance(user, User) and user.moderator
