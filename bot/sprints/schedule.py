"""Scheduling a sprint: open its issues, follow its runs, block what cannot start, start what
may (bounded per repository), and say so on the tracking issue.

One pass (`schedule_sprint`) does it all and may run any number of times: it is queued when a
sprint is approved, when one of its runs stops or waits for a person, when one of its pull
requests is merged, and every minute by the periodic check. Every move is conditional on the
state it was decided from, so passes racing on one sprint cannot start a task twice.
"""

from __future__ import annotations

import json
import logging

from bot.roster.models import Crew
from bot.runs.lifecycle import crew_snapshot, queue_run
from bot.runs.progress import active_run, create_run, stop_run
from bot.runs.states import TERMINAL, WAITING, RunState
from bot.services import Services
from bot.sprints import render
from bot.sprints.graph import blocked, runnable
from bot.sprints.issues import ensure_task_issues, issue_body, publish_task_list
from bot.sprints.planning import crew_of, gateway_of_sprint
from bot.sprints.posts import SprintGateway, upsert_post
from bot.sprints.review import begin_review
from bot.sprints.stacking import BY_VOTE, dependencies_merged, vote_passed
from bot.sprints.states import TASK_ENDED, SprintState, TaskState
from bot.store import queue
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.runs import get_run
from bot.store.sprint_models import Sprint, SprintTask
from bot.store.sprint_queries import graph_of, states_of, working_task_runs

log = logging.getLogger(__name__)

SPRINT_SCHEDULE_JOB = "sprint.schedule"
RUN_FAILED = frozenset({RunState.FAILED, RunState.STOPPED, RunState.BUDGET_EXHAUSTED})
AT_WORK = [state.value for state in RunState if state not in TERMINAL | WAITING]


def queue_schedule(engine: Engine, sprint_id: int) -> int:
    return queue.enqueue(engine, kind=SPRINT_SCHEDULE_JOB, args={"sprint_id": sprint_id})


def schedule_sprint(services: Services, sprint_id: int) -> SprintState:
    """One scheduling pass over a running sprint; its state afterwards is returned."""
    engine = services.engine
    sprint = stored.get_sprint(engine, sprint_id)
    if sprint.state != SprintState.RUNNING:
        return SprintState(sprint.state)
    crew = crew_of(sprint)
    lead = crew.roles[crew.lead]
    gateway = gateway_of_sprint(services, sprint)
    numbers = ensure_task_issues(
        engine, gateway, sprint, stored.tasks(engine, sprint_id), role=lead.key
    )
    _follow_runs(services, sprint, crew, numbers)
    _block(engine, gateway, sprint, lead.github.header, lead.key)
    _start(services, sprint, crew, numbers)
    tasks = stored.tasks(engine, sprint_id)
    publish_task_list(gateway, sprint, tasks, role=lead.key)
    if all(task.state in TASK_ENDED | {TaskState.BLOCKED} for task in tasks):
        begin_review(engine, sprint_id, reason="every task ended")
    return SprintState(stored.get_sprint(engine, sprint_id).state)


def _follow_runs(
    services: Services, sprint: Sprint, crew: Crew, numbers: dict[str, int | None]
) -> None:
    """A running task's run: given one if a crash left it without, failed if its run ended
    badly (the reason is the run's)."""
    for task in stored.tasks(services.engine, sprint.id or 0):
        if task.state != TaskState.RUNNING:
            continue
        if task.run_id is None:
            _give_run(services, sprint, crew, task, numbers)
            continue
        run = get_run(services.engine, task.run_id)
        if crew.sprint.delivered == BY_VOTE and vote_passed(services.engine, run):
            stored.move_task(
                services.engine,
                sprint_id=sprint.id or 0,
                key=task.key,
                expected=TaskState.RUNNING,
                target=TaskState.DELIVERED,
                reason=f"run {run.id} approved by the vote",
            )
        elif run.state in RUN_FAILED:
            stored.move_task(
                services.engine,
                sprint_id=sprint.id or 0,
                key=task.key,
                expected=TaskState.RUNNING,
                target=TaskState.FAILED,
                reason=f"its run {run.id} {run.state}: {run.reason}".rstrip(": "),
            )


def _block(engine: Engine, gateway: SprintGateway, sprint: Sprint, header: str, role: str) -> None:
    """Block every waiting task a failed (or blocked) dependency stops, saying why on its
    issue; a block found in this pass propagates to the tasks after it in the same pass."""
    tasks = stored.tasks(engine, sprint.id or 0)
    by_key = {task.key: task for task in tasks}
    reasons: dict[str, str] = {}
    for key, dependency in blocked(graph_of(tasks), states_of(tasks)).items():
        needed = by_key[dependency]
        why = reasons.get(dependency) or needed.reason
        state = "blocked" if dependency in reasons else needed.state
        reason = render.blocked_reason(dependency, state, why)
        reasons[key] = reason
        moved = stored.move_task(
            engine,
            sprint_id=sprint.id or 0,
            key=key,
            expected=TaskState.PENDING,
            target=TaskState.BLOCKED,
            reason=reason,
        )
        if moved and by_key[key].issue_number:
            upsert_post(
                gateway,
                thread=by_key[key].issue_number or 0,
                sprint_id=sprint.id or 0,
                part=f"blocked-{key}",
                body=render.blocked_comment(header, task=key, reason=reason),
                role=role,
            )


def _start(services: Services, sprint: Sprint, crew: Crew, numbers: dict[str, int | None]) -> None:
    """Start the tasks whose dependencies are delivered, while the repository has room."""
    engine = services.engine
    tasks = stored.tasks(engine, sprint.id or 0)
    for key in runnable(graph_of(tasks), states_of(tasks)):
        task = next(t for t in tasks if t.key == key)
        if crew.sprint.delivered == BY_VOTE and len(json.loads(task.depends_on)) > 1:
            if not dependencies_merged(engine, tasks, task):  # no one branch to stack on
                continue
        at_work = working_task_runs(engine, repo=sprint.repo, run_states=AT_WORK)
        if at_work >= crew.sprint.max_parallel_runs:
            log.info("sprint %s: %s waits for a free slot (%d at work)", sprint.id, key, at_work)
            return
        if stored.move_task(
            engine,
            sprint_id=sprint.id or 0,
            key=key,
            expected=TaskState.PENDING,
            target=TaskState.RUNNING,
            reason="every dependency delivered",
        ):
            task = next(t for t in stored.tasks(engine, sprint.id or 0) if t.key == key)
            _give_run(services, sprint, crew, task, numbers)


def _give_run(
    services: Services,
    sprint: Sprint,
    crew: Crew,
    task: SprintTask,
    numbers: dict[str, int | None],
) -> None:
    """The task's run: the one on its issue if a crashed pass made it, else a new one; queued
    once it is the task's (a run that lost the race to another pass is stopped unstarted)."""
    engine = services.engine
    issue = task.issue_number
    found = active_run(engine, sprint.repo, issue=issue) if issue else None
    run_id = found.id if found is not None else None
    made = run_id is None
    if run_id is None:
        run_id = create_run(
            engine,
            repo=sprint.repo,
            installation_id=sprint.installation_id,
            issue_number=issue,
            title=task.title,
            task=issue_body(sprint, task, numbers),
            requested_by=sprint.requested_by,
            forge="github",
            config=crew_snapshot(crew),
        )
    if stored.claim_task_run(engine, sprint_id=sprint.id or 0, key=task.key, run_id=run_id):
        queue_run(engine, run_id)
        log.info("sprint %s: task %s runs as run %s", sprint.id, task.key, run_id)
    elif made:  # another pass gave the task its run first: this one never starts
        stop_run(engine, run_id, reason=f"sprint {sprint.id}: task {task.key} has its run")
