"""Every document we generate is valid AsyncAPI 3.0.0 for the official parser
(@asyncapi/parser, run by node): each example app, the conformance consumers on every
adapter, and the feature-complete test consumers; JSON and YAML alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from chanx.asyncapi import Info, Route, build_document, discover_routes, to_json, to_yaml
from tests.asyncapi import test_security as security
from tests.asyncapi.consumers import BoardConsumer, PlainConsumer
from tests.asyncapi.tooling import ALLOWED_DIAGNOSTICS, parse
from tests.channels.django_setup import setup_django


def example_apps() -> dict[str, Any]:
    setup_django()
    from examples.django_chat.asgi import application
    from examples.fastapi_chat.main import create_app as fastapi_app
    from examples.litestar_chat.app import create_app as litestar_app

    return {
        "fastapi_chat": fastapi_app(),
        "litestar_chat": litestar_app(),
        "django_chat": application,
    }


def conformance_apps() -> dict[str, Any]:
    setup_django()
    from tests.conformance.drivers.asgi import DRIVER as ASGI
    from tests.conformance.drivers.channels import channels_application
    from tests.conformance.drivers.fastapi import build_app
    from tests.conformance.drivers.litestar import create_app
    from tests.conformance.drivers.starlette import build_app as build_starlette_app

    return {
        "conformance_asgi": ASGI.build_app(),
        "conformance_fastapi": build_app(),
        "conformance_starlette": build_starlette_app(),
        "conformance_litestar": create_app(),
        "conformance_channels": channels_application(),
    }


def documents() -> dict[str, dict[str, Any]]:
    from examples.demo.consumers import RoomConsumer

    found = {
        name: build_document(discover_routes(app), Info(name, "1.0.0"))
        for name, app in {**example_apps(), **conformance_apps()}.items()
    }
    found["demo"] = build_document([Route("/ws/room/{room}", RoomConsumer)])
    found["features"] = build_document(
        [Route("/ws/board/{board}", BoardConsumer), Route("/ws/plain", PlainConsumer)],
        Info(servers={"local": "ws://127.0.0.1:8000", "production": "wss://example.com/ws"}),
    )
    secured = discover_routes(security.fastapi_app())
    found["fastapi_security"] = build_document(secured, Info(servers={"x": "wss://a.example"}))
    found["fastapi_security_serverless"] = build_document(secured)
    litestar = security.litestar_app(openapi_config=security.litestar_openapi())
    found["litestar_security"] = build_document(discover_routes(litestar))
    return found


def broken_documents() -> dict[str, str]:
    """Documents the parser must refuse: a dangling reference, an unknown version."""
    broken = build_document([Route("/ws/plain", PlainConsumer)])
    broken["operations"]["ws_plain.receive.ping"]["messages"] = [
        {"$ref": "#/channels/ws_plain/messages/nope"}
    ]
    old = dict(build_document([Route("/ws/plain", PlainConsumer)]), asyncapi="3.0.7")
    return {"broken.json": to_json(broken), "old.json": to_json(old)}


@pytest.fixture(scope="module")
def generated() -> dict[str, dict[str, Any]]:
    return documents()


@pytest.fixture(scope="module")
def parsed(generated: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every document through the parser, in one node process (JSON for each; YAML for
    the examples: the YAML of every document reads as its JSON, tested below)."""
    texts = {f"{name}.json": to_json(document) for name, document in generated.items()}
    for name in ("fastapi_chat", "litestar_chat", "django_chat", "features"):
        texts[f"{name}.yaml"] = to_yaml(generated[name])
    return parse({**texts, **broken_documents()})


def test_every_document_is_valid_asyncapi_3(parsed: dict[str, Any]) -> None:
    problems = []
    for name, result in parsed.items():
        if name in broken_documents():
            continue
        if result["version"] != "3.0.0":
            problems.append(f"{name}: parsed as version {result['version']}")
        problems += [
            f"{name}: {d}" for d in result["diagnostics"] if d["code"] not in ALLOWED_DIAGNOSTICS
        ]
    assert not problems, "\n".join(problems)


def test_yaml_says_what_json_says(generated: dict[str, dict[str, Any]]) -> None:
    for document in generated.values():
        assert yaml.safe_load(to_yaml(document)) == json.loads(to_json(document))


def test_each_example_documents_its_routes(generated: dict[str, dict[str, Any]]) -> None:
    addresses = {
        name: sorted(c["address"] for c in generated[name]["channels"].values())
        for name in ("fastapi_chat", "litestar_chat", "django_chat")
    }
    assert addresses == {
        "fastapi_chat": ["/ws/ai-chat", "/ws/chat", "/ws/members/{room}", "/ws/room/{room}"],
        "litestar_chat": ["/ws/ai-chat", "/ws/chat", "/ws/members", "/ws/room/{room_name}"],
        "django_chat": ["/ws/chat/", "/ws/rooms/{room}/"],
    }


def test_the_parser_catches_what_we_must_not_write(parsed: dict[str, Any]) -> None:
    """The validation can fail: a dangling reference and a wrong version are reported."""
    for name in broken_documents():
        assert any(d["severity"] == "error" for d in parsed[name]["diagnostics"]), name
