"""What the dashboard reads of the job queue: jobs newest first by state, one job whole, and
how many are in each state, so an operator sees what failed, why, and what it belonged to.

A job's state as shown splits the queue's `queued` in two: `retrying` (it failed and waits for
its next attempt, its error kept) and `queued` (never tried, or given back at shutdown). The
pages query through `ix_job_status_id` (status, id) and the primary key, a page at a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from bot.store.engine import reading
from bot.store.models import Job, JobStatus

_job = Job.__table__  # type: ignore[attr-defined]

RETRYING = "retrying"
JOB_STATES = (JobStatus.QUEUED.value, RETRYING, JobStatus.RUNNING.value)
JOB_STATES += (JobStatus.DONE.value, JobStatus.DEAD.value)


@dataclass(frozen=True)
class JobRow:
    """A job as the dashboard shows it; `error` is the raw last error (the page redacts it)."""

    id: int
    kind: str
    state: str
    attempts: int
    failures: int  # the attempts that failed (the others ended well, run now, or were lost)
    max_attempts: int  # 0: the worker's REPOCREW_JOB_MAX_ATTEMPTS (`queue.WORKERS_LIMIT`)
    delivery_id: int | None
    run_id: int | None
    args: dict[str, Any]
    error: str
    lease_owner: str | None
    run_after: datetime
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def job_state(status: str, failed_before: bool) -> str:
    """`retrying` for a queued job that has failed before; otherwise the queue's status."""
    return RETRYING if status == JobStatus.QUEUED and failed_before else status


def _in_state(state: str) -> list[Any]:
    c = _job.c
    if state == RETRYING:
        return [c.status == JobStatus.QUEUED, c.last_error.is_not(None)]
    if state == JobStatus.QUEUED:
        return [c.status == JobStatus.QUEUED, c.last_error.is_(None)]
    return [c.status == state]


def _row(row: Any) -> JobRow:
    try:
        args = json.loads(row.args or "{}")
    except ValueError:
        args = {}
    args = args if isinstance(args, dict) else {}
    run_id = args.get("run_id")
    return JobRow(
        id=row.id,
        kind=row.kind,
        state=job_state(row.status, row.last_error is not None),
        attempts=row.attempts,
        failures=row.failures,
        max_attempts=row.max_attempts,
        delivery_id=row.delivery_id,
        run_id=run_id if isinstance(run_id, int) and not isinstance(run_id, bool) else None,
        args=args,
        error=row.last_error or "",
        lease_owner=row.lease_owner,
        run_after=row.run_after,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


def job_rows(
    engine: Engine, *, state: str | None = None, before: int | None = None, limit: int
) -> list[JobRow]:
    """The newest `limit` jobs, older than job `before` and in `state` (of JOB_STATES) when
    given."""
    where = _in_state(state) if state else []
    if before is not None:
        where.append(_job.c.id < before)
    query = select(_job).where(*where).order_by(_job.c.id.desc()).limit(limit)
    with reading(engine) as connection:
        return [_row(row) for row in connection.execute(query)]


def job_row(engine: Engine, job_id: int) -> JobRow | None:
    with reading(engine) as connection:
        row = connection.execute(select(_job).where(_job.c.id == job_id)).first()
    return None if row is None else _row(row)


def job_counts(engine: Engine) -> dict[str, int]:
    """How many jobs are in each state (every state named, zeros included).

    The count by status reads an index on `status` alone; only queued rows are visited to tell the
    retrying ones apart, and the queue keeps few of those."""
    c = _job.c
    with reading(engine) as connection:
        by_status = dict(
            connection.execute(select(c.status, func.count()).group_by(c.status)).all()
        )
        retrying = connection.execute(
            select(func.count()).select_from(_job).where(*_in_state(RETRYING))
        ).scalar_one()
    counts = {state: int(by_status.get(state, 0)) for state in JOB_STATES}
    counts[RETRYING] = int(retrying)
    counts[JobStatus.QUEUED.value] -= counts[RETRYING]
    return counts
