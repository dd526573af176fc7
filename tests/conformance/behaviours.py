"""The consumers every adapter must run identically, written once as mixins.

Each driver combines these mixins with its adapter's consumer base class and mounts them
on the paths below; the scenarios in this folder then talk to them through the driver.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chanx.core.auth import AuthResult
from chanx.core.decorators import event_handler, ws_handler
from chanx.core.groups import group_name
from chanx.messages.base import BaseMessage

ECHO_PATH = "/ws/echo"
ROOM_PATH = "/ws/room/{room}"
AUTH_PATH = "/ws/auth"
BROKEN_PATH = "/ws/broken"
MAX_MESSAGE_SIZE = 2048
ROOM_OUTBOX_MAX_MESSAGES = 40
VALID_TOKEN = "let-me-in"
AUTH_ORIGIN = "https://app.example.com"
"""The one other origin the auth consumer lets in (besides its own)."""


class Text(BaseModel):
    text: str = Field(min_length=1, max_length=200)


class EchoMessage(BaseMessage):
    action: Literal["echo"] = "echo"
    payload: Text


class EchoReply(BaseMessage):
    action: Literal["echo_reply"] = "echo_reply"
    payload: Text


class CountMessage(BaseMessage):
    action: Literal["count"] = "count"
    payload: int = Field(ge=0, le=50)


class CountReply(BaseMessage):
    action: Literal["count_reply"] = "count_reply"
    payload: int


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    radius: float


class Square(BaseModel):
    kind: Literal["square"] = "square"
    side: float


class DrawPayload(BaseModel):
    shape: Annotated[Circle | Square, Field(discriminator="kind")]
    tags: dict[str, str] = {}


class DrawMessage(BaseMessage):
    """A payload with a nested discriminated union: its errors are payload errors."""

    action: Literal["draw"] = "draw"
    payload: DrawPayload


class WaitMessage(BaseMessage):
    """Answered after ``payload`` seconds: a handler still running when the test looks."""

    action: Literal["wait"] = "wait"
    payload: float = Field(ge=0, le=0.5)


class WaitReply(BaseMessage):
    action: Literal["waited"] = "waited"
    payload: float


class FailMessage(BaseMessage):
    action: Literal["fail"] = "fail"
    payload: None = None


class AdminMessage(BaseMessage):
    action: Literal["admin"] = "admin"
    payload: None = None


class AdminReply(BaseMessage):
    action: Literal["admin_reply"] = "admin_reply"
    payload: None = None


class WhoAmIMessage(BaseMessage):
    action: Literal["whoami"] = "whoami"
    payload: None = None


class WhoAmIReply(BaseMessage):
    action: Literal["whoami_reply"] = "whoami_reply"
    payload: dict[str, Any]


class ShoutMessage(BaseMessage):
    """Broadcast to the room; ``exclude_me`` leaves the sender out."""

    action: Literal["shout"] = "shout"
    payload: ShoutPayload


class ShoutPayload(BaseModel):
    text: str = Field(min_length=1, max_length=200)
    exclude_me: bool = False
    room: str | None = None
    """Shout to ``group_name("room", room)`` instead of this connection's groups."""


class EnterMessage(BaseMessage):
    """Join ``group_name("room", payload)``: a room named by the client, any string."""

    action: Literal["enter"] = "enter"
    payload: str


ShoutMessage.model_rebuild()


class ShoutNotice(BaseMessage):
    action: Literal["shout_notice"] = "shout_notice"
    payload: Text


class NoticeEvent(BaseMessage):
    action: Literal["notice_event"] = "notice_event"
    payload: Text


class NoticeReply(BaseMessage):
    action: Literal["notice"] = "notice"
    payload: Text


class Delayed(BaseModel):
    text: str = Field(min_length=1, max_length=200)
    delay: float = Field(ge=0, le=0.5)


class DelayedNoticeEvent(BaseMessage):
    """Handled after ``payload.delay`` seconds: an event handler still running."""

    action: Literal["delayed_notice_event"] = "delayed_notice_event"
    payload: Delayed


class SecretEvent(BaseMessage):
    """An event no conformance consumer handles: receivers must ignore it."""

    action: Literal["secret_event"] = "secret_event"
    payload: None = None


class Nickname(BaseModel):
    """camelCase on the wire (``displayName``), snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel)

    display_name: str
    favourite_colour: str | None = None


class NicknameMessage(BaseMessage):
    action: Literal["nickname"] = "nickname"
    payload: Nickname


class NicknameReply(BaseMessage):
    action: Literal["nickname_reply"] = "nickname_reply"
    payload: Nickname


class NicknameEvent(BaseMessage):
    action: Literal["nickname_event"] = "nickname_event"
    payload: Nickname


def never(consumer: Any, message: Any) -> bool:
    """A permission that always refuses."""
    return False


class EchoBehaviour:
    """``/ws/echo``: request/response, streaming replies, failures, permissions."""

    send_completion = True
    log_websocket_message = False
    max_message_size = MAX_MESSAGE_SIZE

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoReply:
        return EchoReply(payload=message.payload)

    @ws_handler
    async def handle_count(self, message: CountMessage) -> AsyncIterator[CountReply]:
        for number in range(message.payload):
            await asyncio.sleep(0)
            yield CountReply(payload=number)

    @ws_handler
    async def handle_wait(self, message: WaitMessage) -> WaitReply:
        await asyncio.sleep(message.payload)
        return WaitReply(payload=message.payload)

    @ws_handler
    async def handle_draw(self, message: DrawMessage) -> EchoReply:
        return EchoReply(payload=Text(text=message.payload.shape.kind))

    @ws_handler
    async def handle_fail(self, message: FailMessage) -> None:
        raise RuntimeError("secret internal detail")

    @ws_handler(permissions=[never])
    async def handle_admin(self, message: AdminMessage) -> AdminReply:
        return AdminReply()

    @ws_handler
    async def handle_nickname(self, message: NicknameMessage) -> NicknameReply:
        return NicknameReply(payload=message.payload)

    @event_handler
    async def handle_notice(self, event: NoticeEvent) -> NoticeReply:
        return NoticeReply(payload=event.payload)


class RoomBehaviour:
    """``/ws/room/{room}``: joins ``room_<room>``, the name made from the URL as is (so
    layers with a group-name rule refuse some); shouts are broadcast to the room.
    ``enter`` joins a room through ``group_name()``, which every layer accepts. A client
    that stops reading is closed once 40 group messages and events wait for it."""

    send_completion = True
    log_websocket_message = False
    outbox_max_messages = ROOM_OUTBOX_MAX_MESSAGES

    async def get_groups(self) -> Iterable[str]:
        return [f"room_{self.path_params['room']}"]  # type: ignore[attr-defined]

    @ws_handler(output_type=ShoutNotice)
    async def handle_shout(self, message: ShoutMessage) -> None:
        room = message.payload.room
        await self.broadcast_message(  # type: ignore[attr-defined]
            ShoutNotice(payload=Text(text=message.payload.text)),
            groups=None if room is None else [group_name("room", room)],
            exclude_current=message.payload.exclude_me,
        )

    @ws_handler(output_type=NicknameReply)
    async def handle_nickname(self, message: NicknameMessage) -> None:
        await self.broadcast_message(NicknameReply(payload=message.payload))  # type: ignore[attr-defined]

    @event_handler
    async def handle_nickname_event(self, event: NicknameEvent) -> NicknameReply:
        return NicknameReply(payload=event.payload)

    @ws_handler
    async def handle_enter(self, message: EnterMessage) -> None:
        await self.join_group(group_name("room", message.payload))  # type: ignore[attr-defined]

    @event_handler
    async def handle_notice(self, event: NoticeEvent) -> NoticeReply:
        return NoticeReply(payload=event.payload)

    @event_handler
    async def handle_delayed_notice(self, event: DelayedNoticeEvent) -> NoticeReply:
        await asyncio.sleep(event.payload.delay)
        return NoticeReply(payload=Text(text=event.payload.text))


class AuthBehaviour:
    """``/ws/auth``: admits ``Authorization: Bearer let-me-in``; 401 without a header,
    403 with a wrong token; a user known without a token (``user=``) unless banned.
    Joins ``authenticated`` once in. Browsers may connect from its own origin and
    ``AUTH_ORIGIN`` only."""

    send_completion = True
    log_websocket_message = False
    groups = ["authenticated"]
    allowed_origins = [AUTH_ORIGIN]

    async def authenticate(self) -> AuthResult:
        header = self.headers.get("authorization")  # type: ignore[attr-defined]
        if header is None:
            return AuthResult.deny(401, "missing token")
        if header != f"Bearer {VALID_TOKEN}":
            return AuthResult.deny(403, "bad token")
        return AuthResult.allow(user={"name": "alice"}, data={"user": "alice"})

    async def authorize(self, user: Any) -> AuthResult:
        """A user known without a token (a test's ``user=``): banned users stay out."""
        if user.get("banned"):
            return AuthResult.deny(403, "banned")
        return AuthResult.allow(user=user, data={"user": user["name"]})

    @ws_handler
    async def handle_whoami(self, message: WhoAmIMessage) -> WhoAmIReply:
        return WhoAmIReply(payload=dict(self.user))  # type: ignore[attr-defined]

    @event_handler
    async def handle_notice(self, event: NoticeEvent) -> NoticeReply:
        return NoticeReply(payload=event.payload)


class BrokenBehaviour:
    """``/ws/broken``: its connect hook fails; the client sees close code 4500."""

    log_websocket_message = False

    async def post_authentication(self) -> None:
        raise RuntimeError("connect hook failed")
