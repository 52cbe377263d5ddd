"""CPU seconds and memory of the processes a benchmark drives: the services, the Kafka broker, PostgreSQL.

Read from /proc (Linux): utime+stime of a process; for PostgreSQL the postmaster, its live backends,
and what its exited children left in cutime+cstime, so a connection closed during a run still counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) ", which may hold spaces


def own_cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15 of proc(5))


def tree_cpu_seconds(pid: int) -> float:
    """The process, its live children, and its reaped children (cutime, cstime)."""
    fields = _stat_fields(pid)
    total = sum(int(f) for f in fields[11:15]) / _TICKS
    for child in _children(pid):
        try:
            total += own_cpu_seconds(child)
        except (OSError, ValueError):
            pass  # exited between the listing and the read: its time is in the parent's cutime next time
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def rss_mib(pid: int | None, *, peak: bool = False) -> float:
    """Resident memory now, or its peak (VmHWM) since the process started."""
    key = "VmHWM:" if peak else "VmRSS:"
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class CpuMeter:
    """Named processes (name -> how to read its CPU seconds); `take()` returns seconds used since the last take."""

    readers: Mapping[str, Callable[[], float]]

    def __post_init__(self) -> None:
        self._last = self._read()

    def _read(self) -> dict[str, float]:
        out = {}
        for name, read in self.readers.items():
            try:
                out[name] = read()
            except (OSError, ValueError):
                out[name] = float("nan")
        return out

    def take(self) -> dict[str, float]:
        now = self._read()
        used = {name: now[name] - self._last.get(name, float("nan")) for name in now}
        self._last = now
        return used


def infra_readers() -> dict[str, Callable[[], float]]:
    """The local broker and PostgreSQL when this machine runs them (none for an external Kafka or database)."""
    from deploy.local_kafka import _kafka_pid
    from deploy.local_postgres import _pg_postmaster

    readers: dict[str, Callable[[], float]] = {}
    kafka = _kafka_pid()
    if kafka is not None:
        readers["kafka"] = lambda: own_cpu_seconds(kafka)
    postmaster = _pg_postmaster()
    if postmaster is not None:
        readers["postgres"] = lambda: tree_cpu_seconds(postmaster[0])
    return readers
