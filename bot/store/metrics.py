"""The counts a Prometheus scrape reads from the store: the queue, runs by state, model spend
and standups posted.

Web, worker and scheduler may be separate processes, so these are counted where they are true
for all of them. Each count is one GROUP BY over an indexed or small table, all in one
transaction; on PostgreSQL a statement timeout bounds the whole read, so a slow store cannot
hold a scrape. A store that cannot answer raises `StoreError` for the caller to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, and_, case, func, select, text

from bot.store.engine import is_sqlite
from bot.store.models import Job, JobStatus, ModelCall, Run
from bot.store.standup_models import Standup

_job = Job.__table__  # type: ignore[attr-defined]
_run = Run.__table__  # type: ignore[attr-defined]
_call = ModelCall.__table__  # type: ignore[attr-defined]
_standup = Standup.__table__  # type: ignore[attr-defined]

TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


@dataclass(frozen=True)
class Spend:
    """The model calls of one role and model: how many, their cost and tokens by column."""

    role: str
    model: str
    calls: int
    cost_usd: float
    tokens: dict[str, int]  # ledger column (TOKEN_COLUMNS) → total


@dataclass(frozen=True)
class StoreCounts:
    """One scrape's reading of the store."""

    jobs: list[tuple[str, str, int]]  # (kind, state, count): ready, scheduled, running, dead
    oldest_ready: dict[str, datetime]  # kind → run_after of its oldest due job (aware, UTC)
    runs: dict[str, int]  # state → runs
    spend: list[Spend]
    standups_posted: list[tuple[str, int]]  # (channel, standups posted)
    # (mode, review-only runs, their model cost): `auto` reviews and `review` (`/crew review`)
    reviews: list[tuple[str, int, float]] = field(default_factory=list)


def _aware(moment: datetime) -> datetime:
    """Columns are stored without a zone (UTC by convention); the drivers give them back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def store_counts(engine: Engine, *, now: datetime, timeout_seconds: float) -> StoreCounts:
    """The queue (due as of `now`), runs, spend and standups, read within `timeout_seconds`."""
    with engine.connect() as connection:
        if not is_sqlite(str(engine.url)):
            milliseconds = int(timeout_seconds * 1000)
            connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        jobs, oldest_ready = _jobs(connection, now)
        runs: dict[str, int] = dict(
            connection.execute(select(_run.c.state, func.count()).group_by(_run.c.state)).all()
        )
        spend = _spend(connection)
        reviews = _reviews(connection)
        posted = connection.execute(
            select(_standup.c.channel, func.count())
            .where(_standup.c.status == "posted")
            .group_by(_standup.c.channel)
        ).all()
    return StoreCounts(
        jobs=jobs,
        oldest_ready=oldest_ready,
        runs=runs,
        spend=spend,
        standups_posted=[(channel, count) for channel, count in posted],
        reviews=reviews,
    )


def _reviews(connection: Connection) -> list[tuple[str, int, float]]:
    """Review-only runs and what their model calls cost, by mode (from the ledger)."""
    cost = (
        select(_call.c.run_id, func.sum(_call.c.cost_usd).label("usd"))
        .group_by(_call.c.run_id)
        .subquery()
    )
    rows = connection.execute(
        select(_run.c.mode, func.count(), func.sum(cost.c.usd))
        .select_from(_run.outerjoin(cost, cost.c.run_id == _run.c.id))
        .where(_run.c.mode.in_(("auto", "review")))
        .group_by(_run.c.mode)
    ).all()
    return [(mode, count, float(usd or 0)) for mode, count, usd in rows]


def _jobs(
    connection: Connection, now: datetime
) -> tuple[list[tuple[str, str, int]], dict[str, datetime]]:
    """Jobs not done by kind and state, and the oldest due job's `run_after` by kind."""
    due = and_(_job.c.status == JobStatus.QUEUED, _job.c.run_after <= now)
    state = case(
        (due, "ready"), (_job.c.status == JobStatus.QUEUED, "scheduled"), else_=_job.c.status
    ).label("state")
    rows = connection.execute(
        select(_job.c.kind, state, func.count())
        .where(_job.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD]))
        .group_by(_job.c.kind, state)
    ).all()
    oldest = connection.execute(
        select(_job.c.kind, func.min(_job.c.run_after)).where(due).group_by(_job.c.kind)
    ).all()
    return (
        [(kind, job_state, count) for kind, job_state, count in rows],
        {kind: _aware(moment) for kind, moment in oldest},
    )


def _spend(connection: Connection) -> list[Spend]:
    """Model calls, cost and tokens by role and model, from the ledger."""
    rows = connection.execute(
        select(
            _call.c.role,
            _call.c.model,
            func.count(),
            func.sum(_call.c.cost_usd),
            *(func.sum(_call.c[column]) for column in TOKEN_COLUMNS),
        ).group_by(_call.c.role, _call.c.model)
    ).all()
    return [
        Spend(
            role,
            model,
            count,
            float(usd or 0),
            {column: int(total or 0) for column, total in zip(TOKEN_COLUMNS, sums, strict=True)},
        )
        for role, model, count, usd, *sums in rows
    ]
