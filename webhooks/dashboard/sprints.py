"""One sprint's page, as plain data read from the store: its goal and state, its task graph
as a table (task, owner role, depends on, state with the reason, issue, run and pull request),
in the graph's order, each task's state by day, and the review (metrics and retrospective)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.runs.links import forge_link
from bot.sprints.graph import order
from bot.sprints.review import build_review, review_window
from bot.sprints.review_render import Review, matrix_rows, metric_lines
from bot.sprints.timeline import sprint_days, states_by_day
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
class ReviewView:
    """The review as the page shows it: the metrics' lines, the matrix as a table, the facts
    and the retrospective (from the templates; the posted review may be in the lead's words)."""

    review: Review
    lines: list[str]
    takers: list[str]
    matrix: list[list[str]]
    facts: dict[str, str]


@dataclass(frozen=True)
class SprintPage:
    sprint: Sprint
    tracking_url: str
    tasks: list[TaskRow]
    timeline: list[SprintTransition]
    days: list[str] = field(default_factory=list)
    by_day: dict[str, list[str]] = field(default_factory=dict)
    review: ReviewView | None = None


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
    timeline = stored.transitions(engine, sprint_id)
    started = sprint.started_at is not None
    days = sprint_days(*review_window(sprint, engine)) if started else []
    return SprintPage(
        sprint=sprint,
        tracking_url=forge_link(web_url, sprint.repo, issue=sprint.tracking_issue),
        tasks=rows,
        timeline=timeline,
        days=[day.isoformat() for day in days],
        by_day=states_by_day(timeline, [row.key for row in rows], days),
        review=_review(engine, sprint, web_url) if sprint.state in REVIEWED else None,
    )


REVIEWED = ("reviewing", "closed")


def _review(engine: Engine, sprint: Sprint, web_url: str) -> ReviewView:
    review, facts = build_review(engine, sprint, web_url=web_url)
    takers, matrix = matrix_rows(review.metrics)
    return ReviewView(
        review=review,
        lines=metric_lines(review.metrics),
        takers=takers,
        matrix=matrix,
        facts={fact.key: fact.text for fact in facts},
    )
