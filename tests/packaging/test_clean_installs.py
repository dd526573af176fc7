"""Each distribution, installed from the wheels into a clean environment outside the
repository, brings its own framework and no other, and its imports work there."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docs.fences import fences
from tests.packaging.conftest import DISTRIBUTIONS, ROOT, CleanEnv

DIST_PLACEHOLDER = "/path/to/chanx/dist"

FRAMEWORK_DISTRIBUTIONS = {"django", "channels", "fastapi", "starlette", "litestar"}
EXPECTED = {
    "chanx-core": (set(), "chanx.core.websocket"),
    "chanx-channels": ({"django", "channels"}, "chanx.ext.channels"),
    "chanx-fastapi": ({"fastapi", "starlette"}, "chanx.ext.fastapi"),
    "chanx-litestar": ({"litestar"}, "chanx.ext.litestar"),
    "chanx-starlette": ({"starlette"}, "chanx.ext.starlette"),
}
CHANX_ALONG = {"chanx-fastapi": {"chanx-starlette"}}
"""Other chanx packages an adapter builds on (FastAPI is Starlette underneath)."""


def test_every_package_is_covered() -> None:
    assert set(DISTRIBUTIONS) <= set(EXPECTED), "say what each new package may bring along"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_only_its_framework_comes_along(
    distribution: str, clean_env: Callable[[str], CleanEnv]
) -> None:
    frameworks, module = EXPECTED[distribution]
    env = clean_env(distribution)
    assert env.installed[distribution] == env.installed["chanx-core"]
    assert set(env.installed) & FRAMEWORK_DISTRIBUTIONS == frameworks
    others = {name for name in env.installed if name.startswith("chanx")}
    assert others == {"chanx-core", distribution, *CHANX_ALONG.get(distribution, ())}
    imported = env.run(
        "python", "-I", "-c", f"import {module}; print({module}.__name__)", cwd=ROOT.parent
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == module


def test_starlette_alone_finds_and_documents_its_routes(
    clean_env: Callable[[str], CleanEnv],
) -> None:
    """With chanx-starlette and no chanx-fastapi, Starlette's own route finder documents
    the Starlette conformance app: the same bytes as in the development environment
    (where test_official.py validates that document with the official parser)."""
    from chanx.asyncapi import Info, build_document, discover_routes, to_json
    from tests.conformance.drivers.starlette import build_app

    env = clean_env("chanx-starlette")
    assert "fastapi" not in env.installed
    assert "chanx-fastapi" not in env.installed
    finders = env.run(
        "python",
        "-c",
        "from importlib.metadata import entry_points\n"
        "print(sorted(e.name for e in entry_points(group='chanx.asyncapi.discovery')))",
        cwd=ROOT.parent,
    )
    assert finders.stdout.strip() == "['starlette']", finders.stderr
    target = "tests.conformance.drivers.starlette:build_app"
    args = ["--factory", "--title", "conformance_starlette", "--doc-version", "1.0.0"]
    # From the repository root, so the app's module imports; chanx comes from the wheels.
    done = env.run("python", "-m", "chanx", "asyncapi", target, *args, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    info = Info("conformance_starlette", "1.0.0")
    assert done.stdout == to_json(build_document(discover_routes(build_app()), info))


def test_the_package_readmes_install_from_the_wheels(
    clean_env: Callable[[str], CleanEnv], wheelhouse: Path, tmp_path: Path
) -> None:
    """No release exists yet: each package README says how to build the wheels from a
    checkout, and each of its ``pip install`` commands takes chanx from them and resolves
    (all of them together, in one dry run, against the wheels and the package index)."""
    requirements: list[str] = []
    for distribution in DISTRIBUTIONS:
        readme = f"packages/{distribution}/README.md"
        assert "python3 dev.py wheels" in (ROOT / readme).read_text(), readme
        commands = [
            line.split(" #")[0]
            for block in fences(readme)
            if block.lang == "sh"
            for line in block.body.splitlines()
            if line.startswith("pip install")
        ]
        assert commands, readme
        for command in commands:
            words = shlex.split(command)
            assert words[:4] == ["pip", "install", "--find-links", DIST_PLACEHOLDER], command
            assert any(word.startswith(distribution) for word in words[4:]), command
            requirements += words[4:]
    env = clean_env("chanx-core")
    done = env.run(
        "python",
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--quiet",
        "--find-links",
        str(wheelhouse),
        *requirements,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
