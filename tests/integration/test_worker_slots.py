"""A worker running several jobs at once keeps the queue's guarantees, on SQLite and PostgreSQL:
its bound, one crew-run step at a time, outcomes and retries of quick jobs, lease renewal of
long ones, release at shutdown, and wake-ups for jobs queued in its own process."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from bot.runs.lifecycle import CREW_RUN_JOB
from bot.store import queue
from bot.store.engine import make_engine
from bot.store.models import Job, JobStatus, utcnow
from bot.wiring import build_services
from jobs.worker import Worker
from tests.conftest import make_settings
from tests.support.worker_thread import running


class Overlap:
    """Counts how many jobs of each kind run at the same moment, and the most ever seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    def handler(self, seconds: float):
        def run(job, _services) -> None:
            with self.lock:
                self.now[job.kind] += 1
                self.now["*"] += 1
                for key in (job.kind, "*"):
                    self.most[key] = max(self.most[key], self.now[key])
            time.sleep(seconds)
            with self.lock:
                self.now[job.kind] -= 1
                self.now["*"] -= 1

        return run


def _statuses(engine, ids: list[int]) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(Job.id, Job.status).where(Job.id.in_(ids)))
        return {row.id: row.status for row in rows}


def _wait_ended(engine, ids: list[int], timeout: float = 30) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = _statuses(engine, ids)
        if all(s in (JobStatus.DONE, JobStatus.DEAD) for s in statuses.values()):
            return statuses
        time.sleep(0.02)
    raise AssertionError(f"jobs still unfinished: {_statuses(engine, ids)}")


def _job(engine, job_id: int):
    with engine.connect() as connection:
        return connection.execute(select(Job).where(Job.id == job_id)).one()


def test_a_worker_runs_at_most_its_concurrency_at_once(engine, database_url):
    overlap = Overlap()
    services = build_services(make_settings(database_url), engine)
    worker = Worker(services, handlers={"io": overlap.handler(0.3)}, concurrency=3)
    ids = [queue.enqueue(engine, kind="io") for _ in range(9)]
    with running(worker):
        statuses = _wait_ended(engine, ids)
    assert set(statuses.values()) == {JobStatus.DONE}
    assert overlap.most["io"] == 3  # the bound is reached, never passed


def test_crew_run_steps_never_run_two_at_once_in_one_worker(engine, database_url):
    overlap = Overlap()
    handlers = {CREW_RUN_JOB: overlap.handler(0.2), "io": overlap.handler(0.2)}
    services = build_services(make_settings(database_url), engine)
    worker = Worker(services, handlers=handlers, concurrency=4)
    runs = [queue.enqueue(engine, kind=CREW_RUN_JOB, args={"run_id": 7}) for _ in range(3)]
    others = [queue.enqueue(engine, kind="io") for _ in range(6)]
    with running(worker):
        statuses = _wait_ended(engine, runs + others)
    assert set(statuses.values()) == {JobStatus.DONE}
    assert overlap.most[CREW_RUN_JOB] == 1
    assert overlap.most["*"] > 1  # the other jobs ran beside the crew run


def test_quick_jobs_run_by_slots_complete_retry_and_die_as_before(engine, database_url):
    calls: Counter[str] = Counter()

    def ok(job, _services) -> None:
        calls["ok"] += 1

    def flaky(job, _services) -> None:
        calls["flaky"] += 1
        if job.attempts < 2:
            raise RuntimeError("transient")

    def broken(job, _services) -> None:
        raise ValueError("always broken")

    settings = make_settings(database_url, job_backoff_seconds=0.01)
    handlers = {"ok": ok, "flaky": flaky, "broken": broken}
    worker = Worker(build_services(settings, engine), handlers=handlers, concurrency=2)
    ok_ids = [queue.enqueue(engine, kind="ok") for _ in range(5)]
    flaky_id = queue.enqueue(engine, kind="flaky")
    broken_id = queue.enqueue(engine, kind="broken", max_attempts=2)
    with running(worker):
        _wait_ended(engine, [*ok_ids, flaky_id, broken_id])
    assert all(_job(engine, i).status == JobStatus.DONE for i in ok_ids)
    assert calls["ok"] == 5  # each exactly once
    flaky = _job(engine, flaky_id)
    assert (flaky.status, flaky.attempts, calls["flaky"]) == (JobStatus.DONE, 2, 2)
    broken = _job(engine, broken_id)
    assert broken.status == JobStatus.DEAD and "always broken" in broken.last_error
    assert broken.attempts == 2 and broken.lease_owner is None


@contextmanager
def renewals(engine) -> Iterator[list[str]]:
    """The lease renewals the store is asked for meanwhile."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE JOB SET LEASE_EXPIRES_AT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_quick_job_costs_no_lease_renewal(engine, database_url):
    settings = make_settings(database_url, job_lease_seconds=30)  # quick: under 10 s
    worker = Worker(build_services(settings, engine), handlers={"quick": lambda *_: None})
    ids = [queue.enqueue(engine, kind="quick") for _ in range(5)]
    with renewals(engine) as renewed, running(worker):
        _wait_ended(engine, ids)
    assert renewed == []


def test_a_long_job_keeps_its_lease(engine, database_url):
    settings = make_settings(database_url, job_lease_seconds=0.6)
    taken: list[object] = []

    def slow(job, _services) -> None:
        for _ in range(4):  # 1.6 s: its unrenewed lease would have expired twice over
            time.sleep(0.4)
            taken.append(queue.claim(engine, worker_id="thief", lease_seconds=30, workers_limit=5))

    worker = Worker(build_services(settings, engine), handlers={"slow": slow}, concurrency=2)
    slow_id = queue.enqueue(engine, kind="slow")
    with renewals(engine) as renewed, running(worker):
        _wait_ended(engine, [slow_id])
    assert taken == [None] * 4  # no other worker could take it while it ran
    assert len(renewed) >= 3
    job = _job(engine, slow_id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)


def test_a_job_whose_lease_was_taken_over_is_left_to_its_new_owner(engine, database_url):
    settings = make_settings(database_url, job_lease_seconds=0.3)
    release = threading.Event()
    handlers = {"slow": lambda *_: release.wait(10)}
    worker = Worker(build_services(settings, engine), handlers=handlers, concurrency=2)
    job_id = queue.enqueue(engine, kind="slow")
    with renewals(engine) as renewed, running(worker):
        deadline = time.monotonic() + 10
        while not renewed and time.monotonic() < deadline:
            time.sleep(0.01)
        with engine.begin() as connection:  # as if the lease had lapsed and another took it
            later = utcnow() + timedelta(minutes=5)
            connection.execute(
                Job.__table__.update()
                .where(Job.id == job_id)
                .values(lease_owner="other", lease_expires_at=later)
            )
        time.sleep(0.5)  # the next renewal finds the job gone
        release.set()
        time.sleep(0.3)
        job = _job(engine, job_id)
    assert (job.status, job.lease_owner) == (JobStatus.RUNNING, "other")


def test_a_job_queued_in_the_process_wakes_an_idle_worker(engine, database_url):
    settings = make_settings(database_url, worker_poll_seconds=60)
    ran = threading.Event()
    worker = Worker(build_services(settings, engine), handlers={"ping": lambda *_: ran.set()})
    with running(worker):
        time.sleep(0.3)  # every slot has looked, found nothing, and sleeps its minute
        queue.enqueue(engine, kind="ping")
        assert ran.wait(10)  # long before the next poll


def test_one_look_claims_work_for_every_free_slot(engine, database_url):
    """Jobs queued by another process ring no bell here (on SQLite): the first look that finds
    them claims one for each free slot, so every slot is at work at once, not at later polls."""
    settings = make_settings(database_url, worker_poll_seconds=60, worker_concurrency=4)
    together = threading.Barrier(4, timeout=10)  # broken unless all four run at once
    worker = Worker(build_services(settings, engine), handlers={"meet": lambda *_: together.wait()})
    elsewhere = make_engine(database_url)  # another process's engine: no listener of ours
    try:
        with running(worker):
            time.sleep(0.3)  # every slot has looked, found nothing, and sleeps its minute
            ids = [queue.enqueue(elsewhere, kind="meet") for _ in range(4)]
            worker._bell.ring()  # as its poll would, once
            statuses = _wait_ended(engine, ids)
    finally:
        elsewhere.dispose()
    assert set(statuses.values()) == {JobStatus.DONE}
    assert not together.broken


def test_shutdown_releases_every_job_still_running_after_the_grace(engine, database_url):
    settings = make_settings(database_url, shutdown_grace_seconds=0.2)
    release = threading.Event()
    handlers = {"slow": lambda *_: release.wait(10)}
    worker = Worker(build_services(settings, engine), handlers=handlers, concurrency=3)
    ids = [queue.enqueue(engine, kind="slow") for _ in range(3)]
    with running(worker):
        deadline = time.monotonic() + 10
        while len(worker.in_flight()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    release.set()
    time.sleep(0.2)  # the handlers end after the release: their outcome is not recorded
    for job_id in ids:
        job = _job(engine, job_id)
        assert (job.status, job.attempts, job.lease_owner) == (JobStatus.QUEUED, 0, None)
