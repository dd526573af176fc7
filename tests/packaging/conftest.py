"""Wheels built the documented way (``python3 dev.py wheels``) and clean virtual
environments outside the repository, one per distribution, shared by the session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))


def outside_env() -> dict[str, str]:
    """This process's environment without the marks of the hatch environment running it
    (so tools started from a test see a plain shell's environment)."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "HATCH_ENV_ACTIVE", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
        and not key.startswith("PYTEST_")
    }


@dataclass
class CleanEnv:
    """A virtual environment into which one distribution was installed from the wheels."""

    path: Path
    installed: dict[str, str]
    """What ``pip list`` showed right after that install: name -> version."""

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def run(self, *args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """A command with this environment activated (its ``bin`` first on PATH)."""
        env = outside_env()
        env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(self.path)
        return subprocess.run(
            args,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            **kwargs,  # type: ignore[call-overload]
        )


def new_env(path: Path) -> CleanEnv:
    """A new virtual environment at ``path`` with pip and nothing else."""
    # No ensurepip needed (a system Python may lack it): this environment's pip puts pip
    # into the new one.
    venv.create(path, with_pip=False)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(path / "bin" / "python"),
            "install",
            "-q",
            "pip",
        ],
        check=True,
        capture_output=True,
        env=outside_env(),
    )
    return CleanEnv(path, {})


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "dev.py", "wheels", str(dest)],
        cwd=ROOT,
        env=outside_env(),
        check=True,
        capture_output=True,
    )
    return dest


@pytest.fixture(scope="session")
def clean_env(
    wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], CleanEnv]:
    """``clean_env("chanx-fastapi")``: a new environment with ``pip install --find-links
    dist chanx-fastapi`` done (made once per distribution)."""
    made: dict[str, CleanEnv] = {}

    def make(distribution: str) -> CleanEnv:
        if distribution not in made:
            path = tmp_path_factory.mktemp(f"venv-{distribution}")
            new_env(path)
            pip = [str(path / "bin" / "python"), "-m", "pip"]
            subprocess.run(
                [*pip, "install", "--quiet", "--find-links", str(wheelhouse), distribution],
                check=True,
                capture_output=True,
                env=outside_env(),
            )
            listed = subprocess.run(
                [*pip, "list", "--format=json"], check=True, capture_output=True, text=True
            ).stdout
            installed = {p["name"].lower(): p["version"] for p in json.loads(listed)}
            made[distribution] = CleanEnv(path, installed)
        return made[distribution]

    return make
