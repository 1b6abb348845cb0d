"""The repocrew processes the worker benchmark drains with: started, paused and stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench.soak import stop


@contextmanager
def repocrew(commands: list[list[str]], env: dict, work: Path):
    binary = str(Path(sys.executable).with_name("repocrew"))
    processes = []
    try:
        for n, command in enumerate(commands):
            log = (work / f"{command[0]}-{n}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [binary, *command], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=log
                )
            )
        yield processes
    finally:
        for process in processes:
            stop(process)


@contextmanager
def paused(processes: list[subprocess.Popen]):
    """Stop the processes (SIGSTOP) and let them go on (SIGCONT) on leaving, whatever happens."""
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGCONT)


def wait_started(processes: list[subprocess.Popen], timeout: float = 120) -> None:
    """Every worker process has started its job slots (threads), its imports long done."""
    deadline = time.monotonic() + timeout
    for process in processes:
        tasks = Path(f"/proc/{process.pid}/task")
        while len(list(tasks.iterdir())) < 2:  # the main thread and its first job slot
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"worker {process.pid} did not start")
            time.sleep(0.1)
