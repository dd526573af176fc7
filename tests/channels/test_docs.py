"""docs/channels.md and docs/channels-testing.md run as written.

The quick start's files (``chat/messages.py``, ``chat/consumers.py``, ``mysite/asgi.py``)
are loaded from the document as the modules they name, and the tests of both documents
run against them with the guide's test settings. The package README's example serves too.
"""

from __future__ import annotations

import os
import re
import sys
import types
import unittest
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.testing import WebsocketCommunicator
from tests.channels.dropin import tutorial
from tests.docs.test_snippets import ROOT, python_blocks, run_as_module

QUICK_START = "docs/channels.md"
GUIDE = "docs/channels-testing.md"
PROJECT_MODULES = ("chat", "chat.messages", "chat.consumers", "mysite", "mysite.asgi")


def block_with(document: str, text: str) -> str:
    [block] = [block for block in python_blocks(document) if text in block]
    return block


def load(name: str, source: str) -> types.ModuleType:
    """Run ``source`` as the module ``name`` (its package must be loaded already)."""
    module = types.ModuleType(name)
    module.__package__ = name.rpartition(".")[0]
    sys.modules[name] = module
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def run_source(source: str, label: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": __name__}
    exec(compile(source, label, "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def application() -> Iterator[Any]:
    """The quick start's ASGI application, its modules importable under their names."""
    # mysite/asgi.py sets DJANGO_SETTINGS_MODULE; keep it out of this process's environment.
    saved = os.environ.get("DJANGO_SETTINGS_MODULE")
    try:
        for package in ("chat", "mysite"):
            module = sys.modules[package] = types.ModuleType(package)
            module.__path__ = []
        load("chat.messages", block_with(QUICK_START, "class NotificationEvent(BaseMessage)"))
        load("chat.consumers", block_with(QUICK_START, "authenticator = SessionAuthenticator()"))
        asgi = load("mysite.asgi", block_with(QUICK_START, "application = ProtocolTypeRouter"))
        yield asgi.application
    finally:
        for name in PROJECT_MODULES:
            sys.modules.pop(name, None)
        if saved is None:
            os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        else:
            os.environ["DJANGO_SETTINGS_MODULE"] = saved


def run_cases(case_class: type[unittest.TestCase], application: Any) -> None:
    """Run every ``test_*`` method of ``case_class`` against ``application``; fail with
    the tracebacks of those that failed."""
    bound = type(case_class.__name__, (case_class,), {"application": application})
    names = unittest.TestLoader().getTestCaseNames(bound)
    result = unittest.TestResult()
    unittest.TestSuite(bound(name) for name in names).run(result)
    problems = [trace for _, trace in result.errors + result.failures]
    assert not problems, "\n".join(problems)
    assert result.testsRun == len(names) > 0
    assert not result.skipped


def guide_test_settings() -> dict[str, Any]:
    return run_source(block_with(GUIDE, "# mysite/test_settings.py"), "<test settings>")


def test_the_quick_start_test_passes_with_the_guides_test_settings(application: Any) -> None:
    with override_settings(CHANX=guide_test_settings()["CHANX"]):
        quick = run_source(block_with(QUICK_START, "class ChatTests(WebsocketTestCase)"), "<test>")
        run_cases(quick["ChatTests"], application)


def guide_test_case() -> type[unittest.TestCase]:
    """The guide's ``ChatConsumerTests`` with every test method the guide shows for it."""
    case = run_source(block_with(GUIDE, "class ChatConsumerTests"), "<guide test case>")
    methods: dict[str, Any] = {}
    for marker in (
        "async def test_two_users(self)",
        "async def test_notification(self)",
        "async def test_failed_authentication(self)",
    ):
        namespace = dict(case)  # the methods use the test case block's imports
        exec(compile(block_with(GUIDE, marker), f"<{marker}>", "exec"), namespace)
        methods |= {name: value for name, value in namespace.items() if name.startswith("test_")}
    assert len(methods) == 5
    tests: type[unittest.TestCase] = type(
        "ChatConsumerTests", (case["ChatConsumerTests"],), methods
    )
    return tests


@pytest.mark.off_contract("the guide's test case includes its bad-input example, run as written")
def test_the_guides_test_case_and_its_methods_pass(application: Any) -> None:
    with override_settings(CHANX=guide_test_settings()["CHANX"]):
        run_cases(guide_test_case(), application)


def test_the_guides_new_tools_case_passes(application: Any) -> None:
    namespace = run_source(block_with(GUIDE, "class ChatWithTheNewTools"), "<new tools>")
    with override_settings(CHANX=guide_test_settings()["CHANX"]):
        run_cases(namespace["ChatWithTheNewTools"], application)


async def test_the_guides_pytest_function_passes(application: Any) -> None:
    namespace = run_source(block_with(GUIDE, "async def test_anonymous_is_refused"), "<pytest>")
    await namespace["test_anonymous_is_refused"]()


async def test_the_package_readme_example_serves() -> None:
    from channels.routing import URLRouter

    [block] = python_blocks("packages/chanx-channels/README.md")
    readme = run_as_module("channels_readme", block)
    app = URLRouter(readme["websocket_urlpatterns"])
    say, text = readme["SayMessage"], readme["Text"]
    async with (
        WebsocketCommunicator(app, "/ws/lobby/") as alice,
        WebsocketCommunicator(app, "/ws/lobby/") as bob,
    ):
        await alice.send_message(say(payload=text(text="hi")))
        assert await bob.receive_json() == {"action": "line", "payload": {"text": "hi"}}


MIGRATING = "## Migrating from a Channels consumer"


def migration_blocks() -> list[str]:
    """The python blocks of the migration section, in order."""
    text = (ROOT / QUICK_START).read_text()
    section = text[text.index(MIGRATING) :]
    section = section[: section.index("\n## ", len(MIGRATING))]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


async def test_the_migration_before_and_after_run() -> None:
    before, base_change, typed_step, after = migration_blocks()
    channels_import = "from channels.generic.websocket import AsyncJsonWebsocketConsumer\n"
    assert channels_import in before
    assert base_change.strip().startswith("from chanx.ext.channels.websocket import")
    with override_settings(
        CHANX={}, CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    ):
        # Before, on Channels; step 1, the same code with only the import changed.
        for source in (before, before.replace(channels_import, base_change)):
            consumer = run_as_module("migration_step", source)["ChatConsumer"]
            await tutorial.converse(tutorial.application(consumer), [{"message": "hello"}])
        assert issubclass(consumer, AsyncJsonWebsocketConsumer)

        # Step 2: typed clients and old ones side by side.
        consumer = run_as_module("migration_typed", typed_step)["ChatConsumer"]
        typed = {"action": "chat", "payload": {"message": "hello"}}
        await tutorial.converse(tutorial.application(consumer), [typed, {"message": "hello"}])

        # After: chanx all the way.
        done = run_as_module("migration_after", after)
        app = tutorial.application(done["ChatConsumer"])
        async with (
            WebsocketCommunicator(app, "/ws/chat/lobby/") as alice,
            WebsocketCommunicator(app, "/ws/chat/lobby/") as bob,
        ):
            await alice.send_message(done["ChatMessage"](payload={"message": "hi"}))
            for member in (alice, bob):
                notice = await member.receive_message()
                assert notice == done["ChatNotice"](payload={"message": "hi"})
