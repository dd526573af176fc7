"""Fenced code blocks of the docs, with their ``title="..."`` attribute (which MkDocs
Material shows above the block). A quick start's files are the blocks titled with a file
name; its commands are the ``sh`` blocks titled ``Install``, ``Serve``, ``Try it`` and
``Test``, and ``Try it``'s expected output is the block titled ``Output``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^```", re.M | re.S)
TITLE = re.compile(r'title="(?P<title>[^"]+)"')


@dataclass(frozen=True)
class Fence:
    lang: str
    title: str | None
    body: str

    @property
    def is_file(self) -> bool:
        """Titled with a file name (``myapp/main.py``, ``pyproject.toml``)."""
        return self.title is not None and ("/" in self.title or "." in self.title)


def fences(document: str) -> list[Fence]:
    """Every fenced block of ``document`` (a path from the repository root), in order."""
    text = (ROOT / document).read_text()
    found = []
    for match in FENCE.finditer(text):
        title = TITLE.search(match["attrs"])
        found.append(Fence(match["lang"], title["title"] if title else None, match["body"]))
    return found
