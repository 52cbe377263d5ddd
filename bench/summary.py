"""The last step of `make bench`: the issue's table, from the figures each benchmark recorded (bench/results.py).

    python -m bench.summary           print the table (a figure no benchmark recorded prints "not run")
    python -m bench.summary --clear   forget the previous run's figures (the first step of `make bench`)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.results import clear, load_all

Figures = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Row:
    figure: str
    bench: str
    key: str
    goal: str
    met: Callable[[Any], bool] | None = None  # None: shown, no goal to meet
    unit: str = ""


def at_least(goal: float) -> Callable[[Any], bool]:
    return lambda value: float(value) >= goal


def below(goal: float) -> Callable[[Any], bool]:
    return lambda value: float(value) < goal


ROWS = [
    Row("cases/s HTTP submit → audit-visible, 32 clients", "submit_to_audit", "cases_s", "≥ 1000", at_least(1000)),
    Row("  audit-visible p99 at that load", "submit_to_audit", "visible_p99_ms", "< 1000 ms", below(1000), " ms"),
    Row("event-store appends, batches of 100", "event_store", "batch100_ours_events_per_s", "", None, " ev/s"),
    Row("  ratio to eventsourcing (faster setting)", "event_store", "batch100_ours_vs_lib_best_ratio", "≥ 2×", at_least(2), "×"),
    Row("8 writers, one event per transaction", "event_store", "writers8_ours_events_per_s", "", None, " ev/s"),
    Row("  ratio to eventsourcing at its fastest", "event_store", "writers8_ours_vs_lib_best_ratio", "≥ 2×", at_least(2), "×"),
    Row("audit ingest, keeping the chain (batches of 5,000)", "audit_ingest", "direct_batch_5000_events_per_s",
        "≥ 20000 ev/s", at_least(20_000), " ev/s"),
    Row("  the live consumer draining Kafka (start included)", "audit_ingest", "consumer_drain_events_per_s",
        "≥ 20000 ev/s", at_least(20_000), " ev/s"),
    Row("projection rebuild / audit refill from Kafka", "audit_ingest", "rebuild_events_per_s", "≥ 20000 ev/s",
        at_least(20_000), " ev/s"),
    Row("one case's history at 1,000,000 events, p99", "event_store", "history_p99_ms", "< 10 ms", below(10), " ms"),
]
RSS_GOAL_MIB = 200


def lookup(figures: Figures, bench: str, key: str) -> Any:
    return figures.get(bench, {}).get(key)


def show(value: Any, unit: str = "") -> str:
    if isinstance(value, float):
        value = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def verdict(value: Any, met: Callable[[Any], bool] | None) -> str:
    if value is None:
        return "—"
    if met is None:
        return ""
    try:
        return "yes" if met(value) else "no"
    except (TypeError, ValueError):
        return "?"


def table(figures: Figures) -> list[tuple[str, str, str, str]]:
    lines = []
    for row in ROWS:
        value = lookup(figures, row.bench, row.key)
        lines.append((row.figure, "not run" if value is None else show(value, row.unit), row.goal,
                      verdict(value, row.met)))
    path = figures.get("submit_to_audit", {})
    peak = path.get("peak_rss_mib") or path.get("rss_mib")
    if peak:
        for name, mib in peak.items():
            lines.append((f"RSS under load (peak): {name}", show(float(mib), " MiB"), f"< {RSS_GOAL_MIB} MiB",
                          verdict(mib, below(RSS_GOAL_MIB))))
    else:
        lines.append(("RSS per service under load", "not run", f"< {RSS_GOAL_MIB} MiB", "—"))
    cpu = path.get("cpu_ms_per_case")
    if cpu:
        for name, ms in cpu.items():
            lines.append((f"CPU per case: {name}", show(float(ms), " ms"), "", ""))
        lines.append((f"CPU per case: system ({path.get('clients', '?')} clients, bench client excluded)",
                      show(float(path["system_cpu_ms_per_case"]), " ms"), "", ""))
        lines.append((f"ceiling on {path.get('cores', 2)} cores (cores × 1000 ms / system ms per case)",
                      show(float(path["ceiling_cases_s"]), " cases/s"), "≥ 1000", verdict(path["ceiling_cases_s"],
                                                                                         at_least(1000))))
    else:
        lines.append(("CPU per case per service, and the ceiling", "not run", "", "—"))
    return lines


def others(figures: Figures) -> list[str]:
    """Figures recorded that the table has no row for (e.g. the inbox's), so none is lost from view."""
    used = {(r.bench, r.key) for r in ROWS} | {("submit_to_audit", k) for k in figures.get("submit_to_audit", {})}
    return [f"  {bench}.{key} = {value}" for bench, values in figures.items() for key, value in values.items()
            if (bench, key) not in used]


def render(figures: Figures) -> str:
    lines = table(figures)
    widths = [max(len(cells[i]) for cells in [*lines, ("figure", "measured", "goal", "met?")]) for i in range(4)]
    out = ["", "bench summary (this run of make bench)"]
    for cells in [("figure", "measured", "goal", "met?"), tuple("-" * w for w in widths), *lines]:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip())
    extra = others(figures)
    if extra:
        out += ["", "other figures recorded:", *extra]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clear", action="store_true", help="forget the figures of the previous run")
    if parser.parse_args(argv).clear:
        clear()
        return 0
    print(render(load_all()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
