"""Real `repocrew web|worker|scheduler` processes that a test can SIGKILL and restart cheaply.

A fresh Python spends seconds importing the crew's stack, and a chaos test restarts processes
fifty times on a shared two-core machine. So, like gunicorn's `preload`, one parent process
(`python -m tests.support.chaos`) imports everything once and forks each process from there;
the child then runs the real command (`repocrew.cli`, unmodified) with the parent's environment.
The parent is single-threaded and opens nothing (no engine, no socket), so forking it is safe.

Protocol on the parent's stdin/stdout, one line each: `start <name> <repocrew args…>` → the
child's pid. Each child's stderr goes to `<log dir>/<name>.log`. When stdin closes (the test
ends or dies), the parent SIGKILLs its children and exits, so nothing outlives the test.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import traceback
from pathlib import Path

PRELOAD = (
    "repocrew.cli",
    "webhooks.app",
    "jobs.handlers",
    "jobs.worker",
    "jobs.scheduler",
    "uvicorn",
)


def _child(name: str, args: list[str], log_dir: Path) -> None:
    """In the forked child: logs to its own file, then the real command; never returns."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        log = os.open(log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(log, 2)
        os.chdir(os.environ.get("CHAOS_CWD", "."))  # where a deployment would keep .env etc.
        from repocrew.cli import app

        try:
            app(args=args, prog_name="repocrew")
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()  # to the child's log: os._exit below would swallow it
    finally:
        sys.stderr.flush()
        os._exit(code)


def _reap(children: set[int]) -> None:
    for pid in list(children):
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                continue
        children.discard(pid)


def serve(log_dir: Path) -> None:
    """The parent's loop: fork on request, reap the dead, kill everyone when stdin closes."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    children: set[int] = set()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stdin = sys.stdin.buffer.raw  # unbuffered: select() must see every line
    pending = b""
    while True:
        readable, _, _ = select.select([stdin], [], [], 0.05)
        _reap(children)
        if not readable:
            continue
        chunk = os.read(stdin.fileno(), 4096)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            command, name, *args = line.decode().split()
            assert command == "start", command
            pid = os.fork()
            if pid == 0:
                _child(name, args, log_dir)
            children.add(pid)
            sys.stdout.write(f"{pid}\n")
            sys.stdout.flush()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


class Forker:
    """The test's handle on the parent: start named processes, SIGKILL them by pid."""

    def __init__(self, env: dict[str, str], log_dir: Path, cwd: Path) -> None:
        self.log_dir = log_dir
        self.parent = subprocess.Popen(
            [sys.executable, "-m", "tests.support.chaos", str(log_dir)],
            cwd=Path(__file__).resolve().parents[2],
            env=env | {"CHAOS_CWD": str(cwd), "PYTHONPATH": str(Path(__file__).parents[2])},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.pids: dict[str, int] = {}
        self._ready = False  # the parent imports meanwhile; the first start waits for it

    def start(self, name: str, *args: str) -> int:
        assert self.parent.stdin is not None and self.parent.stdout is not None
        if not self._ready:
            said = self.parent.stdout.readline().strip()
            if said != "ready":
                raise RuntimeError(f"the process parent did not start (said {said!r})")
            self._ready = True
        self.parent.stdin.write(f"start {name} {' '.join(args)}\n")
        self.parent.stdin.flush()
        self.pids[name] = int(self.parent.stdout.readline())
        return self.pids[name]

    def kill(self, name: str) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no cleanup, no shutdown hooks."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pids[name], signal.SIGKILL)

    def alive(self, name: str) -> bool:
        try:
            os.kill(self.pids[name], 0)
        except ProcessLookupError:
            return False
        return True

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        if self.parent.stdin is not None:
            self.parent.stdin.close()
        try:
            self.parent.wait(30)
        except subprocess.TimeoutExpired:
            self.parent.kill()
            self.parent.wait(10)
        if self.parent.stdout is not None:
            self.parent.stdout.close()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
