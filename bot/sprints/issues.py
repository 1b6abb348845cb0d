"""The sprint's issues on GitHub: one per task, made exactly once, and the tracking issue's
task list that links them.

Each task's issue carries a hidden marker naming the sprint and the task; before opening one the
crew looks for it, so a worker killed between GitHub's answer and the store's write finds the
issue it opened instead of opening a second. Issues are opened in the graph's order, so each
body can name its dependencies' issues.
"""

from __future__ import annotations

import json

from bot.sprints import render
from bot.sprints.graph import TaskSpec, order
from bot.sprints.posts import SprintGateway, upsert_post
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.sprint_models import Sprint, SprintTask
from bot.store.sprint_queries import graph_of


def spec_of(task: SprintTask) -> TaskSpec:
    return TaskSpec(
        key=task.key,
        title=task.title,
        body=task.body,
        acceptance=tuple(json.loads(task.acceptance)),
        owner=task.owner,
        depends_on=tuple(json.loads(task.depends_on)),
    )


def issue_body(sprint: Sprint, task: SprintTask, numbers: dict[str, int | None]) -> str:
    """The task's issue body (also its run's task), without the marker."""
    return render.task_issue_body(
        spec_of(task), tracking=sprint.tracking_issue or 0, goal=sprint.goal, issues=numbers
    )


def ensure_task_issues(
    engine: Engine, gateway: SprintGateway, sprint: Sprint, tasks: list[SprintTask], *, role: str
) -> dict[str, int | None]:
    """Every task's issue number, opening the ones not opened yet (once each)."""
    by_key = {task.key: task for task in tasks}
    numbers: dict[str, int | None] = {task.key: task.issue_number for task in tasks}
    for key in order(graph_of(tasks), plan_order=[task.key for task in tasks]):
        if numbers[key]:
            continue
        task = by_key[key]
        tag = render.marker(sprint.id or 0, f"task-{key}")
        number = gateway.find_own_issue(tag)
        if number is None:
            body = f"{issue_body(sprint, task, numbers)}\n\n{tag}\n"
            created = gateway.create_issue(render.task_issue_title(spec_of(task)), body, role=role)
            number = int(created.number)
        stored.set_task_issue(engine, sprint_id=sprint.id or 0, key=key, issue_number=number)
        numbers[key] = number
    return numbers


def publish_task_list(
    gateway: SprintGateway, sprint: Sprint, tasks: list[SprintTask], *, role: str
) -> None:
    """The tracking issue's task list, edited in place as tasks move."""
    lines = [
        render.TaskLine(
            key=task.key,
            title=task.title,
            owner=task.owner,
            depends_on=tuple(json.loads(task.depends_on)),
            state=task.state,
            issue=task.issue_number,
            reason=task.reason,
        )
        for task in tasks
    ]
    upsert_post(
        gateway,
        thread=sprint.tracking_issue or 0,
        sprint_id=sprint.id or 0,
        part="tasks",
        body=render.task_list(sprint.goal, lines),
        role=role,
    )
