"""Connection authentication: the result type, the authenticator protocol, and how an
authenticator says where clients put their credentials (for generated documentation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

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
    (Django sessions and DRF, FastAPI dependencies, Litestar guards).

    An authenticator may also define ``authorize(consumer, user) -> AuthResult``
    (:class:`Authorizes`): the decision for a connection whose user is already known,
    credentials skipped (a test connecting as a user, see :class:`KnownUser`). Without
    it, such a connection is admitted as that user.
    """

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        """Inspect ``consumer.scope`` (headers, cookies, query, user) and decide."""


@runtime_checkable
class Authorizes(Protocol):
    """An authenticator that can decide for a user known without credentials: its
    checks that are not about credentials (an active account, permissions, throttles,
    scopes) run for ``user``."""

    async def authorize(self, consumer: AsyncJsonWebsocketConsumer, user: Any) -> AuthResult:
        """Decide for ``user``, whose identity needs no proof here."""


KNOWN_USER_KEY: Final = "chanx.known_user"
"""The scope key holding a :class:`KnownUser`."""


@dataclass(frozen=True, slots=True)
class KnownUser:
    """A connection's user, known without credentials: what a test communicator puts in
    the scope (under :data:`KNOWN_USER_KEY`) to connect as a user
    (``WebsocketCommunicator(app, path, user=alice)``).

    The adapters put ``user`` (and ``auth``, the framework's credentials object:
    Starlette's ``AuthCredentials``, Litestar's ``connection.auth``) where the framework
    keeps a connection's identity, skip what reads credentials (session cookies, tokens,
    authentication middleware, the user dependency) and run the rest: the consumer's
    :meth:`~chanx.core.websocket.AsyncJsonWebsocketConsumer.authorize`, Litestar guards,
    FastAPI checks, per-handler permissions.

    Only code in the server's process can set it: an ASGI server builds the scope from
    the request, and no request can produce an instance of this class.
    """

    user: Any
    auth: Any = None


def known_user(scope: Mapping[str, Any]) -> KnownUser | None:
    """The :class:`KnownUser` of ``scope``, if a test put one there."""
    known = scope.get(KNOWN_USER_KEY)
    return known if type(known) is KnownUser else None


CredentialLocation = Literal["header", "query", "cookie", "http", "oauth2"]


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """Where a client puts its credentials when it opens a connection.

    * ``SecurityScheme("header", "X-API-Key")``, ``("query", "token")``,
      ``("cookie", "sessionid")``: a key in that header, query parameter or cookie;
    * ``SecurityScheme("http", "bearer")`` (or ``"basic"``, ...): the ``Authorization``
      header with that HTTP scheme; ``bearer_format`` hints at the token's format;
    * ``SecurityScheme("oauth2", "password", token_url="/token", scopes={...})``: an
      OAuth2 bearer token from that flow (``password``, ``clientCredentials``,
      ``authorizationCode``, ``implicit``; the last two with ``authorization_url``).

    Several schemes on one consumer are alternatives: any one of them admits a client.
    """

    location: CredentialLocation
    name: str
    description: str = ""
    bearer_format: str = ""
    token_url: str = ""
    authorization_url: str = ""
    scopes: Mapping[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.location, self.name, self.description, self.token_url))

    @classmethod
    def from_openapi(cls, scheme: Mapping[str, Any]) -> list[SecurityScheme]:
        """The schemes an OpenAPI security scheme object (as a dict) stands for: web
        frameworks describe their security classes this way (one per OAuth2 flow)."""
        kind = scheme.get("type")
        description = str(scheme.get("description") or "")
        if kind == "apiKey" and scheme.get("in") in ("header", "query", "cookie"):
            return [cls(scheme["in"], str(scheme.get("name", "")), description)]
        if kind == "http":
            bearer_format = str(scheme.get("bearerFormat") or "")
            return [cls("http", str(scheme.get("scheme", "")), description, bearer_format)]
        if kind == "oauth2":
            flows: Mapping[str, Any] = scheme.get("flows") or {}
            return [
                cls(
                    "oauth2",
                    flow,
                    description,
                    token_url=str(spec.get("tokenUrl") or ""),
                    authorization_url=str(spec.get("authorizationUrl") or ""),
                    scopes=dict(spec.get("scopes") or {}),
                )
                for flow, spec in sorted(flows.items())
                if isinstance(spec, Mapping)
            ]
        if kind == "openIdConnect":
            url = scheme.get("openIdConnectUrl", "")
            return [cls("http", "bearer", description or f"OpenID Connect token ({url})")]
        return []


@runtime_checkable
class DescribesSecurity(Protocol):
    """An authenticator that can tell where clients put their credentials. Optional: the
    generated AsyncAPI document lists these schemes for the consumer's operations."""

    def security_schemes(self) -> Sequence[SecurityScheme]:
        """The ways a client may present credentials (alternatives)."""
