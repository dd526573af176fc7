"""Connection authentication: the result type and the authenticator protocol."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chanx.core.websocket import AsyncJsonWebsocketConsumer


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of authenticating one connection.

    A 2xx ``status_code`` lets the connection in and makes ``user`` available to the
    handlers as ``self.user``; anything else sends the ``authentication`` message with
    that status and closes the connection with code ``4000 + status_code``.
    ``data`` is sent to the client in the ``authentication`` payload.
    """

    status_code: int = 200
    user: Any = None
    data: Any = None
    status_text: str = ""

    @property
    def ok(self) -> bool:
        """Whether the connection is let in (a 2xx status)."""
        return 200 <= self.status_code < 300

    @property
    def reason(self) -> str:
        """``status_text``, else the standard phrase of ``status_code`` ("Forbidden")."""
        if self.status_text:
            return self.status_text
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @classmethod
    def allow(cls, user: Any = None, data: Any = None) -> AuthResult:
        """Let the connection in as ``user``; ``data`` goes to the client."""
        return cls(200, user, data)

    @classmethod
    def deny(cls, status_code: int = 403, detail: str | None = None) -> AuthResult:
        """Refuse with ``status_code``; ``detail`` reaches the client as ``{"detail": ...}``."""
        return cls(status_code, None, {"detail": detail} if detail else None)


class Authenticator(Protocol):
    """Decides whether a connection may use a consumer. Adapters provide framework ones
    (Django sessions and DRF, FastAPI dependencies, Litestar guards)."""

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        """Inspect ``consumer.scope`` (headers, cookies, query, user) and decide."""
