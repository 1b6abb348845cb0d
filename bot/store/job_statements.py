"""The queue's hot statements, built once with bound parameters.

A job costs a claim and an outcome. Built per call, SQLAlchemy constructs each statement and
computes its cache key anew, which cost more of a worker's time than the database did; built
once, a statement's key is memoised and each call only binds its values.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    TextClause,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from bot.store.models import Job, JobStatus

_job = Job.__table__  # type: ignore[attr-defined]
_when = _job.c.updated_at.type
# `status = 'running'` written out, not bound: the planner uses the partial index
# `ix_job_lease` only where the statement itself shows its condition.
_LEASED = _job.c.status == literal_column(f"'{JobStatus.RUNNING.value}'")


def _at(name: str):
    return bindparam(name, type_=_when)


# What a claim returns of each job it took.
_CLAIMED_COLUMNS = (
    _job.c.id,
    _job.c.kind,
    _job.c.delivery_id,
    _job.c.args,
    _job.c.attempts,
    _job.c.failures,
    _job.c.max_attempts,
)


def _claimed_values(now) -> dict:
    """A claimed job: running, leased to `owner` until `lease_until`, one more attempt."""
    return {
        "status": JobStatus.RUNNING,
        "lease_owner": bindparam("owner"),
        "lease_expires_at": _at("lease_until"),
        "attempts": _job.c.attempts + 1,
        "updated_at": now,
    }


def _first(condition: ColumnElement[bool], oldest: ColumnElement) -> ColumnElement:
    """The first job of an index scan in `oldest` order, locked; one locked by another claim
    is skipped (PostgreSQL; SQLite has one writer, which serialises claims by itself)."""
    return (
        select(_job.c.id)
        .where(condition)
        .order_by(oldest, _job.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


def _claim() -> ColumnElement:
    """Parameters: now, lease_until, owner, skip_kinds (a list, may be empty).

    A job whose worker died (running, its lease expired) comes first, as the older work; then
    the queued job due first. Each is the first entry of an index scan: asked for in one OR,
    every queued job was read and sorted on each claim, a cost that grew with the backlog.
    """
    kinds = _job.c.kind.not_in(bindparam("skip_kinds", expanding=True))
    now = _at("now")
    expired = _first(
        and_(_LEASED, _job.c.lease_expires_at < now, kinds),
        _job.c.lease_expires_at,
    )
    due = _first(
        and_(_job.c.status == JobStatus.QUEUED, _job.c.run_after <= now, kinds), _job.c.run_after
    )
    return (
        update(_job)
        .where(_job.c.id == func.coalesce(expired, due))  # `due` is not read when one expired
        .values(**_claimed_values(now))
        .returning(*_CLAIMED_COLUMNS)
    )


def _outcome() -> ColumnElement:
    """Parameters: job_id, owner, now, new_status, finished, error, retry_at, failures.

    Only while the job is still this worker's; `error` and `retry_at` keep the row's values
    when None (a job done keeps its last attempt's error; one done or dead keeps its time).
    """
    return (
        update(_job)
        .where(
            _job.c.id == bindparam("job_id"),
            _job.c.status == JobStatus.RUNNING,
            _job.c.lease_owner == bindparam("owner"),
        )
        .values(
            status=bindparam("new_status", type_=_job.c.status.type),
            lease_owner=None,
            lease_expires_at=None,
            updated_at=_at("now"),
            finished_at=_at("finished"),
            last_error=func.coalesce(
                bindparam("error", type_=_job.c.last_error.type), _job.c.last_error
            ),
            run_after=func.coalesce(_at("retry_at"), _job.c.run_after),
            failures=bindparam("failures", type_=Integer),
        )
    )


def _claim_many() -> ColumnElement:
    """Parameters: now, lease_until, owner, skip_kinds, n (how many at most).

    `CLAIM` for up to `n` jobs in one statement: the lease-expired jobs first, then the queued
    ones due first. A worker claims as many as it has free slots, so one round trip to the
    store serves them all (per job, the store's work and the worker's fell about sixfold).
    """
    kinds = _job.c.kind.not_in(bindparam("skip_kinds", expanding=True))
    now, n = _at("now"), bindparam("n", type_=Integer)

    def first_n(condition: ColumnElement[bool], oldest: ColumnElement):
        return (
            select(_job.c.id)
            .where(condition)
            .order_by(oldest, _job.c.id)
            .limit(n)
            .with_for_update(skip_locked=True)
            .subquery()
        )

    expired = first_n(
        and_(_LEASED, _job.c.lease_expires_at < now, kinds),
        _job.c.lease_expires_at,
    )
    due = first_n(
        and_(_job.c.status == JobStatus.QUEUED, _job.c.run_after <= now, kinds), _job.c.run_after
    )
    either = union_all(select(expired.c.id), select(due.c.id)).subquery()
    return (
        update(_job)
        .where(_job.c.id.in_(select(either.c.id).limit(n)))
        .values(**_claimed_values(now))
        .returning(*_CLAIMED_COLUMNS, _job.c.run_after)
    )


def _done_many() -> ColumnElement:
    """Parameters: ids (a list), owner, now. Returns the ids recorded done: those still this
    worker's (one taken over meanwhile is its new owner's to finish)."""
    return (
        update(_job)
        .where(
            _job.c.id.in_(bindparam("ids", expanding=True)),
            _job.c.status == JobStatus.RUNNING,
            _job.c.lease_owner == bindparam("owner"),
        )
        .values(
            status=JobStatus.DONE,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=_at("now"),
            finished_at=_at("now"),
        )
        .returning(_job.c.id)
    )


def _round_postgres() -> TextClause:
    """Parameters: done (ids), owner, now, lease_until, skip_kinds, n. PostgreSQL only.

    A whole round in one statement, sent on its own (autocommit: one statement is one
    transaction): the jobs done (`DONE_MANY`), the claim (`CLAIM_MANY`, never of a job being
    recorded here) and the claimed jobs' deliveries. In a busy worker each round trip also
    waits for the interpreter's lock, so five trips cost a round several milliseconds; one
    costs one. Rows: ('done', id) for each job recorded done; ('claimed', the job's columns,
    its delivery's) for each claimed.
    """
    return text(
        f"""
WITH done AS (
    UPDATE job SET status = '{JobStatus.DONE.value}', lease_owner = NULL,
        lease_expires_at = NULL, updated_at = :now, finished_at = :now
    WHERE id = ANY(:done) AND status = '{JobStatus.RUNNING.value}' AND lease_owner = :owner
    RETURNING id
), picked AS (
    SELECT id FROM (
        SELECT id FROM job
        WHERE status = '{JobStatus.RUNNING.value}' AND lease_expires_at < :now
            AND kind <> ALL(:skip_kinds) AND id <> ALL(:done)
        ORDER BY lease_expires_at, id LIMIT :n FOR UPDATE SKIP LOCKED
    ) AS expired
    UNION ALL
    SELECT id FROM (
        SELECT id FROM job
        WHERE status = '{JobStatus.QUEUED.value}' AND run_after <= :now
            AND kind <> ALL(:skip_kinds)
        ORDER BY run_after, id LIMIT :n FOR UPDATE SKIP LOCKED
    ) AS due
    LIMIT :n
), claimed AS (
    UPDATE job SET status = '{JobStatus.RUNNING.value}', lease_owner = :owner,
        lease_expires_at = :lease_until, attempts = attempts + 1, updated_at = :now
    WHERE id IN (SELECT id FROM picked)
    RETURNING id, kind, delivery_id, args, attempts, failures, max_attempts, run_after
)
SELECT 'done' AS part, id, NULL AS kind, NULL AS delivery_id, NULL AS args,
    NULL AS attempts, NULL AS failures, NULL AS max_attempts, NULL AS run_after, NULL AS source,
    NULL AS guid, NULL AS installation_id, NULL AS event, NULL AS action, NULL AS payload
FROM done
UNION ALL
SELECT 'claimed', c.id, c.kind, c.delivery_id, c.args, c.attempts, c.failures,
    c.max_attempts, c.run_after, d.source, d.delivery_id, d.installation_id, d.event, d.action,
    d.payload
FROM claimed AS c LEFT JOIN delivery AS d ON d.id = c.delivery_id
"""
    ).bindparams(
        bindparam("done", type_=ARRAY(BigInteger)),
        bindparam("skip_kinds", type_=ARRAY(String)),
        bindparam("n", type_=Integer),
        _at("now"),
        _at("lease_until"),
    )


CLAIM = _claim()
OUTCOME = _outcome()
CLAIM_MANY = _claim_many()
DONE_MANY = _done_many()
ROUND_POSTGRES = _round_postgres()
