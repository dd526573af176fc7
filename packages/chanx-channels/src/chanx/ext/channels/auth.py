"""Django authentication for chanx consumers: the session user, and per-handler checks.

Connection level: set ``authenticator = SessionAuthenticator()`` on a consumer served
behind Channels' ``AuthMiddlewareStack``. Handler level: pass the checks below to
``@ws_handler(permissions=[...])``; a failed check answers ``error`` (``permission_denied``)
and the handler does not run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured

from chanx.core.auth import AuthResult, SecurityScheme

if TYPE_CHECKING:
    from chanx.core.websocket import AsyncJsonWebsocketConsumer

SESSION = "The Django session cookie (log in over HTTP first)."
NOT_AUTHENTICATED = "Authentication credentials were not provided."
INACTIVE = "User inactive or deleted."


class SessionAuthenticator:
    """Admits connections whose Django user is logged in.

    The user is ``scope["user"]``, which Channels' ``AuthMiddlewareStack`` resolves from
    the session cookie. A logged-in, active user is admitted with status 200 and becomes
    ``self.user``. Anyone else gets status ``status_code`` (403 by default, as Django
    REST framework answers for session authentication, which has no challenge to
    offer) and the connection closes with ``4000 + status_code``. A scope without a
    ``user`` means the middleware is missing: that raises ``ImproperlyConfigured``, the
    connection closes with ``CLOSE_SERVER_ERROR`` (4500) and the log says why.
    """

    def __init__(self, *, status_code: int = 403) -> None:
        self.status_code = status_code

    def misconfiguration(self, consumer: AsyncJsonWebsocketConsumer) -> str | None:
        """Why this authenticator cannot work for ``consumer`` (the missing
        ``AuthMiddlewareStack``), for test failures to name; ``None`` when it can."""
        return missing_middleware(consumer)

    def security_schemes(self) -> list[SecurityScheme]:
        """The session cookie (``SESSION_COOKIE_NAME``), for generated documentation."""
        from django.conf import settings

        return [SecurityScheme("cookie", settings.SESSION_COOKIE_NAME, SESSION)]

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        """The result for ``consumer``'s connection (the authenticator protocol)."""
        return self.authorize_user(scope_user(consumer))

    async def authorize(self, consumer: AsyncJsonWebsocketConsumer, user: Any) -> AuthResult:
        """For a user known without credentials (a test's ``user=``, no session cookie):
        the same checks on ``user``, logged in and active."""
        return self.authorize_user(user)

    def authorize_user(self, user: Any) -> AuthResult:
        """Admit ``user`` if it is logged in and active, else refuse with
        ``status_code``."""
        if user is None or not user.is_authenticated:
            return AuthResult.deny(self.status_code, NOT_AUTHENTICATED)
        if not getattr(user, "is_active", True):
            return AuthResult.deny(self.status_code, INACTIVE)
        return AuthResult.allow(user)


def missing_middleware(consumer: AsyncJsonWebsocketConsumer) -> str | None:
    """What is wrong when the scope has no user: the middleware that puts it there."""
    if "user" in consumer.scope:
        return None
    return (
        f"{type(consumer).__name__} authenticates with the Django session, but the "
        'scope has no "user": wrap the websocket application in '
        "channels.auth.AuthMiddlewareStack"
    )


def scope_user(consumer: AsyncJsonWebsocketConsumer) -> Any:
    """The Django user ``AuthMiddlewareStack`` put in the consumer's scope."""
    problem = missing_middleware(consumer)
    if problem is not None:
        raise ImproperlyConfigured(problem)
    return consumer.scope["user"]


def _user(consumer: Any) -> Any:
    user = consumer.user
    return user if user is not None else consumer.scope.get("user")


def is_authenticated(consumer: Any, message: Any) -> bool:
    """Handler check: the connection's user is logged in."""
    user = _user(consumer)
    return bool(user is not None and user.is_authenticated)


def is_staff(consumer: Any, message: Any) -> bool:
    """Handler check: the connection's user is active staff."""
    user = _user(consumer)
    return bool(user is not None and user.is_active and user.is_staff)


def is_superuser(consumer: Any, message: Any) -> bool:
    """Handler check: the connection's user is an active superuser."""
    user = _user(consumer)
    return bool(user is not None and user.is_active and user.is_superuser)


def has_perms(*perms: str) -> Callable[[Any, Any], Awaitable[bool]]:
    """Handler check: the connection's user has every one of ``perms``
    (``"app_label.codename"``), asked of Django's authentication backends."""

    def check(consumer: Any, message: Any) -> bool:
        user = _user(consumer)
        return bool(user is not None and user.has_perms(perms))

    checker = database_sync_to_async(check)

    async def has_perms_check(consumer: Any, message: Any) -> bool:
        allowed: bool = await checker(consumer, message)
        return allowed

    has_perms_check.__qualname__ = f"has_perms{perms!r}"
    return has_perms_check
