"""asyncapi-diff: which changes break clients, and the command's exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from chanx.asyncapi import Route, build_document, diff_documents
from chanx.asyncapi.cli import main
from chanx.asyncapi.diff import format_changes
from chanx.core.auth import AuthResult, SecurityScheme
from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage

# ------------------------------------------------------------------ version 1


class Note(BaseModel):
    text: str = Field(max_length=100)
    tag: int | str = 0
    mood: Literal["happy", "sad"] = "happy"


class NoteMessage(BaseMessage):
    action: Literal["note"] = "note"
    payload: Note


class Saved(BaseModel):
    id: int
    text: str


class SavedReply(BaseMessage):
    action: Literal["saved"] = "saved"
    payload: Saved


class ArchiveMessage(BaseMessage):
    action: Literal["archive"] = "archive"
    payload: None = None


class V1(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_note(self, message: NoteMessage) -> SavedReply:
        return SavedReply(payload=Saved(id=1, text=message.payload.text))

    @ws_handler
    async def handle_archive(self, message: ArchiveMessage) -> None:
        return None


def document(consumer: type[AsyncJsonWebsocketConsumer], address: str = "/ws") -> Any:
    return build_document([Route(address, consumer)])


def changes(new: type[AsyncJsonWebsocketConsumer], old: type = V1) -> list[str]:
    return [str(c) for c in diff_documents(document(old), document(new))]


def breaking(new: type[AsyncJsonWebsocketConsumer], old: type = V1) -> list[str]:
    return [
        f"{c.where}: {c.what}" for c in diff_documents(document(old), document(new)) if c.breaking
    ]


# ------------------------------------------------------------------ changes


def test_identical_documents_have_no_changes() -> None:
    assert diff_documents(document(V1), document(V1)) == []
    assert format_changes([]) == "no changes\n"


def test_removed_action_breaks() -> None:
    class NoArchive(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def handle_note(self, message: NoteMessage) -> SavedReply:
            return SavedReply(payload=Saved(id=1, text=""))

    assert breaking(NoArchive) == [
        "/ws client->server `archive`: removed: the server no longer accepts it"
    ]


class NoteV2(BaseModel):
    text: str = Field(max_length=100)
    tag: int | str = 0
    mood: Literal["happy", "sad"] = "happy"
    author: str  # new and required


class NoteV2Message(BaseMessage):
    action: Literal["note"] = "note"
    payload: NoteV2


def test_new_required_field_breaks() -> None:
    class V2(V1):
        @ws_handler
        async def handle_note(self, message: NoteV2Message) -> SavedReply:
            return SavedReply(payload=Saved(id=1, text=""))

    assert breaking(V2) == ["/ws client->server `note` payload.author: new required field"]


class NoteOptional(BaseModel):
    text: str = Field(max_length=100)
    tag: int | str = 0
    mood: Literal["happy", "sad", "angry"] = "happy"
    author: str | None = None


class NoteOptionalMessage(BaseMessage):
    action: Literal["note"] = "note"
    payload: NoteOptional


def test_new_optional_field_and_more_values_do_not_break() -> None:
    class V2(V1):
        @ws_handler
        async def handle_note(self, message: NoteOptionalMessage) -> SavedReply:
            return SavedReply(payload=Saved(id=1, text=""))

    assert breaking(V2) == []
    found = changes(V2)
    assert any("payload.author: added" in c for c in found)
    assert any("values added: 'angry'" in c for c in found)


class NoteNarrow(BaseModel):
    text: str = Field(max_length=10)
    tag: int = 0
    mood: Literal["happy"] = "happy"


class NoteNarrowMessage(BaseMessage):
    action: Literal["note"] = "note"
    payload: NoteNarrow


def test_narrowed_types_values_and_bounds_break() -> None:
    class V2(V1):
        @ws_handler
        async def handle_note(self, message: NoteNarrowMessage) -> SavedReply:
            return SavedReply(payload=Saved(id=1, text=""))

    assert breaking(V2) == [
        "/ws client->server `note` payload.mood: values removed: 'sad'",
        "/ws client->server `note` payload.tag: no longer string",
        "/ws client->server `note` payload.text: maxLength 100 -> 10",
    ]


def test_removed_reply_breaks() -> None:
    class NoReply(V1):
        @ws_handler
        async def handle_note(self, message: NoteMessage) -> None:
            return None

    assert breaking(NoReply) == [
        "/ws client->server `note`: no longer answered with `saved`",
        "/ws server->client `saved`: removed: the server no longer sends it",
    ]


class SavedV2(BaseModel):
    id: int | None
    text: str = ""
    at: str


class SavedV2Reply(BaseMessage):
    action: Literal["saved"] = "saved"
    payload: SavedV2


def test_server_messages_break_when_they_widen_or_lose_fields() -> None:
    class V2(V1):
        @ws_handler
        async def handle_note(self, message: NoteMessage) -> SavedV2Reply:
            return SavedV2Reply(payload=SavedV2(id=1, at="now"))

    assert breaking(V2) == ["/ws server->client `saved` payload.id: may now be null"]
    assert any("payload.at: added" in c for c in changes(V2))


class SavedLess(BaseModel):
    id: int


class SavedLessReply(BaseMessage):
    action: Literal["saved"] = "saved"
    payload: SavedLess


def test_server_message_losing_a_field_breaks() -> None:
    class V2(V1):
        @ws_handler
        async def handle_note(self, message: NoteMessage) -> SavedLessReply:
            return SavedLessReply(payload=SavedLess(id=1))

    assert breaking(V2) == [
        "/ws server->client `saved` payload.text: removed: clients may rely on it"
    ]


class Guarded:
    async def authenticate(self, consumer: Any) -> AuthResult:
        return AuthResult.allow()

    def security_schemes(self) -> list[SecurityScheme]:
        return [SecurityScheme("query", "token")]


def test_credentials_needed_now_breaks() -> None:
    class V2(V1):
        authenticator = Guarded()

    found = breaking(V2)
    assert "/ws: connections now need credentials" in found
    # It also starts sending the authentication message: new, so not breaking.
    assert any("`authentication`: added" in c for c in changes(V2))


def test_moved_channel_breaks() -> None:
    old, new = document(V1, "/ws/notes"), document(V1, "/ws/v2/notes")
    assert [str(c) for c in diff_documents(old, new) if c.breaking] == [
        "BREAKING  /ws/notes: channel removed"
    ]
    renamed = document(V1, "/ws/{room}"), document(V1, "/ws/{name}")
    assert diff_documents(*renamed) == []  # a parameter's name is not on the wire


# ------------------------------------------------------------------ the command


def write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_command_exits_1_on_breaking_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class NoArchive(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def handle_note(self, message: NoteMessage) -> SavedReply:
            return SavedReply(payload=Saved(id=1, text=""))

    old = write(tmp_path / "old.json", document(V1))
    new = write(tmp_path / "new.json", document(NoArchive))
    assert main(["asyncapi-diff", old, new]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "1 breaking change(s), 0 other change(s)"
    assert "BREAKING  /ws client->server `archive`: removed" in out
    assert main(["asyncapi-diff", new, old]) == 0  # adding it back breaks nobody
    assert "changed   /ws client->server `archive`: added" in capsys.readouterr().out


def test_command_refuses_what_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "good.json", document(V1))
    (tmp_path / "doc.yaml").write_text("asyncapi: 3.0.0\n")
    assert main(["asyncapi-diff", good, str(tmp_path / "doc.yaml")]) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert main(["asyncapi-diff", good, str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    not_asyncapi = write(tmp_path / "openapi.json", {"openapi": "3.1.0"})
    assert main(["asyncapi-diff", good, not_asyncapi]) == 2
    assert "not an AsyncAPI 3 document" in capsys.readouterr().err
