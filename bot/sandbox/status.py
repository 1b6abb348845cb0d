"""Can this host sandbox untrusted code? Probed once, by running `true` the way a run would.

A missing bwrap, a kernel or container that refuses namespaces, or root without a pids cgroup
(where nothing would stop a fork bomb) each make the sandbox unavailable, with a reason that
tells the operator what to install or configure.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.bwrap import NAMESPACE_TIERS, TIER_NAMES, bwrap_argv, sandbox_env
from bot.sandbox.cgroup import PidsCgroup
from bot.sandbox.limits import SandboxLimits, child_setup

PROBE_SECONDS = 15
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt install bubblewrap)"
NAMESPACE_HINT = (
    "use bubblewrap 0.8 or newer and allow user namespaces (sysctl user.max_user_namespaces > 0 "
    "and, where present, kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 "
    "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap); "
    "in a container, run it with a seccomp profile that permits them"
)
ROOT_HINT = (
    "running as root, where the kernel ignores RLIMIT_NPROC, and no writable pids cgroup was "
    "found, so nothing would hold a fork bomb: run repocrew as an unprivileged user "
    "(deploy/Dockerfile does) or give it a pids cgroup"
)


class SandboxUnavailable(RuntimeError):
    """No sandbox here; the message says what to install or configure."""


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str
    bwrap: str | None = None  # the resolved executable
    namespaces: tuple[str, ...] = ()  # the bwrap options that worked


def needs_pids_cgroup() -> bool:
    """RLIMIT_NPROC never binds root, so root needs a pids cgroup to limit processes."""
    return os.geteuid() == 0


@functools.cache
def sandbox_status(bwrap: str = "bwrap") -> SandboxStatus:
    """Probe (once per bwrap path) whether runs can be sandboxed, and say how or why not."""
    path = shutil.which(bwrap)
    if path is None:
        return SandboxStatus(False, f"bwrap not found ({bwrap}): {INSTALL_HINT}")
    version = _version(path)
    if needs_pids_cgroup() and not _can_make_pids_cgroup():
        return SandboxStatus(False, f"{version}: {ROOT_HINT}", path)
    errors = []
    for namespaces, described in zip(NAMESPACE_TIERS, TIER_NAMES, strict=True):
        error = _probe(path, namespaces)
        if error is None:
            held_by = "a pids cgroup" if needs_pids_cgroup() else "RLIMIT_NPROC"
            reason = f"{version} with {described}; processes held by {held_by}"
            return SandboxStatus(True, reason, path, namespaces)
        errors.append(error)
    return SandboxStatus(False, f"{version} cannot sandbox here ({errors[0]}): {NAMESPACE_HINT}")


def _version(path: str) -> str:
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=PROBE_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{path} ({error})"
    lines = done.stdout.strip().splitlines()
    return lines[0] if lines else path


def _can_make_pids_cgroup() -> bool:
    cgroup = PidsCgroup.create(SandboxLimits().processes)
    if cgroup is None:
        return False
    cgroup.remove()
    return True


def _probe(path: str, namespaces: tuple[str, ...]) -> str | None:
    """None when `true` runs in the sandbox exactly as a run would; else bwrap's complaint."""
    limits = SandboxLimits()
    with tempfile.TemporaryDirectory(prefix="repocrew-probe-") as workspace:
        cgroup = PidsCgroup.create(limits.processes)
        argv = bwrap_argv(
            path,
            ["true"],
            workspace=Path(workspace).resolve(),
            limits=limits,
            namespaces=namespaces,
        )
        try:
            done = subprocess.run(
                argv,
                env=sandbox_env(home="/tmp"),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=PROBE_SECONDS,
                preexec_fn=child_setup(limits, cgroup.procs if cgroup else None),
            )
        except (OSError, subprocess.SubprocessError) as error:
            return str(error)
        finally:
            if cgroup is not None:
                cgroup.remove()
    if done.returncode == 0:
        return None
    return done.stderr.strip() or f"bwrap exited {done.returncode}"
