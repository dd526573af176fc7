"""The communicator logic every driver shares: collecting, parsing and asserting.

A driver (in-process ASGI, a real socket, ...) supplies four primitives: open the
connection, send a text frame, read the next frame, close. Everything a test calls is
built here on top of them, so every framework's tests read the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chanx.constants import (
    AUTHENTICATION_ACTION,
    COMPLETION_ACTIONS,
    MESSAGE_ACTION_COMPLETE,
)
from chanx.messages.base import BaseMessage, message_classes_for
from chanx.messages.outgoing import AuthenticationMessage

if TYPE_CHECKING:
    from typing_extensions import Self

    from chanx.core.websocket import AsyncJsonWebsocketConsumer


DEFAULT_TIMEOUT = 1.0
"""Seconds a single receive waits."""
COLLECT_TIMEOUT = 5.0
"""Seconds a ``receive_all_*`` collection waits for its stop action, in all."""


class CommunicatorError(AssertionError):
    """A test expectation about the connection failed (timeouts, closes, bad frames)."""


class ReceiveTimeout(CommunicatorError):
    """Nothing (or not the awaited action) arrived in time; the message says what did."""


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


Frame = str | Closed


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
        self.close_code: int | None = None
        self.subprotocol: str | None = None
        self.tracker: ConsumerTracker | None = None
        self._frames: deque[Frame] = deque()
        self._authentication: AuthenticationMessage | None = None
        self._refusal: str | None = None

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
        """The next frame; raises ``TimeoutError`` when none comes within ``timeout``."""

    @abstractmethod
    def _read_nowait(self) -> Frame | None:
        """The next frame if one is already here, else ``None``."""

    @abstractmethod
    async def _close(self, code: int, timeout: float) -> None:
        """Close from the client side and wait until the server has handled it."""

    # ------------------------------------------------------------------ lifecycle

    async def connect(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, Any]:
        """Open the connection. Returns ``(accepted, subprotocol_or_close_code)``.

        When the server-side consumer can be followed, this returns only once it has
        finished connecting (authenticated, joined its groups, ran
        ``post_authentication``); its ``authentication`` message is kept for
        :meth:`wait_for_auth` rather than left among the received messages.
        """
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
            self._authentication = self._pop_authentication()
        return True, detail

    async def disconnect(self, code: int = 1000, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Close from the client side; returns once the server has handled the close."""
        self.connected = False
        await self._close(code, timeout)

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

    async def receive_nothing(self, timeout: float = 0.1) -> None:
        """Fail if any message arrives within ``timeout`` (a server close is not one)."""
        frame = self._frames[0] if self._frames else None
        if frame is None:
            try:
                frame = await self._receive(timeout)
            except asyncio.TimeoutError:
                return
            self._frames.append(frame)
        if isinstance(frame, Closed):
            self._note_closed(frame)
            return
        raise CommunicatorError(f"expected nothing, received {frame}")

    async def receive_all_json(
        self, stop_action: str = MESSAGE_ACTION_COMPLETE, timeout: float = COLLECT_TIMEOUT
    ) -> list[Any]:
        """Collect frames until one whose action is ``stop_action``; return them as JSON.

        Completion messages (``complete``, ``group_complete``, ``event_complete``) are
        left out; a custom ``stop_action`` message is included as the last item.
        """
        self._check_completion(stop_action)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected: list[Any] = []
        while True:
            remaining = deadline - loop.time()
            try:
                data = _decode(await self._next(remaining, repr(stop_action), collected))
            except ReceiveTimeout:
                raise ReceiveTimeout(
                    f"no {stop_action!r} within {timeout}s; received {_describe(collected)}"
                ) from None
            action = data.get("action") if isinstance(data, dict) else None
            if action == stop_action:
                if action not in COMPLETION_ACTIONS:
                    collected.append(data)
                return collected
            if action not in COMPLETION_ACTIONS:
                collected.append(data)

    async def receive_all_messages(
        self, stop_action: str = MESSAGE_ACTION_COMPLETE, timeout: float = COLLECT_TIMEOUT
    ) -> list[BaseMessage]:
        """:meth:`receive_all_json`, each item parsed into a message class."""
        return [
            self.parse_message(data) for data in await self.receive_all_json(stop_action, timeout)
        ]

    # ------------------------------------------------------------------ authentication

    async def wait_for_auth(self, timeout: float = DEFAULT_TIMEOUT) -> AuthenticationMessage:
        """The connection's ``authentication`` message (kept aside by :meth:`connect`, or
        read now, leaving other messages in order)."""
        self._check_opened("authentication message")
        if self._authentication is None:
            self._take_available()
            self._authentication = self._pop_authentication()
        if self._authentication is None:
            consumer = self.tracker.consumer if self.tracker else None
            if consumer is not None and self.tracker is not None and self.tracker.ready.is_set():
                raise CommunicatorError(_why_no_authentication(consumer))
            self._authentication = await self._read_authentication(timeout)
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
        return self._checked(await self._read(timeout))

    def _receive_nowait(self) -> Frame | None:
        frame = self._read_nowait()
        return None if frame is None else self._checked(frame)

    def _checked(self, frame: Frame) -> Frame:
        consumer = self._contract_consumer(received=True)
        if consumer is not None and not isinstance(frame, Closed):
            from chanx.testing.contract import check_received

            check_received(consumer, frame)
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

    def _check_opened(self, waiting_for: str) -> None:
        if self._refusal is not None:
            raise ConnectionClosed(
                f"{self._refusal}: nothing can arrive (waited for {waiting_for})", self.close_code
            )

    def _pop_authentication(self) -> AuthenticationMessage | None:
        for index, frame in enumerate(self._frames):
            if isinstance(frame, str) and f'"{AUTHENTICATION_ACTION}"' in frame:
                data = _decode(frame)
                if isinstance(data, dict) and data.get("action") == AUTHENTICATION_ACTION:
                    del self._frames[index]
                    return AuthenticationMessage.model_validate(data)
        return None

    async def _read_authentication(self, timeout: float) -> AuthenticationMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                frame = await self._receive(max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:
                raise ReceiveTimeout(
                    f"no authentication message within {timeout}s; received "
                    f"{_describe([_decode(f) for f in self._frames if isinstance(f, str)])}"
                ) from None
            self._frames.append(frame)
            if isinstance(frame, Closed):
                self._note_closed(frame)
                raise ConnectionClosed(
                    f"the server closed the connection (code {frame.code}) before "
                    "sending an authentication message",
                    frame.code,
                )
            auth = self._pop_authentication()
            if auth is not None:
                return auth


def _decode(frame: str) -> Any:
    try:
        return json.loads(frame)
    except ValueError:
        raise CommunicatorError(f"the server sent a frame that is not JSON: {frame!r}") from None


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
