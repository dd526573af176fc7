"""Consumers that use every feature the generator documents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chanx.core.auth import AuthResult, SecurityScheme
from chanx.core.decorators import channel, event_handler, ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    radius: float = Field(gt=0)


class Square(BaseModel):
    kind: Literal["square"] = "square"
    side: float


class Point(BaseModel):
    x: int
    y: int


class DrawPayload(BaseModel):
    """A shape, where, and an optional label."""

    shape: Annotated[Circle | Square, Field(discriminator="kind")]
    at: tuple[int, int] = (0, 0)
    label: str | None = None
    points: list[Point] = []


class DrawMessage(BaseMessage):
    """Draw a shape on the board.

    Everyone on the board sees it."""

    action: Literal["draw"] = "draw"
    payload: DrawPayload


class Drawn(BaseMessage):
    """A shape someone drew."""

    action: Literal["drawn"] = "drawn"
    payload: DrawPayload


class Profile(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False)

    display_name: str
    favourite_colour: str | None = None


class SetProfileMessage(BaseMessage):
    action: Literal["set_profile"] = "set_profile"
    payload: Profile


class ProfileReply(BaseMessage):
    action: Literal["profile"] = "profile"
    payload: Profile


class Welcome(BaseMessage):
    """Sent once the connection is in."""

    action: Literal["welcome"] = "welcome"
    payload: str


class ClearEvent(BaseMessage):
    action: Literal["clear_event"] = "clear_event"
    payload: None = None


class Cleared(BaseMessage):
    action: Literal["cleared"] = "cleared"
    payload: None = None


class TokenAuthenticator:
    """Admits ``?token=sesame`` or ``Authorization: Bearer sesame``."""

    async def authenticate(self, consumer: AsyncJsonWebsocketConsumer) -> AuthResult:
        token = consumer.query_params.get("token") or consumer.headers.get(
            "authorization", ""
        ).removeprefix("Bearer ")
        return AuthResult.allow("friend") if token == "sesame" else AuthResult.deny(401)

    def security_schemes(self) -> list[SecurityScheme]:
        return [
            SecurityScheme("http", "bearer", "The board's token.", bearer_format="opaque"),
            SecurityScheme("query", "token"),
        ]


@channel(name="board", description="A shared drawing board.", tags=["drawing"])
class BoardConsumer(AsyncJsonWebsocketConsumer):
    """A drawing board per ``{board}``."""

    send_completion = True
    authenticator = TokenAuthenticator()
    outgoing_messages = (Welcome,)

    async def get_groups(self) -> Iterable[str]:
        return [f"board_{self.path_params['board']}"]

    async def post_authentication(self) -> None:
        await self.send_message(Welcome(payload="hello"))

    @ws_handler(output_type=Drawn, summary="Draw", description="Broadcasts the shape.")
    async def handle_draw(self, message: DrawMessage) -> None:
        await self.broadcast_message(Drawn(payload=message.payload))

    @ws_handler
    async def handle_set_profile(self, message: SetProfileMessage) -> ProfileReply:
        """Set the display name; answers with the profile."""
        return ProfileReply(payload=message.payload)

    @event_handler(summary="Clear the board")
    async def handle_clear(self, event: ClearEvent) -> AsyncIterator[Cleared]:
        yield Cleared()


class PlainConsumer(AsyncJsonWebsocketConsumer):
    """No authentication, no completion: only the built-ins and one reply."""

    @ws_handler
    async def handle_set_profile(self, message: SetProfileMessage) -> ProfileReply:
        return ProfileReply(payload=message.payload)
