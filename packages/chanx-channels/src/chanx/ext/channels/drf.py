"""Django REST framework authentication and permissions for chanx consumers.

Needs ``djangorestframework`` (``pip install "chanx-channels[drf]"``)::

    from rest_framework.authentication import SessionAuthentication
    from rest_framework.permissions import IsAuthenticated

    class ChatConsumer(AsyncJsonWebsocketConsumer):
        authenticator = DRFAuthenticator(
            authentication_classes=[SessionAuthentication],
            permission_classes=[IsAuthenticated],
        )

The websocket handshake is run through DRF exactly as a ``GET`` to an ``APIView`` with
those classes would be: authentication, then permissions, then throttles. The status a
DRF view would answer becomes the ``authentication`` message's ``status_code``: 200
admits the connection (``request.user`` becomes ``self.user``); 401 (when the first
authentication class offers a challenge, e.g. ``TokenAuthentication``) or 403 (session
authentication, or a permission refused) closes it with ``4000 + status_code``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from io import BytesIO
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.core.handlers.asgi import ASGIRequest

try:
    from rest_framework import exceptions
    from rest_framework.request import Request
    from rest_framework.settings import api_settings
    from rest_framework.views import APIView
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        'chanx.ext.channels.drf needs Django REST framework: pip install "chanx-channels[drf]"'
    ) from exc

from chanx.core.auth import AuthResult, SecurityScheme, known_user
from chanx.ext.channels.auth import SESSION

if TYPE_CHECKING:
    from chanx.core.types import Scope
    from chanx.core.websocket import AsyncJsonWebsocketConsumer

_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def http_request_from_scope(scope: Scope) -> ASGIRequest:
    """A Django ``HttpRequest`` for a websocket handshake: a ``GET`` of its path with its
    headers and cookies, and the ``session`` and ``user`` Channels' middleware resolved.

    For a connection made as a known user (:class:`~chanx.core.auth.KnownUser`, a test's
    ``user=``), DRF authenticates the request as that user, as its own test tools'
    ``force_authenticate`` does: authentication classes are skipped, permissions and
    throttles run."""
    http_scope = dict(scope)
    http_scope["type"] = "http"
    http_scope["method"] = "GET"
    http_scope["scheme"] = _HTTP_SCHEMES.get(scope.get("scheme", "ws"), "http")
    request = ASGIRequest(http_scope, BytesIO())
    if "session" in scope:
        request.session = scope["session"]
    if "user" in scope:
        request.user = scope["user"]
    known = known_user(scope)
    if known is not None:
        request._force_auth_user = known.user  # type: ignore[attr-defined]
    return request


class DRFAuthenticator:
    """Authenticates a connection with DRF authentication, permission and throttle
    classes; each defaults to DRF's ``DEFAULT_*_CLASSES`` setting (read when used).

    ``self.drf_request`` is set on the consumer to the DRF ``Request`` used, so handler
    checks (:func:`drf_permissions`) reuse it.
    """

    def __init__(
        self,
        *,
        authentication_classes: Sequence[type[Any]] | None = None,
        permission_classes: Sequence[type[Any]] | None = None,
        throttle_classes: Sequence[type[Any]] | None = None,
    ) -> None:
        self.authentication_classes = authentication_classes
        self.permission_classes = permission_classes
        self.throttle_classes = throttle_classes

    def security_schemes(self) -> list[SecurityScheme]:
        """Where clients put credentials, for the authentication classes DRF ships:
        session (the session cookie), token (``Authorization: Token <key>``, or the
        class's ``keyword``), basic; other classes cannot be described."""
        from django.conf import settings
        from rest_framework.authentication import (
            BasicAuthentication,
            SessionAuthentication,
            TokenAuthentication,
        )

        classes = (
            self.authentication_classes
            if self.authentication_classes is not None
            else api_settings.DEFAULT_AUTHENTICATION_CLASSES
        )
        found: list[SecurityScheme] = []
        for cls in classes:
            if issubclass(cls, SessionAuthentication):
                found.append(SecurityScheme("cookie", settings.SESSION_COOKIE_NAME, SESSION))
            elif issubclass(cls, TokenAuthentication):
                found.append(
                    SecurityScheme(
                        "header", "Authorization", f"`Authorization: {cls.keyword} <key>`"
                    )
                )
            elif issubclass(cls, BasicAuthentication):
                found.append(SecurityScheme("http", "basic"))
        return found

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        """The result for ``consumer``'s connection (the authenticator protocol), DRF's
        checks run in a worker thread."""
        result: AuthResult = await database_sync_to_async(self._authenticate)(consumer)
        return result

    async def authorize(self, consumer: AsyncJsonWebsocketConsumer, user: Any) -> AuthResult:
        """For a user known without credentials (a test's ``user=``): DRF authenticates
        the handshake as ``user`` (``force_authenticate``), then permissions and throttles
        run as usual."""
        return await self.authenticate(consumer)

    def make_view(self, consumer: AsyncJsonWebsocketConsumer) -> APIView:
        """The ``APIView`` standing for the consumer during the handshake."""
        view = APIView()
        view.authentication_classes = list(
            self.authentication_classes
            if self.authentication_classes is not None
            else api_settings.DEFAULT_AUTHENTICATION_CLASSES
        )
        view.permission_classes = list(
            self.permission_classes
            if self.permission_classes is not None
            else api_settings.DEFAULT_PERMISSION_CLASSES
        )
        view.throttle_classes = list(
            self.throttle_classes
            if self.throttle_classes is not None
            else api_settings.DEFAULT_THROTTLE_CLASSES
        )
        view.args = ()
        view.kwargs = consumer.path_params
        view.format_kwarg = None
        view.headers = {}
        view.consumer = consumer
        return view

    def _authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        view = self.make_view(consumer)
        request = view.initialize_request(http_request_from_scope(consumer.scope))
        view.request = request
        consumer.drf_request = request  # type: ignore[attr-defined]
        try:
            view.perform_authentication(request)
            view.check_permissions(request)
            view.check_throttles(request)
        except exceptions.APIException as exc:
            return AuthResult(
                _status_code(view, request, exc), None, {"detail": _detail(exc.detail)}
            )
        return AuthResult.allow(request.user)


def _status_code(view: APIView, request: Request, exc: exceptions.APIException) -> int:
    # DRF's own rule (APIView.handle_exception): 401 only with a challenge to offer.
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return 401 if view.get_authenticate_header(request) else 403
    status: int = exc.status_code
    return status


def _detail(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_detail(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _detail(value) for key, value in detail.items()}
    return str(detail)


def drf_permissions(*permission_classes: type[Any]) -> Callable[[Any, Any], Awaitable[bool]]:
    """Handler check: every DRF permission class's ``has_permission(request, view)``
    allows it. ``request`` is the handshake's DRF request (built with DRF's default
    authentication classes if the consumer did not authenticate through DRF), ``view``
    an ``APIView`` whose ``consumer`` attribute is the consumer."""

    def check(consumer: Any, message: Any) -> bool:
        request = getattr(consumer, "drf_request", None)
        view = DRFAuthenticator().make_view(consumer)
        if request is None:
            request = view.initialize_request(http_request_from_scope(consumer.scope))
            consumer.drf_request = request
        view.request = request
        return all(cls().has_permission(request, view) for cls in permission_classes)

    checker = database_sync_to_async(check)

    async def drf_permission_check(consumer: Any, message: Any) -> bool:
        allowed: bool = await checker(consumer, message)
        return allowed

    drf_permission_check.__qualname__ = (
        f"drf_permissions({', '.join(c.__name__ for c in permission_classes)})"
    )
    return drf_permission_check
