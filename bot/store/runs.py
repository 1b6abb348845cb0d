"""Store functions for team runs: create, read, move along the state machine, remember outputs.

Every write is keyword-only and commits on its own, so a worker killed between two calls leaves
the store at the last finished step.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel import select as select_models

from bot.runs.states import TERMINAL, TRANSITIONS, RunState, check_transition
from bot.store.models import Run, RunTransition, StepOutput, SystemFlag, Vote, utcnow

_run = Run.__table__  # type: ignore[attr-defined]
_transition = RunTransition.__table__  # type: ignore[attr-defined]
_output = StepOutput.__table__  # type: ignore[attr-defined]
_vote = Vote.__table__  # type: ignore[attr-defined]


class StaleRun(RuntimeError):
    """The run moved on under us (another worker, a human's stop): this step's result is moot."""


def create_run(
    engine: Engine,
    *,
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
    with engine.begin() as connection:
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
                state=RunState.QUEUED,
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
    with Session(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise LookupError(f"no run {run_id}")
        session.expunge(run)
        return run


def transition(
    engine: Engine,
    *,
    run_id: int,
    expected: RunState,
    target: RunState,
    reason: str = "",
    **fields: Any,
) -> None:
    """Move a run from `expected` to `target` (with other column updates) in one transaction.

    The update is conditional on the state still being `expected`, so two workers racing on
    one run (or a human's stop landing mid-step) cannot both advance it.
    """
    finish_step(
        engine,
        run_id=run_id,
        expected=expected,
        target=target,
        step="",
        role="",
        content=None,
        reason=reason,
        **fields,
    )


def update_run(engine: Engine, *, run_id: int, **fields: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(_run).where(_run.c.id == run_id).values(updated_at=utcnow(), **fields)
        )


def transitions(engine: Engine, run_id: int) -> list[RunTransition]:
    with Session(engine) as session:
        query = select_models(RunTransition).where(RunTransition.run_id == run_id)
        return list(session.exec(query.order_by(RunTransition.id)).all())


def save_output(
    engine: Engine, *, run_id: int, step: str, role: str, content: dict[str, Any]
) -> None:
    """Remember a step's result; saving the same step twice keeps the first (a resumed step)."""
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(_output).values(
                    run_id=run_id,
                    step=step,
                    role=role,
                    content=json.dumps(content),
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        pass


def outputs(engine: Engine, run_id: int) -> dict[str, dict[str, Any]]:
    """Every finished step's result by step key, in the order they finished."""
    with engine.connect() as connection:
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
    with Session(engine) as session:
        query = select_models(Vote).where(Vote.run_id == run_id)
        return list(session.exec(query.order_by(Vote.round, Vote.id)).all())


SPEND_LIMIT_FLAG = "model_spend_limit"


def set_flag(engine: Engine, *, name: str, value: str) -> bool:
    """Set a flag; True when it was not set before (so an alert goes out once)."""
    with Session(engine) as session:
        flag = session.get(SystemFlag, name)
        if flag is not None and flag.value:
            return False
        session.merge(SystemFlag(name=name, value=value, set_at=utcnow()))
        session.commit()
        return True


def get_flag(engine: Engine, name: str) -> str:
    with Session(engine) as session:
        flag = session.get(SystemFlag, name)
        return flag.value if flag is not None else ""


def finish_step(
    engine: Engine,
    *,
    run_id: int,
    expected: RunState,
    target: RunState,
    step: str,
    role: str,
    content: dict[str, Any] | None,
    reason: str = "",
    **fields: Any,
) -> None:
    """Save a step's result and move the run on in one transaction.

    Together or not at all: a result saved without its transition would make the resumed
    step number itself one further (review-2 for a first review).
    """
    check_transition(expected, target)
    now = utcnow()
    values: dict[str, Any] = {"state": target, "updated_at": now, **fields}
    if target in TERMINAL:
        values["finished_at"] = now
    if reason:
        values["reason"] = reason
    with engine.begin() as connection:
        moved = connection.execute(
            update(_run).where(_run.c.id == run_id, _run.c.state == expected).values(**values)
        ).rowcount
        if moved != 1:
            raise StaleRun(f"run {run_id} is no longer {expected}")
        if content is not None:
            connection.execute(
                insert(_output).values(
                    run_id=run_id, step=step, role=role, content=json.dumps(content), created_at=now
                )
            )
        connection.execute(
            insert(_transition).values(
                run_id=run_id, from_state=expected, to_state=target, reason=reason, at=now
            )
        )


def end_run(engine: Engine, run_id: int, *, target: RunState, reason: str) -> bool:
    """End a run whatever state it is in (a human's stop, a job the queue gave up on).

    A step in flight then finds the run ended and its result is dropped (StaleRun).
    """
    for _ in range(5):
        state = RunState(get_run(engine, run_id).state)
        if target not in TRANSITIONS[state]:
            return False
        try:
            transition(engine, run_id=run_id, expected=state, target=target, reason=reason)
            return True
        except StaleRun:
            continue
    return False


def fail_run(engine: Engine, run_id: int, *, reason: str) -> bool:
    return end_run(engine, run_id, target=RunState.FAILED, reason=reason)


def last_move(engine: Engine, run_id: int) -> tuple[RunTransition, StepOutput | None] | None:
    """The run's newest transition and the step result saved with it (None: none was, as for
    the start, an early end or a human's move); None when the run has not moved yet."""
    with Session(engine) as session:
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
        # finish_step writes both in one transaction with one timestamp.
        together = saved is not None and saved.created_at == moved.at
        return moved, saved if together else None
