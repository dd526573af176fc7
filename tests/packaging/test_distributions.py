"""The distributions under packages/ share the ``chanx`` namespace: build their wheels,
install them into a fresh environment, and prove every public import path resolves from
there. The distributions are found as dev.py finds them (``packages/*/pyproject.toml``),
so a new package is covered without editing this file."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.packaging.conftest import DISTRIBUTIONS, ROOT

ADAPTERS = sorted(
    p.name for p in ROOT.glob("packages/*/src/chanx/ext/*") if p.is_dir() and p.name[0] != "_"
)
PUBLIC_MODULES = [
    "chanx.constants",
    "chanx.messages.base",
    "chanx.messages.incoming",
    "chanx.messages.outgoing",
    "chanx.core.decorators",
    "chanx.core.websocket",
    "chanx.core.binding",
    "chanx.core.redis",
    "chanx.testing",
    "chanx.testing.contract",
    "chanx.asyncapi",
    "chanx.ext.fastapi.asyncapi",
    "chanx.ext.litestar.asyncapi",
    "chanx.ext.starlette.routing",
    *(f"chanx.ext.{name}" for name in ADAPTERS),
]


def test_every_package_is_found() -> None:
    assert {"chanx-core", "chanx-starlette"} <= set(DISTRIBUTIONS)
    assert len(DISTRIBUTIONS) == len(list(ROOT.glob("packages/*")))
    assert {"channels", "fastapi", "litestar", "starlette"} <= set(ADAPTERS)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("wheels")
    for name in DISTRIBUTIONS:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--wheel-dir",
                str(out),
                str(ROOT / "packages" / name),
            ],
            check=True,
        )
    built = sorted(out.glob("*.whl"))
    assert len(built) == len(DISTRIBUTIONS)
    return built


def test_no_distribution_ships_a_namespace_init(wheels: list[Path]) -> None:
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        assert "chanx/__init__.py" not in names, wheel.name
        assert "chanx/ext/__init__.py" not in names, wheel.name


PYTEST_PLUGINS = {
    "chanx_core": "_chanx_pytest_plugin",
    "chanx_channels": "_chanx_channels_pytest_plugin",
}


def test_besides_chanx_only_pytest_plugin_modules_are_top_level(wheels: list[Path]) -> None:
    """A pytest plugin's distribution needs a top-level module, or pytest marks unrelated
    top-level names for assertion rewriting (and warns about ``__main__``)."""
    for wheel in wheels:
        archive = zipfile.ZipFile(wheel)
        top = {n.split("/")[0] for n in archive.namelist() if ".dist-info/" not in n}
        distribution = wheel.name.split("-")[0]
        plugin = PYTEST_PLUGINS.get(distribution)
        assert top == ({"chanx", f"{plugin}.py"} if plugin else {"chanx"}), wheel.name
        found = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(found[0]).decode() if found else ""
        assert ("[pytest11]" in text) is (plugin is not None), wheel.name
        if plugin:
            assert f"= {plugin}" in text, text


def test_core_ships_typing_markers_at_the_namespace_root(wheels: list[Path]) -> None:
    [core] = [w for w in wheels if w.name.startswith("chanx_core-")]
    names = zipfile.ZipFile(core).namelist()
    assert "chanx/py.typed" in names
    assert "chanx/constants.py" in names


def test_adapters_pin_core_to_the_same_version(wheels: list[Path]) -> None:
    for wheel in wheels:
        if wheel.name.startswith("chanx_core-"):
            continue
        archive = zipfile.ZipFile(wheel)
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        version = wheel.name.split("-")[1]
        assert f"Requires-Dist: chanx-core=={version}" in text, wheel.name


def requirements(wheel: Path) -> set[str]:
    """The names a wheel requires, extras left out: what installing it pulls in."""
    archive = zipfile.ZipFile(wheel)
    [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    found = set()
    for line in archive.read(metadata).decode().splitlines():
        if line.startswith("Requires-Dist: ") and "extra ==" not in line:
            found.add(re.split(r"[ \[<>=!~;]", line.removeprefix("Requires-Dist: "))[0])
    return found


def test_adapters_pull_only_core_and_their_framework(wheels: list[Path]) -> None:
    by_name = {w.name.split("-")[0].replace("_", "-"): w for w in wheels}
    assert requirements(by_name["chanx-starlette"]) == {"chanx-core", "starlette"}
    # FastAPI is Starlette: the Starlette adapter adds nothing FastAPI does not pull.
    assert requirements(by_name["chanx-fastapi"]) == {"chanx-core", "chanx-starlette", "fastapi"}
    assert requirements(by_name["chanx-litestar"]) == {"chanx-core", "litestar"}
    core = requirements(by_name["chanx-core"])
    assert "redis" not in core  # only with the extra: chanx-core[redis]


def test_installed_wheels_resolve_every_public_import(wheels: list[Path], tmp_path: Path) -> None:
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Install the wheels alone; their dependencies come from this test environment's
    # site-packages, put on the path after the fresh environment's own.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            site,
            *map(str, wheels),
        ],
        check=True,
    )
    deps = sysconfig.get_paths()["purelib"]
    script = (
        "import importlib, sys\n"
        f"sys.path.append({deps!r})\n"
        f"for name in {PUBLIC_MODULES!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({site!r}), (name, module.__file__)\n"
        "import chanx\n"
        "assert getattr(chanx, '__file__', None) is None, 'chanx must stay a namespace'\n"
        # Each adapter's routes are found: by a finder its wheel registers, or by the
        # finder of the chanx adapter it builds on (FastAPI: Starlette's).
        "from importlib.metadata import distribution\n"
        "def finders(name):\n"
        "    found = [e for e in distribution(name).entry_points\n"
        "             if e.group == 'chanx.asyncapi.discovery']\n"
        "    for entry in found:\n"
        "        assert entry.load().__module__.startswith('chanx.ext.'), entry\n"
        "    return found\n"
        f"for name in {[d for d in DISTRIBUTIONS if d != 'chanx-core']!r}:\n"
        "    bases = [r.split('=')[0] for r in distribution(name).requires or ()\n"
        "             if r.startswith('chanx-') and not r.startswith('chanx-core')]\n"
        "    assert finders(name) or any(finders(b) for b in bases), name\n"
        "assert not finders('chanx-core')\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [str(python), "-I", "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    # ``python -m chanx`` runs from a namespace package (no chanx/__init__.py).
    command = [str(python), "-I", "-c", f"import sys; sys.path.append({deps!r})"]
    command[-1] += "; import runpy; sys.argv = ['chanx', '--help']"
    command[-1] += "; runpy.run_module('chanx', run_name='__main__', alter_sys=True)"
    shown = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "asyncapi-diff" in shown.stdout


def test_every_wheel_ships_the_license(wheels: list[Path]) -> None:
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), wheel.name
