"""A pids cgroup per run: the process limit where RLIMIT_NPROC cannot hold, and a sure kill.

The kernel never applies RLIMIT_NPROC to root (uid 0 of the host, which is what root inside a
bwrap user namespace still is), so a fork bomb started by a root-run bot is only held by a
`pids.max`. Where a pids cgroup is writable (root on cgroup v1, or a delegated v2 subtree) each
run gets its own; its `pids.events` also says, exactly, whether a fork was refused.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")
REMOVE_SECONDS = 2.0


def pids_parent(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> Path | None:
    """The cgroup under which this process may create pids-limited children, if any."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return None
    entries = [line.split(":", 2) for line in lines if line.count(":") >= 2]
    candidate = None
    for _, controllers, path in entries:
        if "pids" in controllers.split(","):  # cgroup v1: a hierarchy of its own
            candidate = root / "pids" / path.lstrip("/")
    if candidate is None:
        for hierarchy, _, path in entries:
            if hierarchy == "0":  # cgroup v2: only where pids is delegated to our children
                candidate = root / path.lstrip("/")
                if "pids" not in _read(candidate / "cgroup.subtree_control").split():
                    candidate = None
    if candidate is None or not os.access(candidate, os.W_OK):
        return None
    return candidate


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class PidsCgroup:
    """One run's cgroup: `pids.max` set, removed (after killing what is left) on exit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_pids: int, parent: Path | None = None) -> PidsCgroup | None:
        parent = parent or pids_parent()
        if parent is None:
            return None
        path = parent / f"repocrew-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids))
        except OSError as error:
            log.debug("no pids cgroup at %s: %s", path, error)
            if path.is_dir():
                path.rmdir()
            return None
        return cls(path)

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def forks_refused(self) -> int:
        """How many forks the limit refused (`max` in pids.events)."""
        for line in _read(self.path / "pids.events").splitlines():
            name, _, count = line.partition(" ")
            if name == "max" and count.strip().isdigit():
                return int(count)
        return 0

    def pids(self) -> list[int]:
        return [int(pid) for pid in _read(self.procs).split()]

    def kill_all(self) -> None:
        kill_file = self.path / "cgroup.kill"  # v2, Linux 5.14+: atomic, forks cannot race it
        if kill_file.exists():
            kill_file.write_text("1")
            return
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def remove(self) -> None:
        deadline = time.monotonic() + REMOVE_SECONDS
        while True:
            self.kill_all()
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as error:  # EBUSY while the killed are still exiting
                if time.monotonic() > deadline:
                    log.warning("could not remove %s: %s", self.path, error)
                    return
                time.sleep(0.02)

    def __enter__(self) -> PidsCgroup:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.remove()
