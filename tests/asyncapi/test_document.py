"""The generated document: what it says about consumers, and that it says it the same
way every time."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest

from chanx.asyncapi import Info, Route, build_document, to_json, to_yaml
from chanx.asyncapi.schemas import refs_in
from chanx.core.auth import SecurityScheme
from chanx.core.decorators import ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from tests.asyncapi.consumers import BoardConsumer, PlainConsumer

ROUTES = [
    Route("/ws/board/{board}", BoardConsumer, {"board": "The board's name."}),
    Route("/ws/plain", PlainConsumer),
]
INFO = Info("Boards", "2.0.0", "Draw together.", {"production": "wss://boards.example.com/api"})


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(ROUTES, INFO)


def pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def payload_schema(document: dict[str, Any], message_id: str) -> dict[str, Any]:
    message = document["components"]["messages"][message_id]
    schema: dict[str, Any] = pointer(document, message["payload"]["$ref"])
    return schema


def test_top_level(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"] == {
        "title": "Boards",
        "version": "2.0.0",
        "description": "Draw together.",
    }
    assert document["servers"] == {
        "production": {"host": "boards.example.com", "protocol": "wss", "pathname": "/api"}
    }
    assert document["defaultContentType"] == "application/json"
    assert list(document["channels"]) == ["ws_board_board", "ws_plain"]


def test_every_ref_resolves_and_no_pydantic_defs_remain(document: dict[str, Any]) -> None:
    for ref in refs_in(document):
        assert ref.startswith("#/")
        pointer(document, ref)
    text = json.dumps(document)
    assert "$defs" not in text
    assert "prefixItems" not in text
    # Pydantic's OpenAPI-style discriminator objects mean something else in AsyncAPI.
    assert '"discriminator": {' not in text


def test_channel_metadata_parameters_and_messages(document: dict[str, Any]) -> None:
    board = document["channels"]["ws_board_board"]
    assert board["address"] == "/ws/board/{board}"
    assert board["title"] == "board"
    assert board["summary"] == "A drawing board per `{board}`."
    assert board["description"] == "A shared drawing board."
    assert board["tags"] == [{"name": "drawing"}]
    assert board["parameters"] == {"board": {"description": "The board's name."}}
    assert sorted(board["messages"]) == [
        "authentication",
        "cleared",
        "complete",
        "draw",
        "drawn",
        "error",
        "event_complete",
        "group_complete",
        "ping",
        "pong",
        "profile",
        "set_profile",
        "welcome",
    ]
    plain = document["channels"]["ws_plain"]
    assert plain["title"] == "Plain"
    assert "parameters" not in plain
    # No authentication step, no completion messages, no events: none of theirs.
    assert sorted(plain["messages"]) == ["error", "ping", "pong", "profile", "set_profile"]


def test_receive_operations_reply_with_what_the_handler_answers(
    document: dict[str, Any],
) -> None:
    ops = document["operations"]
    draw = ops["ws_board_board.receive.draw"]
    assert draw["action"] == "receive"
    assert draw["channel"] == {"$ref": "#/channels/ws_board_board"}
    assert draw["summary"] == "Draw"
    assert draw["description"] == "Broadcasts the shape."
    assert draw["messages"] == [{"$ref": "#/channels/ws_board_board/messages/draw"}]
    replies = [ref["$ref"].rsplit("/", 1)[1] for ref in draw["reply"]["messages"]]
    assert replies == ["error", "complete"]  # drawn goes to the group, not as an answer
    profile = ops["ws_board_board.receive.set_profile"]
    assert profile["summary"] == "Set the display name; answers with the profile."
    replies = [ref["$ref"].rsplit("/", 1)[1] for ref in profile["reply"]["messages"]]
    assert replies == ["profile", "error", "complete"]
    plain = ops["ws_plain.receive.set_profile"]
    assert [r["$ref"].rsplit("/", 1)[1] for r in plain["reply"]["messages"]] == [
        "profile",
        "error",
    ]


def test_send_operations_say_why_the_server_sends(document: dict[str, Any]) -> None:
    ops = document["operations"]
    sends = {key.rsplit(".", 1)[1]: op for key, op in ops.items() if op["action"] == "send"}
    assert sends["drawn"]["summary"] == (
        "Sent while handling `draw` (to this client or its groups)."
    )
    assert sends["cleared"]["summary"] == (
        "Sent when the server-side event `clear_event` is handled."
    )
    assert sends["cleared"]["x-chanx-events"] == ["clear_event"]
    assert sends["welcome"]["summary"] == "Sent outside any handler (connection hooks, tasks)."
    assert sends["profile"]["summary"] == "Answer to `set_profile`."
    assert sends["authentication"]["summary"].startswith("Sent once, right after")


def test_builtins_are_marked(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    builtin = sorted(key for key, m in messages.items() if m.get("x-chanx-builtin"))
    assert builtin == [
        "authentication",
        "complete",
        "error",
        "event_complete",
        "group_complete",
        "ping",
        "pong",
    ]
    assert messages["ping"]["tags"] == [
        {"name": "chanx:builtin", "description": "Every chanx consumer speaks it"}
    ]
    assert "x-chanx-builtin" not in messages["draw"]
    ops = document["operations"]
    assert ops["ws_board_board.receive.ping"]["x-chanx-builtin"] is True
    assert "x-chanx-builtin" not in ops["ws_board_board.receive.draw"]


def test_security_schemes_from_the_authenticator(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"] == {
        "http_bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "opaque",
            "description": "The board's token.",
        },
        "query_token": {"type": "httpApiKey", "name": "token", "in": "query"},
    }
    draw = document["operations"]["ws_board_board.receive.draw"]
    assert draw["security"] == [
        {"$ref": "#/components/securitySchemes/http_bearer"},
        {"$ref": "#/components/securitySchemes/query_token"},
    ]
    assert "security" not in document["operations"]["ws_plain.receive.set_profile"]


def test_payload_schemas(document: dict[str, Any]) -> None:
    draw = payload_schema(document, "draw")
    assert draw["required"] == ["action", "payload"]  # action has a default, but is sent
    assert draw["properties"]["action"]["const"] == "draw"
    payload = pointer(document, draw["properties"]["payload"]["$ref"])
    shape = payload["properties"]["shape"]
    assert [pointer(document, o["$ref"])["title"] for o in shape["oneOf"]] == ["Circle", "Square"]
    assert "discriminator" not in shape
    assert payload["properties"]["at"]["items"] == [{"type": "integer"}, {"type": "integer"}]
    assert payload["properties"]["label"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert payload["required"] == ["shape"]  # optional fields are optional for clients
    # Circle is in a client message and in a server message, where its defaults are
    # required: two schemas, told apart by Pydantic's suffixes.
    circle = pointer(document, shape["oneOf"][0]["$ref"])
    assert circle["properties"]["radius"]["exclusiveMinimum"] == 0
    assert set(document["components"]["schemas"]) >= {"Circle-Input", "Circle-Output"}


def test_server_messages_have_every_field_required(document: dict[str, Any]) -> None:
    """What the server sends always carries its defaults, so clients may rely on them."""
    drawn = payload_schema(document, "drawn")
    payload = pointer(document, drawn["properties"]["payload"]["$ref"])
    assert payload["required"] == ["shape", "at", "label", "points"]
    # The same model as input and output: two schemas, told apart by Pydantic's suffix.
    draw = payload_schema(document, "draw")
    assert draw["properties"]["payload"]["$ref"] != drawn["properties"]["payload"]["$ref"]


def test_aliases_are_the_wire_names(document: dict[str, Any]) -> None:
    profile = payload_schema(document, "set_profile")
    schema = pointer(document, profile["properties"]["payload"]["$ref"])
    assert list(schema["properties"]) == ["displayName", "favouriteColour"]
    assert schema["required"] == ["displayName"]
    assert "display_name" not in to_json(document)


def test_same_input_gives_byte_identical_json_and_yaml() -> None:
    first = build_document(ROUTES, INFO)
    again = build_document(list(reversed(ROUTES)), INFO)
    assert to_json(first) == to_json(again)
    assert to_yaml(first) == to_yaml(again)
    assert to_json(first).encode() == to_json(build_document(ROUTES, INFO)).encode()


def test_two_classes_with_one_action_get_distinct_message_ids() -> None:
    class Ping2(BaseMessage):
        action: Literal["set_profile"] = "set_profile"
        payload: int

    class Other(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def handle_it(self, message: Ping2) -> None:
            return None

    document = build_document([Route("/a", PlainConsumer), Route("/b", Other)])
    messages = document["components"]["messages"]
    assert {"set_profile.SetProfileMessage", "set_profile.Ping2"} <= set(messages)
    assert messages["set_profile.Ping2"]["name"] == "set_profile"


def test_the_same_consumer_on_two_addresses_is_two_channels() -> None:
    document = build_document([Route("/one", PlainConsumer), Route("/two", PlainConsumer)])
    assert list(document["channels"]) == ["one", "two"]
    assert "one.receive.set_profile" in document["operations"]
    assert "two.receive.set_profile" in document["operations"]


def test_a_bad_server_url_is_refused() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        build_document(ROUTES, Info(servers={"x": "http://example.com"}))


def test_route_can_say_the_connection_authenticates() -> None:
    document = build_document([Route("/p", PlainConsumer, authenticates=True)])
    assert "authentication" in document["channels"]["p"]["messages"]


def test_different_schemes_under_one_name_are_both_kept() -> None:
    class Cookie:
        def __init__(self, description: str) -> None:
            self.description = description

        async def authenticate(self, consumer: Any) -> Any:
            raise NotImplementedError

        def security_schemes(self) -> list[SecurityScheme]:
            return [SecurityScheme("cookie", "sid", self.description)]

    class A(AsyncJsonWebsocketConsumer):
        authenticator = Cookie("the admin session")

    class B(AsyncJsonWebsocketConsumer):
        authenticator = Cookie("the shop session")

    document = build_document([Route("/b", B), Route("/a", A)])
    schemes = document["components"]["securitySchemes"]
    assert schemes["cookie_sid"]["description"] == "the admin session"  # /a comes first
    assert schemes["cookie_sid_2"]["description"] == "the shop session"
    assert document["operations"]["b.receive.ping"]["security"] == [
        {"$ref": "#/components/securitySchemes/cookie_sid_2"}
    ]
