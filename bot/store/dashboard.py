"""What the web dashboard reads: runs with their spend, one run's records, the recent standups
with people's replies, and the deliveries audit log.

Read-only, and plain data out (dataclasses, or entities from `models` detached from their
session), so the pages redact and render without ever seeing a table. Paging is the caller's:
it asks for one row more than a page to learn whether an older page exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, tuple_
from sqlmodel import col
from sqlmodel import select as select_models

from bot.store import dashboard_jobs
from bot.store.engine import reading, reading_session
from bot.store.models import Delivery, Job, ModelCall, Run, RunTransition, StepOutput, Vote
from bot.store.standup_models import HumanUpdate, Standup

_run = Run.__table__  # type: ignore[attr-defined]
_call = ModelCall.__table__  # type: ignore[attr-defined]
_delivery = Delivery.__table__  # type: ignore[attr-defined]
_update = HumanUpdate.__table__  # type: ignore[attr-defined]
_job = Job.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RunRow:
    """A run as the runs list shows it: its row (without the task) and what it has spent."""

    id: int
    state: str
    forge: str
    repo: str
    title: str
    issue_number: int | None
    pr_number: int | None
    branch: str
    requested_by: str
    mode: str
    reason: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    calls: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True)
class RunRecords:
    """Everything one run's page shows, each list in the order it happened."""

    run: RunRow
    task: str
    transitions: list[RunTransition]
    outputs: list[StepOutput]
    calls: list[ModelCall]
    votes: list[Vote]  # by round


@dataclass(frozen=True)
class StandupReplies:
    """A standup and the people's replies in its thread: (Slack user, text), oldest first."""

    standup: Standup
    replies: list[tuple[str, str]]


@dataclass(frozen=True)
class DeliveryRow:
    """A received delivery with the start of its payload (they reach 25 MB)."""

    id: int
    source: str
    delivery_id: str
    event: str
    action: str
    installation_id: int | None
    received_at: datetime
    outcome: str
    payload: str
    job_id: int | None = None  # the delivery's newest job, while the queue keeps it
    job_state: str = ""  # as `dashboard_jobs.job_state` tells it


def _spend():
    """Calls, tokens and cost per run, as a subquery to join runs to."""
    c = _call.c
    tokens = (
        c.input_tokens + c.output_tokens + c.cache_creation_input_tokens + c.cache_read_input_tokens
    )
    return (
        select(
            c.run_id,
            func.count().label("calls"),
            func.coalesce(func.sum(tokens), 0).label("tokens"),
            func.coalesce(func.sum(c.cost_usd), 0.0).label("cost_usd"),
        )
        .where(c.run_id.is_not(None))
        .group_by(c.run_id)
        .subquery()
    )


def _run_rows(connection: Connection, *where: Any, limit: int) -> list[RunRow]:
    """The newest runs matching `where`, with their spend (none spent counts as 0)."""
    spend = _spend()
    query = (
        select(_run, spend.c.calls, spend.c.tokens, spend.c.cost_usd)
        .outerjoin(spend, spend.c.run_id == _run.c.id)
        .where(*where)
        .order_by(_run.c.id.desc())
        .limit(limit)
    )
    rows = connection.execute(query).mappings().all()
    return [
        RunRow(
            **{name: row[name] for name in RunRow.__dataclass_fields__ if name in _run.c},
            calls=int(row["calls"] or 0),
            tokens=int(row["tokens"] or 0),
            cost_usd=float(row["cost_usd"] or 0.0),
        )
        for row in rows
    ]


def run_rows(
    engine: Engine, *, before: int | None = None, state: str | None = None, limit: int
) -> list[RunRow]:
    """The newest `limit` runs, older than run `before` and in `state` when given."""
    where = []
    if before is not None:
        where.append(_run.c.id < before)
    if state:
        where.append(_run.c.state == state)
    with reading(engine) as connection:
        return _run_rows(connection, *where, limit=limit)


def run_records(engine: Engine, *, run_id: int) -> RunRecords | None:
    """One run's row, task, transitions, step results, model calls and votes (None: no run)."""
    with reading_session(engine) as session:
        found = _run_rows(session.connection(), _run.c.id == run_id, limit=1)
        if not found:
            return None
        task = session.exec(select_models(Run.task).where(Run.id == run_id)).one()
        transitions = session.exec(
            select_models(RunTransition)
            .where(RunTransition.run_id == run_id)
            .order_by(col(RunTransition.id))
        ).all()
        outputs = session.exec(
            select_models(StepOutput)
            .where(StepOutput.run_id == run_id)
            .order_by(col(StepOutput.id))
        ).all()
        calls = session.exec(
            select_models(ModelCall).where(ModelCall.run_id == run_id).order_by(col(ModelCall.id))
        ).all()
        votes = session.exec(
            select_models(Vote).where(Vote.run_id == run_id).order_by(col(Vote.round), col(Vote.id))
        ).all()
    return RunRecords(found[0], task, list(transitions), list(outputs), list(calls), list(votes))


def recent_standups(engine: Engine, *, limit: int) -> list[StandupReplies]:
    """The newest `limit` standups (by day, then id) with the replies to each."""
    u = _update.c
    with reading_session(engine) as session:
        standups = session.exec(
            select_models(Standup)
            .order_by(col(Standup.day).desc(), col(Standup.id).desc())
            .limit(limit)
        ).all()
        keys = [(standup.channel, standup.day) for standup in standups]
        updates = (
            session.connection()
            .execute(
                select(u.channel, u.day, u.slack_user_id, u.text)
                .where(tuple_(u.channel, u.day).in_(keys))
                .order_by(u.message_ts, u.id)
            )
            .all()
            if keys
            else []
        )
    replies: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for update in updates:
        replies.setdefault((update.channel, update.day), []).append(
            (update.slack_user_id, update.text)
        )
    return [
        StandupReplies(standup, replies.get((standup.channel, standup.day), []))
        for standup in standups
    ]


def recent_deliveries(
    engine: Engine,
    *,
    before: int | None = None,
    source: str | None = None,
    limit: int,
    payload_chars: int,
) -> list[DeliveryRow]:
    """The newest `limit` deliveries, payloads cut by the database to `payload_chars`, each
    with the state of its newest job (through `ix_job_delivery`)."""
    c = _delivery.c
    where = []
    if before is not None:
        where.append(c.id < before)
    if source:
        where.append(c.source == source)
    others = _job.alias("other_job")
    newest_job = select(func.max(others.c.id)).where(others.c.delivery_id == c.id).scalar_subquery()
    query = (
        select(
            c.id,
            c.source,
            c.delivery_id,
            c.event,
            c.action,
            c.installation_id,
            c.received_at,
            c.outcome,
            func.substr(c.payload, 1, payload_chars).label("payload"),
            _job.c.id.label("job_id"),
            _job.c.status.label("job_status"),
            (_job.c.last_error.is_not(None)).label("job_failed"),
        )
        .select_from(_delivery.outerjoin(_job, _job.c.id == newest_job))
        .where(*where)
        .order_by(c.id.desc())
        .limit(limit)
    )
    with reading(engine) as connection:
        rows = connection.execute(query).mappings().all()
    return [
        DeliveryRow(
            **{name: row[name] for name in DeliveryRow.__dataclass_fields__ if name in row},
            job_state=""
            if row["job_id"] is None
            else dashboard_jobs.job_state(row["job_status"], bool(row["job_failed"])),
        )
        for row in rows
    ]
