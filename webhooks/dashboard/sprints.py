"""One sprint's page, as plain data read from the store: its goal and state, and its task graph
as a table (task, owner role, depends on, state with the reason, issue, run and pull request),
in the graph's order."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.runs.links import forge_link
from bot.sprints.graph import order
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.runs import get_run
from bot.store.sprint_models import Sprint, SprintTransition
from bot.store.sprint_queries import graph_of


@dataclass(frozen=True)
class TaskRow:
    key: str
    title: str
    owner: str
    depends_on: list[str]
    state: str
    reason: str
    issue_url: str
    issue: int | None
    run_id: int | None
    run_state: str
    pr_url: str
    pr: int | None


@dataclass(frozen=True)
class SprintPage:
    sprint: Sprint
    tracking_url: str
    tasks: list[TaskRow]
    timeline: list[SprintTransition]


def sprint_page(engine: Engine, sprint_id: int, *, web_url: str) -> SprintPage | None:
    try:
        sprint = stored.get_sprint(engine, sprint_id)
    except LookupError:
        return None
    tasks = stored.tasks(engine, sprint_id)
    by_key = {task.key: task for task in tasks}
    rows = []
    for key in order(graph_of(tasks), plan_order=[task.key for task in tasks]):
        task = by_key[key]
        run = get_run(engine, task.run_id) if task.run_id else None
        pr = run.pr_number if run else None
        rows.append(
            TaskRow(
                key=task.key,
                title=task.title,
                owner=task.owner,
                depends_on=json.loads(task.depends_on),
                state=task.state,
                reason=task.reason,
                issue_url=forge_link(web_url, sprint.repo, issue=task.issue_number)
                if task.issue_number
                else "",
                issue=task.issue_number,
                run_id=task.run_id,
                run_state=run.state if run else "",
                pr_url=forge_link(web_url, sprint.repo, pull=pr) if pr else "",
                pr=pr,
            )
        )
    return SprintPage(
        sprint=sprint,
        tracking_url=forge_link(web_url, sprint.repo, issue=sprint.tracking_issue),
        tasks=rows,
        timeline=stored.transitions(engine, sprint_id),
    )
