"""The durable job queue: claim with a lease, renew, complete, retry with backoff, or die.

Delivery is at least once: a worker that dies mid-job leaves its lease to expire and another
worker takes the job over, so every handler must be idempotent. PostgreSQL claims with
`FOR UPDATE SKIP LOCKED`; SQLite has one writer, which serialises claims by itself.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Update,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)

from bot.store.deliveries import StoredDelivery, read_delivery
from bot.store.engine import reading
from bot.store.job_statements import CLAIM, OUTCOME
from bot.store.models import Job, JobStatus, utcnow
from bot.store.wakeups import job_queued

_job = Job.__table__  # type: ignore[attr-defined]

# A job's stored `max_attempts` of 0: the worker's own limit (REPOCREW_JOB_MAX_ATTEMPTS) applies,
# read when it claims the job, so the operator's setting governs every job not given its own.
WORKERS_LIMIT = 0


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    delivery_id: int | None
    args: dict[str, Any]
    attempts: int
    max_attempts: int
    # Its delivery, read with the claim (its handler and log lines need it); None when the job
    # has none, or the row is gone (the handler then says so).
    delivery: StoredDelivery | None = None
    failures: int = 0  # attempts before this one that failed (not those lost with a worker)

    @property
    def origin(self) -> dict[str, Any] | None:
        """Where its delivery came from (source, delivery id, installation), for its logs."""
        return None if self.delivery is None else self.delivery.ids()


def enqueue(
    engine: Engine,
    *,
    kind: str,
    args: dict[str, Any] | None = None,
    delivery_id: int | None = None,
    max_attempts: int = WORKERS_LIMIT,
    run_after: datetime | None = None,
) -> int:
    now = utcnow()
    with engine.begin() as connection:
        job_id = connection.execute(
            insert(_job)
            .values(
                kind=kind,
                delivery_id=delivery_id,
                args=json.dumps(args or {}),
                status=JobStatus.QUEUED,
                attempts=0,
                max_attempts=max_attempts,
                run_after=run_after or now,
                created_at=now,
                updated_at=now,
            )
            .returning(_job.c.id)
        ).scalar_one()
    if run_after is None or run_after <= now:
        job_queued(engine)
    return job_id


def claim(
    engine: Engine,
    *,
    worker_id: str,
    lease_seconds: float,
    workers_limit: int,
    skip_kinds: Collection[str] = (),
) -> ClaimedJob | None:
    """Take the oldest runnable job (queued and due, or running with an expired lease).

    `workers_limit`: the max attempts of a job queued without its own (REPOCREW_JOB_MAX_ATTEMPTS).
    `skip_kinds`: kinds this worker leaves to others (a quick lane skips the long crew runs).
    """
    with engine.begin() as connection:
        return _claim_in(connection, worker_id, lease_seconds, workers_limit, skip_kinds)


def attempts_allowed(row, workers_limit: int) -> int:
    """A claimed row's max attempts: its own, else (`WORKERS_LIMIT`) the worker's."""
    return row.max_attempts or workers_limit


def claimed_job(row, delivery: StoredDelivery | None, workers_limit: int) -> ClaimedJob:
    """The job a claim statement's row names (`delivery`: the one it came from, if any;
    `workers_limit`: the worker's max attempts, for a job queued without its own)."""
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        delivery_id=row.delivery_id,
        args=json.loads(row.args or "{}"),
        attempts=row.attempts,
        max_attempts=attempts_allowed(row, workers_limit),
        delivery=delivery,
        failures=row.failures,
    )


def _claim_in(
    connection: Connection,
    worker_id: str,
    lease_seconds: float,
    workers_limit: int,
    skip_kinds: Collection[str],
) -> ClaimedJob | None:
    while True:
        now = utcnow()
        row = connection.execute(
            CLAIM,
            {
                "now": now,
                "lease_until": now + timedelta(seconds=lease_seconds),
                "owner": worker_id,
                "skip_kinds": list(skip_kinds),
            },
        ).first()
        if row is None:
            return None
        if row.attempts <= attempts_allowed(row, workers_limit):
            delivery_id = row.delivery_id
            delivery = None if delivery_id is None else read_delivery(connection, delivery_id)
            return claimed_job(row, delivery, workers_limit)
        # Only a job whose worker died every time gets here: a crash loop, not a retry.
        connection.execute(mark_dead(row.id, now))


def mark_dead(job_id: int, now: datetime) -> Update:
    """End a crash-looping job: dead and unleased, with the reason for the operator."""
    return (
        update(_job)
        .where(_job.c.id == job_id)
        .values(
            status=JobStatus.DEAD,
            lease_owner=None,
            lease_expires_at=None,
            last_error="worker lost its lease on every attempt",
            finished_at=now,
            updated_at=now,
        )
    )


def _owned(job_id: int, worker_id: str):
    return and_(
        _job.c.id == job_id,
        _job.c.status == JobStatus.RUNNING,
        _job.c.lease_owner == worker_id,
    )


def renew(engine: Engine, *, job_id: int, worker_id: str, lease_seconds: float) -> bool:
    """Extend a lease; False means the job was taken over and the worker should let go."""
    now = utcnow()
    with engine.begin() as connection:
        result = connection.execute(
            update(_job)
            .where(_owned(job_id, worker_id))
            .values(lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
        )
        return result.rowcount == 1


def complete(engine: Engine, *, job_id: int, worker_id: str) -> bool:
    now = utcnow()
    return _let_go(engine, job_id, worker_id, status=JobStatus.DONE, finished_at=now)


def backoff_delay(attempts: int, base_seconds: float, cap_seconds: float = 3600.0) -> float:
    """Exponential backoff: base, 2×base, 4×base … capped."""
    return min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))


def fail(
    engine: Engine, *, job: ClaimedJob, worker_id: str, error: str, backoff_seconds: float
) -> JobStatus:
    """Record a failed attempt: queued again after a backoff, or dead when attempts run out."""
    values, status = outcome_values(job, error, backoff_seconds, utcnow())
    with engine.begin() as connection:
        connection.execute(OUTCOME, values | {"job_id": job.id, "owner": worker_id})
    return status


def outcome_values(
    job: ClaimedJob, error: str | None, backoff_seconds: float, now: datetime
) -> tuple[dict[str, Any], JobStatus]:
    """The parameters of `OUTCOME` once this attempt ends: done, queued again after a
    backoff, or dead.

    The backoff doubles with each failure, not each attempt: attempts lost with a dying worker
    count towards the job's end (a crash loop) but are no reason to wait longer."""
    values: dict[str, Any] = {"now": now, "error": None, "retry_at": None, "finished": now}
    if error is None:
        return values | {"new_status": JobStatus.DONE, "failures": job.failures}, JobStatus.DONE
    values |= {"error": error[-8000:], "failures": job.failures + 1}
    if job.attempts >= job.max_attempts:
        return values | {"new_status": JobStatus.DEAD}, JobStatus.DEAD
    delay = backoff_delay(job.failures + 1, backoff_seconds)
    retry_at = now + timedelta(seconds=delay)
    values |= {"new_status": JobStatus.QUEUED, "retry_at": retry_at, "finished": None}
    return values, JobStatus.QUEUED


def release(engine: Engine, *, job_id: int, worker_id: str) -> bool:
    """Give a job back unfinished (graceful shutdown); the attempt does not count."""
    return defer(engine, job_id=job_id, worker_id=worker_id, seconds=0)


def defer(engine: Engine, *, job_id: int, worker_id: str, seconds: float) -> bool:
    """Give a claimed job back unrun, due again in `seconds`; the attempt does not count.

    A worker that may not run a job now (its run is already in flight there) defers it a
    moment rather than releasing it: a job due at once would be claimed again in a spin."""
    return _let_go(
        engine,
        job_id,
        worker_id,
        status=JobStatus.QUEUED,
        attempts=_job.c.attempts - 1,
        run_after=utcnow() + timedelta(seconds=seconds),
    )


def _let_go(engine: Engine, job_id: int, worker_id: str, **values: Any) -> bool:
    """End this worker's lease on the job with `values`; False if it no longer held it."""
    with engine.begin() as connection:
        result = connection.execute(
            update(_job)
            .where(_owned(job_id, worker_id))
            .values(lease_owner=None, lease_expires_at=None, updated_at=utcnow(), **values)
        )
        return result.rowcount == 1


def counts_by_status(engine: Engine) -> dict[str, int]:
    with reading(engine) as connection:
        rows = connection.execute(select(_job.c.status, func.count()).group_by(_job.c.status))
        return {status: count for status, count in rows}  # noqa: C416


def pending_args(engine: Engine, *, kind: str) -> list[dict[str, Any]]:
    """The arguments of every queued or running job of `kind`."""
    with reading(engine) as connection:
        rows = connection.execute(
            select(_job.c.args).where(
                _job.c.kind == kind, _job.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
            )
        ).scalars()
        return [json.loads(args or "{}") for args in rows]


def delete_finished(engine: Engine, *, before: datetime) -> int:
    """Drop jobs done before `before` (deliveries stay: they are the audit log)."""
    with engine.begin() as connection:
        return connection.execute(
            delete(_job).where(_job.c.status == JobStatus.DONE, _job.c.finished_at < before)
        ).rowcount
