"""``WebsocketTestCase``: Django test cases for chanx consumers.

::

    class ChatTests(WebsocketTestCase):
        consumer = ChatConsumer
        ws_path = "/ws/chat/"

        def get_ws_headers(self):
            self.user, headers = self.create_user_and_ws_headers()
            return headers

        async def test_chat(self):
            await self.auth_communicator.connect()
            await self.auth_communicator.assert_authenticated_status_ok()
            await self.auth_communicator.send_message(ChatMessage(payload={"message": "hi"}))
            assert await self.auth_communicator.receive_all_messages()

Test methods may be ``async def``; every communicator a test created is disconnected
when the test ends, inside the test's event loop, and the test fails if a consumer does
not finish its disconnect. Importing this module needs neither daphne nor a running
server: communicators drive the ASGI application in-process.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client, TransactionTestCase

from chanx.testing import WebsocketCommunicator
from chanx.testing.asgi import HeadersInput, build_scope

if TYPE_CHECKING:
    from chanx.core.types import ASGIApp
    from chanx.core.websocket import AsyncJsonWebsocketConsumer

HeaderPairs = list[tuple[bytes, bytes]]


class DeferredHeadersCommunicator(WebsocketCommunicator):
    """A communicator whose headers are computed when it connects (so a synchronous
    ``get_ws_headers()`` can use the ORM even though the test itself is async)."""

    def __init__(
        self,
        application: ASGIApp,
        path: str,
        headers: Callable[[], Awaitable[HeadersInput]],
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[AsyncJsonWebsocketConsumer] | None = None,
    ) -> None:
        super().__init__(application, path, None, subprotocols, consumer=consumer)
        self._path = path
        self._subprotocols = list(subprotocols or ())
        self._headers = headers

    async def _open(self, timeout: float) -> tuple[bool, Any]:
        self.scope = build_scope(self._path, await self._headers(), self._subprotocols)
        return await super()._open(timeout)


class WebsocketTestCase(TransactionTestCase):
    """A Django ``TransactionTestCase`` with websocket communicators.

    Set ``consumer`` (the consumer class: received frames are parsed into its message
    types) and ``ws_path`` (class attribute, or in ``setUp``). The application is
    ``settings.ASGI_APPLICATION`` unless ``application`` is set. Override
    :meth:`get_ws_headers` (sync or async) to authenticate :attr:`auth_communicator`,
    and :meth:`get_subprotocols` to offer subprotocols.

    It is a ``TransactionTestCase`` because consumers reach the database from other
    threads, outside any transaction the test would hold open.
    """

    consumer: type[AsyncJsonWebsocketConsumer] | None = None
    ws_path: str = ""
    application: ASGIApp | None = None
    ws_origin: str | None = "http://testserver"
    """Sent as the ``Origin`` header (``AllowedHostsOriginValidator`` admits it, since
    Django's test settings allow ``testserver``); ``None`` sends none."""

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self._communicators: list[WebsocketCommunicator] = []
        self._communicator: WebsocketCommunicator | None = None
        self._auth_communicator: WebsocketCommunicator | None = None
        test = getattr(self, methodName, None)
        if test is not None and iscoroutinefunction(test):
            setattr(self, methodName, self._disconnecting_after(test))

    # ------------------------------------------------------------------ hooks

    def get_ws_headers(self) -> HeadersInput:
        """Headers of :attr:`auth_communicator` (e.g. a session cookie). May be
        ``async``; a synchronous one runs in a worker thread, so it may use the ORM."""
        return None

    def get_subprotocols(self) -> list[str]:
        """Subprotocols every communicator offers."""
        return []

    def get_application(self) -> ASGIApp:
        """The ASGI application under test: ``application`` (or chanx 1.x's ``router``),
        else ``settings.ASGI_APPLICATION``."""
        router = inspect.getattr_static(type(self), "router")
        application = (
            self.__dict__.get("application")
            or type(self).application
            or (None if isinstance(router, property) else router)
        )
        if application is None:
            from channels.routing import get_default_application

            application = get_default_application()
        return application

    @property
    def router(self) -> ASGIApp:
        """chanx 1.x's name for the application under test: reading it gives
        :meth:`get_application`; a subclass may set ``router = app`` (or assign
        ``self.router``) instead of ``application``."""
        return self.get_application()

    @router.setter
    def router(self, application: ASGIApp) -> None:
        self.application = application

    # ------------------------------------------------------------------ communicators

    @property
    def communicator(self) -> WebsocketCommunicator:
        """An unauthenticated communicator for ``ws_path`` (one per test)."""
        if self._communicator is None:
            self._communicator = self.create_communicator(headers=())
        return self._communicator

    @property
    def auth_communicator(self) -> WebsocketCommunicator:
        """A communicator for ``ws_path`` with :meth:`get_ws_headers` (one per test;
        the headers are computed when it connects)."""
        if self._auth_communicator is None:
            self._auth_communicator = self.create_communicator()
        return self._auth_communicator

    def create_communicator(
        self,
        *,
        headers: HeadersInput = None,
        path: str | None = None,
        subprotocols: Iterable[str] | None = None,
        user: Any = None,
    ) -> WebsocketCommunicator:
        """A new communicator (``ws_path`` unless ``path`` is given), disconnected
        automatically when the test ends.

        Without ``headers``, it sends :meth:`get_ws_headers` (computed when it
        connects), as :attr:`auth_communicator` does. ``user`` connects as that user
        object, without a session cookie: the consumer's authorization runs for it
        (``SessionAuthenticator`` checks it is logged in and active, DRF its permission
        and throttle classes, handler checks as usual); no headers are sent then unless
        given."""
        subprotocols = self.get_subprotocols() if subprotocols is None else subprotocols
        communicator: WebsocketCommunicator
        if headers is None and user is None:
            communicator = DeferredHeadersCommunicator(
                self.get_application(),
                self._path(path),
                self._auth_headers,
                subprotocols,
                consumer=self.consumer,
            )
        else:
            communicator = WebsocketCommunicator(
                self.get_application(),
                self._path(path),
                headers=self._with_origin(headers),
                subprotocols=subprotocols,
                consumer=self.consumer,
                user=user,
            )
        self._communicators.append(communicator)
        return communicator

    # ------------------------------------------------------------------ users

    def create_user(self, **fields: Any) -> Any:
        """Create a user of the project's user model with a unique username (and email
        when the model requires one) and no usable password; ``fields`` are passed on.
        Override for user models whose other required fields need values."""
        user_model: Any = get_user_model()
        token = uuid.uuid4().hex[:12]
        values: dict[str, Any] = {}
        username_field = user_model._meta.get_field(user_model.USERNAME_FIELD)
        values[user_model.USERNAME_FIELD] = (
            f"user-{token}@example.com"
            if isinstance(username_field, models.EmailField)
            else f"user-{token}"
        )
        if "email" in user_model.REQUIRED_FIELDS:
            values["email"] = f"user-{token}@example.com"
        values.update(fields)
        manager: Any = user_model._default_manager
        if hasattr(manager, "create_user"):
            return manager.create_user(**values)
        return manager.create(**values)

    def get_login_headers(self, user: Any) -> HeaderPairs:
        """Log ``user`` in (a new session, as Django's test ``Client.force_login`` does)
        and return the headers that carry its session cookie."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        return [(b"cookie", f"{cookie.key}={cookie.value}".encode("latin-1"))]

    def create_user_and_ws_headers(self, **fields: Any) -> tuple[Any, HeaderPairs]:
        """Create a user (:meth:`create_user`), log it in, and return
        ``(user, headers)``; the headers carry the session cookie."""
        user = self.create_user(**fields)
        return user, self.get_login_headers(user)

    async def acreate_user_and_ws_headers(self, **fields: Any) -> tuple[Any, HeaderPairs]:
        """:meth:`create_user_and_ws_headers` for async tests."""
        result: tuple[Any, HeaderPairs] = await sync_to_async(self.create_user_and_ws_headers)(
            **fields
        )
        return result

    # ------------------------------------------------------------------ internals

    def _path(self, path: str | None) -> str:
        path = path or self.ws_path
        if not path:
            raise AssertionError(f"{type(self).__name__}: set ws_path (or pass path=...)")
        return path

    def _with_origin(self, headers: HeadersInput) -> HeaderPairs:
        pairs = _header_pairs(headers)
        if self.ws_origin is not None and not any(name == b"origin" for name, _ in pairs):
            pairs.append((b"origin", self.ws_origin.encode("latin-1")))
        return pairs

    async def _auth_headers(self) -> HeadersInput:
        get_headers = self.get_ws_headers
        if iscoroutinefunction(get_headers):
            headers = await get_headers()
        else:
            headers = await sync_to_async(get_headers)()
        return self._with_origin(headers)

    def _disconnecting_after(
        self, test: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(test)
        async def run_then_disconnect(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await test(*args, **kwargs)
            except BaseException:
                await self._disconnect_all(raise_errors=False)
                raise
            await self._disconnect_all(raise_errors=True)
            return result

        return run_then_disconnect

    async def _disconnect_all(self, *, raise_errors: bool) -> None:
        communicators, self._communicators = self._communicators, []
        self._communicator = self._auth_communicator = None
        first_error: BaseException | None = None
        for communicator in reversed(communicators):
            if communicator.tracker is None:  # never connected
                continue
            try:
                await communicator.disconnect()
            except Exception as exc:
                first_error = first_error or exc
        if first_error is not None and raise_errors:
            raise first_error


def _header_pairs(headers: HeadersInput) -> HeaderPairs:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(_bytes(name).lower(), _bytes(value)) for name, value in items]


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")
