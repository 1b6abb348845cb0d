"""Run one untrusted command in the sandbox: limits on, output captured, nothing left running.

The command runs in its own session under bwrap; the runner reads its output while it waits
(poll on the pipe and a pidfd, so neither a chatty nor a silent child can block it), kills the
whole process group at the wall time, and kills any stragglers when it ends. With bwrap the
stragglers cannot hide: the sandbox's pid namespace dies with it.
"""

from __future__ import annotations

import logging
import math
import os
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.sandbox.bwrap import bwrap_argv, sandbox_env
from bot.sandbox.capture import OutputCapture
from bot.sandbox.cgroup import PidsCgroup
from bot.sandbox.layout import Layout
from bot.sandbox.limits import (
    SandboxLimits,
    SandboxResult,
    child_setup,
    classify_limit,
    shell_exit_code,
)
from bot.sandbox.network import RegistryAccess, bridged
from bot.sandbox.status import (
    ROOT_HINT,
    SandboxStatus,
    SandboxUnavailable,
    needs_pids_cgroup,
    sandbox_status,
)

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
DRAIN_SECONDS = 1.0  # after the end or the kill, for output still in the pipe


def run_sandboxed(
    command: Sequence[str],
    *,
    workspace: Path,
    limits: SandboxLimits = SandboxLimits(),  # noqa: B008 - frozen, so one shared default is safe
    env: Mapping[str, str] | None = None,
    allow_unsandboxed: bool = False,
    bwrap: str = "bwrap",
    ro_paths: Sequence[Path] = (),
    network: RegistryAccess | None = None,
    layout: Layout = Layout(),  # noqa: B008 - frozen
) -> SandboxResult:
    """Run `command` in `workspace` (read-write, and the cwd) and return what happened.

    Raises SandboxUnavailable when bwrap cannot sandbox here, unless `allow_unsandboxed`: then
    the command runs with the limits only (same environment rules) and `sandboxed=False`.
    `ro_paths` are extra host paths to show read-only (a tool cache, another interpreter).
    `network` is registry-only access through the host's proxy (a set-up); without it, none.
    `layout`: where the workspace shows inside, and what else is bound (needs the sandbox).
    """
    argv = tuple(command)
    if not argv:
        raise ValueError("nothing to run: the command is empty")
    workspace = Path(workspace).resolve(strict=True)
    if not workspace.is_dir() or workspace == workspace.parent:
        raise ValueError(f"the workspace must be a directory other than /: {workspace}")
    if network is not None:
        network.check()
    status = sandbox_status(bwrap)
    full, home = _command_line(
        argv,
        status,
        workspace=workspace,
        limits=limits,
        ro_paths=[Path(path).resolve() for path in ro_paths],
        network=network,
        allow_unsandboxed=allow_unsandboxed,
        layout=layout,
    )
    cgroup = PidsCgroup.create(limits.processes)
    if cgroup is None and status.available and needs_pids_cgroup():
        raise SandboxUnavailable(ROOT_HINT)
    try:
        return _run(
            argv,
            full,
            workspace=workspace,
            env=sandbox_env(home=home, extra=env),
            limits=limits,
            cgroup=cgroup,
            sandboxed=status.available,
        )
    finally:
        if cgroup is not None:
            cgroup.remove()


def _command_line(
    argv: tuple[str, ...],
    status: SandboxStatus,
    *,
    workspace: Path,
    limits: SandboxLimits,
    ro_paths: list[Path],
    network: RegistryAccess | None,
    allow_unsandboxed: bool,
    layout: Layout,
) -> tuple[list[str], str]:
    """What to execute, and the HOME it gets: bwrap's argv, or (allowed) the command alone."""
    if status.available and status.bwrap:
        full = bwrap_argv(
            status.bwrap,
            argv,
            workspace=workspace,
            limits=limits,
            namespaces=status.namespaces,
            ro_paths=ro_paths,
            network=network,
            layout=layout,
        )
        return full, "/tmp"
    if allow_unsandboxed and layout != Layout():
        raise SandboxUnavailable(f"a built environment needs the sandbox: {status.reason}")
    if allow_unsandboxed:
        log.warning("running %s WITHOUT a sandbox: %s", argv[0], status.reason)
        full = bridged(argv, network, sandboxed=False) if network else list(argv)
        return full, str(workspace)
    raise SandboxUnavailable(f"refusing to run untrusted code: {status.reason}")


def _run(
    argv: tuple[str, ...],
    full: list[str],
    *,
    workspace: Path,
    env: dict[str, str],
    limits: SandboxLimits,
    cgroup: PidsCgroup | None,
    sandboxed: bool,
) -> SandboxResult:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            full,
            cwd=workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=child_setup(limits, cgroup.procs if cgroup else None),
        )
    except OSError as error:  # bwrap reports a missing command itself; this is bwrap's or ours
        return _not_started(argv, full[0], error, started=started, sandboxed=sandboxed)
    assert proc.stdout is not None
    capture = OutputCapture(limits.output_bytes)
    exited = False
    try:
        exited = _pump(proc, capture, started + limits.wall_seconds)
    finally:
        _kill(proc, cgroup)  # after a timeout, everything; after an exit, any stragglers
        _drain(proc.stdout.fileno(), capture)
        _, wait_status = os.waitpid(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
        proc.stdout.close()
    duration = time.monotonic() - started
    exit_code = None if not exited else shell_exit_code(wait_status)
    output = capture.text()
    return SandboxResult(
        command=argv,
        exit_code=exit_code,
        output=output,
        timed_out=not exited,
        limit_hit=classify_limit(
            exit_code=exit_code,
            output=output,
            timed_out=not exited,
            forks_refused=cgroup.forks_refused() if cgroup else 0,
        ),
        duration_seconds=duration,
        sandboxed=sandboxed,
        output_truncated=capture.truncated,
    )


def _not_started(
    argv: tuple[str, ...], program: str, error: OSError, *, started: float, sandboxed: bool
) -> SandboxResult:
    """The shell's answer when a program cannot start: 126 not allowed, 127 not found."""
    return SandboxResult(
        command=argv,
        exit_code=126 if isinstance(error, PermissionError) else 127,
        output=f"repocrew: cannot run {program}: {error}\n",
        timed_out=False,
        limit_hit=None,
        duration_seconds=time.monotonic() - started,
        sandboxed=sandboxed,
    )


def _pump(proc: subprocess.Popen[bytes], capture: OutputCapture, deadline: float) -> bool:
    """Read output until the process exits (True) or the deadline passes (False)."""
    assert proc.stdout is not None
    out = proc.stdout.fileno()
    pidfd = os.pidfd_open(proc.pid)
    poller = select.poll()
    poller.register(out, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for fd, _ in poller.poll(math.ceil(remaining * 1000)):
                if fd == pidfd:
                    return True
                chunk = os.read(out, CHUNK)
                if chunk:
                    capture.feed(chunk)
                else:
                    poller.unregister(out)  # end of output; keep waiting for the exit
    finally:
        os.close(pidfd)


def _drain(out: int, capture: OutputCapture) -> None:
    """What is left in the pipe, for at most DRAIN_SECONDS (an escaped child may hold it)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    poller = select.poll()
    poller.register(out, select.POLLIN)
    while (remaining := deadline - time.monotonic()) > 0:
        if not poller.poll(math.ceil(remaining * 1000)):
            return
        chunk = os.read(out, CHUNK)
        if not chunk:
            return
        capture.feed(chunk)


def _kill(proc: subprocess.Popen[bytes], cgroup: PidsCgroup | None) -> None:
    # The pid is not reaped yet, so its group id cannot have been reused.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if cgroup is not None:
        cgroup.kill_all()
