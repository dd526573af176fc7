"""The communicator logic every driver shares: collecting, parsing and asserting.

A driver (in-process ASGI, a real socket, ...) supplies a few primitives: open the
connection, send a frame, read the next frame, close, and report what is still going on
at its end (for :meth:`BaseCommunicator.settle`). Everything a test calls is built here
on top of them, so every framework's tests read the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar, overload

from pydantic import ValidationError

from chanx.constants import (
    AUTHENTICATION_ACTION,
    COMPLETION_ACTIONS,
    MESSAGE_ACTION_COMPLETE,
)
from chanx.messages.base import BaseMessage, message_classes_for
from chanx.messages.outgoing import AuthenticationMessage
from chanx.testing import settle as quiescence
from chanx.testing.expect import Expectation
from chanx.testing.mistakes import completion_hint, misspelled_completion

if TYPE_CHECKING:
    from typing_extensions import Self

    from chanx.core.websocket import AsyncJsonWebsocketConsumer
    from chanx.testing.settle import Pending


DEFAULT_TIMEOUT = 1.0
"""Seconds a single receive waits."""
COLLECT_TIMEOUT = 5.0
"""Seconds a ``receive_all_*`` collection waits for its stop action, in all."""
QUIET_TIMEOUT = 0.1
"""Seconds ``receive_nothing`` and ``refute_receives`` wait at most for the application
to settle (they return as soon as it has)."""

M = TypeVar("M", bound=BaseMessage)


class CommunicatorError(AssertionError):
    """A test expectation about the connection failed (timeouts, closes, bad frames)."""


if sys.version_info >= (3, 11):
    _TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError,)
else:  # two classes before 3.11
    _TIMEOUTS = (asyncio.TimeoutError, TimeoutError)


class ReceiveTimeout(CommunicatorError, *_TIMEOUTS):  # type: ignore[misc]
    """Nothing (or not the awaited message) arrived in time; the message says what did.

    Also an ``asyncio.TimeoutError`` (and ``TimeoutError``), as Django Channels'
    communicator raises: ``pytest.raises(asyncio.TimeoutError)`` keeps passing."""


class ConnectionClosed(CommunicatorError):
    """The server closed the connection while the test waited for a message."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Closed:
    """A driver's report that the server closed (``code`` is ``None`` if it just ended)."""

    code: int | None = None
    reason: str = ""


Frame = str | bytes | Closed


class ConsumerTracker:
    """Follows the consumer instance serving this communicator's connection (through
    :data:`chanx.core.observe.current_observer`)."""

    def __init__(self) -> None:
        self.consumer: AsyncJsonWebsocketConsumer | None = None
        self.ready = asyncio.Event()
        self.finished = asyncio.Event()

    def consumer_started(self, consumer: Any) -> None:
        if self.consumer is None:
            self.consumer = consumer

    def consumer_ready(self, consumer: Any) -> None:
        if consumer is self.consumer:
            self.ready.set()

    def consumer_finished(self, consumer: Any) -> None:
        if consumer is self.consumer:
            self.finished.set()


class BaseCommunicator(ABC):
    """Connect, send and receive chanx messages, and assert on what comes back.

    ``consumer`` (the consumer class) is used to parse received frames into its
    outgoing message classes; drivers that can follow the server-side consumer find it
    on their own, so it may be omitted.

    ``check_contract``: check every frame against the consumer's declared messages (see
    :mod:`chanx.testing.contract`; the default comes from its ``set_default``).
    """

    def __init__(self, *, consumer: type[AsyncJsonWebsocketConsumer] | None = None) -> None:
        from chanx.testing.contract import default_enabled

        self.consumer = consumer
        self.check_contract = default_enabled()
        self._off_contract: str | None = None
        self.connected = False
        self.disconnected = False
        """Whether the test closed the connection (``disconnect()``)."""
        self.close_code: int | None = None
        self.subprotocol: str | None = None
        self.tracker: ConsumerTracker | None = None
        self._frames: deque[Frame] = deque()
        self._authentication: AuthenticationMessage | None = None
        self._refusal: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ driver primitives

    @abstractmethod
    async def _open(self, timeout: float) -> tuple[bool, Any]:
        """Open the connection: ``(True, subprotocol)`` or ``(False, close code/status)``."""

    @abstractmethod
    async def _send_text(self, text: str) -> None:
        """Send one text frame."""

    @abstractmethod
    async def _send_bytes(self, data: bytes) -> None:
        """Send one binary frame."""

    @abstractmethod
    async def _read(self, timeout: float) -> Frame:
        """The next frame; raises ``TimeoutError`` when none comes within ``timeout``.
        Cancelling it loses no frame."""

    @abstractmethod
    def _read_nowait(self) -> Frame | None:
        """The next frame if one is already here, else ``None``."""

    @abstractmethod
    async def _close(self, code: int, timeout: float) -> None:
        """Close from the client side and wait until the server has handled it."""

    _immediate = False
    """Whether a frame the server sent is readable at once (in-process drivers): then a
    consumer that finished connecting without an ``authentication`` message surely
    sent none."""

    @property
    def channel_name(self) -> str | None:
        """The channel name of the server-side connection, when it can be known (the
        communicator follows the consumer, or the server tells)."""
        consumer = self.tracker.consumer if self.tracker is not None else None
        return getattr(consumer, "channel_name", None)

    def _pending(self) -> Pending:
        """What is still going on at this driver's end, for :meth:`settle`: ``None``
        (idle), an awaitable done when that may have changed, or
        :data:`~chanx.testing.settle.UNPROVABLE`. This default knows nothing of the
        server: unprovable while the connection is open."""
        return quiescence.UNPROVABLE if self.connected else None

    # ------------------------------------------------------------------ lifecycle

    async def connect(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, Any]:
        """Open the connection. Returns ``(accepted, subprotocol_or_close_code)``.

        When the server-side consumer can be followed, this returns only once it has
        finished connecting (authenticated, joined its groups, ran
        ``post_authentication``); its ``authentication`` message is kept for
        :meth:`wait_for_auth` rather than left among the received messages.
        """
        self._loop = asyncio.get_running_loop()
        quiescence.track(self)
        accepted, detail = await self._open(timeout)
        self.connected = accepted
        if not accepted:
            self.close_code = detail if isinstance(detail, int) else None
            self._refusal = f"the server refused the handshake ({detail!r})"
            return False, detail
        self.subprotocol = detail
        tracker = self.tracker
        if tracker is not None and tracker.consumer is not None:
            if self.consumer is None:
                self.consumer = type(tracker.consumer)
            try:
                await asyncio.wait_for(tracker.ready.wait(), timeout)
            except asyncio.TimeoutError:
                raise ReceiveTimeout(
                    f"the consumer did not finish connecting within {timeout}s"
                ) from None
            self._take_available()
        return True, detail

    async def disconnect(self, code: int = 1000, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Close from the client side; returns once the server has handled the close."""
        self.connected = False
        self.disconnected = True
        try:
            await self._close(code, timeout)
        finally:
            quiescence.untrack(self)

    async def __aenter__(self) -> Self:
        accepted, detail = await self.connect()
        if not accepted:
            await self.disconnect()
            raise ConnectionClosed(
                f"{self._refusal}; use connect() to test a refusal",
                detail if isinstance(detail, int) else None,
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.disconnect()
            return
        # The block already failed: clean up, but never hide that failure behind ours.
        with contextlib.suppress(Exception):
            await self.disconnect()

    # ------------------------------------------------------------------ sending

    async def send_json(self, data: Any) -> None:
        """Send any JSON value as a text frame."""
        await self.send_text(json.dumps(data))

    async def send_message(self, message: BaseMessage) -> None:
        """Send a chanx message."""
        await self.send_text(message.model_dump_json(by_alias=True))

    async def send_text(self, text: str) -> None:
        """Send a raw text frame (for malformed-input tests)."""
        consumer = self._contract_consumer()
        if consumer is not None:
            from chanx.testing.contract import check_sent

            check_sent(consumer, text)
        await self._send_text(text)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        if self._contract_consumer() is not None:
            from chanx.testing.contract import ContractViolation

            raise ContractViolation(
                f"the test sent a binary frame of {len(data)} bytes: chanx messages are "
                "JSON text; if the test sends it on purpose, wrap the send in "
                "`with comm.off_contract(reason):`"
            )
        await self._send_bytes(data)

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Django Channels' name: send one frame, ``text_data`` or ``bytes_data``."""
        if (text_data is None) == (bytes_data is None):
            raise TypeError("send_to() takes one of text_data or bytes_data")
        if text_data is not None:
            await self.send_text(text_data)
        else:
            assert bytes_data is not None
            await self.send_bytes(bytes_data)

    async def send_json_to(self, data: Any) -> None:
        """Django Channels' name for :meth:`send_json`."""
        await self.send_json(data)

    @contextlib.contextmanager
    def off_contract(self, reason: str) -> Iterator[None]:
        """Frames the test sends in the block are not contract-checked (for bad-input
        tests; ``reason`` says why). What the server sends still is."""
        if not reason.strip():
            raise ValueError("say why the test sends frames off the contract")
        previous, self._off_contract = self._off_contract, reason
        try:
            yield
        finally:
            self._off_contract = previous

    # ------------------------------------------------------------------ receiving

    async def receive_json(self, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """The next frame, decoded from JSON (completion messages included)."""
        return _decode(await self._next(timeout, "a message"))

    async def receive_message(self, timeout: float = DEFAULT_TIMEOUT) -> BaseMessage:
        """The next frame, parsed into one of the consumer's outgoing message classes."""
        return self.parse_message(await self.receive_json(timeout))

    async def receive_from(self, timeout: float = DEFAULT_TIMEOUT) -> str | bytes:
        """Django Channels' name: the next frame as it came, ``str`` for a text frame,
        ``bytes`` for a binary one (completion messages included)."""
        return await self._next_frame(timeout, "a message")

    async def receive_json_from(self, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Django Channels' name: the next frame, which must be a text frame, decoded
        from JSON."""
        frame = await self._next_frame(timeout, "a message")
        if not isinstance(frame, str):
            raise CommunicatorError(f"JSON data is not a text frame: {frame!r}")
        return _decode(frame)

    async def receive_nothing(self, timeout: float = QUIET_TIMEOUT, interval: float = 0) -> bool:
        """Fail (``CommunicatorError``, naming it) if a message arrives; return ``True``
        once sure none will, so ``assert await comm.receive_nothing()`` reads well. A
        server close is not a message.

        It returns as soon as the application has settled (see :meth:`settle`) rather
        than after ``timeout``, which is only the upper bound. Where idleness cannot be
        proven (a live server, a layer shared with other processes) it waits the whole
        ``timeout``, and fails as soon as a message arrives. ``interval`` is accepted
        for Django Channels' signature and unused (nothing polls).
        """
        del interval
        self._take_available()
        if not self._has_message():
            await self._quiet(timeout, stop=_is_message)
        if self._has_message():
            frame = next(f for f in self._frames if not isinstance(f, Closed))
            hint = (
                " (a completion frame, left by an earlier exchange: typed assertions leave "
                "them, receive_all_*() take them; refute_receives() checks that no message "
                "came, completion frames aside)"
                if _is_completion(frame)
                else ""
            )
            raise CommunicatorError(f"expected nothing, received {_show(frame)}{hint}")
        return True

    async def receive_all_json(
        self, stop_action: str = MESSAGE_ACTION_COMPLETE, timeout: float = COLLECT_TIMEOUT
    ) -> list[Any]:
        """Collect frames until one whose action is ``stop_action``; return them as JSON.

        Completion messages (``complete``, ``group_complete``, ``event_complete``) are
        left out; a custom ``stop_action`` message is included as the last item. A
        ``stop_action`` that is surely a misspelt completion action fails at once; a
        collection that times out names what arrived, the completion frames among it,
        and the stop action they suggest.
        """
        typo = misspelled_completion(stop_action)
        if typo is not None:
            raise CommunicatorError(typo)
        self._check_completion(stop_action)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected: list[Any] = []
        completions: list[str] = []
        while True:
            remaining = deadline - loop.time()
            try:
                data = _decode(await self._next(remaining, repr(stop_action), collected))
            except ReceiveTimeout:
                raise ReceiveTimeout(
                    f"no {stop_action!r} within {timeout}s; received {_describe(collected)}; "
                    f"{completion_hint(stop_action, completions)}"
                ) from None
            action = data.get("action") if isinstance(data, dict) else None
            if action == stop_action:
                if action not in COMPLETION_ACTIONS:
                    collected.append(data)
                return collected
            if action in COMPLETION_ACTIONS:
                completions.append(action)
            else:
                collected.append(data)

    async def receive_all_messages(
        self, stop_action: str = MESSAGE_ACTION_COMPLETE, timeout: float = COLLECT_TIMEOUT
    ) -> list[BaseMessage]:
        """:meth:`receive_all_json`, each item parsed into a message class."""
        return [
            self.parse_message(data) for data in await self.receive_all_json(stop_action, timeout)
        ]

    # ------------------------------------------------------------------ quiescence

    async def settle(self, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Wait until the application is provably idle; ``True`` then, ``False`` if
        ``timeout`` ran out first.

        Idle means, for every connection that a communicator opened on this event loop:
        every frame sent has been taken and handled, no handler or event handler is
        running or queued, nothing waits in an outbox and no write is in flight, and
        nothing is on its way inside an in-process layer. It is followed as it happens
        (no polling) and returns the moment it holds. What arrived meanwhile is kept for
        the next receive.

        Where idleness cannot be proven, it waits the whole ``timeout`` (taking what
        arrives) and returns ``False``: a live server (the application runs elsewhere),
        a layer that carries messages between processes (Redis, channels_redis,
        Litestar's Redis and PostgreSQL backends), an application that is not a chanx
        consumer. Tasks that handlers start themselves are not followed.
        """
        return await self._quiet(timeout)

    # ------------------------------------------------------------------ typed assertions

    @overload
    async def assert_receives(
        self, expected: type[M], /, *, timeout: float = DEFAULT_TIMEOUT, **fields: Any
    ) -> M: ...

    @overload
    async def assert_receives(self, expected: M, /, *, timeout: float = DEFAULT_TIMEOUT) -> M: ...

    async def assert_receives(
        self, expected: type[M] | M, /, *, timeout: float = DEFAULT_TIMEOUT, **fields: Any
    ) -> M:
        """Wait for a message matching ``expected`` and return it, typed.

        ``assert_receives(ChatReply)`` takes the first ``ChatReply``;
        ``assert_receives(ChatReply, text="hi")`` one whose payload's ``text`` is
        ``"hi"`` (``payload=...`` compares the whole payload);
        ``assert_receives(ChatReply(payload=...))`` one equal to that message. Other
        frames (other messages, completion frames) stay where they are, in order, for
        later receives. Fails after ``timeout`` (or when the server closes) with
        ``ReceiveTimeout``, listing what did arrive, typed.
        """
        expectation = Expectation.of(expected, fields)
        self._check_opened(expectation.describe())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._take_available()
            found = self._take_match(expectation)
            if found is not None:
                return found
            closed = next((f for f in self._frames if isinstance(f, Closed)), None)
            if closed is not None:
                self._note_closed(closed)
                raise ConnectionClosed(
                    f"the server closed the connection (code {closed.code}) without sending "
                    f"{expectation.describe()}; {self._received(expectation)}",
                    closed.code,
                )
            try:
                frame = await self._receive(max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:
                raise ReceiveTimeout(
                    f"no {expectation.describe()} within {timeout}s; {self._received(expectation)}"
                ) from None
            self._frames.append(frame)

    @overload
    async def refute_receives(self, /, *, timeout: float = QUIET_TIMEOUT) -> None: ...

    @overload
    async def refute_receives(
        self, expected: type[M], /, *, timeout: float = QUIET_TIMEOUT, **fields: Any
    ) -> None: ...

    @overload
    async def refute_receives(self, expected: M, /, *, timeout: float = QUIET_TIMEOUT) -> None: ...

    async def refute_receives(
        self,
        expected: type[M] | M | None = None,
        /,
        *,
        timeout: float = QUIET_TIMEOUT,
        **fields: Any,
    ) -> None:
        """Fail if a message matching ``expected`` (as for :meth:`assert_receives`) has
        arrived or arrives before the application settles (see :meth:`settle`;
        ``timeout`` is the upper bound). Nothing is taken: received frames stay for later
        receives.

        Without ``expected``: fail if any message is waiting to be read, completion
        frames aside (after typed assertions, "nothing else came": unlike
        :meth:`receive_nothing`, which counts every frame)."""
        if expected is None:
            if fields:
                raise TypeError("payload fields need a message class")
            describe = "message"

            def matching(frame: Frame) -> bool:
                return not isinstance(frame, Closed) and not _is_completion(frame)

        else:
            expectation = Expectation.of(expected, fields)
            describe = expectation.describe()

            def matching(frame: Frame) -> bool:
                return (
                    not isinstance(frame, Closed)
                    and expectation.match(_decoded(frame))[0] is not None
                )

        self._take_available()
        if not any(matching(f) for f in self._frames):
            await self._quiet(timeout, stop=matching)
        for frame in self._frames:
            if not isinstance(frame, Closed) and matching(frame):
                raise CommunicatorError(
                    f"expected no {describe}, received {self._typed(_decoded(frame))}"
                )

    async def assert_closed(
        self, code: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Fail unless the server closes the connection within ``timeout`` (with
        ``code``, when given). Messages that came before the close stay readable."""
        if self._refusal is None and not any(isinstance(f, Closed) for f in self._frames):
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                try:
                    frame = await self._receive(max(deadline - loop.time(), 0.0))
                except asyncio.TimeoutError:
                    raise ReceiveTimeout(
                        f"the server did not close the connection within {timeout}s; "
                        f"{self._received()}"
                    ) from None
                self._frames.append(frame)
                if isinstance(frame, Closed):
                    break
        closed = next((f for f in self._frames if isinstance(f, Closed)), None)
        if closed is not None:
            self._note_closed(closed)
        if code is not None and self.close_code != code:
            raise CommunicatorError(
                f"the connection closed with code {self.close_code}, not {code}"
            )

    # ------------------------------------------------------------------ authentication

    async def wait_for_auth(
        self, timeout: float = DEFAULT_TIMEOUT, *, max_auth_time: float | None = None
    ) -> AuthenticationMessage:
        """The connection's ``authentication`` message (kept aside by :meth:`connect`, or
        read now, leaving other messages in order). ``max_auth_time`` is chanx 1.x's
        name for ``timeout``."""
        if max_auth_time is not None:
            timeout = max_auth_time
        self._check_opened("authentication message")
        if self._authentication is None:
            self._take_available()
        if self._authentication is None:
            consumer = self.tracker.consumer if self.tracker else None
            ready = (
                consumer is not None and self.tracker is not None and self.tracker.ready.is_set()
            )
            if ready and self._immediate:
                raise CommunicatorError(_why_no_authentication(consumer))
            try:
                self._authentication = await self._read_authentication(timeout)
            except ReceiveTimeout as exc:
                if ready:
                    raise ReceiveTimeout(f"{exc}; {_why_no_authentication(consumer)}") from None
                raise
        return self._authentication

    async def assert_authenticated_status_ok(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Fail unless the connection authenticated with a 2xx status."""
        auth = await self.wait_for_auth(timeout)
        status = auth.payload.status_code
        if not 200 <= status < 300:
            raise CommunicatorError(
                f"authentication failed: {status} {auth.payload.status_text} {auth.payload.data!r}"
            )

    # ------------------------------------------------------------------ parsing

    def parse_message(self, data: Any) -> BaseMessage:
        """Parse JSON into the consumer's outgoing message classes, falling back to any
        message class defined with that action."""
        action = data.get("action") if isinstance(data, dict) else None
        if not isinstance(action, str):
            raise CommunicatorError(f"not a chanx message: {data!r}")
        consumer = self.consumer
        if consumer is not None and any(
            t.message_action == action for t in consumer.outgoing_message_types()
        ):
            parsed: BaseMessage = consumer.outgoing_adapter().validate_python(data)
            return parsed
        candidates = message_classes_for(action)
        if len(candidates) != 1:
            where = f" among {consumer.__name__}'s outgoing messages" if consumer else ""
            found = "no" if not candidates else f"{len(candidates)} (ambiguous)"
            raise CommunicatorError(
                f"cannot parse action {action!r}: not{where}, and {found} message classes "
                "define it; declare it with output_type= on the handler that sends it, "
                "or use receive_json()"
            )
        try:
            return candidates[0].model_validate(data)
        except ValidationError as exc:
            raise CommunicatorError(
                f"{action!r} does not match {candidates[0].__name__}: {exc}"
            ) from None

    # ------------------------------------------------------------------ internals

    def _contract_consumer(self, *, received: bool = False) -> Any:
        """The consumer class to check frames against, when checking applies."""
        if not self.check_contract or (self._off_contract is not None and not received):
            return None
        return self.consumer

    async def _receive(self, timeout: float) -> Frame:
        """The next frame, checked; the connection's ``authentication`` message is kept
        aside for :meth:`wait_for_auth` instead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = self._checked(await self._read(max(deadline - loop.time(), 0.0)))
            if not self._set_aside(frame):
                return frame

    def _receive_nowait(self) -> Frame | None:
        while True:
            frame = self._read_nowait()
            if frame is None:
                return None
            frame = self._checked(frame)
            if not self._set_aside(frame):
                return frame

    def _set_aside(self, frame: Frame) -> bool:
        """Keep the first ``authentication`` message for :meth:`wait_for_auth`."""
        if (
            self._authentication is not None
            or not isinstance(frame, str)
            or f'"{AUTHENTICATION_ACTION}"' not in frame
        ):
            return False
        data = _decoded(frame)
        if not isinstance(data, dict) or data.get("action") != AUTHENTICATION_ACTION:
            return False
        self._authentication = AuthenticationMessage.model_validate(data)
        return True

    def _checked(self, frame: Frame) -> Frame:
        consumer = self._contract_consumer(received=True)
        if consumer is not None and not isinstance(frame, Closed):
            from chanx.testing.contract import check_received

            check_received(consumer, frame if isinstance(frame, str) else frame.decode())
        return frame

    def _check_completion(self, stop_action: str) -> None:
        if stop_action not in COMPLETION_ACTIONS:
            return
        consumer = self.tracker.consumer if self.tracker else None
        if consumer is not None and not consumer.send_completion:
            raise CommunicatorError(
                f"{type(consumer).__name__} does not send completion messages, so "
                f"{stop_action!r} never comes: set send_completion = True on the consumer "
                "(CHANX['SEND_COMPLETION'] on Django)"
            )

    async def _next(
        self, timeout: float, waiting_for: str, collected: list[Any] | None = None
    ) -> str:
        frame = await self._next_frame(timeout, waiting_for, collected)
        return frame if isinstance(frame, str) else frame.decode()

    async def _next_frame(
        self, timeout: float, waiting_for: str, collected: list[Any] | None = None
    ) -> str | bytes:
        self._check_opened(waiting_for)
        if self._frames:
            frame = self._frames[0]
            if not isinstance(frame, Closed):
                self._frames.popleft()
                return frame
        else:
            try:
                frame = await self._receive(max(timeout, 0.0))
            except asyncio.TimeoutError:
                raise ReceiveTimeout(
                    f"nothing arrived within {timeout:.2f}s while waiting for {waiting_for}"
                ) from None
            if not isinstance(frame, Closed):
                return frame
            self._frames.append(frame)
        self._note_closed(frame)
        raise ConnectionClosed(
            f"the server closed the connection (code {frame.code}) while the test waited "
            f"for {waiting_for}; received before: {_describe(collected or [])}",
            frame.code,
        )

    async def _quiet(self, timeout: float, stop: Callable[[Frame], bool] | None = None) -> bool:
        """:meth:`settle`; where idleness cannot be proven, read frames for ``timeout``
        (stopping early at one ``stop`` accepts) and return ``False``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        outcome = await quiescence.settle(timeout)
        self._take_available()
        if outcome != "unprovable":
            return outcome is True
        if stop is not None and any(stop(f) for f in self._frames):
            return False
        while not any(isinstance(f, Closed) for f in self._frames):
            try:
                frame = await self._receive(max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:
                break
            self._frames.append(frame)
            if isinstance(frame, Closed):
                self._note_closed(frame)
            elif stop is not None and stop(frame):
                break
        return False

    def _note_closed(self, frame: Closed) -> None:
        self.connected = False
        self.close_code = frame.code

    def _take_available(self) -> None:
        while True:
            frame = self._receive_nowait()
            if frame is None:
                return
            if isinstance(frame, Closed):
                self._note_closed(frame)
            self._frames.append(frame)

    def _has_message(self) -> bool:
        return any(not isinstance(f, Closed) for f in self._frames)

    def _take_match(self, expectation: Expectation[M]) -> M | None:
        for index, frame in enumerate(self._frames):
            if isinstance(frame, Closed):
                return None
            message, _ = expectation.match(_decoded(frame))
            if message is not None:
                del self._frames[index]
                return message
        return None

    def _received(self, expectation: Expectation[Any] | None = None) -> str:
        """What is waiting to be read, typed, and why frames with the expected action
        did not match."""
        messages: list[str] = []
        near: list[str] = []
        completions = 0
        for frame in self._frames:
            if isinstance(frame, Closed):
                continue
            data = _decoded(frame)
            action = data.get("action") if isinstance(data, dict) else None
            if action in COMPLETION_ACTIONS:
                completions += 1
                continue
            messages.append(self._typed(data))
            if expectation is not None:
                _, why = expectation.match(data)
                if why is not None:
                    near.append(f"{self._typed(data)}: {why}")
        shown = ", ".join(messages[:20]) + (
            f" (+{len(messages) - 20} more)" if len(messages) > 20 else ""
        )
        text = (
            f"received {len(messages)} message(s): [{shown}]" if messages else "received no message"
        )
        if completions:
            text += f" and {completions} completion frame(s)"
        if near:
            text += "; not matching: " + "; ".join(near[:5])
        return text

    def _typed(self, data: Any) -> str:
        """A received frame as its message class shows it, else as JSON."""
        try:
            return repr(self.parse_message(data))[:300]
        except (CommunicatorError, ValidationError, ValueError):
            return json.dumps(data)[:300] if not isinstance(data, str) else data[:300]

    def _check_opened(self, waiting_for: str) -> None:
        if self._refusal is not None:
            raise ConnectionClosed(
                f"{self._refusal}: nothing can arrive (waited for {waiting_for})", self.close_code
            )

    async def _read_authentication(self, timeout: float) -> AuthenticationMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._authentication is None:
            if any(isinstance(f, Closed) for f in self._frames):
                raise ConnectionClosed(
                    f"the server closed the connection (code {self.close_code}) before "
                    "sending an authentication message",
                    self.close_code,
                )
            try:
                frame = self._checked(await self._read(max(deadline - loop.time(), 0.0)))
            except asyncio.TimeoutError:
                raise ReceiveTimeout(
                    f"no authentication message within {timeout}s; received "
                    f"{_describe([_decoded(f) for f in self._frames if _is_message(f)])}"
                ) from None
            if self._set_aside(frame):
                break
            self._frames.append(frame)
            if isinstance(frame, Closed):
                self._note_closed(frame)
        assert self._authentication is not None
        return self._authentication


def _decode(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except ValueError:
        raise CommunicatorError(f"the server sent a frame that is not JSON: {frame!r}") from None


def _decoded(frame: str | bytes) -> Any:
    """The frame's JSON, or the frame itself when it is not JSON (for descriptions)."""
    try:
        return json.loads(frame)
    except ValueError:
        return frame if isinstance(frame, str) else repr(frame)


def _is_completion(frame: str | bytes) -> bool:
    data = _decoded(frame)
    return isinstance(data, dict) and data.get("action") in COMPLETION_ACTIONS


def _is_message(frame: Frame) -> TypeGuard[str | bytes]:
    return not isinstance(frame, Closed)


def _show(frame: Frame) -> str:
    return frame if isinstance(frame, str) else repr(frame)


def _describe(collected: list[Any]) -> str:
    if not collected:
        return "nothing"
    shown = ", ".join(json.dumps(item)[:200] for item in collected[:20])
    more = f" (+{len(collected) - 20} more)" if len(collected) > 20 else ""
    return f"{len(collected)} message(s): [{shown}]{more}"


def _why_no_authentication(consumer: Any) -> str:
    name = type(consumer).__name__
    authenticator = getattr(consumer, "authenticator", None)
    if authenticator is None:
        return f"{name} sent no authentication message (it has no authenticator)"
    # An authenticator may say what keeps it from working (``misconfiguration``).
    explain = getattr(authenticator, "misconfiguration", None)
    problem = explain(consumer) if callable(explain) else None
    return f"{name} sent no authentication message: its {type(authenticator).__name__} " + (
        f"cannot work here: {problem}" if problem else "failed (the log has why)"
    )
