"""What a sandboxed run may use, what it did, and which limit stopped it.

The limits become rlimits in the child just before it execs (so they bind bwrap and everything
it starts); the wall clock and the output cap are enforced by the runner. `classify_limit`
turns an exit status and the output into the name of the limit that was hit, where that can
be told.
"""

from __future__ import annotations

import os
import re
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LimitName = Literal["wall_time", "cpu_time", "memory", "processes", "file_size"]

# Grace between the soft CPU limit (SIGXCPU, catchable) and the hard one (SIGKILL).
CPU_HARD_GRACE_SECONDS = 2

MEMORY_SIGNS = re.compile(
    r"MemoryError|Cannot allocate memory|std::bad_alloc|memory allocation of \d+ bytes failed"
    r"|out of memory",
    re.IGNORECASE,
)
FORK_SIGNS = re.compile(
    r"BlockingIOError: \[Errno 11\]|can't start new thread|Cannot fork|fork: retry"
    r"|fork: Resource temporarily unavailable"
)


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int = 300
    memory_bytes: int = 2 * 1024**3  # address space per process (RLIMIT_AS)
    processes: int = 256
    wall_seconds: float = 600
    output_bytes: int = 1_000_000
    file_size_bytes: int = 256 * 1024**2
    tmp_bytes: int = 512 * 1024**2  # each private tmpfs (/tmp, /dev/shm): tmpfs is RAM


@dataclass(frozen=True)
class SandboxResult:
    command: tuple[str, ...]
    exit_code: int | None  # death by signal N shows as 128 + N, as bwrap and shells report it
    output: str  # stdout and stderr interleaved; head and tail kept when over output_bytes
    timed_out: bool
    limit_hit: LimitName | None
    duration_seconds: float
    sandboxed: bool
    output_truncated: bool = False

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def rlimits(limits: SandboxLimits) -> dict[int, tuple[int, int]]:
    """The (soft, hard) rlimits for a run. RLIMIT_NPROC does not bind root: see cgroup.py."""
    return {
        resource.RLIMIT_CPU: (limits.cpu_seconds, limits.cpu_seconds + CPU_HARD_GRACE_SECONDS),
        resource.RLIMIT_AS: (limits.memory_bytes, limits.memory_bytes),
        resource.RLIMIT_NPROC: (limits.processes, limits.processes),
        resource.RLIMIT_FSIZE: (limits.file_size_bytes, limits.file_size_bytes),
        resource.RLIMIT_CORE: (0, 0),
    }


def child_setup(limits: SandboxLimits, cgroup_procs: Path | None) -> Callable[[], None]:
    """The preexec_fn: join the cgroup, then lower the rlimits.

    It runs between fork and exec, so it only calls functions that are already imported and
    allocate little (a fork of a threaded process must not wait on another thread's lock).
    """
    pairs = [(which, _within_hard(which, *values)) for which, values in rlimits(limits).items()]
    procs = os.fsencode(cgroup_procs) if cgroup_procs else None

    def setup() -> None:
        if procs is not None:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, b"%d" % os.getpid())
            finally:
                os.close(fd)
        for which, values in pairs:
            resource.setrlimit(which, values)

    return setup


def _within_hard(which: int, soft: int, hard: int) -> tuple[int, int]:
    """Never ask for more than the current hard limit: raising it needs privilege."""
    current = resource.getrlimit(which)[1]
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
    return min(soft, hard), hard


def shell_exit_code(wait_status: int) -> int:
    """An exit status as shells print it: a death by signal N is 128 + N."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def classify_limit(
    *,
    exit_code: int | None,
    output: str,
    timed_out: bool,
    forks_refused: int = 0,
) -> LimitName | None:
    """Which limit stopped the run, where the evidence says; None for a clean or plain failure.

    `forks_refused` comes from the pids cgroup (exact); the output signs are best effort.
    """
    if exit_code == 0 and not timed_out:
        return None
    if forks_refused:
        return "processes"
    if timed_out:
        return "wall_time"
    if exit_code == 128 + signal.SIGXCPU:
        return "cpu_time"
    if exit_code == 128 + signal.SIGXFSZ:
        return "file_size"
    if exit_code == 128 + signal.SIGKILL:
        # Nothing of ours sends it before the wall time, so the OOM killer most likely did; the
        # hard CPU limit would too, but only to a process that survived SIGXCPU.
        return "memory"
    if FORK_SIGNS.search(output):
        return "processes"
    if MEMORY_SIGNS.search(output):
        return "memory"
    return None
