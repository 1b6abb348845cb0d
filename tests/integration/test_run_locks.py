"""One driver per run: a second driver of a run is turned away while the first holds it, and
the lock goes with its process however that process ends (both stores)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from bot.store.run_locks import driving
from tests.conftest import REPO

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bot.store.engine import make_engine
    from bot.store.run_locks import driving

    with driving(make_engine(sys.argv[1]), 7, lock_dir=Path(sys.argv[2])) as held:
        print("held" if held else "refused", flush=True)
        time.sleep(600)
    """
)


def _taken_within(engine, lock_dir, *, seconds: float) -> bool:
    """Whether the lock can be had within `seconds` (PostgreSQL's backend of a killed client
    ends, and lets go, a moment after the client's socket closes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with driving(engine, 7, lock_dir=lock_dir) as held:
            if held:
                return True
        time.sleep(0.05)
    return False


def test_a_second_driver_of_a_run_is_turned_away_until_the_first_lets_go(engine, tmp_path):
    with driving(engine, 7, lock_dir=tmp_path) as first:
        with driving(engine, 7, lock_dir=tmp_path) as second:
            with driving(engine, 8, lock_dir=tmp_path) as other_run:
                assert (first, second, other_run) == (True, False, True)
    with driving(engine, 7, lock_dir=tmp_path) as after:
        assert after is True


def test_a_killed_drivers_lock_goes_with_its_process(engine, database_url, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with driving(engine, 7, lock_dir=tmp_path) as while_it_lives:
            assert while_it_lives is False
        holder.send_signal(signal.SIGKILL)  # no cleanup: the server or the kernel lets go
        holder.wait(10)
        assert _taken_within(engine, tmp_path, seconds=10)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)
        holder.stdout.close()
