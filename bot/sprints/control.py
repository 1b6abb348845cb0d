"""What moves a sprint from outside: a person starts or approves it, a person merges one of
its pull requests, one of its runs stops or waits, and the periodic check.

Each queues the job that does the work (`sprint.plan`, `sprint.schedule`); the moves here are
conditional, so a redelivered webhook or a second click changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.roster.models import Crew
from bot.runs.lifecycle import crew_snapshot
from bot.runs.progress import StaleRun, transition
from bot.runs.states import RunState
from bot.sprints.planning import SPRINT_PLAN_JOB
from bot.sprints.review import begin_review, queue_review
from bot.sprints.schedule import queue_schedule
from bot.sprints.states import SPRINT_ENDED, SprintState, TaskState
from bot.store import queue
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.models import utcnow
from bot.store.runs import get_run
from bot.store.sprint_models import Sprint
from bot.store.sprint_queries import task_of_pull

log = logging.getLogger(__name__)

SPRINT_CHECK_JOB = "sprint.check"
REVIEW_RETRY = timedelta(minutes=15)  # a review job lost to a crash is queued again after it


def start_sprint(
    engine: Engine,
    *,
    crew: Crew,
    repo: str,
    installation_id: int,
    tracking_issue: int,
    goal: str,
    days: int,
    requested_by: str,
) -> int:
    """A new sprint, planning: the lead's plan is made by the `sprint.plan` job."""
    sprint_id = stored.insert_sprint(
        engine,
        repo=repo,
        goal=goal,
        state=SprintState.PLANNING,
        installation_id=installation_id,
        tracking_issue=tracking_issue,
        days=days,
        requested_by=requested_by,
        config=crew_snapshot(crew),
    )
    queue.enqueue(engine, kind=SPRINT_PLAN_JOB, args={"sprint_id": sprint_id})
    log.info("sprint %s started on %s#%s", sprint_id, repo, tracking_issue)
    return sprint_id


def sprint_here(engine: Engine, *, repo: str, issue: int) -> Sprint | None:
    """The sprint tracked on this issue that has not ended, if any."""
    return stored.sprint_on_issue(engine, repo=repo, issue=issue, ended=SPRINT_ENDED)


def approve_sprint(engine: Engine, sprint: Sprint, *, by: str) -> bool:
    """A person's go: the tasks' issues are opened and the first runs start (False: it was
    not waiting for approval, e.g. a second `/crew go`)."""
    moved = stored.move_sprint(
        engine,
        sprint_id=sprint.id or 0,
        expected=SprintState.AWAITING_APPROVAL,
        target=SprintState.RUNNING,
        reason=f"approved by {by}",
        started_at=utcnow(),
    )
    if moved:
        queue_schedule(engine, sprint.id or 0)
    return moved


def cancel_sprint(engine: Engine, sprint: Sprint, *, by: str) -> bool:
    """A person cancels a plan awaiting approval (False: it was decided already)."""
    return stored.move_sprint(
        engine,
        sprint_id=sprint.id or 0,
        expected=SprintState.AWAITING_APPROVAL,
        target=SprintState.CANCELLED,
        reason=f"cancelled by {by}",
        finished_at=utcnow(),
    )


def replan_sprint(engine: Engine, sprint: Sprint, *, goal: str, notes: str, by: str) -> bool:
    """A person edited the goal of a plan awaiting approval: back to planning, its tasks dropped
    (False: it was decided already, e.g. a second submission of the form); `queue_plan` next."""
    text = f"{goal.strip()}\n\nNotes from {by}: {notes.strip()}" if notes.strip() else goal
    moved = stored.replan_sprint(
        engine,
        sprint_id=sprint.id or 0,
        expected=SprintState.AWAITING_APPROVAL,
        target=SprintState.PLANNING,
        goal=text.strip(),
        reason=f"goal edited by {by}",
    )
    return moved


def queue_plan(engine: Engine, sprint_id: int) -> int:
    """The lead plans (again): queued after a re-plan's move once its old plan is settled, so
    the new plan's buttons are never taken off by the settling."""
    return queue.enqueue(engine, kind=SPRINT_PLAN_JOB, args={"sprint_id": sprint_id})


def close_sprint(engine: Engine, sprint: Sprint, *, by: str) -> bool:
    """`/crew sprint close`: a running sprint goes to its review (the review's hook is the move
    to `reviewing`). False: it was not running."""
    return begin_review(engine, sprint.id or 0, reason=f"closed by {by}")


def pull_merged(engine: Engine, *, repo: str, pr: int, by: str) -> int | None:
    """A person merged a sprint task's pull request: the task is delivered, its run done, and
    the tasks waiting on it are looked at. Returns the sprint's id (None: not a sprint's)."""
    task = task_of_pull(engine, repo=repo, pr=pr)
    if task is None:
        return None
    delivered = stored.move_task(
        engine,
        sprint_id=task.sprint_id,
        key=task.key,
        expected=TaskState.RUNNING,
        target=TaskState.DELIVERED,
        reason=f"pull request #{pr} merged by {by}",
    )
    run = get_run(engine, task.run_id or 0)
    finished = False
    if run.state == RunState.AWAITING_HUMAN:
        try:
            transition(
                engine,
                run_id=run.id or 0,
                expected=RunState.AWAITING_HUMAN,
                target=RunState.DONE,
                reason=f"pull request #{pr} merged by {by}",
            )
            finished = True
        except StaleRun:  # a redelivery racing this one moved it first
            pass
    if delivered or finished:  # voted tasks were delivered already; their merge still counts
        queue_schedule(engine, task.sprint_id)
    return task.sprint_id


def run_moved(engine: Engine, run_id: int) -> None:
    """A run stopped working (it waits for a person, or ended): if it is a sprint task's, the
    sprint looks again (a failure blocks the tasks after it)."""
    task = stored.task_of_run(engine, run_id)
    if task is None:
        return
    if stored.get_sprint(engine, task.sprint_id).state == SprintState.RUNNING:
        queue_schedule(engine, task.sprint_id)


def check_sprints(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """The periodic check: a scheduling pass for every running sprint (a missed event, a slot
    freed by another sprint's run), the review of a sprint whose last day has passed, and
    again of one left reviewing (a review job lost to a crash). Returns the running ones."""
    now = now or utcnow()
    running = stored.sprint_ids_in(engine, states=[SprintState.RUNNING])
    for sprint_id in running:
        if last_day_passed(stored.get_sprint(engine, sprint_id), now):
            begin_review(engine, sprint_id, reason="the last day passed")
        else:
            queue_schedule(engine, sprint_id)
    for sprint_id in stored.sprint_ids_in(engine, states=[SprintState.REVIEWING]):
        # Only a review that should have finished long ago: one queued sooner would find the
        # review held by the first job, still asking the model (`claim_review`), and do nothing.
        moved = stored.get_sprint(engine, sprint_id).updated_at
        if now - (moved if moved.tzinfo else moved.replace(tzinfo=UTC)) >= REVIEW_RETRY:
            queue_review(engine, sprint_id)
    return running


def last_day_passed(sprint: Sprint, now: datetime) -> bool:
    """The sprint's days (from its approval) are over."""
    if sprint.started_at is None:
        return False
    started = sprint.started_at
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return now >= started + timedelta(days=sprint.days)
