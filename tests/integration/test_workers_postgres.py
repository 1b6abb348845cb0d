"""Two worker processes on PostgreSQL: 500 jobs each run once; a SIGKILLed job is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from bot.store import queue
from bot.store.models import Job, JobStatus
from tests.conftest import REPO
from tests.support.worker_proc import READY, effect, metadata

pytestmark = pytest.mark.postgres

LEASE_SECONDS = 2.0


def _start_worker(database_url: str, worker_id: str) -> subprocess.Popen:
    env = os.environ | {
        "REPOCREW_DATABASE_URL": database_url,
        "REPOCREW_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "REPOCREW_WORKER_POLL_SECONDS": "0.05",
        "REPOCREW_SHUTDOWN_GRACE_SECONDS": "5",
        "TEST_WORKER_ID": worker_id,
    }
    return subprocess.Popen([sys.executable, "-m", "tests.support.worker_proc"], cwd=REPO, env=env)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _effects(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(effect).where(effect.c.phase != READY)).all()


def _ready(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(effect).where(effect.c.phase == READY)).all()


@pytest.fixture
def pg_engine(postgres_url):
    from bot.store.engine import make_engine
    from bot.store.migrate import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def workers():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_two_workers_drain_500_jobs_each_exactly_once(pg_engine, postgres_url, workers):
    workers += [_start_worker(postgres_url, "w1"), _start_worker(postgres_url, "w2")]
    # Both must be polling first: one worker alone drains 500 jobs before a slow start ends.
    _wait_for(lambda: len(_ready(pg_engine)) == 2, 60, "both workers to start")
    job_ids = {queue.enqueue(pg_engine, kind="record") for _ in range(500)}

    def drained() -> bool:
        return queue.counts_by_status(pg_engine) == {JobStatus.DONE: 500}

    _wait_for(drained, 90, "500 jobs to finish")
    effects = _effects(pg_engine)
    assert len(effects) == 500
    assert {e.job_id for e in effects} == job_ids
    by_worker = {w: sum(1 for e in effects if e.worker_id == w) for w in ("w1", "w2")}
    assert all(n > 0 for n in by_worker.values()), by_worker

    for process in workers:  # graceful stop on SIGTERM
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0


def test_a_job_of_a_killed_worker_is_finished_by_the_other(pg_engine, postgres_url, workers):
    job_id = queue.enqueue(pg_engine, kind="slow", args={"seconds": 2})
    doomed = _start_worker(postgres_url, "doomed")
    workers.append(doomed)
    _wait_for(lambda: any(e.phase == "started" for e in _effects(pg_engine)), 30, "job start")
    workers.append(_start_worker(postgres_url, "survivor"))
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)

    def finished() -> bool:
        with pg_engine.connect() as connection:
            status = connection.execute(select(Job.status).where(Job.id == job_id)).scalar_one()
        return status == JobStatus.DONE

    _wait_for(finished, 30, "the survivor to finish the job")
    effects = [(e.worker_id, e.phase) for e in _effects(pg_engine)]
    assert effects == [("doomed", "started"), ("survivor", "started"), ("survivor", "finished")]
    with pg_engine.connect() as connection:
        attempts = connection.execute(select(Job.attempts).where(Job.id == job_id)).scalar_one()
        total = connection.execute(select(func.count()).select_from(Job)).scalar_one()
    assert (attempts, total) == (2, 1)
