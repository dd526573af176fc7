"""Import requirements: the testing module works without daphne installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
