"""chanx's pytest plugin, loaded by pytest on its own once chanx-core is installed (its
``pytest11`` entry point). Async fixtures need pytest-asyncio (``asyncio_mode`` auto or
strict: both work).

Fixtures:

* ``communicator``: a factory with :class:`~chanx.testing.WebsocketCommunicator`'s
  arguments, ``communicator(app, path, headers=None, subprotocols=None, *,
  consumer=None, user=None, auth=None)``; every communicator it made is disconnected
  when the test ends, and one whose server does not finish the close fails the test,
  saying which. In live-server mode it gives a
  :class:`~chanx.testing.live.LiveCommunicator` instead, to the same app served by
  uvicorn (an app object) or daphne (an app given by its import path,
  ``"mysite.asgi:application"``, as Django's ``ASGI_APPLICATION`` names it);
* ``chanx_mode``: ``"in_process"`` or ``"live"``, for this test (see the markers);
* ``chanx_lifespan``: ``app = await chanx_lifespan(app)`` runs ``app``'s startup now and
  its shutdown when the test ends (after the communicators have closed);
* ``chanx_layer`` (automatic): a fresh process-wide in-memory layer for each test, so no
  group membership leaks from one test into the next;
* ``chanx_live_server``: ``server = await chanx_live_server(app)``, a started
  :class:`~chanx.testing.live.UvicornLiveServer`, stopped when the test ends.

Markers: ``@pytest.mark.chanx_live`` (this test's communicators go over real sockets),
``@pytest.mark.chanx_modes("in_process", "live")`` (the test runs once in each mode),
``@pytest.mark.off_contract(reason)`` (no contract checking in this test). Options:
``--chanx-live`` (every test live), ``--chanx-close-timeout`` (seconds a communicator's
close may take at teardown, default 5), and the ini setting ``chanx_check_contract =
true`` (every communicator checks frames against the consumer's declared messages; see
:mod:`chanx.testing.contract`).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chanx.core.memory import InMemoryGroupLayer
    from chanx.core.types import ASGIApp
    from chanx.core.websocket import AsyncJsonWebsocketConsumer
    from chanx.testing.base import BaseCommunicator
    from chanx.testing.daphne import DaphneLiveServer
    from chanx.testing.live import LiveServer, UvicornLiveServer

try:
    import pytest_asyncio

    HAS_PYTEST_ASYNCIO = True
except ImportError:  # pragma: no cover - depends on the installation
    HAS_PYTEST_ASYNCIO = False

MODES = ("in_process", "live")
CLOSE_TIMEOUT = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chanx")
    group.addoption(
        "--chanx-live",
        action="store_true",
        help="chanx: the communicator fixture connects over real sockets to live servers",
    )
    group.addoption(
        "--chanx-close-timeout",
        type=float,
        default=CLOSE_TIMEOUT,
        help="chanx: seconds a communicator's close may take when the test ends (default 5)",
    )
    parser.addini(
        "chanx_check_contract",
        type="bool",
        default=False,
        help="chanx: communicators check every frame against the consumer's declared messages",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "chanx_live: the communicator fixture connects over real sockets to live servers",
        "chanx_modes(*modes): run the test once per mode (in_process, live)",
        "off_contract(reason): the test's communicators do not check frames against the "
        "consumer's declared messages",
    ):
        config.addinivalue_line("markers", line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("chanx_modes")
    if marker is None or "chanx_mode" not in metafunc.fixturenames:
        return
    modes = marker.args or MODES
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        raise pytest.UsageError(f"chanx_modes: unknown mode(s) {unknown}; use {MODES}")
    metafunc.parametrize("chanx_mode", modes, indirect=True, ids=list(modes))


@pytest.fixture
def chanx_mode(request: pytest.FixtureRequest) -> str:
    """``"live"`` with ``--chanx-live`` or ``@pytest.mark.chanx_live`` (or per run with
    ``@pytest.mark.chanx_modes``), else ``"in_process"``."""
    chosen = getattr(request, "param", None)
    if chosen is not None:
        return str(chosen)
    if request.node.get_closest_marker("chanx_live") or request.config.getoption("chanx_live"):
        return "live"
    return "in_process"


@pytest.fixture(autouse=True)
def chanx_layer() -> Iterator[InMemoryGroupLayer]:
    """A fresh process-wide in-memory layer for the test (consumers without a layer of
    their own or their app's use it), dropped afterwards."""
    from chanx.core import memory

    memory._default = layer = memory.InMemoryGroupLayer()
    try:
        yield layer
    finally:
        memory._default = None


@pytest.fixture(autouse=True)
def chanx_contract(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Contract checking for the communicators made during the test: the
    ``chanx_check_contract`` ini setting, off under ``@pytest.mark.off_contract``."""
    from chanx.testing import contract

    marker = request.node.get_closest_marker("off_contract")
    if marker is not None and not (marker.args and str(marker.args[0]).strip()):
        raise pytest.UsageError("@pytest.mark.off_contract needs a reason")
    enabled = bool(request.config.getini("chanx_check_contract")) and marker is None
    previous = contract.set_default(enabled)
    try:
        yield enabled
    finally:
        contract.set_default(previous)


@pytest.fixture(scope="session")
def chanx_daphne_servers() -> Iterator[dict[str, DaphneLiveServer]]:
    """The daphne servers of the session's live tests, by application path (each one
    started on first use, all stopped when the session ends)."""
    servers: dict[str, DaphneLiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


class Communicators:
    """What the ``communicator`` fixture gives: call it as you would construct
    :class:`~chanx.testing.WebsocketCommunicator`. ``live`` says which mode the test
    runs in."""

    def __init__(
        self,
        mode: str,
        daphne_servers: dict[str, DaphneLiveServer],
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        self.mode = mode
        self.close_timeout = close_timeout
        self._daphne = daphne_servers
        self._uvicorn: list[tuple[Any, UvicornLiveServer]] = []
        self._made: list[tuple[str, BaseCommunicator]] = []

    @property
    def live(self) -> bool:
        """Whether communicators go over real sockets to live servers."""
        return self.mode == "live"

    def __call__(
        self,
        app: ASGIApp | str,
        path: str,
        headers: Any = None,
        subprotocols: Iterable[str] | None = None,
        *,
        consumer: type[AsyncJsonWebsocketConsumer] | None = None,
        user: Any = None,
        auth: Any = None,
    ) -> BaseCommunicator:
        """A communicator for ``path`` on ``app`` (an ASGI app, or the import path of
        one: ``"module:attribute"``), disconnected when the test ends."""
        from chanx.testing import WebsocketCommunicator

        communicator: BaseCommunicator
        if self.live:
            communicator = self.server_for(app).communicator(
                path, headers, subprotocols, consumer=consumer, user=user, auth=auth
            )
        else:
            communicator = WebsocketCommunicator(
                _imported(app) if isinstance(app, str) else app,
                path,
                headers,
                subprotocols,
                consumer=consumer,
                user=user,
                auth=auth,
            )
        self._made.append((path, communicator))
        return communicator

    def server_for(self, app: ASGIApp | str) -> LiveServer:
        """The live server for ``app`` in this test: daphne for an import path (one per
        path for the session), else uvicorn in this event loop (one per app)."""
        from chanx.testing.daphne import DaphneLiveServer
        from chanx.testing.live import UvicornLiveServer

        if isinstance(app, str):
            server = self._daphne.get(app)
            if server is None:
                server = self._daphne[app] = DaphneLiveServer(app)
            return server
        for served, found in self._uvicorn:
            if served is app:
                return found
        created = UvicornLiveServer(app)
        self._uvicorn.append((app, created))
        return created

    async def close(self) -> None:
        """Disconnect every communicator made (the last one first), then stop the
        uvicorn servers; fails naming the first communicator that did not close."""
        failures: list[str] = []
        made, self._made = self._made, []
        for path, communicator in reversed(made):
            if communicator.disconnected:
                continue
            try:
                await communicator.disconnect(timeout=self.close_timeout)
            except AssertionError as exc:
                failures.append(
                    f"the connection to {path!r} made by the communicator fixture did not "
                    f"close within {self.close_timeout}s at the end of the test: {exc} "
                    "(its consumer's disconnect, on_disconnect or leaving its groups, is "
                    "still running; --chanx-close-timeout sets the limit)"
                )
            except Exception as exc:
                failures.append(f"closing the connection to {path!r} failed: {exc!r}")
        for _, server in self._uvicorn:
            await server.stop(timeout=self.close_timeout)
        self._uvicorn.clear()
        if failures:
            pytest.fail("\n".join(failures), pytrace=False)


def _imported(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if not attribute:
        raise ValueError(f"an application's import path is 'module:attribute', not {path!r}")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


LifespanRunner = Callable[[Any], Awaitable[Any]]

if HAS_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def chanx_lifespan() -> AsyncIterator[LifespanRunner]:
        """``app = await chanx_lifespan(app)``: the app's startup now, its shutdown when
        the test ends."""
        from chanx.testing import lifespan

        async with AsyncExitStack() as stack:

            async def start(app: Any) -> Any:
                return await stack.enter_async_context(lifespan(app))

            yield start

    @pytest_asyncio.fixture
    async def communicator(
        chanx_mode: str,
        chanx_lifespan: LifespanRunner,
        chanx_daphne_servers: dict[str, DaphneLiveServer],
        request: pytest.FixtureRequest,
    ) -> AsyncIterator[Communicators]:
        """A factory of communicators, closed when the test ends (see the module)."""
        made = Communicators(
            chanx_mode, chanx_daphne_servers, request.config.getoption("chanx_close_timeout")
        )
        try:
            yield made
        finally:
            await made.close()

    @pytest_asyncio.fixture
    async def chanx_live_server() -> AsyncIterator[Callable[..., Awaitable[UvicornLiveServer]]]:
        """``server = await chanx_live_server(app, lifespan=False)``: uvicorn serving
        ``app`` in this event loop, stopped when the test ends."""
        from chanx.testing.live import UvicornLiveServer

        async with AsyncExitStack() as stack:

            async def start(app: Any, *, lifespan: bool = False) -> UvicornLiveServer:
                return await stack.enter_async_context(UvicornLiveServer(app, lifespan=lifespan))

            yield start

else:  # pragma: no cover - depends on the installation

    def _needs_pytest_asyncio() -> Any:
        raise pytest.UsageError(
            "chanx's async fixtures need pytest-asyncio: pip install pytest-asyncio"
        )

    chanx_lifespan = pytest.fixture(_needs_pytest_asyncio, name="chanx_lifespan")
    communicator = pytest.fixture(_needs_pytest_asyncio, name="communicator")
    chanx_live_server = pytest.fixture(_needs_pytest_asyncio, name="chanx_live_server")
