"""Where a benchmark's CPU time went: its own process, the processes it started, and the
PostgreSQL server, read (psutil) before and after the timed part.

On a 2-core machine the scale-out a second worker process can bring is bounded by the CPU a
job costs everywhere, not only in the worker: these figures say how far a setup is from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import psutil


def process_seconds(pid: int) -> float:
    """User and system CPU seconds of a live process (its threads included); 0 once gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def postgres_seconds() -> dict[int, float]:
    """The CPU seconds of every process of the local PostgreSQL server (the postmaster, its
    backends, helpers), by process."""
    found = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] in ("postgres", "postmaster") and process.info["cpu_times"]:
            found[process.pid] = process.info["cpu_times"].user + process.info["cpu_times"].system
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core, every process, the kernel)."""
    times = psutil.cpu_times()._asdict()
    # Linux counts a guest's time in `user` and `nice` as well: left out, as are the idle ones.
    uncounted = ("idle", "iowait", "guest", "guest_nice")
    return sum(seconds for name, seconds in times.items() if name not in uncounted)


@dataclass(frozen=True)
class CpuReading:
    workers: float
    postgres: dict[int, float]  # by process: backends come and go
    bench: float
    machine: float


def read(worker_pids: Iterable[int], *, with_postgres: bool) -> CpuReading:
    return CpuReading(
        workers=sum(process_seconds(pid) for pid in worker_pids),
        postgres=postgres_seconds() if with_postgres else {},
        bench=process_seconds(os.getpid()),
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
