"""A connection refused for its parameters gets the validation errors, never what the
client sent: not the value, not a validator's text quoting it, not keys it made up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import AfterValidator, BaseModel, ConfigDict

from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, DependencyAuthenticator
from chanx.testing import WebsocketCommunicator

MARK = "ZqX"


def lowercase(value: str) -> str:
    if value != value.lower():
        raise ValueError(f"{value!r} is not lowercase")
    return value


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: str = "lobby"


async def named(name: Annotated[str, Query(), AfterValidator(lowercase)]) -> str:
    return name


async def filtered(filters: Annotated[Filters, Query()]) -> str:
    return filters.room


class Named(AsyncJsonWebsocketConsumer):
    authenticator = DependencyAuthenticator(named)


class Filtered(AsyncJsonWebsocketConsumer):
    authenticator = DependencyAuthenticator(filtered)


def app() -> FastAPI:
    built = FastAPI()
    built.add_api_websocket_route("/ws/named", Named.as_endpoint())
    built.add_api_websocket_route("/ws/filtered", Filtered.as_endpoint())
    return built


async def refusal(path: str) -> dict[str, Any]:
    comm = WebsocketCommunicator(app(), path)
    await comm.connect()
    auth = await comm.wait_for_auth()
    await comm.disconnect()
    assert auth.payload.status_code == 401
    data: dict[str, Any] = auth.payload.data
    return data


async def test_a_validator_s_text_is_not_sent() -> None:
    data = await refusal(f"/ws/named?name={MARK}Upper")
    assert MARK not in str(data)
    assert data["errors"] == [
        {"loc": ["query", "name"], "msg": "Value error", "type": "value_error"}
    ]


async def test_keys_the_client_made_up_are_not_sent() -> None:
    data = await refusal(f"/ws/filtered?room=ok&{MARK}key=1")
    assert MARK not in str(data)
    [error] = data["errors"]
    assert (error["loc"], error["type"]) == (["query", "*"], "extra_forbidden")
