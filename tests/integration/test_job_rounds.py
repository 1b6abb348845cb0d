"""A worker's round trips to the queue (`Rounds`), on SQLite and PostgreSQL: outcomes of several
jobs and a claim of several in one transaction, with the guarantees of one-at-a-time claims."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, text, update

from bot.store import queue
from bot.store.deliveries import StoredDelivery
from bot.store.job_rounds import Ended, Rounds
from bot.store.models import Delivery, Job, JobStatus, utcnow


def _rounds(engine, worker: str = "w1") -> Rounds:
    return Rounds(engine, worker_id=worker, lease_seconds=60, workers_limit=5)


def _job(engine, job_id: int):
    with engine.connect() as connection:
        return connection.execute(select(Job).where(Job.id == job_id)).one()


def test_a_round_claims_up_to_its_want_due_first_each_once(engine):
    later = utcnow() + timedelta(hours=1)
    ids = [queue.enqueue(engine, kind="k") for _ in range(5)]
    queue.enqueue(engine, kind="k", run_after=later)  # not due
    queue.enqueue(engine, kind="skipped")
    first, second = _rounds(engine, "w1"), _rounds(engine, "w2")
    try:
        got = first(ended=[], want=3, backoff_seconds=1, skip_kinds=["skipped"])
        rest = second(ended=[], want=10, backoff_seconds=1, skip_kinds=["skipped"])
    finally:
        first.close()
        second.close()
    assert [job.id for job in got.claimed] == ids[:3]
    assert [job.id for job in rest.claimed] == ids[3:]
    for job in got.claimed:
        stored = _job(engine, job.id)
        assert (stored.status, stored.lease_owner, stored.attempts) == ("running", "w1", 1)


def test_a_round_records_outcomes_only_of_jobs_still_its_own(engine):
    ids = [queue.enqueue(engine, kind="k") for _ in range(4)]
    rounds = _rounds(engine)
    try:
        claimed = rounds(ended=[], want=4, backoff_seconds=1).claimed
        with engine.begin() as connection:  # the third was taken over by another worker
            connection.execute(update(Job).where(Job.id == ids[2]).values(lease_owner="w9"))
        ended = [Ended(claimed[0], None), Ended(claimed[1], "boom"), Ended(claimed[2], None)]
        done = rounds(ended=ended, want=0, backoff_seconds=1)
        only_done = rounds(ended=[Ended(claimed[3], None)], want=0, backoff_seconds=1)
    finally:
        rounds.close()
    assert done.statuses == {ids[0]: JobStatus.DONE, ids[1]: JobStatus.QUEUED, ids[2]: None}
    assert only_done.statuses == {ids[3]: JobStatus.DONE} and done.claimed == []
    retried = _job(engine, ids[1])
    assert retried.status == "queued" and "boom" in retried.last_error
    assert retried.run_after > utcnow() and retried.lease_owner is None
    assert _job(engine, ids[2]).lease_owner == "w9"  # left to its new owner


def test_a_round_takes_expired_leases_first_and_ends_crash_loops(engine):
    fresh = queue.enqueue(engine, kind="k")  # queued before the others: due first
    expired = queue.enqueue(engine, kind="k")
    looping = queue.enqueue(engine, kind="k", max_attempts=1)
    past = utcnow() - timedelta(minutes=5)
    with engine.begin() as connection:
        for job_id, attempts in ((expired, 1), (looping, 1)):
            connection.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="running", lease_owner="gone", lease_expires_at=past,
                        attempts=attempts)
            )  # fmt: skip
    rounds = _rounds(engine)
    try:
        got = rounds(ended=[], want=1, backoff_seconds=1)
        assert _job(engine, fresh).status == "queued"  # due first, yet after expired leases
        more = rounds(ended=[], want=5, backoff_seconds=1)
    finally:
        rounds.close()
    assert {job.id for job in got.claimed + more.claimed} == {expired, fresh}
    dead = _job(engine, looping)
    assert dead.status == "dead" and "lease" in dead.last_error


def test_a_job_queued_without_its_own_limit_takes_the_workers(engine):
    fresh = queue.enqueue(engine, kind="k")
    looping = queue.enqueue(engine, kind="k")  # the worker's limit: 1 attempt, spent
    own = queue.enqueue(engine, kind="k", max_attempts=3)  # its own: 3, one spent
    past = utcnow() - timedelta(minutes=5)
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id.in_([looping, own]))
            .values(status="running", lease_owner="gone", lease_expires_at=past, attempts=1)
        )
    rounds = Rounds(engine, worker_id="w1", lease_seconds=60, workers_limit=1)
    try:
        got = rounds(ended=[], want=5, backoff_seconds=1).claimed
    finally:
        rounds.close()
    assert {(job.id, job.max_attempts) for job in got} == {(fresh, 1), (own, 3)}
    assert _job(engine, looping).status == "dead"


def test_a_claimed_job_comes_with_its_delivery(engine):
    with engine.begin() as connection:
        delivery_id = connection.execute(
            Delivery.__table__.insert()  # type: ignore[attr-defined]
            .values(source="github", delivery_id="guid-1", event="issues", action="opened",
                    installation_id=3, received_at=utcnow(), outcome="queued",
                    payload='{"a": 1}')
            .returning(Delivery.__table__.c.id)  # type: ignore[attr-defined]
        ).scalar_one()  # fmt: skip
    job_id = queue.enqueue(engine, kind="github.event", delivery_id=delivery_id)
    rounds = _rounds(engine)
    try:
        (job,) = rounds(ended=[], want=2, backoff_seconds=1).claimed
    finally:
        rounds.close()
    assert job.id == job_id
    assert job.delivery == StoredDelivery("github", "guid-1", 3, "issues", "opened", '{"a": 1}')


def test_rounds_on_postgresql_are_prepared_on_a_connection_of_their_own(engine):
    """Planned once: the pool's connections lose their prepared statements at each rollback."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans nothing over a wire: no statement to prepare")
    rounds = _rounds(engine)
    try:
        for _ in range(7):
            queue.enqueue(engine, kind="k")
            (job,) = rounds(ended=[], want=1, backoff_seconds=1).claimed
            rounds(ended=[Ended(job, None)], want=0, backoff_seconds=1)
        assert rounds._connection is not None
        prepared = rounds._connection.execute(
            text("SELECT statement FROM pg_prepared_statements")
        ).scalars()
        assert any("WITH done AS" in statement for statement in prepared)
    finally:
        rounds.close()


def test_a_claim_finds_expired_leases_by_expiry_not_by_reading_every_running_entry(engine):
    """On PostgreSQL a job's index entries of its earlier states stay until vacuum: found
    through `status = 'running'`, each claim read the entries of every job claimed before it
    (a claim's cost grew with the jobs drained). The partial index on the lease expiry, the
    oldest first, holds running jobs alone and is read from the expired end."""
    now = utcnow()
    with engine.begin() as connection:  # a drained backlog, and a few jobs running now
        connection.execute(
            Job.__table__.insert(),
            [
                {"kind": "k", "status": "done" if n >= 8 else "running", "args": "{}",
                 "lease_owner": None if n >= 8 else "w9",
                 "lease_expires_at": None if n >= 8 else now + timedelta(minutes=1),
                 "run_after": now, "created_at": now, "updated_at": now}
                for n in range(2000)
            ],
        )  # fmt: skip
        connection.exec_driver_sql("ANALYZE job")
    sent: list[tuple[str, object]] = []

    def keep(_connection, _cursor, statement, parameters, _context, _many) -> None:
        if "lease_expires_at <" in statement:
            sent.append((statement, parameters))

    queue.enqueue(engine, kind="k")
    event.listen(engine, "before_cursor_execute", keep)
    rounds = _rounds(engine)
    try:
        assert len(rounds(ended=[], want=4, backoff_seconds=1).claimed) == 1
    finally:
        rounds.close()
        event.remove(engine, "before_cursor_execute", keep)
    ((statement, parameters),) = sent
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        plan = " ".join(map(str, connection.exec_driver_sql(explain + statement, parameters)))
    assert "ix_job_lease" in plan, plan
