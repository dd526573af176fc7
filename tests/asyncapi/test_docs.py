"""The AsyncAPI code in the docs runs as written and serves what it says."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.django_setup import setup_django
from tests.docs.fences import fences
from tests.docs.test_snippets import python_blocks, run_as_module


def block_with(document: str, text: str) -> str:
    [block] = [block for block in python_blocks(document) if text in block]
    return block


async def served(app: Any, url: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        reply = await client.get(url)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def test_the_asyncapi_page_example() -> None:
    namespace = run_as_module("asyncapi_doc", block_with("docs/asyncapi.md", "LobbyConsumer"))
    assert "ws_lobby.send.welcome" in namespace["document"]["operations"]


async def test_fastapi_two_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The quick start is a project of files (myapp/...): write it out and import its app.
    for fence in fences("docs/fastapi.md"):
        if fence.is_file and fence.title and fence.title.startswith("myapp/"):
            (tmp_path / fence.title).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / fence.title).write_text(fence.body)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "myapp" or m.startswith("myapp.")]:
        monkeypatch.delitem(sys.modules, name)
    quick_start = vars(importlib.import_module("myapp.main"))
    exec(block_with("docs/fastapi.md", "asyncapi_docs"), quick_start)
    document = await served(quick_start["app"], "/asyncapi/asyncapi.json")
    assert document["info"] == {"title": "Chat", "version": "1.0.0"}
    assert document["channels"]


async def test_starlette_two_lines() -> None:
    chat = "\n".join(f.body for f in fences("docs/starlette.md") if f.title == "chat.py")
    quick_start = run_as_module("starlette_asyncapi_doc", chat)
    exec(block_with("docs/starlette.md", "asyncapi_docs"), quick_start)
    document = await served(quick_start["app"], "/asyncapi/asyncapi.json")
    assert document["info"] == {"title": "Chat", "version": "1.0.0"}
    assert sorted(c["address"] for c in document["channels"].values()) == [
        "/ws/members/{room}",
        "/ws/room/{room}",
    ]


async def test_litestar_two_lines() -> None:
    # litestar.md's blocks run as one module (tests/litestar/test_docs.py): up to the
    # AsyncAPI section, ``app`` is the quick start's app, now with the docs routes.
    blocks = python_blocks("docs/litestar.md")
    upto = next(i for i, block in enumerate(blocks) if "asyncapi_docs" in block)
    doc = run_as_module("litestar_asyncapi_doc", "\n\n".join(blocks[: upto + 1]))
    document = await served(doc["app"], "/asyncapi/asyncapi.json")
    assert [c["address"] for c in document["channels"].values()] == ["/ws/room/{room}"]


def test_django_two_lines() -> None:
    setup_django()
    urls = run_as_module("django_asyncapi_doc", block_with("docs/channels.md", "asyncapi_urls"))
    [prefix] = urls["urlpatterns"]
    assert str(prefix.pattern) == "asyncapi/"
    assert [p.name for p in prefix.url_patterns] == [
        "asyncapi-html",
        "asyncapi-json",
        "asyncapi-yaml",
    ]
