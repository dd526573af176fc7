"""Import requirements: the testing module works without daphne installed; the package
imports before Django settings are configured and re-exports the public names."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

from tests.servers import ROOT as REPO

WITHOUT_DAPHNE = textwrap.dedent(
    """
    import importlib.abc, sys

    class NoDaphne(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "daphne" or name.startswith("daphne."):
                raise ImportError("daphne is not installed")
            return None

    sys.meta_path.insert(0, NoDaphne())
    import os
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.channels.settings"
    import django
    django.setup()
    from chanx.ext.channels.testing import WebsocketTestCase
    from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
    from chanx.ext.channels.auth import SessionAuthenticator
    from chanx.ext.channels.drf import DRFAuthenticator
    assert "daphne" not in sys.modules
    print("ok")
    """
)


def test_the_testing_module_does_not_need_daphne() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_DAPHNE],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_blocker_really_blocks() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_DAPHNE.replace("print", "import daphne; print")],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "daphne is not installed" in done.stderr


PACKAGE_BEFORE_SETTINGS = textwrap.dedent(
    """
    import os, sys
    assert "DJANGO_SETTINGS_MODULE" not in os.environ
    import chanx.ext.channels
    assert "chanx.ext.channels.websocket" not in sys.modules
    assert "chanx.ext.channels.drf" not in sys.modules

    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.channels.settings"
    import django
    django.setup()
    from chanx.ext.channels import AsyncJsonWebsocketConsumer, DRFAuthenticator
    from chanx.ext.channels.drf import DRFAuthenticator as FromModule
    from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer as Consumer
    assert AsyncJsonWebsocketConsumer is Consumer
    assert DRFAuthenticator is FromModule
    print("ok")
    """
)


def test_the_package_imports_before_settings_and_re_exports_once_configured() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PACKAGE_BEFORE_SETTINGS],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_every_package_level_name_is_the_modules_own() -> None:
    import chanx.ext.channels as package

    for name in package.__all__:
        module = importlib.import_module(f"chanx.ext.channels.{package._MODULE_OF[name]}")
        assert getattr(package, name) is getattr(module, name), name
        assert name in dir(package)
    with pytest.raises(AttributeError, match=r"no attribute 'WebsocketTestCase'"):
        package.WebsocketTestCase  # noqa: B018 - the testing helpers stay in .testing
