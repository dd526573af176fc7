"""``python -m chanx asyncapi`` on each example app, in a process of its own (so the
output is the same under another hash seed), and ``manage.py asyncapi``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chanx.asyncapi import Info, build_document, discover_routes, to_json, to_yaml
from chanx.asyncapi.cli import main
from tests.asyncapi.test_official import example_apps
from tests.channels.django_setup import setup_django
from tests.servers import ROOT

TARGETS = {
    "fastapi_chat": ["examples.fastapi_chat.main:app"],
    "litestar_chat": ["examples.litestar_chat.app:create_app", "--factory"],
    "django_chat": ["examples.django_chat.asgi:application"],
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chanx", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def expected(name: str, title: str) -> dict[str, Any]:
    return build_document(discover_routes(example_apps()[name]), Info(title, "3.1.4"))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_each_example_app(name: str, tmp_path: Path) -> None:
    target = TARGETS[name]
    if name == "django_chat":  # the command runs with the example's settings
        from django.test.utils import override_settings

        from examples.django_chat import settings

        setup_django()
        with override_settings(CHANX=settings.CHANX):
            want = expected(name, "T")
    else:
        want = expected(name, "T")
    out = tmp_path / "doc.json"
    done = run("asyncapi", *target, "--title", "T", "--doc-version", "3.1.4", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == to_json(want)
    done = run("asyncapi", *target, "--format", "yaml", "--title", "T", "--doc-version", "3.1.4")
    assert done.returncode == 0, done.stderr
    assert done.stdout == to_yaml(want)


def test_a_consumer_class_with_its_address_and_servers() -> None:
    done = run(
        "asyncapi",
        "examples.demo.consumers:RoomConsumer",
        "--address",
        "/ws/room/{room}",
        "--server",
        "local=ws://127.0.0.1:8000",
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["info"]["title"] == "examples.demo.consumers:RoomConsumer"
    assert document["servers"] == {"local": {"host": "127.0.0.1:8000", "protocol": "ws"}}
    assert [c["address"] for c in document["channels"].values()] == ["/ws/room/{room}"]


def test_the_apps_own_title_is_used() -> None:
    done = run("asyncapi", "examples.fastapi_chat.main:app")
    assert json.loads(done.stdout)["info"]["title"] == "chanx FastAPI example"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["asyncapi", "examples.nowhere:app"], "cannot import 'examples.nowhere'"),
        (["asyncapi", "examples.fastapi_chat.main"], "expected module:attribute"),
        (["asyncapi", "examples.fastapi_chat.main:nope"], "has no attribute 'nope'"),
        (["asyncapi", "examples.fastapi_chat.main:room_group"], "cannot find websocket routes"),
        (["asyncapi", "examples.fastapi_chat.main:app", "--server", "x"], "NAME=URL"),
        (
            ["asyncapi", "examples.fastapi_chat.main:app", "--server", "x=http://h"],
            "ws:// or wss://",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_manage_py_asyncapi() -> None:
    from django.core.management import call_command

    from chanx.ext.channels.management.commands.asyncapi import Command

    out = io.StringIO()
    call_command(
        Command(),
        "--application",
        "examples.django_chat.asgi.application",
        "--format",
        "yaml",
        "--title",
        "T",
        "--doc-version",
        "3.1.4",
        "--server",
        "prod=wss://chat.example.com",
        stdout=out,
    )
    document = yaml.safe_load(out.getvalue())
    assert document["servers"] == {"prod": {"host": "chat.example.com", "protocol": "wss"}}
    document.pop("servers")
    assert document == expected("django_chat", "T")


def test_manage_py_asyncapi_in_the_example_project(tmp_path: Path) -> None:
    """The example project lists chanx.ext.channels, so manage.py knows the command."""
    out = tmp_path / "doc.json"
    done = subprocess.run(
        [sys.executable, "-m", "examples.django_chat.manage", "asyncapi", "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    addresses = [c["address"] for c in json.loads(out.read_text())["channels"].values()]
    assert addresses == ["/ws/chat/", "/ws/rooms/{room}/"]
