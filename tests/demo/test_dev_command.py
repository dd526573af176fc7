"""README's demo command, ``python3 dev.py demo``: it serves the page from the lean demo
environment, which holds chanx-core and a server and nothing for development.

(The test command is proven by CI itself: .ci/run runs README's commands through an
imitation of a Debian system Python.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.servers import ROOT, free_port, port_open, running

pytestmark = pytest.mark.e2e


def dev_env() -> dict[str, str]:
    """This process's environment without the marks of the hatch environment running it."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "HATCH_ENV_ACTIVE") and not key.startswith("PYTEST_")
    }


@pytest.fixture(scope="module", autouse=True)
def demo_environment() -> None:
    """The demo environment, made before any server is timed: on a fresh clone the
    first ``dev.py demo`` installs it, which takes longer than a server start may."""
    subprocess.run(
        [sys.executable, "dev.py", "hatch", "env", "create", "demo"],
        cwd=ROOT,
        env=dev_env(),
        capture_output=True,
        check=True,
        timeout=600,
    )


def test_the_demo_command_serves_the_page() -> None:
    port = free_port()
    command = [sys.executable, "dev.py", "demo", "--port", str(port)]
    # dev.py becomes hatch, which serves through a shell: the server is a grandchild.
    with running(command, port, env=dev_env(), group=True) as server:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"chanx demo chat" in response.read()
        assert "chanx demo: open" in server.output
    # Stopped with the command, not left serving (it was, after every run).
    assert not port_open(port)


def test_stopping_the_demo_command_stops_its_server() -> None:
    # A process manager or IDE stops dev.py alone with SIGTERM (no process group):
    # dev.py passes it on to hatch and the server below it, and exits once they have.
    port = free_port()
    command = [sys.executable, "dev.py", "demo", "--port", str(port)]
    with running(command, port, env=dev_env()) as server:
        assert port_open(port)
    assert server.proc.returncode == 128 + signal.SIGTERM
    assert not port_open(port)


def test_the_demo_environment_is_lean() -> None:
    # No braces: hatch reads them in a command line as its own context fields.
    probe = (
        "import importlib.util as u; print(*[m for m in ['chanx.core', 'uvicorn', "
        "'websockets', 'pytest', 'mypy', 'django', 'fastapi', 'litestar', 'daphne', 'ruff'] "
        "if u.find_spec(m)])"
    )
    result = subprocess.run(
        [sys.executable, "dev.py", "hatch", "run", "demo:python", "-c", probe],
        cwd=ROOT,
        env=dev_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "chanx.core uvicorn websockets"
