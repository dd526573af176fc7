"""The official AsyncAPI tooling, run by node: the parser validates documents; the
React component's files serve the docs page in Chromium. Installed from
``tests/asyncapi/node/package-lock.json`` by ``.ci/run``; missing, the tests fail and
say the command to run."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from chanx.asyncapi.page import SCRIPT_PATH, STYLESHEET_PATH

NODE_DIR = Path(__file__).resolve().parent / "node"
INSTALL = "npm ci --prefix tests/asyncapi/node"
COMPONENT_DIR = NODE_DIR / "node_modules" / "@asyncapi" / "react-component"

ALLOWED_DIAGNOSTICS = {
    # chanx writes AsyncAPI 3.0.0 on purpose (what the issue and most tools ask for);
    # the parser merely mentions that 3.1.0 exists.
    "asyncapi-latest-version",
}


def require_tooling() -> Path:
    """The node project's folder, with its packages installed; fails loudly otherwise."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Debian: apt-get install nodejs npm)")
    if not (NODE_DIR / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail(f"the AsyncAPI tooling is not installed: run `{INSTALL}`")
    return NODE_DIR


def component_file(relative: str) -> bytes:
    """A file of the installed ``@asyncapi/react-component`` package."""
    require_tooling()
    return (COMPONENT_DIR / relative).read_bytes()


COMPONENT_FILES = (SCRIPT_PATH, STYLESHEET_PATH)


def parse(documents: Mapping[str, str]) -> dict[str, Any]:
    """Run the official parser over each document (JSON or YAML text), by name; returns
    ``{name: {"version": ..., "diagnostics": [...]}}``."""
    folder = require_tooling()
    with tempfile.TemporaryDirectory(prefix="chanx-asyncapi-") as tmp:
        paths = {}
        for name, text in documents.items():
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            paths[str(path)] = name
        done = subprocess.run(
            ["node", str(folder / "validate.mjs"), *paths],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        pytest.fail(f"the parser failed ({done.returncode}):\n{done.stderr}")
    results: dict[str, Any] = json.loads(done.stdout)
    return {paths[path]: result for path, result in results.items()}


def assert_valid(documents: Mapping[str, str]) -> None:
    """Every document parses as AsyncAPI 3.0.0 with no diagnostic but the allowed ones."""
    problems = []
    for name, result in parse(documents).items():
        if result["version"] != "3.0.0":
            problems.append(f"{name}: parsed as version {result['version']}")
        for diagnostic in result["diagnostics"]:
            if diagnostic["code"] not in ALLOWED_DIAGNOSTICS:
                problems.append(f"{name}: {diagnostic}")
    assert not problems, "\n".join(problems)
