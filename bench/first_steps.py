"""How long README's two commands take on a fresh clone, cold and warm.

    python3 -m bench.first_steps [--python PYTHON] [--test-args "..."] [--skip-test]

A copy of the checkout (the files git knows) in a temporary folder, with its own tools
environment and hatch data, run by an imitation of Debian's system Python
(tests/system_python.py: PEP 668 marker, no pip, no ensurepip) unless ``--python`` names
another. Measured: making dev.py's tools environment (what the first command of a fresh clone
does first), then each command cold (its hatch environment not made yet) and warm:

- ``python3 dev.py demo``: until the page answers over HTTP (the lean demo environment);
- the same page from the full development environment (``dev.py hatch run python -m
  examples.demo``), which is what the demo used before it had an environment of its own;
- ``python3 dev.py test``: until the suite ends (``--test-args`` narrows it).

Package downloads go through pip's and uv's usual caches, as on a developer's machine.
Stdlib only.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.system_python import build as system_python  # noqa: E402


def fresh_copy(dest: Path) -> None:
    """The files git knows (committed or not, never ignored ones), as a clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def page_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def time_to_page(command: list[str], cwd: Path, env: dict[str, str], port: int) -> float:
    start = time.monotonic()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not page_answers(port):
            if process.poll() is not None:
                raise SystemExit(f"{shlex.join(command)} exited with {process.returncode}")
            if time.monotonic() - start > 900:
                raise SystemExit(f"{shlex.join(command)}: no page after 900 s")
            time.sleep(0.05)
        return time.monotonic() - start
    finally:
        os.killpg(process.pid, 15)
        process.wait()


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    start = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - start, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", help="the interpreter to run dev.py (default: imitation)")
    parser.add_argument("--test-args", default="", help="pytest arguments for dev.py test")
    parser.add_argument("--skip-test", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chanx-first-steps-") as folder:
        work = Path(folder)
        clone = work / "chanx"
        fresh_copy(clone)
        python = args.python or str(system_python(work / "system-python"))
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("HATCH_", "VIRTUAL_ENV", "PYTHON"))
        }
        env["HATCH_DATA_DIR"] = str(work / "hatch-data")
        env.pop("CHANX_DEV_TOOLS", None)
        dev = [python, "dev.py"]
        print(f"interpreter: {python}; fresh copy in {clone}", flush=True)

        seconds, _ = timed([*dev, "hatch", "--version"], clone, env)
        print(f"dev.py's tools environment (made once, by the first command): {seconds:.1f} s")
        for label, command in (
            ("dev.py demo (lean environment)", [*dev, "demo"]),
            (
                "demo from the development environment",
                [*dev, "hatch", "run", "python", "-m", "examples.demo"],
            ),
        ):
            cold = time_to_page(command, clone, env, free_port())
            warm = time_to_page(command, clone, env, free_port())
            print(f"{label}: page after {cold:.1f} s cold, {warm:.1f} s warm", flush=True)

        if not args.skip_test:
            # The development environment exists by now (the second demo made it): make
            # the test command's cold run a real one by starting from new hatch data.
            shutil.rmtree(work / "hatch-data")
            for kind in ("cold", "warm"):
                seconds, code = timed([*dev, "test", *shlex.split(args.test_args)], clone, env)
                print(f"dev.py test ({kind}): {seconds:.1f} s, exit code {code}", flush=True)


if __name__ == "__main__":
    main()
