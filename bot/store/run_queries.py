"""Finding runs in the store: the active run of an issue or pull request, idle runs, the newest.

Read-only: `bot.store.runs` writes the run rows these queries read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import select as select_models

from bot.store.engine import reading, reading_session
from bot.store.models import Run

_run = Run.__table__  # type: ignore[attr-defined]


def active_run(
    engine: Engine,
    repo: str,
    *,
    ended: Collection[str],
    issue: int | None = None,
    pr: int | None = None,
) -> Run | None:
    """The newest run on `repo` (on that issue or pull request) whose state is not `ended`."""
    query = select_models(Run).where(Run.repo == repo, Run.state.notin_(list(ended)))  # type: ignore[attr-defined]
    if issue is not None:
        query = query.where(Run.issue_number == issue)
    if pr is not None:
        query = query.where(Run.pr_number == pr)
    with reading_session(engine) as session:
        run = session.exec(query.order_by(Run.id.desc())).first()  # type: ignore[union-attr]
        if run is not None:
            session.expunge(run)
        return run


def active_runs(engine: Engine, *, ended: Collection[str], limit: int = 10) -> list[Run]:
    """The newest runs whose state is not `ended`, newest first."""
    query = select_models(Run).where(Run.state.notin_(list(ended)))  # type: ignore[attr-defined]
    with reading_session(engine) as session:
        runs = list(session.exec(query.order_by(Run.id.desc()).limit(limit)).all())  # type: ignore[union-attr]
        for run in runs:
            session.expunge(run)
        return runs


def run_ids_of_installation(
    engine: Engine, installation_id: int, *, ended: Collection[str]
) -> list[int]:
    with reading(engine) as connection:
        return list(
            connection.execute(
                select(_run.c.id).where(
                    _run.c.installation_id == installation_id, _run.c.state.notin_(list(ended))
                )
            ).scalars()
        )


def idle_run_ids(
    engine: Engine, *, states: Collection[str], forge: str, idle_since: datetime
) -> set[int]:
    """Runs of `forge` in one of `states` that have not moved since `idle_since`."""
    with reading(engine) as connection:
        return set(
            connection.execute(
                select(_run.c.id).where(
                    _run.c.state.in_(list(states)),
                    _run.c.forge == forge,
                    _run.c.updated_at < idle_since,
                )
            ).scalars()
        )


def states_of(engine: Engine, run_ids: Collection[int]) -> dict[int, str]:
    """The state of each of `run_ids` the store holds (those it does not are left out)."""
    if not run_ids:
        return {}
    with reading(engine) as connection:
        rows = connection.execute(
            select(_run.c.id, _run.c.state).where(_run.c.id.in_(list(run_ids)))
        ).all()
    return {row.id: row.state for row in rows}


def latest_run(engine: Engine) -> Run | None:
    """The newest run, if any."""
    with reading_session(engine) as session:
        run = session.exec(select_models(Run).order_by(Run.id.desc())).first()  # type: ignore[union-attr]
        if run is not None:
            session.expunge(run)
        return run
