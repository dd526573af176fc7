#!/usr/bin/env python3
"""chanx's development commands, with nothing but Python 3.10+ installed.

    python3 dev.py demo [--port N]   the demo chat on http://127.0.0.1:8000
    python3 dev.py test [args]       the test suite (arguments go to pytest)
    python3 dev.py lint | types | format | docs | bench
    python3 dev.py docs:serve        the documentation site on http://127.0.0.1:8001
    python3 dev.py wheels [DEST]     one wheel per package into DEST (default: dist/)
    python3 dev.py hatch ARGS        any other hatch command

The first run makes a private virtual environment, ``.dev/tools``, and installs hatch
into it; every command then runs as ``hatch run ...``. Nothing is installed into the
Python running this script, so it works on a system Python that refuses ``pip install``
(PEP 668: Debian, Ubuntu, Fedora...) and needs no sudo. When that Python cannot seed pip
into a new environment (Debian without ``python3-venv``), pip's own wheel comes from the
package index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = Path(os.environ.get("CHANX_DEV_TOOLS", ROOT / ".dev" / "tools"))
HATCH = "hatch>=1.13,<2"
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
SHORTCUTS = {"demo": ["run", "demo:serve"]}


def bin_path(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return TOOLS / folder / f"{name}{suffix}"


def say(text: str) -> None:
    print(f"dev.py: {text}", file=sys.stderr, flush=True)


def run(*args: str | Path, quiet: bool = False) -> bool:
    output = subprocess.DEVNULL if quiet else None
    return subprocess.run([str(a) for a in args], stdout=output, stderr=output).returncode == 0


def pip_wheel_from_index(folder: Path) -> Path:
    """The newest pip wheel on the package index, its hash checked."""
    request = urllib.request.Request(
        f"{INDEX}/pip/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]

    def release(entry: dict[str, object]) -> tuple[int, ...]:
        version = str(entry["filename"]).split("-")[1]
        return tuple(int(part) for part in version.split("."))

    wheels = [
        entry
        for entry in files
        if str(entry["filename"]).endswith("-py3-none-any.whl")
        and not entry.get("yanked")
        and all(part.isdigit() for part in str(entry["filename"]).split("-")[1].split("."))
    ]
    newest = max(wheels, key=release)
    url = urllib.parse.urljoin(f"{INDEX}/pip/", str(newest["url"]))
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    expected = dict(newest["hashes"]).get("sha256")  # type: ignore[call-overload]
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise SystemExit(f"dev.py: {newest['filename']} from {INDEX} failed its sha256 check")
    wheel = folder / str(newest["filename"])
    wheel.write_bytes(data)
    return wheel


def make_tools() -> None:
    """``.dev/tools``: a virtual environment holding hatch (made once)."""
    say(f"making {TOOLS} with hatch in it (once)")
    venv.EnvBuilder(with_pip=False, clear=True).create(TOOLS)
    python = bin_path("python")
    if not run(python, "-m", "ensurepip", "--default-pip", quiet=True):
        say(f"this Python has no ensurepip; fetching pip from {INDEX}")
        with tempfile.TemporaryDirectory() as folder:
            wheel = pip_wheel_from_index(Path(folder))
            # A pip wheel runs straight from its zip file: let it install itself.
            if not run(python, wheel / "pip", "install", "--quiet", "--no-index", wheel):
                raise SystemExit("dev.py: could not install pip into the tools environment")
    if not run(python, "-m", "pip", "install", "--quiet", HATCH):
        raise SystemExit(f"dev.py: could not install {HATCH} into {TOOLS}")


def build_wheels(hatch: Path, dest: Path) -> int:
    """A wheel of every distribution under packages/ into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for project in sorted(ROOT.glob("packages/*/pyproject.toml")):
        built = subprocess.run(
            [str(hatch), "build", "--target", "wheel", str(dest)], cwd=project.parent
        )
        if built.returncode != 0:
            return built.returncode
    say(f"wheels in {dest}; install one with: pip install --find-links {dest} chanx-fastapi")
    return 0


def install_node_tooling() -> None:
    """The AsyncAPI tests' node packages (pinned by their package-lock.json), installed
    once. Without npm nothing is done: those tests then fail, saying what to install."""
    node_dir = ROOT / "tests" / "asyncapi" / "node"
    if (node_dir / "node_modules").is_dir() or shutil.which("npm") is None:
        return
    say("installing the AsyncAPI tests' node packages (once): npm ci")
    command = ["npm", "ci", "--prefix", str(node_dir), "--no-audit", "--no-fund"]
    if not run(*command, "--loglevel=error"):
        raise SystemExit("dev.py: npm ci failed (see above)")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    hatch = bin_path("hatch")
    if not hatch.exists():
        make_tools()
    command, *rest = argv
    if command == "wheels":
        return build_wheels(hatch, Path(rest[0]).resolve() if rest else ROOT / "dist")
    if command == "test":
        install_node_tooling()
    args = rest if command == "hatch" else [*SHORTCUTS.get(command, ["run", command]), *rest]
    if os.name == "nt":
        return subprocess.run([str(hatch), *args], cwd=ROOT).returncode
    return run_hatch(hatch, args)


def descendants(pid: int) -> list[int]:
    """The processes below ``pid``, from Linux's ``/proc`` (none found elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def run_hatch(hatch: Path, args: list[str]) -> int:
    """Run hatch until it ends. hatch does not pass SIGTERM or SIGHUP on to what it runs
    (the demo server, pytest), so this does: to hatch and every process below it.
    Ctrl-C reaches them all from the terminal already; this process only waits."""
    child = subprocess.Popen([str(hatch), *args], cwd=ROOT)
    stopped: list[int] = []

    def stop(signum: int, frame: object) -> None:
        for pid in [child.pid, *descendants(child.pid)]:
            try:
                os.kill(pid, signum)
                stopped.append(pid)
            except (ProcessLookupError, PermissionError):
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = child.wait()
    deadline = time.monotonic() + 10  # the stopped processes' own shutdown (a server's)
    while stopped and time.monotonic() < deadline:
        try:
            os.kill(stopped[-1], 0)
            time.sleep(0.05)
        except ProcessLookupError:
            stopped.pop()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
