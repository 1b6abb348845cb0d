"""Sprints in the store: the sprint row, its tasks and their timeline.

As with runs, states are plain strings here: the machine (`bot.sprints.states`) decides which
moves exist, the store makes each move conditional on the state it was decided from and logs
it in the same transaction, so two workers (or a webhook and the periodic check) racing on one
sprint cannot both move it. Reads for the standups, the review and the dashboard are in
`sprint_queries`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, exists, insert, or_, select, update
from sqlmodel import select as select_models

from bot.store.engine import reading, reading_session
from bot.store.models import Job, JobStatus, utcnow
from bot.store.sprint_models import Sprint, SprintTask, SprintTransition

_sprint = Sprint.__table__  # type: ignore[attr-defined]
_task = SprintTask.__table__  # type: ignore[attr-defined]
_transition = SprintTransition.__table__  # type: ignore[attr-defined]
_job = Job.__table__  # type: ignore[attr-defined]


def insert_sprint(
    engine: Engine,
    *,
    repo: str,
    goal: str,
    state: str,
    installation_id: int | None = None,
    tracking_issue: int | None = None,
    days: int = 5,
    requested_by: str = "",
    config: dict[str, Any] | None = None,
) -> int:
    now = utcnow()
    with engine.begin() as connection:
        sprint_id = connection.execute(
            insert(_sprint)
            .values(
                repo=repo,
                installation_id=installation_id,
                tracking_issue=tracking_issue,
                goal=goal,
                days=days,
                state=state,
                requested_by=requested_by,
                config=json.dumps(config or {}),
                reason="",
                created_at=now,
                updated_at=now,
            )
            .returning(_sprint.c.id)
        ).scalar_one()
        _log(connection, sprint_id, "", "", state, f"started by {requested_by}", now)
        return sprint_id


def get_sprint(engine: Engine, sprint_id: int) -> Sprint:
    with reading_session(engine) as session:
        sprint = session.get(Sprint, sprint_id)
        if sprint is None:
            raise LookupError(f"no sprint {sprint_id}")
        session.expunge(sprint)
        return sprint


def sprint_on_issue(
    engine: Engine, *, repo: str, issue: int, ended: Collection[str] = ()
) -> Sprint | None:
    """The newest sprint tracked on `repo#issue` whose state is not `ended`."""
    query = select_models(Sprint).where(
        Sprint.repo == repo,
        Sprint.tracking_issue == issue,
        Sprint.state.notin_(list(ended)),  # type: ignore[attr-defined]
    )
    with reading_session(engine) as session:
        sprint = session.exec(query.order_by(Sprint.id.desc())).first()  # type: ignore[union-attr]
        if sprint is not None:
            session.expunge(sprint)
        return sprint


def sprint_ids_in(engine: Engine, *, states: Collection[str]) -> list[int]:
    with reading(engine) as connection:
        query = select(_sprint.c.id).where(_sprint.c.state.in_(list(states)))
        return list(connection.execute(query.order_by(_sprint.c.id)).scalars())


def move_sprint(
    engine: Engine,
    *,
    sprint_id: int,
    expected: str,
    target: str,
    reason: str = "",
    **fields: Any,
) -> bool:
    """Move the sprint from `expected` to `target` (with other columns); False, writing
    nothing, when it is no longer `expected`."""
    now = utcnow()
    values = {"state": target, "updated_at": now, **fields}
    if reason:
        values["reason"] = reason
    with engine.begin() as connection:
        moved = connection.execute(
            update(_sprint)
            .where(_sprint.c.id == sprint_id, _sprint.c.state == expected)
            .values(**values)
        ).rowcount
        if moved == 1:
            _log(connection, sprint_id, "", expected, target, reason, now)
        return moved == 1


def claim_review(engine: Engine, *, sprint_id: int, state: str, job_id: int) -> bool:
    """Whether job `job_id` may post the review of the sprint in `state` (the one UPDATE
    decides between racing jobs): yes when no job holds it, it holds it already (a retry of
    itself), or its holder is no longer running under a live lease (its worker died)."""
    now = utcnow()
    holder = _sprint.c.review_job
    holder_alive = exists().where(
        _job.c.id == holder,
        _job.c.status == JobStatus.RUNNING,
        _job.c.lease_expires_at > now,
    )
    with engine.begin() as connection:
        claimed = connection.execute(
            update(_sprint)
            .where(
                _sprint.c.id == sprint_id,
                _sprint.c.state == state,
                or_(holder.is_(None), holder == job_id, ~holder_alive),
            )
            .values(review_job=job_id, updated_at=now)
        ).rowcount
        return claimed == 1


def replan_sprint(
    engine: Engine, *, sprint_id: int, expected: str, target: str, goal: str, reason: str
) -> bool:
    """Send a plan awaiting approval back to planning with a new goal: its tasks (no issue is
    opened before approval) go in the same transaction, so the next plan starts afresh. False,
    writing nothing, when the sprint is no longer `expected`."""
    now = utcnow()
    with engine.begin() as connection:
        moved = connection.execute(
            update(_sprint)
            .where(_sprint.c.id == sprint_id, _sprint.c.state == expected)
            .values(state=target, goal=goal, reason=reason, updated_at=now)
        ).rowcount
        if moved != 1:
            return False
        connection.execute(delete(_task).where(_task.c.sprint_id == sprint_id))
        _log(connection, sprint_id, "", expected, target, reason, now)
        return True


def plan_rounds(engine: Engine, sprint_id: int, *, into: str) -> int:
    """How many times the sprint moved into `into` after it started (a re-plan's round)."""
    with reading(engine) as connection:
        query = select(_transition.c.id).where(
            _transition.c.sprint_id == sprint_id,
            _transition.c.task == "",
            _transition.c.to_state == into,
            _transition.c.from_state != "",
        )
        return len(list(connection.execute(query).scalars()))


def save_tasks(engine: Engine, *, sprint_id: int, tasks: Sequence[dict[str, Any]]) -> None:
    """Store the plan's tasks (key, title, body, acceptance, owner, depends_on), pending; a
    plan saved again (a resumed planning job) keeps the tasks already there."""
    now = utcnow()
    with engine.begin() as connection:
        existing = set(
            connection.execute(select(_task.c.key).where(_task.c.sprint_id == sprint_id)).scalars()
        )
        for position, task in enumerate(tasks):
            if task["key"] in existing:
                continue
            connection.execute(
                insert(_task).values(
                    sprint_id=sprint_id,
                    key=task["key"],
                    position=position,
                    title=task["title"][:255],
                    body=task.get("body", ""),
                    acceptance=json.dumps(list(task.get("acceptance", ()))),
                    owner=task["owner"],
                    depends_on=json.dumps(list(task.get("depends_on", ()))),
                    state="pending",
                    reason="",
                    created_at=now,
                    updated_at=now,
                )
            )


def tasks(engine: Engine, sprint_id: int) -> list[SprintTask]:
    """The sprint's tasks in the plan's order."""
    with reading_session(engine) as session:
        query = select_models(SprintTask).where(SprintTask.sprint_id == sprint_id)
        found = list(session.exec(query.order_by(SprintTask.position)).all())  # type: ignore[arg-type]
        for task in found:
            session.expunge(task)
        return found


def move_task(
    engine: Engine,
    *,
    sprint_id: int,
    key: str,
    expected: str,
    target: str,
    reason: str = "",
    **fields: Any,
) -> bool:
    """Move one task from `expected` to `target`; False when it is no longer `expected`."""
    now = utcnow()
    values = {"state": target, "updated_at": now, "reason": reason, **fields}
    with engine.begin() as connection:
        moved = connection.execute(
            update(_task)
            .where(_task.c.sprint_id == sprint_id, _task.c.key == key, _task.c.state == expected)
            .values(**values)
        ).rowcount
        if moved == 1:
            _log(connection, sprint_id, key, expected, target, reason, now)
        return moved == 1


def set_task_issue(engine: Engine, *, sprint_id: int, key: str, issue_number: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(_task)
            .where(_task.c.sprint_id == sprint_id, _task.c.key == key)
            .values(issue_number=issue_number, updated_at=utcnow())
        )


def claim_task_run(engine: Engine, *, sprint_id: int, key: str, run_id: int) -> bool:
    """Give the task its run, unless it has one already (False: another worker's stands)."""
    with engine.begin() as connection:
        return (
            connection.execute(
                update(_task)
                .where(_task.c.sprint_id == sprint_id, _task.c.key == key, _task.c.run_id.is_(None))
                .values(run_id=run_id, updated_at=utcnow())
            ).rowcount
            == 1
        )


def task_of_run(engine: Engine, run_id: int) -> SprintTask | None:
    with reading_session(engine) as session:
        task = session.exec(select_models(SprintTask).where(SprintTask.run_id == run_id)).first()
        if task is not None:
            session.expunge(task)
        return task


def transitions(engine: Engine, sprint_id: int) -> list[SprintTransition]:
    """The sprint's timeline, oldest first: its own moves (`task` empty) and its tasks'."""
    with reading_session(engine) as session:
        query = select_models(SprintTransition).where(SprintTransition.sprint_id == sprint_id)
        return list(session.exec(query.order_by(SprintTransition.id)).all())  # type: ignore[arg-type]


def _log(
    connection: Connection,
    sprint_id: int,
    task: str,
    from_state: str,
    to_state: str,
    reason: str,
    now: Any,
) -> None:
    connection.execute(
        insert(_transition).values(
            sprint_id=sprint_id,
            task=task,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            at=now,
        )
    )
