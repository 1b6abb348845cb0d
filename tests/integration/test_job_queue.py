"""The durable queue on SQLite and PostgreSQL: leases, retries with backoff, dead jobs."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import select, update

from bot.store import queue
from bot.store.models import Job, JobStatus, utcnow
from bot.wiring import build_services
from jobs.worker import Worker
from tests.conftest import make_settings
from tests.support.store_faults import store_fails


def _job(engine, job_id: int) -> Job:
    with engine.connect() as connection:
        return connection.execute(select(Job).where(Job.id == job_id)).one()


def test_claim_takes_the_oldest_due_job_once(engine):
    first = queue.enqueue(engine, kind="a")
    second = queue.enqueue(engine, kind="b")
    queue.enqueue(engine, kind="later", run_after=utcnow() + timedelta(hours=1))

    claimed = queue.claim(engine, worker_id="w1", lease_seconds=30, workers_limit=5)
    assert claimed is not None and claimed.id == first and claimed.attempts == 1
    again = queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5)
    assert again is not None and again.id == second
    assert queue.claim(engine, worker_id="w3", lease_seconds=30, workers_limit=5) is None


def test_a_quick_lane_worker_leaves_the_skipped_kinds_to_others(engine):
    long_run = queue.enqueue(engine, kind="crew.run")
    post = queue.enqueue(engine, kind="slack.outbox")

    quick = queue.claim(
        engine, worker_id="quick", lease_seconds=30, workers_limit=5, skip_kinds=("crew.run",)
    )
    assert quick is not None and quick.id == post
    assert (
        queue.claim(
            engine, worker_id="quick", lease_seconds=30, workers_limit=5, skip_kinds=("crew.run",)
        )
        is None
    )
    main = queue.claim(engine, worker_id="main", lease_seconds=30, workers_limit=5)
    assert main is not None and main.id == long_run


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_finish(engine):
    job_id = queue.enqueue(engine, kind="a")
    claimed = queue.claim(engine, worker_id="dead-worker", lease_seconds=0.2, workers_limit=5)
    assert claimed is not None
    assert queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5) is None
    time.sleep(0.3)
    taken = queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5)
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    assert not queue.complete(engine, job_id=job_id, worker_id="dead-worker")
    assert queue.complete(engine, job_id=job_id, worker_id="w2")
    assert _job(engine, job_id).status == JobStatus.DONE


def test_renew_keeps_a_lease_alive(engine):
    job_id = queue.enqueue(engine, kind="a")
    queue.claim(engine, worker_id="w1", lease_seconds=0.3, workers_limit=5)
    for _ in range(3):
        time.sleep(0.15)
        assert queue.renew(engine, job_id=job_id, worker_id="w1", lease_seconds=0.3)
    assert queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5) is None


def test_failures_back_off_exponentially_then_die_with_the_error(engine):
    job_id = queue.enqueue(engine, kind="a", max_attempts=3)
    delays = []
    for attempt in (1, 2, 3):
        with engine.begin() as connection:  # make it due now, whatever the backoff said
            connection.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
        claimed = queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=5)
        assert claimed is not None and claimed.attempts == attempt
        before = utcnow()
        status = queue.fail(
            engine, job=claimed, worker_id="w", error=f"boom {attempt}", backoff_seconds=10
        )
        row = _job(engine, job_id)
        if attempt < 3:
            assert status == JobStatus.QUEUED
            delays.append((row.run_after - before).total_seconds())
    assert status == JobStatus.DEAD
    assert row.status == JobStatus.DEAD and row.last_error == "boom 3"
    assert 9 < delays[0] < 11 and 19 < delays[1] < 21
    assert queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=5) is None


def test_attempts_lost_with_dying_workers_do_not_lengthen_the_backoff(engine):
    job_id = queue.enqueue(engine, kind="a", max_attempts=10)
    for _ in range(3):  # three workers die holding it
        assert queue.claim(engine, worker_id="dies", lease_seconds=0.05, workers_limit=5)
        time.sleep(0.1)
    delays = []
    for failure in (1, 2):
        with engine.begin() as connection:  # make it due now, whatever the backoff said
            connection.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
        claimed = queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=5)
        assert claimed is not None and (claimed.attempts, claimed.failures) == (
            3 + failure,
            failure - 1,
        )
        before = utcnow()
        queue.fail(engine, job=claimed, worker_id="w", error="boom", backoff_seconds=10)
        delays.append((_job(engine, job_id).run_after - before).total_seconds())
    # the first failure waits the base, the second twice that (not 2^3 and 2^4 times the base)
    assert 9 < delays[0] < 11 and 19 < delays[1] < 21
    assert _job(engine, job_id).failures == 2


def test_a_job_whose_worker_always_dies_ends_dead(engine):
    job_id = queue.enqueue(engine, kind="a", max_attempts=2)
    for _ in range(2):
        assert (
            queue.claim(engine, worker_id="crashing", lease_seconds=0.05, workers_limit=5)
            is not None
        )
        time.sleep(0.1)
    assert queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=5) is None
    assert _job(engine, job_id).status == JobStatus.DEAD


def test_a_job_queued_without_its_own_limit_takes_the_claiming_workers(engine):
    job_id = queue.enqueue(engine, kind="a")
    own = queue.enqueue(engine, kind="b", max_attempts=4)
    claimed = queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=2)
    assert claimed is not None and (claimed.id, claimed.max_attempts) == (job_id, 2)
    assert queue.fail(engine, job=claimed, worker_id="w", error="x", backoff_seconds=0) == "queued"
    other = queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=2)
    assert other is not None and (other.id, other.max_attempts) == (own, 4)
    again = queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=2)
    assert again is not None and (again.id, again.attempts) == (job_id, 2)
    assert queue.fail(engine, job=again, worker_id="w", error="y", backoff_seconds=0) == "dead"
    # a worker that dies holding a job: its lease lapses, and the next claim counts the attempt
    looping = queue.enqueue(engine, kind="c")
    assert queue.claim(engine, worker_id="dies", lease_seconds=0.05, workers_limit=1) is not None
    time.sleep(0.1)
    assert queue.claim(engine, worker_id="w", lease_seconds=30, workers_limit=1) is None
    assert _job(engine, looping).status == JobStatus.DEAD


def test_release_gives_the_job_back_without_counting_the_attempt(engine):
    job_id = queue.enqueue(engine, kind="a")
    queue.claim(engine, worker_id="w1", lease_seconds=30, workers_limit=5)
    assert queue.release(engine, job_id=job_id, worker_id="w1")
    claimed = queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5)
    assert claimed is not None and claimed.attempts == 1


def test_defer_gives_the_job_back_for_later_without_counting_the_attempt(engine):
    job_id = queue.enqueue(engine, kind="a")
    queue.claim(engine, worker_id="w1", lease_seconds=30, workers_limit=5)
    assert not queue.defer(engine, job_id=job_id, worker_id="w2", seconds=60)  # not w2's
    assert queue.defer(engine, job_id=job_id, worker_id="w1", seconds=60)
    row = _job(engine, job_id)
    assert (row.status, row.attempts, row.lease_owner, row.lease_expires_at) == (
        JobStatus.QUEUED, 0, None, None,
    )  # fmt: skip
    # not due yet
    assert queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5) is None
    with engine.begin() as connection:  # a minute on
        connection.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
    claimed = queue.claim(engine, worker_id="w2", lease_seconds=30, workers_limit=5)
    assert claimed is not None and claimed.id == job_id and claimed.attempts == 1


def test_the_worker_runs_retries_and_kills_jobs_by_their_handlers(engine, database_url):
    calls: list[tuple[str, int]] = []

    def ok(job, _services):
        calls.append(("ok", job.id))

    def flaky(job, _services):
        calls.append(("flaky", job.attempts))
        if job.attempts < 2:
            raise RuntimeError("transient")

    def broken(job, _services):
        raise ValueError("always broken")

    handlers = {"ok": ok, "flaky": flaky, "broken": broken}
    settings = make_settings(database_url, job_backoff_seconds=0.01)
    worker = Worker(build_services(settings, engine), handlers=handlers, worker_id="w")
    ok_id = queue.enqueue(engine, kind="ok")
    flaky_id = queue.enqueue(engine, kind="flaky")
    broken_id = queue.enqueue(engine, kind="broken", max_attempts=2)
    unknown_id = queue.enqueue(engine, kind="nobody-handles-this", max_attempts=1)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        worker.run_until_idle()
        if queue.counts_by_status(engine).keys() <= {"done", "dead"}:
            break
        time.sleep(0.02)

    assert ("ok", ok_id) in calls and [c for c in calls if c[0] == "flaky"] == [
        ("flaky", 1),
        ("flaky", 2),
    ]
    assert _job(engine, ok_id).status == JobStatus.DONE
    assert _job(engine, flaky_id).status == JobStatus.DONE
    broken = _job(engine, broken_id)
    assert broken.status == JobStatus.DEAD and "always broken" in broken.last_error
    unknown = _job(engine, unknown_id)
    assert unknown.status == JobStatus.DEAD and "no handler" in unknown.last_error


def test_a_lease_renewal_the_store_refuses_once_is_tried_again(engine, database_url):
    """Giving the job up would let a second worker run it beside the first, still running."""
    settings = make_settings(database_url, job_lease_seconds=0.3)
    worker = Worker(
        build_services(settings, engine),
        handlers={"slow": lambda *_: time.sleep(0.6)},
        worker_id="w",
    )
    job_id = queue.enqueue(engine, kind="slow")

    renewal = re.compile(r"UPDATE job SET lease_expires_at", re.IGNORECASE)
    with store_fails(engine, when=lambda sql: bool(renewal.search(sql))) as refused:
        assert worker.run_once()
    assert refused and _job(engine, job_id).status == JobStatus.DONE


def test_a_failed_jobs_stored_error_has_its_secrets_redacted(engine, database_url):
    """The Jobs page shows the stored error; a token in an exception never reaches the store."""
    token = "ghs_" + "Q9w8E7r6T5y4U3i2O1p0A9s8D7f6G5h4J3k2"
    settings = make_settings(database_url, slack_bot_token="xoxb-known-to-the-settings-000")

    def leaky(_job, _services):
        raise RuntimeError(f"refused {token} and {settings.slack_bot_token.get_secret_value()}")

    worker = Worker(build_services(settings, engine), handlers={"leaky": leaky}, worker_id="w")
    job_id = queue.enqueue(engine, kind="leaky", max_attempts=1)
    worker.run_until_idle()
    stored = _job(engine, job_id)
    assert (
        stored.status == JobStatus.DEAD and "RuntimeError: refused [REDACTED:" in stored.last_error
    )
    assert token not in stored.last_error and "xoxb-known" not in stored.last_error
