"""Litestar authentication in chanx terms.

Litestar refuses a websocket by closing it before the handshake (close code 4500 for an
``HTTPException``). chanx instead accepts, sends the ``authentication`` message with the
refusal's status and closes with ``4000 + status``. chanx does that for every client-error
``HTTPException`` (status 4xx: ``NotAuthorizedException`` 401, ``PermissionDeniedException``
403, ...) raised before the consumer starts: by authentication middleware, by guards of any
layer (app, router, controller, handler) and by the consumer's ``on_connect`` hook.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from litestar.exceptions import HTTPException, NotAuthorizedException

from chanx.constants import AUTH_FAILURE_CLOSE_BASE
from chanx.core.auth import AuthResult
from chanx.core.decorators import Permission
from chanx.core.observe import current_observer
from chanx.core.transport import ASGITransport
from chanx.core.types import ASGIReceive, ASGISend, Scope
from chanx.messages.outgoing import AuthenticationMessage, AuthenticationPayload

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import Guard

    from chanx.core.websocket import AsyncJsonWebsocketConsumer

logger = logging.getLogger("chanx.litestar")

STARTED_KEY = "chanx.started"
"""Scope key set once the consumer runs: later errors are its own business."""
GUARDS_KEY = "chanx.guards"
"""Scope key set once the route's guards have run and admitted the connection."""
FRAMES_KEY = "chanx.frames"
"""Scope key: where the consumer's text frames go (see ``routing.GuardGate``)."""


def is_refusal(exc: BaseException) -> bool:
    """A client-error ``HTTPException`` (status 4xx), which chanx reports as a refusal."""
    return isinstance(exc, HTTPException) and 400 <= exc.status_code < 500


def refusal(exc: HTTPException) -> AuthResult:
    """The :class:`AuthResult` for a refusing ``HTTPException``: its status, and its
    detail as ``{"detail": ...}`` in the ``authentication`` payload's ``data``."""
    return AuthResult.deny(exc.status_code, exc.detail)


async def refuse(
    consumer_class: type[AsyncJsonWebsocketConsumer],
    scope: Scope,
    receive: ASGIReceive,
    send: ASGISend,
    result: AuthResult,
) -> None:
    """Accept, send the ``authentication`` message for ``result``, close with
    ``4000 + status``. No handler or hook of the consumer runs."""
    consumer = consumer_class()
    consumer.scope = scope
    consumer.transport = ASGITransport(send)
    observer = current_observer.get()
    if observer is not None:
        observer.consumer_started(consumer)
    try:
        if (await receive())["type"] != "websocket.connect":
            return
        requested = scope.get("subprotocols") or ()
        await consumer.transport.accept(consumer.select_subprotocol(requested))
        payload = AuthenticationPayload(
            status_code=result.status_code, status_text=result.reason, data=result.data
        )
        await consumer.send_message(AuthenticationMessage(payload=payload))
        logger.info("%s refused (%s)", consumer_class.__name__, result.status_code)
        await consumer.transport.close(AUTH_FAILURE_CLOSE_BASE + result.status_code)
    finally:
        if observer is not None:
            observer.consumer_ready(consumer)
            observer.consumer_finished(consumer)


def requires_user(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard admitting only connections whose authentication middleware set a user
    (``connection.user`` not ``None``); others are refused with 401."""
    if connection.scope.get("user") is None:
        raise NotAuthorizedException("authentication required")


def from_guard(guard: Guard) -> Permission:
    """A per-handler permission (``@ws_handler(permissions=[...])``) from a Litestar guard.

    The guard gets the consumer's Litestar ``WebSocket`` and its route handler, as at
    connect time; a 4xx ``HTTPException`` from it refuses the message (an ``error`` reply,
    the connection stays open).
    """

    async def check(consumer: Any, message: Any) -> bool:
        try:
            outcome = guard(consumer.websocket, consumer.route_handler)
            if inspect.isawaitable(outcome):
                await outcome
        except HTTPException as exc:
            if not is_refusal(exc):
                raise
            return False
        return True

    check.__name__ = f"from_guard({getattr(guard, '__name__', guard)!s})"
    return check
