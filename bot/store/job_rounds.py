"""A worker's round trip to the queue: the outcomes of the jobs its slots ended and a claim of
as many jobs as it has free slots, in one transaction.

Asked one job at a time, a job cost two updates, a read and a commit, and the store's work and
the worker's for them outweighed most handlers; in rounds they are shared by every job of the
round. What a job may rely on is unchanged: an outcome is recorded only while the lease is
still this worker's, and a job the worker dies holding runs again when its lease expires.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from bot.store.deliveries import StoredDelivery, read_deliveries
from bot.store.job_statements import CLAIM_MANY, DONE_MANY, OUTCOME, ROUND_POSTGRES
from bot.store.models import JobStatus, utcnow
from bot.store.queue import (
    ClaimedJob,
    attempts_allowed,
    claimed_job,
    mark_dead,
    outcome_values,
)


@dataclass(frozen=True)
class Ended:
    """A job a slot has run: `error` is None when it succeeded, else the text to keep."""

    job: ClaimedJob
    error: str | None


@dataclass(frozen=True)
class Round:
    """What a round did: each ended job's new status (None: no longer this worker's, nothing
    recorded), and the jobs claimed, due first."""

    statuses: dict[int, JobStatus | None]
    claimed: list[ClaimedJob]


class Rounds:
    """One worker's rounds. On PostgreSQL they go over a connection held for them, outside the
    pool's turns, in autocommit: a statement run five times on a connection is prepared there
    (parsed and planned once), and a pooled connection loses its prepared statements at every
    rollback, which each read-only transaction of a handler ends with."""

    def __init__(
        self, engine: Engine, *, worker_id: str, lease_seconds: float, workers_limit: int
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.workers_limit = workers_limit  # max attempts of a job queued without its own
        self._connection: Connection | None = None

    def __call__(
        self,
        *,
        ended: Sequence[Ended],
        want: int,
        backoff_seconds: float,
        skip_kinds: Collection[str] = (),
    ) -> Round:
        """Record `ended` and claim up to `want` jobs (none when 0), in one transaction."""
        if self.engine.dialect.name != "postgresql" or any(one.error for one in ended):
            return settle_and_claim(
                self.engine,
                ended=ended,
                want=want,
                worker_id=self.worker_id,
                lease_seconds=self.lease_seconds,
                workers_limit=self.workers_limit,
                backoff_seconds=backoff_seconds,
                skip_kinds=skip_kinds,
            )
        if self._connection is None:
            connection = self.engine.connect()
            self._connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            claim = _Claim(self.worker_id, self.lease_seconds, self.workers_limit, skip_kinds)
            return _in_one_statement(self._connection, ended, want, claim)
        except Exception:
            self.close(broken=True)  # the next round takes another connection
            raise

    def close(self, *, broken: bool = False) -> None:
        """Give the held connection back to the pool (or, `broken`, drop it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            if broken:
                connection.invalidate()
            connection.close()


def settle_and_claim(
    engine: Engine,
    *,
    ended: Sequence[Ended],
    want: int,
    worker_id: str,
    lease_seconds: float,
    workers_limit: int,
    backoff_seconds: float,
    skip_kinds: Collection[str] = (),
) -> Round:
    """Record `ended` and claim up to `want` jobs (none when 0), in one transaction.

    `workers_limit`: the max attempts of a job queued without its own (REPOCREW_JOB_MAX_ATTEMPTS).
    """
    now = utcnow()
    claim = _Claim(worker_id, lease_seconds, workers_limit, skip_kinds)
    with engine.begin() as connection:
        statuses = _settle(connection, ended, worker_id, backoff_seconds, now)
        claimed = _claim(connection, want, claim, now)
    return Round(statuses, claimed)


def _settle(
    connection: Connection,
    ended: Sequence[Ended],
    worker_id: str,
    backoff_seconds: float,
    now: datetime,
) -> dict[int, JobStatus | None]:
    """The jobs done in one statement; each failure on its own (its retry time and error)."""
    statuses: dict[int, JobStatus | None] = {}
    done = [one.job.id for one in ended if one.error is None]
    if done:
        params = {"ids": done, "owner": worker_id, "now": now}
        recorded = set(connection.execute(DONE_MANY, params).scalars())
        statuses |= {job_id: JobStatus.DONE if job_id in recorded else None for job_id in done}
    for one in ended:
        if one.error is not None:
            values, status = outcome_values(one.job, one.error, backoff_seconds, now)
            params = values | {"job_id": one.job.id, "owner": worker_id}
            statuses[one.job.id] = status if connection.execute(OUTCOME, params).rowcount else None
    return statuses


@dataclass(frozen=True)
class _Claim:
    """Who claims, for how long, and the max attempts of a job queued without its own."""

    worker_id: str
    lease_seconds: float
    workers_limit: int
    skip_kinds: Collection[str]


def _claim(connection: Connection, want: int, claim: _Claim, now: datetime) -> list[ClaimedJob]:
    if want <= 0:
        return []
    params = {
        "now": now,
        "lease_until": now + timedelta(seconds=claim.lease_seconds),
        "owner": claim.worker_id,
        "skip_kinds": list(claim.skip_kinds),
        "n": want,
    }
    limit = claim.workers_limit
    runnable = _runnable(connection, connection.execute(CLAIM_MANY, params), limit, now)
    deliveries = read_deliveries(
        connection, [row.delivery_id for row in runnable if row.delivery_id is not None]
    )
    return [claimed_job(row, deliveries.get(row.delivery_id), limit) for row in runnable]


def _in_one_statement(
    connection: Connection,
    ended: Sequence[Ended],
    want: int,
    claim: _Claim,
) -> Round:
    """The round as `ROUND_POSTGRES`, when every job ended well (a failure's retry time and
    error take the general path)."""
    now = utcnow()
    params = {
        "done": [one.job.id for one in ended],
        "owner": claim.worker_id,
        "now": now,
        "lease_until": now + timedelta(seconds=claim.lease_seconds),
        "skip_kinds": list(claim.skip_kinds),
        "n": max(want, 0),
    }
    rows = connection.execute(ROUND_POSTGRES, params).all()
    recorded = {row.id for row in rows if row.part == "done"}
    statuses: dict[int, JobStatus | None] = {
        one.job.id: JobStatus.DONE if one.job.id in recorded else None for one in ended
    }
    limit = claim.workers_limit
    claimed = (row for row in rows if row.part == "claimed")
    runnable = _runnable(connection, claimed, limit, now)
    return Round(statuses, [claimed_job(row, _delivery_of(row), limit) for row in runnable])


def _runnable(connection: Connection, claimed: Iterable, workers_limit: int, now: datetime) -> list:
    """The claimed rows due first, less the crash-looping jobs, which are ended dead: only a
    job whose worker died every time has more attempts than it may, never a retried one."""
    runnable = []
    for row in sorted(claimed, key=lambda row: (row.run_after, row.id)):
        if row.attempts <= attempts_allowed(row, workers_limit):
            runnable.append(row)
        else:
            connection.execute(mark_dead(row.id, now))
    return runnable


def _delivery_of(row) -> StoredDelivery | None:
    """The delivery read with the claim (its columns beside the job's); None without one."""
    if row.delivery_id is None or row.source is None:
        return None
    return StoredDelivery(
        source=row.source,
        delivery_id=row.guid,
        installation_id=row.installation_id,
        event=row.event,
        action=row.action,
        payload=row.payload,
    )
