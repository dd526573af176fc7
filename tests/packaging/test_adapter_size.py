"""The adapters stay thin (issue 10's contract): the fourth adapter, chanx-starlette, is
under 300 lines of source, and each of the others at most half of chanx-core."""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[2] / "packages"


def source_lines(package: str) -> int:
    """Every line (blank, comment and docstring lines included) of a package's source."""
    files = sorted((PACKAGES / package / "src").rglob("*.py"))
    assert files, f"no source found for {package}"
    return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in files)


def test_the_starlette_adapter_is_under_300_lines() -> None:
    assert source_lines("chanx-starlette") < 300


@pytest.mark.parametrize("adapter", ["chanx-channels", "chanx-fastapi", "chanx-litestar"])
def test_each_adapter_is_at_most_half_of_core(adapter: str) -> None:
    assert source_lines(adapter) * 2 <= source_lines("chanx-core")
