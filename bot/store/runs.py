"""Team runs in the store: the run row, its transitions, step results and votes.

States are plain strings here: the state machine (`bot.runs.states`) decides which moves are
allowed, the store only makes each write conditional on the state it was decided from. Every
write is keyword-only and commits on its own, so a worker killed between two calls leaves the
store at the last finished step. The queries that find runs are in `run_queries`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as select_models

from bot.store.engine import reading, reading_session
from bot.store.models import Run, RunTransition, StepOutput, Vote, utcnow

_run = Run.__table__  # type: ignore[attr-defined]
_transition = RunTransition.__table__  # type: ignore[attr-defined]
_output = StepOutput.__table__  # type: ignore[attr-defined]
_vote = Vote.__table__  # type: ignore[attr-defined]


def insert_run(engine: Engine, **fields: Any) -> int:
    """A new run (see `_insert_run` for the fields)."""
    with engine.begin() as connection:
        return _insert_run(connection, **fields)


def insert_run_if_idle(engine: Engine, *, ended: Collection[str], **fields: Any) -> int | None:
    """A new run, or None when a run not `ended` is already on its issue or pull request.

    The look and the insert are one transaction, taken in turn per issue (SQLite's writer lock
    by BEGIN IMMEDIATE; a transaction-scoped advisory lock on PostgreSQL): a label and an
    assignment handled at once by two workers start one run, not two.
    """
    repo, issue, pr = fields["repo"], fields.get("issue_number"), fields.get("pr_number")
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            key = f"run:{repo.lower()}:{issue}:{pr}".encode()
            lock = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
        same = _run.c.issue_number == issue if pr is None else _run.c.pr_number == pr
        active = select(_run.c.id).where(
            _run.c.repo == repo, same, _run.c.state.notin_(list(ended))
        )
        if connection.execute(active.limit(1)).first() is not None:
            return None
        return _insert_run(connection, **fields)


def _insert_run(
    connection: Connection,
    *,
    state: str,
    repo: str,
    task: str,
    title: str = "",
    forge: str = "local",
    clone_url: str = "",
    installation_id: int | None = None,
    issue_number: int | None = None,
    requested_by: str = "",
    config: dict[str, Any] | None = None,
    mode: str = "full",
    branch: str = "",
    pr_number: int | None = None,
) -> int:
    now = utcnow()
    return connection.execute(
        insert(_run)
        .values(
            forge=forge,
            repo=repo,
            clone_url=clone_url,
            installation_id=installation_id,
            issue_number=issue_number,
            title=title[:255],
            task=task,
            requested_by=requested_by,
            state=state,
            mode=mode,
            branch=branch,
            pr_number=pr_number,
            fix_rounds=0,
            config=json.dumps(config or {}),
            reason="",
            created_at=now,
            updated_at=now,
        )
        .returning(_run.c.id)
    ).scalar_one()


def get_run(engine: Engine, run_id: int) -> Run:
    with reading_session(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise LookupError(f"no run {run_id}")
        session.expunge(run)
        return run


def update_run(engine: Engine, *, run_id: int, **fields: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(_run).where(_run.c.id == run_id).values(updated_at=utcnow(), **fields)
        )


def write_step(
    engine: Engine,
    *,
    run_id: int,
    expected: str,
    target: str,
    finished: bool,
    step: str,
    role: str,
    content: dict[str, Any] | None,
    reason: str = "",
    **fields: Any,
) -> bool:
    """Save a step's result (when `content` is given) and move the run from `expected` to
    `target`, in one transaction; False, writing nothing, when the run is no longer `expected`.

    Together or not at all: a result saved without its transition would make the resumed
    step number itself one further (review-2 for a first review).
    """
    now = utcnow()
    values: dict[str, Any] = {"state": target, "updated_at": now, **fields}
    if finished:
        values["finished_at"] = now
    if reason:
        values["reason"] = reason
    try:
        with engine.begin() as connection:
            _move(connection, run_id, expected, target, values, now)
            if content is not None:
                _insert_output(connection, run_id, step, role, content, now)
    except _NotMoved:
        return False
    return True


def _insert_output(
    connection: Connection,
    run_id: int,
    step: str,
    role: str,
    content: dict[str, Any],
    now: datetime,
) -> None:
    connection.execute(
        insert(_output).values(
            run_id=run_id, step=step, role=role, content=json.dumps(content), created_at=now
        )
    )


class _NotMoved(Exception):
    """The run was not in the expected state: roll the whole write back."""


def _move(
    connection: Connection,
    run_id: int,
    expected: str,
    target: str,
    values: dict[str, Any],
    now: datetime,
) -> None:
    moved = connection.execute(
        update(_run).where(_run.c.id == run_id, _run.c.state == expected).values(**values)
    ).rowcount
    if moved != 1:
        raise _NotMoved
    connection.execute(
        insert(_transition).values(
            run_id=run_id,
            from_state=expected,
            to_state=target,
            reason=values.get("reason", ""),
            at=now,
        )
    )


def transitions(engine: Engine, run_id: int) -> list[RunTransition]:
    with reading_session(engine) as session:
        query = select_models(RunTransition).where(RunTransition.run_id == run_id)
        return list(session.exec(query.order_by(RunTransition.id)).all())


def save_output(
    engine: Engine, *, run_id: int, step: str, role: str, content: dict[str, Any]
) -> None:
    """Remember a step's result; saving the same step twice keeps the first (a resumed step)."""
    try:
        with engine.begin() as connection:
            _insert_output(connection, run_id, step, role, content, utcnow())
    except IntegrityError:
        pass


def outputs(engine: Engine, run_id: int) -> dict[str, dict[str, Any]]:
    """Every finished step's result by step key, in the order they finished."""
    with reading(engine) as connection:
        rows = connection.execute(
            select(_output.c.step, _output.c.content)
            .where(_output.c.run_id == run_id)
            .order_by(_output.c.id)
        ).all()
    return {step: json.loads(content) for step, content in rows}


def record_votes(
    engine: Engine, *, run_id: int, round: int, votes: list[tuple[str, str, str]]
) -> None:
    """Store (role, decision, reason) votes of one round; a resumed round keeps the first."""
    with engine.begin() as connection:
        existing = set(
            connection.execute(
                select(_vote.c.role).where(_vote.c.run_id == run_id, _vote.c.round == round)
            ).scalars()
        )
        rows = [
            {
                "run_id": run_id,
                "round": round,
                "role": role,
                "decision": decision,
                "reason": reason,
                "created_at": utcnow(),
            }
            for role, decision, reason in votes
            if role not in existing
        ]
        if rows:
            connection.execute(insert(_vote), rows)


def votes(engine: Engine, run_id: int) -> list[Vote]:
    with reading_session(engine) as session:
        query = select_models(Vote).where(Vote.run_id == run_id)
        return list(session.exec(query.order_by(Vote.round, Vote.id)).all())


def last_move(engine: Engine, run_id: int) -> tuple[RunTransition, StepOutput | None] | None:
    """The run's newest transition and the step result saved with it (None: none was, as for
    the start, an early end or a human's move); None when the run has not moved yet."""
    with reading_session(engine) as session:
        moved = session.exec(
            select_models(RunTransition)
            .where(RunTransition.run_id == run_id)
            .order_by(RunTransition.id.desc())  # type: ignore[union-attr]
        ).first()
        if moved is None:
            return None
        saved = session.exec(
            select_models(StepOutput)
            .where(StepOutput.run_id == run_id)
            .order_by(StepOutput.id.desc())  # type: ignore[union-attr]
        ).first()
        # write_step writes both in one transaction with one timestamp.
        together = saved is not None and saved.created_at == moved.at
        return moved, saved if together else None
