"""Connection authentication with FastAPI dependencies.

The dependencies are resolved by FastAPI's own machinery against the websocket
(``Depends``, ``Header``, ``Query``, ``Cookie``, ``Security``, ``OAuth2PasswordBearer``,
``HTTPBearer``, ``APIKeyHeader``... and ``app.dependency_overrides``), once per
connection, right after the handshake. Their outcome becomes an
:class:`~chanx.core.auth.AuthResult`:

* the value of the main dependency becomes ``self.user`` (a dependency may also return
  an ``AuthResult`` itself to choose the status and the data sent to the client);
* ``HTTPException(status_code, detail)`` refuses with that status and
  ``{"detail": detail}`` as data;
* ``WebSocketException(code, reason)`` refuses with the HTTP status the close code
  stands for: ``4000 + status`` codes give back ``status`` (4401 -> 401), 1008 (policy
  violation) gives 403, 1011 gives 500, any other code 403;
* parameters that fail validation (a required ``Header``/``Query``/``Cookie`` missing,
  a malformed value) refuse with 401 and the validation errors, never their input (the
  errors are shaped as in the core's ``error`` replies: see :mod:`chanx.core.validation`).

A refused connection gets the ``authentication`` message with that status, then a close
with code ``4000 + status``. ``yield`` dependencies stay open for the life of the
connection and are closed after it ends.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from fastapi import params
from fastapi.dependencies.utils import (
    get_dependant,
    get_parameterless_sub_dependant,
    solve_dependencies,
)
from fastapi.security.base import SecurityBase
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException, WebSocketException
from starlette.websockets import WebSocket

from chanx.core.auth import AuthResult, KnownUser, SecurityScheme
from chanx.core.validation import declared_names, public_loc, public_message

if TYPE_CHECKING:
    from fastapi.dependencies.models import Dependant

    from chanx.core.websocket import AsyncJsonWebsocketConsumer

USER_PARAMETER = "user"
INVALID_PARAMETERS_STATUS = 401


class DependencyAuthenticator:
    """Authenticate connections with a FastAPI dependency::

        async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
            ...  # raise HTTPException(401/403) to refuse

        class ChatConsumer(AsyncJsonWebsocketConsumer):
            authenticator = DependencyAuthenticator(get_current_user)

    ``dependency`` (a callable or a ``Depends(...)``/``Security(...)``) gives the user;
    ``dependencies`` are checks whose values are dropped, run before it.
    """

    def __init__(
        self,
        dependency: Callable[..., Any] | params.Depends | None = None,
        *,
        dependencies: Sequence[params.Depends] = (),
    ) -> None:
        if dependency is not None and not isinstance(dependency, params.Depends):
            if not callable(dependency):
                raise TypeError(f"not a dependency: {dependency!r}")
            dependency = params.Depends(dependency)
        self.dependency: params.Depends | None = dependency
        self.dependencies = tuple(dependencies)

    def __repr__(self) -> str:
        call = self.dependency.dependency if self.dependency else None
        return f"<DependencyAuthenticator {getattr(call, '__name__', call)!r}>"

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        """The core authenticator protocol (for consumers that call it themselves)."""
        websocket = getattr(consumer, "websocket", None)
        if not isinstance(websocket, WebSocket):
            raise TypeError(
                "DependencyAuthenticator needs a consumer served by chanx.ext.fastapi "
                "(Consumer.as_endpoint())"
            )
        return await self.resolve(websocket)

    def security_schemes(self) -> list[SecurityScheme]:
        """Where clients put credentials, read from the dependency tree: FastAPI's
        security classes (``HTTPBearer``, ``APIKeyHeader``, ``OAuth2PasswordBearer``, ...)
        and the plain ``Header``/``Query``/``Cookie`` parameters of its dependencies
        (taken to be credentials, since they feed the authentication)."""
        return security_from_dependant(_dependant_for("/", self, ()))

    async def resolve(
        self, websocket: WebSocket, extra: Sequence[params.Depends] = ()
    ) -> AuthResult:
        """Resolve ``extra`` (the mount's dependencies), then this authenticator's."""
        return await solve_connection_dependencies(websocket, self, extra)

    async def authorize(self, consumer: AsyncJsonWebsocketConsumer, user: Any) -> AuthResult:
        """For a user known without credentials (a test's ``user=``): the dependencies
        run as usual, with the user dependency answering ``user`` for this connection
        only (checks depending on it see ``user`` too)."""
        websocket = getattr(consumer, "websocket", None)
        if not isinstance(websocket, WebSocket):
            raise TypeError(
                "DependencyAuthenticator needs a consumer served by chanx.ext.fastapi "
                "(Consumer.as_endpoint())"
            )
        return await solve_connection_dependencies(websocket, self, (), known=KnownUser(user))


_dependants: dict[tuple[Any, ...], tuple[Dependant, object]] = {}


def _dependant_for(
    path: str,
    authenticator: DependencyAuthenticator | None,
    extra: Sequence[params.Depends],
) -> Dependant:
    """The dependency tree for one route path (path parameters depend on it), cached.

    Cached by identity (``Security`` objects hold lists, so they do not hash); the entry
    keeps its key objects alive so their ids stay theirs."""
    key = (path, id(authenticator), *map(id, extra))
    cached = _dependants.get(key)
    if cached is not None:
        return cached[0]
    checks = (*extra, *(authenticator.dependencies if authenticator else ()))
    main = authenticator.dependency if authenticator else None
    dependant = get_dependant(path=path, call=_root_call(main))
    for depends in reversed(checks):
        dependant.dependencies.insert(
            0, get_parameterless_sub_dependant(depends=depends, path=path)
        )
    _dependants[key] = (dependant, (authenticator, tuple(extra)))
    return dependant


def security_from_dependant(dependant: Dependant) -> list[SecurityScheme]:
    """The credential schemes a dependency tree reads, in the order FastAPI resolves it."""
    found: list[SecurityScheme] = []
    pending = [dependant]
    while pending:
        current = pending.pop(0)
        call = current.call
        if isinstance(call, SecurityBase):
            model = call.model.model_dump(mode="json", by_alias=True, exclude_none=True)
            found.extend(SecurityScheme.from_openapi(model))
        reader = getattr(call, "__name__", None)
        note = f"Read by the authentication dependency `{reader}`." if reader else ""
        for field in current.header_params:
            found.append(SecurityScheme("header", _header_name(field), note))
        for field in current.query_params:
            found.append(SecurityScheme("query", field.alias, note))
        for field in current.cookie_params:
            found.append(SecurityScheme("cookie", field.alias, note))
        pending.extend(current.dependencies)
    return list(dict.fromkeys(found))


def _header_name(field: Any) -> str:
    # FastAPI reads ``x_token: Header()`` from ``x-token`` unless told otherwise.
    info = field.field_info
    if field.alias == field.name and getattr(info, "convert_underscores", True):
        return str(field.name).replace("_", "-")
    return str(field.alias)


def _root_call(main: params.Depends | None) -> Callable[..., Any]:
    """A stand-in endpoint whose only parameter is the main dependency; FastAPI analyses
    it like any endpoint, and is never asked to call it."""

    def connect(**values: Any) -> None:  # pragma: no cover - never called
        return None

    parameters = []
    if main is not None:
        parameters.append(
            inspect.Parameter(USER_PARAMETER, inspect.Parameter.KEYWORD_ONLY, default=main)
        )
    connect.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return connect


class ConnectionOverrides:
    """The dependency overrides for one connection: the app's, plus the user dependency
    answering a known user (or, instead, those a test gave this connection under
    :data:`OVERRIDES_KEY`). Never changes the app's."""

    def __init__(self, app: Any, extra: Mapping[Callable[..., Any], Callable[..., Any]]) -> None:
        self.dependency_overrides = {**getattr(app, "dependency_overrides", {}), **extra}


OVERRIDES_KEY = "chanx.fastapi.dependency_overrides"
"""Scope key of a test connection's own dependency overrides (a mapping, as
``app.dependency_overrides``), set by
:class:`chanx.ext.fastapi.testing.AuthenticatedCommunicator`."""


def _overrides_for(
    scope: Mapping[str, Any], main: params.Depends | None, known: KnownUser | None
) -> Any:
    app = scope.get("app")
    extra: dict[Callable[..., Any], Callable[..., Any]] = {}
    if known is not None:
        chosen = scope.get(OVERRIDES_KEY)
        if chosen:
            extra.update(chosen)  # the test named the dependencies that answer
        elif main is not None and main.dependency is not None:
            user = known.user
            extra[main.dependency] = lambda: user
    return ConnectionOverrides(app, extra) if extra else app


async def solve_connection_dependencies(
    websocket: WebSocket,
    authenticator: DependencyAuthenticator | None,
    extra: Sequence[params.Depends] = (),
    *,
    known: KnownUser | None = None,
) -> AuthResult:
    """Run the dependencies for one connection and turn the outcome into an AuthResult.

    With ``known`` (a user known without credentials), the authenticator's user
    dependency answers ``known.user`` for this connection only; everything else runs."""
    scope = websocket.scope
    stack = scope.get("fastapi_inner_astack")
    if not isinstance(stack, AsyncExitStack):
        raise RuntimeError(
            "FastAPI dependencies need the consumer mounted through FastAPI routing: "
            "app.add_api_websocket_route(path, Consumer.as_endpoint())"
        )
    route = scope.get("route")
    path = getattr(route, "path_format", None) or scope.get("path", "")
    dependant = _dependant_for(path, authenticator, extra)
    try:
        solved = await solve_dependencies(
            request=websocket,
            dependant=dependant,
            dependency_overrides_provider=_overrides_for(
                scope, authenticator.dependency if authenticator else None, known
            ),
            async_exit_stack=stack,
            embed_body_fields=False,
        )
    except HTTPException as exc:
        return _refusal(exc.status_code, exc.detail)
    except WebSocketException as exc:
        return _refusal(status_for_close_code(exc.code), exc.reason or None)
    if solved.errors:
        return AuthResult(
            INVALID_PARAMETERS_STATUS,
            None,
            {
                "detail": "Invalid or missing connection parameters",
                "errors": [
                    _public_error(error, _parameter_names(dependant)) for error in solved.errors
                ],
            },
        )
    user = solved.values.get(USER_PARAMETER, None if known is None else known.user)
    if isinstance(user, AuthResult):
        return user
    return AuthResult.allow(user)


def status_for_close_code(code: int) -> int:
    """The HTTP status a ``WebSocketException`` close code stands for."""
    if 4400 <= code < 4600:
        return code - 4000
    if code == 1011:
        return 500
    return 403


def _refusal(status_code: int, detail: Any) -> AuthResult:
    if not 400 <= status_code < 600:  # a "success" raised as an error still refuses
        status_code = 403
    return AuthResult(status_code, None, {"detail": detail} if detail else None)


def _public_error(error: Any, declared: frozenset[str]) -> dict[str, Any]:
    """A validation error without client-chosen text (its input, keys it made up, a
    message quoting it)."""
    if not isinstance(error, dict):
        return {"loc": [], "msg": "Invalid value", "type": "invalid"}
    details: Any = {"type": str(error.get("type", "")), "msg": str(error.get("msg", ""))}
    details["ctx"] = error.get("ctx") or {}
    return {
        "loc": public_loc(list(error.get("loc", ())), declared),
        "msg": public_message(details),
        "type": details["type"],
    }


_SOURCES = frozenset({"path", "query", "header", "cookie", "body"})
_names: dict[int, tuple[Dependant, frozenset[str]]] = {}


def _parameter_names(dependant: Dependant) -> frozenset[str]:
    """The names the connection's parameters declare (names, aliases, model fields)."""
    cached = _names.get(id(dependant))
    if cached is not None and cached[0] is dependant:
        return cached[1]
    found = set(_SOURCES)
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        params = (
            *current.path_params,
            *current.query_params,
            *current.header_params,
            *current.cookie_params,
        )
        for param in params:
            found.update((param.name, param.alias))
            annotation: Any = param.field_info.annotation
            # A type pydantic cannot build an adapter for on its own has no names to add.
            with contextlib.suppress(Exception):
                found |= declared_names(TypeAdapter(annotation).core_schema)
    names = frozenset(found)
    _names[id(dependant)] = (dependant, names)
    return names
