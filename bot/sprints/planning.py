"""Planning a sprint: the lead splits the goal into tasks with the model, the plan is checked
(cycles, unknown tasks and roles are refused with a clear message) and posted for approval.

A job (`sprint.plan`), resumable: the model's answer is kept in the ledger, the tasks are saved
once, the plan comment is found by its marker, and the sprint moves only after the post, so a
worker killed anywhere does the rest on the next attempt and nothing twice. A job out of
attempts fails the sprint (`abandon_plan`), so it never sits in `planning` for good.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from bot.llm.loop import AgentStopped, BudgetExhausted, ModelRefused
from bot.llm.tools import final_tool
from bot.prompts import PromptLibrary
from bot.roster.models import Crew
from bot.services import Services
from bot.sprints import render
from bot.sprints.announce import post_plan, post_refusal
from bot.sprints.graph import TaskSpec, check_plan
from bot.sprints.lead import ask_lead
from bot.sprints.posts import SprintGateway, upsert_post
from bot.sprints.states import SprintState
from bot.store import sprints as stored
from bot.store.models import utcnow
from bot.store.sprint_models import Sprint

log = logging.getLogger(__name__)

SPRINT_PLAN_JOB = "sprint.plan"
_KEY = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 20_000}
_TEXTS = {"type": "array", "items": {"type": "string", "maxLength": 2_000}, "maxItems": 20}
_TASK = {
    "type": "object",
    "properties": {
        "key": _KEY,
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "body": _TEXT,
        "acceptance": _TEXTS,
        "owner": {"type": "string", "minLength": 1, "maxLength": 64},
        "depends_on": {"type": "array", "items": _KEY, "maxItems": 20},
    },
    "required": ["key", "title", "body", "owner"],
    "additionalProperties": False,
}
SUBMIT_SPRINT_PLAN = final_tool(
    "submit_sprint_plan",
    "Give the sprint's plan: a summary and its tasks with owners and dependencies.",
    {
        "type": "object",
        "properties": {
            "summary": _TEXT,
            "tasks": {"type": "array", "items": _TASK, "minItems": 1, "maxItems": 30},
        },
        "required": ["summary", "tasks"],
        "additionalProperties": False,
    },
)


def gateway_of_sprint(services: Services, sprint: Sprint) -> SprintGateway:
    """The sprint's repository on GitHub (the App's gateway has what a sprint needs)."""
    return cast(SprintGateway, services.repo_gateway(sprint.installation_id or 0, sprint.repo))


def crew_of(sprint: Sprint) -> Crew:
    """The crew as it was when the sprint started (its runs start with the same)."""
    return Crew.model_validate(json.loads(sprint.config))


def plan_sprint(services: Services, sprint_id: int) -> SprintState:
    """Plan the sprint if it is planning; its state afterwards is returned."""
    sprint = stored.get_sprint(services.engine, sprint_id)
    if sprint.state != SprintState.PLANNING:
        return SprintState(sprint.state)
    crew = crew_of(sprint)
    lead = crew.roles[crew.lead]
    gateway = gateway_of_sprint(services, sprint)
    try:
        answer = _ask_lead(services, sprint, crew)
    except (AgentStopped, BudgetExhausted, ModelRefused) as error:
        return _refuse(services, gateway, sprint, crew, [f"the lead: {error}"])
    tasks = specs_of(answer)
    problems = check_plan(tasks, roles=list(crew.roles))
    if problems:
        return _refuse(services, gateway, sprint, crew, problems)
    stored.save_tasks(services.engine, sprint_id=sprint_id, tasks=[vars(task) for task in tasks])
    body = render.plan_comment(
        lead.github.header,
        goal=sprint.goal,
        days=sprint.days,
        summary=str(answer.get("summary", "")),
        tasks=tasks,
    )
    _post(gateway, sprint, body, role=lead.key)
    summary = str(answer.get("summary", ""))
    post_plan(services.engine, services.settings, sprint, crew, summary=summary, tasks=tasks)
    stored.move_sprint(
        services.engine,
        sprint_id=sprint_id,
        expected=SprintState.PLANNING,
        target=SprintState.AWAITING_APPROVAL,
        reason=f"{len(tasks)} tasks planned by {lead.name}",
    )
    return SprintState(stored.get_sprint(services.engine, sprint_id).state)


def specs_of(answer: dict[str, Any]) -> list[TaskSpec]:
    return [
        TaskSpec(
            key=str(task["key"]),
            title=str(task["title"]),
            body=str(task.get("body", "")),
            acceptance=tuple(str(c) for c in task.get("acceptance", ())),
            owner=str(task["owner"]),
            depends_on=tuple(str(k) for k in task.get("depends_on", ())),
        )
        for task in answer.get("tasks", ())
    ]


def _ask_lead(services: Services, sprint: Sprint, crew: Crew) -> dict[str, Any]:
    # A plan made again after a person edited the goal is a new model call, not a replay.
    rounds = stored.plan_rounds(services.engine, sprint.id or 0, into=SprintState.PLANNING)
    step = f"sprint-{sprint.id}-plan" + (f"-{rounds + 1}" if rounds else "")
    prompt = PromptLibrary().render(
        "steps/sprint_plan",
        step=step,
        goal=sprint.goal,
        days=sprint.days,
        roles=list(crew.roles.values()),
    )
    return ask_lead(
        services,
        sprint,
        crew,
        step=step,
        tool=SUBMIT_SPRINT_PLAN,
        context=f"Sprint goal (from {sprint.requested_by}): {sprint.goal}",
        prompt=prompt,
        what="plan",
    )


def _refuse(
    services: Services,
    gateway: SprintGateway,
    sprint: Sprint,
    crew: Crew,
    problems: list[str],
) -> SprintState:
    _say_refused(services, sprint, crew, problems, gateway=gateway)  # then moved: a retry says
    stored.move_sprint(  # it again, changing nothing
        services.engine,
        sprint_id=sprint.id or 0,
        expected=SprintState.PLANNING,
        target=SprintState.FAILED,
        reason="plan refused: " + "; ".join(problems),
        finished_at=utcnow(),
    )
    log.warning("sprint %s: plan refused: %s", sprint.id, problems)
    return SprintState.FAILED


def abandon_plan(services: Services, sprint_id: int, *, reason: str) -> bool:
    """The `sprint.plan` job ran out of attempts: a sprint still planning fails with `reason`
    (a new `/crew sprint` may then start) and says so once (False: it was not planning).

    Moved first, then said: no attempt follows this one, and the cause may be GitHub itself,
    so the store and the Slack outbox are written before the tracking issue is."""
    if not stored.move_sprint(
        services.engine,
        sprint_id=sprint_id,
        expected=SprintState.PLANNING,
        target=SprintState.FAILED,
        reason=f"plan failed: {reason}",
        finished_at=utcnow(),
    ):
        return False
    sprint = stored.get_sprint(services.engine, sprint_id)
    log.warning("sprint %s: planning abandoned: %s", sprint_id, reason)
    _say_refused(services, sprint, crew_of(sprint), [f"the lead could not plan: {reason}"])
    return True


def _say_refused(
    services: Services,
    sprint: Sprint,
    crew: Crew,
    problems: list[str],
    *,
    gateway: SprintGateway | None = None,
) -> None:
    """Why there is no plan to approve: in Slack (in the plan's place) and on the tracking
    issue, each found again by its key or marker rather than said twice."""
    post_refusal(services.engine, services.settings, sprint, crew, problems=problems)
    lead = crew.roles[crew.lead]
    body = render.refused_comment(lead.github.header, goal=sprint.goal, problems=problems)
    _post(gateway or gateway_of_sprint(services, sprint), sprint, body, role=lead.key)


def _post(gateway: SprintGateway, sprint: Sprint, body: str, *, role: str) -> None:
    upsert_post(
        gateway,
        thread=sprint.tracking_issue or 0,
        sprint_id=sprint.id or 0,
        part="plan",
        body=body,
        role=role,
    )
