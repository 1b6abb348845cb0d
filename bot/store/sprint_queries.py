"""Reading sprints for the standups, the sprint review and the dashboard: tasks by state, the
graph as data, each task's state at the end of a day, and the tasks working in a repository.

Read-only: `bot.store.sprints` writes the rows these queries read.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from bot.store.engine import reading, reading_session
from bot.store.models import Run
from bot.store.sprint_models import Sprint, SprintTask
from bot.store.sprints import tasks, transitions

_sprint = Sprint.__table__  # type: ignore[attr-defined]
_task = SprintTask.__table__  # type: ignore[attr-defined]
_run = Run.__table__  # type: ignore[attr-defined]


def graph_of(found: list[SprintTask]) -> dict[str, tuple[str, ...]]:
    """Task key → the keys it depends on, in the plan's order."""
    return {task.key: tuple(json.loads(task.depends_on)) for task in found}


def states_of(found: list[SprintTask]) -> dict[str, str]:
    return {task.key: task.state for task in found}


def tasks_in(engine: Engine, sprint_id: int, *, states: Collection[str]) -> list[SprintTask]:
    """The sprint's tasks in one of `states` (e.g. delivered; blocked and failed), plan order."""
    return [task for task in tasks(engine, sprint_id) if task.state in states]


def states_at(engine: Engine, sprint_id: int, *, until: datetime) -> dict[str, str]:
    """Each task's state as it was at `until` (the end of a day, for the state-by-day view):
    the last move logged before it; a task not yet planned then is left out."""
    found: dict[str, str] = {}
    for moved in transitions(engine, sprint_id):
        if moved.task and _aware(moved.at) <= _aware(until):
            found[moved.task] = moved.to_state
    return found


def tasks_working(engine: Engine, *, repo: str, states: Collection[str]) -> int:
    """How many tasks of `repo`'s sprints are in `states` (the per-repository bound)."""
    query = (
        select(func.count())
        .select_from(_task.join(_sprint, _task.c.sprint_id == _sprint.c.id))
        .where(_sprint.c.repo == repo, _task.c.state.in_(list(states)))
    )
    with reading(engine) as connection:
        return connection.execute(query).scalar_one()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware: compare them alike."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def working_task_runs(engine: Engine, *, repo: str, run_states: Collection[str]) -> int:
    """How many of `repo`'s sprint tasks have a run in `run_states` (the per-repository bound
    counts runs at work, not those waiting for a person to merge)."""
    query = (
        select(func.count())
        .select_from(
            _task.join(_sprint, _task.c.sprint_id == _sprint.c.id).join(
                _run, _task.c.run_id == _run.c.id
            )
        )
        .where(_sprint.c.repo == repo, _run.c.state.in_(list(run_states)))
    )
    with reading(engine) as connection:
        return connection.execute(query).scalar_one()


def task_of_pull(engine: Engine, *, repo: str, pr: int) -> SprintTask | None:
    """The sprint task whose run opened pull request `repo#pr`, if any."""
    query = (
        select(_task.c.id)
        .select_from(_task.join(_run, _task.c.run_id == _run.c.id))
        .where(_run.c.repo == repo, _run.c.pr_number == pr)
    )
    with reading(engine) as connection:
        found = connection.execute(query).scalar()
    if found is None:
        return None
    with reading_session(engine) as session:
        task = session.get(SprintTask, found)
        if task is not None:
            session.expunge(task)
        return task


def task_pulls(
    engine: Engine,
    *,
    sprint_states: Collection[str],
    task_states: Collection[str],
    run_states: Collection[str],
) -> list[tuple[str, int | None, int]]:
    """(repo, installation, pull request) of every task in `task_states`, of a sprint in
    `sprint_states`, whose run is in `run_states` and has opened its pull request."""
    query = (
        select(_sprint.c.repo, _sprint.c.installation_id, _run.c.pr_number)
        .select_from(
            _task.join(_sprint, _task.c.sprint_id == _sprint.c.id).join(
                _run, _task.c.run_id == _run.c.id
            )
        )
        .where(
            _sprint.c.state.in_(list(sprint_states)),
            _task.c.state.in_(list(task_states)),
            _run.c.state.in_(list(run_states)),
            _run.c.pr_number.is_not(None),
        )
        .order_by(_task.c.id)
    )
    with reading(engine) as connection:
        return [(row.repo, row.installation_id, row.pr_number) for row in connection.execute(query)]
