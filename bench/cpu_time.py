"""Where a benchmark's CPU time went: its own process, the processes it started, and the
PostgreSQL server, read from /proc (Linux) before and after the timed part.

On a 2-core machine the scale-out a second worker process can bring is bounded by the CPU a
job costs everywhere, not only in the worker: these figures say how far a setup is from it.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User and system CPU seconds of a live process (its threads included); 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15)


def postgres_pids() -> list[int]:
    """Every process of the local PostgreSQL server (the postmaster, its backends, helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core, every process, the kernel)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICK


def own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuReading:
    workers: float
    postgres: dict[int, float]  # by process: backends come and go
    bench: float
    machine: float


def read(worker_pids: Iterable[int], *, with_postgres: bool) -> CpuReading:
    return CpuReading(
        workers=sum(process_seconds(pid) for pid in worker_pids),
        postgres={pid: process_seconds(pid) for pid in postgres_pids()} if with_postgres else {},
        bench=own_seconds(),
        machine=machine_busy_seconds(),
    )


def per_job_line(before: CpuReading, after: CpuReading, jobs: int) -> str:
    """CPU milliseconds per job in each place, e.g. `workers=1.21 postgres=0.55 bench=0.20
    other=0.05` (`other`: the rest of the machine, the kernel's work for them included). A
    PostgreSQL process that ended meanwhile is left out (what it spent is unknown)."""
    parts = {
        "workers": after.workers - before.workers,
        "postgres": sum(
            seconds - before.postgres.get(pid, 0.0) for pid, seconds in after.postgres.items()
        ),
        "bench": after.bench - before.bench,
    }
    parts["other"] = after.machine - before.machine - sum(parts.values())
    return " ".join(f"{name}={seconds * 1000 / jobs:.2f}" for name, seconds in parts.items())
