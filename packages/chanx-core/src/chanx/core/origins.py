"""Origin checks against cross-site WebSocket hijacking (CSWSH).

Browsers send cookies (and cached HTTP credentials) with a WebSocket handshake to any
site, whichever page opened it, and WebSockets have no CORS: a page on
``http://evil.example`` can open a socket to your app and act as the logged-in user. What
tells them apart is the ``Origin`` header, which browsers always set and pages cannot
forge. A consumer's ``allowed_origins`` decides which origins are let in:

* ``None`` (default): a cross-origin handshake is refused when it carries credentials (a
  ``Cookie`` or ``Authorization`` header); without credentials it has nothing to hijack
  and passes (a page on another site using a token it was given);
* a list of origins (``"https://app.example.com"``, ``"https://*.example.com"`` for any
  subdomain, ``"http://localhost:5173"``): only those, and the app's own origin, are let
  in, with or without credentials; ``[]`` means the app's own origin only;
* ``["*"]``: every origin (no check).

A handshake without an ``Origin`` header is not from a browser page (scripts, mobile apps,
other servers) and always passes. "The app's own origin" is an ``Origin`` whose host and
port are those of the request's ``Host`` header: behind a proxy, forward the original
``Host`` (``proxy_set_header Host $host``) or list the public origin.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from chanx.core.escape import for_log
from chanx.core.types import Scope

__all__ = ["REFUSED_CLOSE_CODE", "OriginPolicy", "OriginRefusal", "log_refusal", "origin_refusal"]

logger = logging.getLogger("chanx.origin")

REFUSED_CLOSE_CODE = 4403
"""The close sent, before accepting, to a refused handshake; servers turn a close before
accept into an HTTP 403 response, so clients see the 403 (in-process tests see 4403)."""

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int


def _parse_origin(value: str) -> _Origin | None:
    """``scheme://host[:port]`` as browsers send it, or ``None`` (e.g. ``null``)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.path not in ("", "/"):
        return None
    return _Origin(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])


def _parse_host(value: str) -> tuple[str, int | None] | None:
    """The host and explicit port (``None`` without one) of a ``Host`` header."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    return (host, port) if host else None


@dataclass(frozen=True, slots=True)
class _Allowed:
    scheme: str
    host: str
    port: int
    subdomains: bool

    def matches(self, origin: _Origin) -> bool:
        if origin.scheme != self.scheme or origin.port != self.port:
            return False
        if self.subdomains:
            return origin.host.endswith(f".{self.host}")
        return origin.host == self.host


def _parse_allowed(entry: str) -> _Allowed:
    subdomains = "://*." in entry
    origin = _parse_origin(entry.replace("://*.", "://", 1) if subdomains else entry)
    if origin is None or origin.scheme not in ("http", "https"):
        raise ValueError(
            f"allowed_origins entry {entry!r} is not an origin: write "
            "'https://app.example.com', 'https://app.example.com:8443', "
            "'https://*.example.com' or '*'"
        )
    return _Allowed(origin.scheme, origin.host, origin.port, subdomains)


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """A consumer's ``allowed_origins``, parsed (see the module documentation)."""

    allow_all: bool
    explicit: bool
    allowed: tuple[_Allowed, ...]

    @classmethod
    def of(cls, allowed_origins: Sequence[str] | None) -> OriginPolicy:
        """Parse ``allowed_origins``; a malformed entry raises ``ValueError``."""
        if allowed_origins is None:
            return _DEFAULT_POLICY
        if isinstance(allowed_origins, str):
            raise TypeError(
                f"allowed_origins must be a list of origins, not the string {allowed_origins!r}"
            )
        return _policy(tuple(allowed_origins))


@functools.lru_cache(maxsize=256)
def _policy(entries: tuple[str, ...]) -> OriginPolicy:
    if "*" in entries:
        return OriginPolicy(True, True, ())
    return OriginPolicy(False, True, tuple(_parse_allowed(entry) for entry in entries))


_DEFAULT_POLICY = OriginPolicy(False, False, ())


@dataclass(frozen=True, slots=True)
class OriginRefusal:
    """Why a handshake is refused: its ``Origin``, the request's ``Host``, and whether it
    carried credentials."""

    origin: str
    host: str
    credentials: bool

    def describe(self) -> str:
        """The refusal in words, client-sent values escaped and cut, for a log line."""
        with_credentials = " with credentials" if self.credentials else ""
        return (
            f"cross-origin handshake from {for_log(self.origin)}{with_credentials} "
            f"(Host {for_log(self.host)}) refused; let it in with allowed_origins"
        )


def origin_refusal(scope: Scope, allowed_origins: Sequence[str] | None) -> OriginRefusal | None:
    """Why the handshake in ``scope`` must be refused under ``allowed_origins``, or
    ``None`` when it may proceed."""
    origins = _header_values(scope, b"origin")
    if not origins:
        return None
    policy = OriginPolicy.of(allowed_origins)
    if policy.allow_all:
        return None
    hosts = _header_values(scope, b"host")
    host = hosts[0] if len(hosts) == 1 else ""
    credentials = bool(_header_values(scope, b"cookie", b"authorization"))
    for value in origins:
        # Remembered for the usual short values only: clients choose these headers.
        short = len(value) + len(host) <= _CACHED_LENGTH
        check = _origin_allowed_cached if short else _origin_allowed
        if check(value, host, policy, credentials):
            continue
        return OriginRefusal(value, host, credentials)
    return None


def log_refusal(consumer_name: str, refusal: OriginRefusal) -> None:
    """The one log line (WARNING, logger ``chanx.origin``) for a refused handshake."""
    logger.warning("%s: %s", consumer_name, refusal.describe())


def _origin_allowed(value: str, host: str, policy: OriginPolicy, credentials: bool) -> bool:
    origin = _parse_origin(value)
    if origin is not None:
        if _same_origin(origin, host):
            return True
        if any(allowed.matches(origin) for allowed in policy.allowed):
            return True
    return not policy.explicit and not credentials


_CACHED_LENGTH = 256
_origin_allowed_cached = functools.lru_cache(maxsize=1024)(_origin_allowed)


def _same_origin(origin: _Origin, host_header: str) -> bool:
    host = _parse_host(host_header)
    if host is None:
        return False
    name, port = host
    if name != origin.host:
        return False
    if port is None:
        return origin.port == _DEFAULT_PORTS[origin.scheme]
    return origin.port == port


def _header_values(scope: Scope, *names: bytes) -> list[str]:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers") or ()
    return [value.decode("latin-1") for name, value in headers if name.lower() in names]
