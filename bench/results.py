"""Figures a benchmark hands to the summary table (bench/summary.py), kept under .local/bench/results/.

Each benchmark runs in its own process under `make bench`; a figure is written as one JSON file per
benchmark, so the last step can print the issue-style table of one run side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / ".local" / "bench" / "results"


def record(bench: str, **figures: Any) -> None:
    """Merge `figures` into this benchmark's file (later calls add or replace keys)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{bench}.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(current | figures, ensure_ascii=False, indent=1, default=str))


def load_all() -> dict[str, dict[str, Any]]:
    if not RESULTS.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}


def clear() -> None:
    """Called first by `make bench`, so the table never mixes figures of two runs."""
    for path in RESULTS.glob("*.json") if RESULTS.is_dir() else ():
        path.unlink()
