"""Two hundred consumer tests written with the new tools (eight kinds of test, each for
25 values): typed assertions, refutations, settle(), receive_nothing(), connecting as a
user, capture_broadcasts, through the pytest plugin's ``communicator`` fixture. It must
run in under 5 s in-process and pass run after run: nothing in it sleeps or waits on
time. (How it was measured: bench/README.md.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from starlette.routing import Router, WebSocketRoute

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.core.decorators import event_handler, ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing.broadcasts import capture_broadcasts
from chanx.testing.pytest_plugin import Communicators

VALUES = range(25)


class Say(BaseMessage):
    action: Literal["gen_say"] = "gen_say"
    payload: str


class Said(BaseMessage):
    action: Literal["gen_said"] = "gen_said"
    payload: str


class Count(BaseMessage):
    action: Literal["gen_count"] = "gen_count"
    payload: int


class Counted(BaseMessage):
    action: Literal["gen_counted"] = "gen_counted"
    payload: int


class Think(BaseMessage):
    """Answered after the handler gave way ``payload`` times."""

    action: Literal["gen_think"] = "gen_think"
    payload: int


class Thought(BaseMessage):
    action: Literal["gen_thought"] = "gen_thought"
    payload: int


class Post(BaseModel):
    text: str
    exclude_me: bool = True


class Shout(BaseMessage):
    action: Literal["gen_shout"] = "gen_shout"
    payload: Post


class Heard(BaseMessage):
    action: Literal["gen_heard"] = "gen_heard"
    payload: str


class Whoami(BaseMessage):
    action: Literal["gen_whoami"] = "gen_whoami"
    payload: None = None


class Identity(BaseMessage):
    action: Literal["gen_identity"] = "gen_identity"
    payload: str | None


class News(BaseMessage):
    action: Literal["gen_news"] = "gen_news"
    payload: str


class Headline(BaseMessage):
    action: Literal["gen_headline"] = "gen_headline"
    payload: str


class Room(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False

    async def get_groups(self) -> Iterable[str]:
        return [f"gen_{self.path_params['room']}"]

    @ws_handler
    async def handle_say(self, message: Say) -> Said:
        return Said(payload=message.payload)

    @ws_handler
    async def handle_count(self, message: Count) -> AsyncIterator[Counted]:
        for n in range(message.payload):
            yield Counted(payload=n)

    @ws_handler
    async def handle_think(self, message: Think) -> Thought:
        for _ in range(message.payload):
            await asyncio.sleep(0)  # the app's own work, taking turns with others
        return Thought(payload=message.payload)

    @ws_handler(output_type=Heard)
    async def handle_shout(self, message: Shout) -> None:
        await self.broadcast_message(
            Heard(payload=message.payload.text), exclude_current=message.payload.exclude_me
        )

    @ws_handler
    async def handle_whoami(self, message: Whoami) -> Identity:
        return Identity(payload=self.user)

    @event_handler
    async def handle_news(self, event: News) -> Headline:
        return Headline(payload=event.payload)


APP = Router(routes=[WebSocketRoute("/ws/{room}", Room.as_asgi())])


def room(n: int, kind: str) -> str:
    return f"/ws/{kind}{n}"


@pytest.mark.parametrize("n", VALUES)
async def test_echo_is_typed(communicator: Communicators, n: int) -> None:
    async with communicator(APP, room(n, "echo")) as comm:
        await comm.send_message(Say(payload=f"hello {n}"))
        said = await comm.assert_receives(Said, payload=f"hello {n}")
        assert said.payload.endswith(str(n))


@pytest.mark.parametrize("n", VALUES)
async def test_a_stream_arrives_whole(communicator: Communicators, n: int) -> None:
    async with communicator(APP, room(n, "stream")) as comm:
        await comm.send_message(Count(payload=n % 10))
        assert await comm.receive_all_messages() == [Counted(payload=i) for i in range(n % 10)]


@pytest.mark.parametrize("n", VALUES)
async def test_settle_means_everything_is_here(communicator: Communicators, n: int) -> None:
    async with communicator(APP, room(n, "think")) as comm:
        await comm.send_message(Think(payload=n))
        assert await comm.settle()
        assert await comm.receive_all_messages(timeout=0) == [Thought(payload=n)]


@pytest.mark.parametrize("n", VALUES)
async def test_a_broadcast_reaches_the_others_only(communicator: Communicators, n: int) -> None:
    path = room(n, "shout")
    async with communicator(APP, path) as sender, communicator(APP, path) as other:
        await sender.send_message(Shout(payload=Post(text=f"all {n}")))
        await other.assert_receives(Heard, payload=f"all {n}")
        await sender.refute_receives(Heard)
        assert await other.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == []


@pytest.mark.parametrize("n", VALUES)
async def test_an_event_is_handled(communicator: Communicators, n: int) -> None:
    async with communicator(APP, room(n, "news")) as comm:
        await Room.broadcast_event(News(payload=f"story {n}"), [f"gen_news{n}"])
        assert await comm.assert_receives(Headline) == Headline(payload=f"story {n}")
        assert await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE) == []


@pytest.mark.parametrize("n", VALUES)
@pytest.mark.off_contract("frames that are not chanx messages, on purpose")
async def test_nothing_answers_what_is_not_a_message(communicator: Communicators, n: int) -> None:
    async with communicator(APP, room(n, "junk")) as comm:
        await comm.send_json({"not": "a message", "n": n})
        assert await comm.receive_nothing()


@pytest.mark.parametrize("n", VALUES)
async def test_connect_as_a_user(communicator: Communicators, n: int) -> None:
    async with communicator(APP, room(n, "user"), user=f"user{n}") as comm:
        await comm.assert_authenticated_status_ok()
        await comm.send_message(Whoami())
        assert (await comm.assert_receives(Identity)).payload == f"user{n}"


@pytest.mark.parametrize("n", VALUES)
async def test_capture_without_delivery(communicator: Communicators, n: int) -> None:
    path = room(n, "muted")
    async with communicator(APP, path) as sender, communicator(APP, path) as other:
        async with capture_broadcasts(Room, deliver=False) as sent:
            await sender.send_message(Shout(payload=Post(text=f"kept {n}", exclude_me=False)))
            assert await sender.receive_all_messages() == []
        sent.assert_sent(Heard, group=f"gen_muted{n}", payload=f"kept {n}")
        await other.refute_receives(Heard)


def test_there_are_two_hundred(request: pytest.FixtureRequest) -> Any:
    generated = [
        item
        for item in request.session.items
        if item.path == request.node.path and item.name != request.node.name
    ]
    assert len(generated) == 200
