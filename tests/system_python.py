"""An interpreter that behaves like Debian's or Ubuntu's system Python, for proving that
README's commands work there: ``pip install`` into it is refused (an
``EXTERNALLY-MANAGED`` marker, PEP 668), and it has neither pip nor ``ensurepip``
(Debian without ``python3-pip`` and ``python3-venv``).

It is a copy of the running interpreter's executable beside a standard library made of
links to the real one, minus ``ensurepip`` and ``site-packages``; nothing of the real
installation changes. Stdlib only, so CI can build it before anything is installed::

    python3 tests/system_python.py DEST    # prints DEST/bin/python3
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

MARKER = """[externally-managed]
Error=This Python is managed by the system (an imitation made for chanx's tests).
"""
LEFT_OUT = {"ensurepip", "site-packages", "dist-packages", "EXTERNALLY-MANAGED", "__pycache__"}


def build(dest: Path) -> Path:
    """Make the imitation under ``dest`` (replacing what is there); return its python."""
    base_prefix = Path(sys.base_prefix)
    executable = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    stdlib = Path(sysconfig.get_paths(vars={"installed_base": str(base_prefix)})["stdlib"])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "bin").mkdir(parents=True)
    lib = dest / "lib" / version
    lib.mkdir(parents=True)
    # A copy, not a link: Python finds its prefix from where the executable really is.
    python = dest / "bin" / "python3"
    shutil.copy2(executable, python)
    (dest / "bin" / version).symlink_to("python3")
    (dest / "bin" / "python").symlink_to("python3")
    for entry in stdlib.iterdir():
        if entry.name not in LEFT_OUT:
            (lib / entry.name).symlink_to(entry)
    (lib / "site-packages").mkdir()
    (lib / "EXTERNALLY-MANAGED").write_text(MARKER)
    # A shared libpython found relative to the executable ($ORIGIN/../lib).
    for shared in (base_prefix / "lib").glob("libpython*"):
        (dest / "lib" / shared.name).symlink_to(shared)
    return python


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} DEST")
    print(build(Path(sys.argv[1]).resolve()))
