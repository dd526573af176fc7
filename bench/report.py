"""What every scenario shares: loading apps, one JSON line per result, the summary."""

from __future__ import annotations

import importlib
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

HIGHER_IS_BETTER = {"msg/s", "deliveries/s", "conn/s"}
PAIRS = [
    ("raw", "chanx"),
    ("idiomatic", "chanx"),
    ("none", "slow"),
    ("chanx_empty", "chanx_none"),
    ("chanx_empty", "chanx_docs"),
]
"""The variants a scenario compares, baseline first: chanx against the strict raw app and
against the idiomatic one; a fan-out with a slow member against one without
(``slow_member``); a Django project without ``CHANX`` (and with the docs' ``CHANX``)
against one with ``CHANX = {}`` (``settings``)."""


def load_app(framework: str, variant: str) -> Any:
    """``bench.apps.<framework>_<variant>.app``."""
    return importlib.import_module(f"bench.apps.{framework}_{variant}").app


def emit(
    scenario: str, framework: str, variant: str, metric: str, value: float, unit: str, **extra: Any
) -> None:
    """Print one result as a JSON line (the harness collects these)."""
    record = {
        "scenario": scenario,
        "framework": framework,
        "variant": variant,
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        **extra,
    }
    print(json.dumps(record), flush=True)


def cost_ratio(chanx: float, raw: float, unit: str) -> float:
    """chanx (the candidate) relative to raw (the baseline) as a cost: above 1 means the
    candidate is slower or bigger."""
    return raw / chanx if unit in HIGHER_IS_BETTER else chanx / raw


def summarize(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median of each (scenario, framework, metric, variant) over runs, the chanx/raw cost
    ratio of the medians, and the range of the per-run ratios (raw and chanx of the same
    run compared)."""
    runs: dict[tuple[str, str, str, str], dict[str, dict[int, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for r in records:
        values = runs[(r["scenario"], r["framework"], r["metric"], r["unit"])][r["variant"]]
        # Without run numbers (JSON lines from a shell), the n-th value of each variant.
        values[r.get("run", len(values))] = r["value"]
    rows = []
    for (scenario, framework, metric, unit), by_variant in sorted(runs.items()):
        for pair in PAIRS:
            if pair[0] in by_variant and pair[1] in by_variant:
                rows.append(_row(pair, scenario, framework, metric, unit, by_variant))
    return rows


def _row(
    pair: tuple[str, str],
    scenario: str,
    framework: str,
    metric: str,
    unit: str,
    by_variant: dict[str, dict[int, float]],
) -> dict[str, Any]:
    """One compared pair: medians over runs, their cost ratio, the per-run range."""
    raw, chanx = by_variant[pair[0]], by_variant[pair[1]]
    per_run = [cost_ratio(chanx[run], raw[run], unit) for run in sorted(raw.keys() & chanx.keys())]
    raw_median = statistics.median(raw.values())
    chanx_median = statistics.median(chanx.values())
    return {
        "pair": pair,
        "scenario": scenario,
        "framework": framework,
        "metric": metric,
        "unit": unit,
        "raw": raw_median,
        "chanx": chanx_median,
        "ratio": cost_ratio(chanx_median, raw_median, unit),
        "ratio_min": min(per_run) if per_run else float("nan"),
        "ratio_max": max(per_run) if per_run else float("nan"),
        "runs": len(per_run),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    """The summary as Markdown: one table per pair of variants compared."""
    tables = []
    for baseline, candidate in PAIRS:
        chosen = [row for row in rows if row["pair"] == (baseline, candidate)]
        if chosen:
            tables.append(_table(chosen, baseline, candidate))
    return "\n\n".join(tables)


def _table(rows: list[dict[str, Any]], baseline: str, candidate: str) -> str:
    lines = [
        f"| scenario | framework | metric | {baseline} (median) | {candidate} (median) "
        f"| {candidate}/{baseline} cost | per-run range | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scenario']} | {row['framework']} | {row['metric']} "
            f"| {row['raw']:,.2f} {row['unit']} | {row['chanx']:,.2f} {row['unit']} "
            f"| **{row['ratio']:.2f}x** | {row['ratio_min']:.2f}-{row['ratio_max']:.2f} "
            f"| {row['runs']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # summarize JSON lines from stdin
    print(markdown(summarize(json.loads(line) for line in sys.stdin if line.startswith("{"))))
