"""One driver per run at a time, across worker processes.

Two jobs can drive the same run at once: a worker killed after its run began to wait leaves
its job to be taken over while the event that ended the wait queues another, and a worker
stalled past its lease keeps working while another takes its job over. Both would clone into
the run's one workspace and race each other's steps. Whoever drives a run holds its lock;
the lock goes with the process that held it, however it ends.

PostgreSQL: a session advisory lock on a connection held for the while (workers on several
machines share it). SQLite, whose workers share one machine: an exclusive `flock` on a file
in the work directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.file_locks import file_lock

# The advisory lock's first key: a namespace, so a run's id cannot meet another lock's.
_RUNS = 0x72756E  # "run"


@contextmanager
def driving(engine: Engine, run_id: int, *, lock_dir: Path) -> Iterator[bool]:
    """Hold the run's lock while inside; yields False at once (holding nothing) when another
    driver has it."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, run_id) as held:
            yield held
    else:
        with file_lock(lock_dir / f"run-{run_id}.lock", wait=False) as held:
            yield held


@contextmanager
def _advisory(engine: Engine, run_id: int) -> Iterator[bool]:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        key = {"space": _RUNS, "run": run_id}
        held = connection.execute(
            text("SELECT pg_try_advisory_lock(:space, :run)"), key
        ).scalar_one()
        try:
            yield bool(held)
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:space, :run)"), key)
