"""The queue's hot statements, built once with bound parameters.

A job costs a claim and an outcome. Built per call, SQLAlchemy constructs each statement and
computes its cache key anew, which cost more of a worker's time than the database did; built
once, a statement's key is memoised and each call only binds its values.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, bindparam, func, select, update

from bot.store.models import Job, JobStatus

_job = Job.__table__  # type: ignore[attr-defined]
_when = _job.c.updated_at.type


def _at(name: str):
    return bindparam(name, type_=_when)


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
        and_(_job.c.status == JobStatus.RUNNING, _job.c.lease_expires_at < now, kinds),
        _job.c.lease_expires_at,
    )
    due = _first(
        and_(_job.c.status == JobStatus.QUEUED, _job.c.run_after <= now, kinds), _job.c.run_after
    )
    return (
        update(_job)
        .where(_job.c.id == func.coalesce(expired, due))  # `due` is not read when one expired
        .values(
            status=JobStatus.RUNNING,
            lease_owner=bindparam("owner"),
            lease_expires_at=_at("lease_until"),
            attempts=_job.c.attempts + 1,
            updated_at=now,
        )
        .returning(
            _job.c.id,
            _job.c.kind,
            _job.c.delivery_id,
            _job.c.args,
            _job.c.attempts,
            _job.c.max_attempts,
        )
    )


def _outcome() -> ColumnElement:
    """Parameters: job_id, owner, now, new_status, finished, error, retry_at.

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
        )
    )


CLAIM = _claim()
OUTCOME = _outcome()
