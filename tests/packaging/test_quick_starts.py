"""Every framework page's quick start, followed as a reader would: its files written into
a new folder outside the repository, its install commands run in a clean environment
(wheels from ``python3 dev.py wheels``, everything else from the package index), its
server started with the page's command, the page's client run against it (the output
must be what the page shows), then the page's tests (green, and no warnings). The
testing guide the same way: its set-up in a new environment, then every test it shows."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docs.fences import Fence, fences
from tests.packaging.conftest import CleanEnv, new_env, outside_env
from tests.servers import Server, free_port

PAGES = {
    "docs/asgi.md": "chanx-core",
    "docs/fastapi.md": "chanx-fastapi",
    "docs/litestar.md": "chanx-litestar",
    "docs/channels.md": "chanx-channels",
    "docs/starlette.md": "chanx-starlette",
}
DIST_PLACEHOLDER = "/path/to/chanx/dist"
PAGE_PORT = "8000"

pytestmark = pytest.mark.e2e


def commands(blocks: list[Fence], title: str) -> list[str]:
    [block] = [b for b in blocks if b.title == title and b.lang == "sh"]
    lines = [line.split(" #")[0].strip() for line in block.body.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_every_quick_start_has_its_parts() -> None:
    for page in PAGES:
        blocks = fences(page)
        assert any(b.is_file for b in blocks), page
        for title in ("Install", "Serve", "Try it", "Test"):
            assert commands(blocks, title), (page, title)
        assert [b for b in blocks if b.title == "Output"], page


@pytest.mark.parametrize("page", PAGES)
def test_the_quick_start_runs_as_written(
    page: str,
    clean_env: Callable[[str], CleanEnv],
    wheelhouse: Path,
    tmp_path: Path,
) -> None:
    blocks = fences(page)
    port = str(free_port())
    project = tmp_path / "project"
    files: dict[str, str] = {}
    for block in blocks:
        if block.is_file and block.title is not None:
            # A file shown in parts: the page's blocks with its name, in order.
            files[block.title] = files.get(block.title, "") + block.body + "\n"
    for name, text in files.items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(PAGE_PORT, port))
    env = clean_env(PAGES[page])

    def sh(line: str, **kwargs: object) -> str:
        line = line.replace(DIST_PLACEHOLDER, str(wheelhouse)).replace(PAGE_PORT, port)
        done = env.run("bash", "-c", line, cwd=project, **kwargs)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    for line in commands(blocks, "Install"):
        sh(line, timeout=600)

    [serve] = commands(blocks, "Serve")
    server_env = outside_env()
    server_env["PATH"] = f"{env.bin}:{server_env['PATH']}"
    # `env -i`: exactly the reader's environment (Server adds this process's own).
    pairs = [f"{key}={value}" for key, value in server_env.items()]
    command = ["env", "-i", *pairs, "bash", "-c", "exec " + serve.replace(PAGE_PORT, port)]
    server = Server(command, cwd=project)
    try:
        server.wait_for_port(int(port))
        [expected] = [b.body.strip() for b in blocks if b.title == "Output"]
        tried = "".join(sh(line, timeout=60) for line in commands(blocks, "Try it"))
        assert tried.strip() == expected.replace(PAGE_PORT, port), server.output
    finally:
        server.stop()

    for line in commands(blocks, "Test"):
        output = sh(line, timeout=300)
        assert "warning" not in output.lower(), output
        assert shlex.split(line)[0] in ("pytest", "python")


def test_the_testing_guide_runs_after_its_set_up(wheelhouse: Path, tmp_path: Path) -> None:
    # docs/testing.md: its one install command in a new environment, its pytest settings
    # and example module, each test it shows pasted into a file of its own beside them.
    blocks = fences("docs/testing.md")
    project = tmp_path / "project"
    project.mkdir()
    [setup] = [b.body.strip() for b in blocks if b.lang == "sh"]
    [settings] = [b.body for b in blocks if b.lang == "toml"]
    (project / "pyproject.toml").write_text(settings)
    (project / "chat.py").write_text("".join(b.body for b in blocks if b.title == "chat.py"))
    tests = [b.body for b in blocks if b.lang == "python" and "def test_" in b.body]
    for number, body in enumerate(tests):
        (project / f"test_guide_{number}.py").write_text(body)
    env = new_env(tmp_path / "venv")
    line = setup.replace(DIST_PLACEHOLDER, str(wheelhouse))
    installed = env.run("bash", "-c", line, cwd=project, timeout=600)
    assert installed.returncode == 0, f"{line}\n{installed.stdout}\n{installed.stderr}"
    ran = env.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert "failed" not in output, output
    assert "skipped" not in output, output
    assert "warning" not in output.lower(), output
    assert len(tests) > 5
