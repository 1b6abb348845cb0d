"""The worker's admission rule for crew runs, on a SQLite store: runs side by side up to
REPOCREW_WORKER_RUNS_AT_ONCE, never two jobs of one run at once; a duplicate claimed while its
run is in flight is deferred (not claimed again in a spin, its attempt uncounted) and runs once
the run's job is done."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from bot.runs.lifecycle import CREW_RUN_JOB
from bot.store import queue
from bot.store.models import Job, JobStatus, utcnow
from bot.wiring import build_services
from jobs.worker import Worker
from tests.conftest import make_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
WAIT = 10  # seconds before a test gives up on what it waits for


class RunsSeen:
    """What the crew-run handler saw: the jobs in it now, per run and in all, and the most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[Any] = Counter()
        self.most: Counter[Any] = Counter()
        self.entered: list[int] = []  # job ids, in the order their handlers began

    @contextmanager
    def inside(self, job) -> Iterator[None]:
        run = job.args["run_id"]
        with self.lock:
            self.entered.append(job.id)
            for key in (run, "*"):
                self.now[key] += 1
                self.most[key] = max(self.most[key], self.now[key])
        try:
            yield
        finally:
            with self.lock:
                self.now[run] -= 1
                self.now["*"] -= 1


@contextmanager
def running(engine, database_url: str, handler: Callable, **settings: Any) -> Iterator[Worker]:
    services = build_services(make_settings(database_url, **settings), engine)
    worker = Worker(services, handlers={CREW_RUN_JOB: handler}, concurrency=8)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(WAIT)
        assert not thread.is_alive()


def _runs(engine, *run_ids: int) -> list[int]:
    return [queue.enqueue(engine, kind=CREW_RUN_JOB, args={"run_id": run}) for run in run_ids]


def _jobs(engine, ids: list[int]) -> dict[int, Any]:
    with engine.connect() as connection:
        return {job.id: job for job in connection.execute(select(Job).where(Job.id.in_(ids)))}


def _until(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"waited for {what}")


def _all_done(engine, ids: list[int]) -> dict[int, Any]:
    ended = (JobStatus.DONE, JobStatus.DEAD)
    jobs = _until("the jobs to end", lambda: _ended(engine, ids, ended))
    assert {job.status for job in jobs.values()} == {JobStatus.DONE}, jobs
    return jobs


def _ended(engine, ids: list[int], ended: tuple[str, ...]) -> dict[int, Any] | None:
    jobs = _jobs(engine, ids)
    return jobs if all(job.status in ended for job in jobs.values()) else None


def test_the_jobs_of_two_runs_run_side_by_side(engine, database_url):
    met = threading.Barrier(2, timeout=WAIT)  # each run waits for the other: only side by side
    seen = RunsSeen()

    def meet(job, _services) -> None:
        with seen.inside(job):
            met.wait()

    ids = _runs(engine, 1, 2)
    with running(engine, database_url, meet):  # REPOCREW_WORKER_RUNS_AT_ONCE: its default, 2
        jobs = _all_done(engine, ids)
    assert [job.attempts for job in jobs.values()] == [1, 1]
    assert seen.most["*"] == 2 and not met.broken


def test_a_second_job_of_a_run_in_flight_waits_uncounted_and_runs_after_it(engine, database_url):
    let_go = threading.Event()
    seen = RunsSeen()

    def drive(job, _services) -> None:
        with seen.inside(job):
            if job.args["run_id"] == 7:
                let_go.wait(WAIT)  # run 7's first job holds its run until the test lets go

    first, duplicate, other = _runs(engine, 7, 7, 8)
    with running(engine, database_url, drive):
        holding = _until("a job of run 7 in its handler", lambda: seen.entered[:1])[0]
        waiting = duplicate if holding == first else first

        def deferred() -> bool:
            jobs = _jobs(engine, [waiting, other])
            job = jobs[waiting]
            deferred = job.status == JobStatus.QUEUED and job.run_after > utcnow()
            return deferred and jobs[other].status == JobStatus.DONE

        # Run 8 ran beside run 7; run 7's other job was given back until later, unleased and
        # with no attempt counted (a release due at once would be claimed again in a spin).
        _until("run 8 done and run 7's second job deferred", deferred)
        held = _jobs(engine, [waiting])[waiting]
        assert (held.attempts, held.lease_owner) == (0, None)
        let_go.set()
        jobs = _all_done(engine, [first, duplicate, other])
    assert {job_id: job.attempts for job_id, job in jobs.items()} == {
        first: 1,
        duplicate: 1,
        other: 1,
    }
    assert seen.most[7] == 1  # never two of run 7 at once
    assert [job for job in seen.entered if job != other] == [holding, waiting]


def test_a_worker_drives_at_most_its_runs_at_once(engine, database_url):
    met = threading.Barrier(3, timeout=WAIT)  # three runs at once, or none gets past it
    seen = RunsSeen()

    def meet(job, _services) -> None:
        with seen.inside(job):
            met.wait()

    ids = _runs(engine, *range(1, 10))
    with running(engine, database_url, meet, worker_runs_at_once=3):  # 8 slots, 3 runs
        jobs = _all_done(engine, ids)
    assert seen.most["*"] == 3  # the bound is reached, never passed
    assert {job.attempts for job in jobs.values()} == {1} and not met.broken
