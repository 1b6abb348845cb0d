"""The sprint review: once a sprint is `reviewing` (every task ended, the last day passed, or a
person closed it), the `sprint.review` job states what was delivered, the sprint's metrics and
its retrospective on the tracking issue and in Slack, then closes the sprint.

Posted exactly once, however often the job runs or wherever a worker dies: of review jobs
running at once (two deliveries, a close racing the last task's end) only the one that claims
the review in the store posts, the others do nothing; the comment carries the hidden marker
`part=sprint-review` and is found before it is made again, the Slack post is queued under one
outbox key, the model's phrasing is replayed from the ledger, and the numbers come from a fixed
window (approved → reviewing), so a later attempt (its worker died) builds the same text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot.llm.errors import ModelError
from bot.llm.loop import AgentStopped
from bot.llm.tools import final_tool
from bot.prompts import PromptLibrary
from bot.roster.models import Crew
from bot.roster.routing import channel_for
from bot.runs.links import forge_link
from bot.services import Services
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.sprints.lead import ask_lead
from bot.sprints.metrics import SprintMetrics, sprint_metrics
from bot.sprints.planning import crew_of, gateway_of_sprint
from bot.sprints.posts import SprintGateway, upsert_post
from bot.sprints.retro import Fact, Outcome, RetroPoint, checked_retro, sprint_facts, template_retro
from bot.sprints.review_render import (
    REVIEW_PART,
    Review,
    TaskResult,
    review_comment,
    review_message,
)
from bot.sprints.states import SprintState
from bot.store import queue
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.models import utcnow
from bot.store.runs import get_run
from bot.store.slack_outbox import enqueue_message
from bot.store.sprint_activity import sprint_activity
from bot.store.sprint_models import Sprint

log = logging.getLogger(__name__)

SPRINT_REVIEW_JOB = "sprint.review"
_POINTS = {
    "type": "array",
    "maxItems": 5,
    "items": {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 400},
            "fact": {"type": "string", "maxLength": 16},
        },
        "required": ["text", "fact"],
    },
}
SUBMIT_RETROSPECTIVE = final_tool(
    "submit_retrospective",
    "Give the retrospective: points to continue, improve and try, each citing one fact's key.",
    {
        "type": "object",
        "properties": {"continue": _POINTS, "improve": _POINTS, "try": _POINTS},
        "required": ["continue", "improve", "try"],
    },
)


def queue_review(engine: Engine, sprint_id: int) -> int:
    return queue.enqueue(engine, kind=SPRINT_REVIEW_JOB, args={"sprint_id": sprint_id})


def begin_review(engine: Engine, sprint_id: int, *, reason: str) -> bool:
    """Move a running sprint to `reviewing` and queue its review (False: it was not running;
    a sprint already reviewing gets its review from the periodic check)."""
    moved = stored.move_sprint(
        engine,
        sprint_id=sprint_id,
        expected=SprintState.RUNNING,
        target=SprintState.REVIEWING,
        reason=reason,
    )
    if moved:
        queue_review(engine, sprint_id)
    return moved


def review_window(sprint: Sprint, engine: Engine) -> tuple[datetime, datetime]:
    """From approval to the move into reviewing (fixed once it happened; until now before)."""
    start = sprint.started_at or sprint.created_at
    moves = stored.transitions(engine, sprint.id or 0)
    reviewing = [m.at for m in moves if not m.task and m.to_state == SprintState.REVIEWING]
    end = reviewing[-1] if reviewing else utcnow()
    return _aware(start), _aware(end)


def build_review(engine: Engine, sprint: Sprint, *, web_url: str) -> tuple[Review, list[Fact]]:
    """The review's data with the retrospective from the templates (the model may rephrase)."""
    sprint_id = sprint.id or 0
    tasks = stored.tasks(engine, sprint_id)
    start, end = review_window(sprint, engine)
    run_ids = [task.run_id for task in tasks if task.run_id]
    activity = sprint_activity(engine, sprint_id=sprint_id, run_ids=run_ids, start=start, end=end)
    metrics: SprintMetrics = sprint_metrics(
        activity, tasks, stored.transitions(engine, sprint_id), start=start, end=end
    )
    results = []
    for task in tasks:
        run = activity.runs.get(task.run_id or 0) or (
            get_run(engine, task.run_id) if task.run_id else None
        )
        pr = run.pr_number if run else None
        results.append(
            TaskResult(
                key=task.key,
                title=task.title,
                owner=task.owner,
                state=task.state,
                reason=task.reason,
                issue=task.issue_number,
                issue_url=forge_link(web_url, sprint.repo, issue=task.issue_number)
                if task.issue_number
                else "",
                pr=pr,
                pr_url=forge_link(web_url, sprint.repo, pull=pr) if pr else "",
            )
        )
    outcomes = [Outcome(t.key, t.title, t.state, t.reason) for t in results]
    facts = sprint_facts(outcomes, metrics)
    review = Review(sprint.goal, results, metrics, facts, template_retro(facts))
    return review, facts


def review_sprint(
    services: Services, sprint_id: int, *, job_id: int, gateway: SprintGateway | None = None
) -> SprintState:
    """Post the review of a reviewing sprint and close it, as job `job_id`; its state
    afterwards is returned (still `reviewing` when another running job holds the review)."""
    engine = services.engine
    sprint = stored.get_sprint(engine, sprint_id)
    if sprint.state != SprintState.REVIEWING:
        return SprintState(sprint.state)
    if not stored.claim_review(
        engine, sprint_id=sprint_id, state=SprintState.REVIEWING, job_id=job_id
    ):
        log.info("sprint %s: its review is another job's (this is job %s)", sprint_id, job_id)
        return SprintState(stored.get_sprint(engine, sprint_id).state)
    crew = crew_of(sprint)
    lead = crew.roles[crew.lead]
    web_url = services.settings.github_web_url
    review, facts = build_review(engine, sprint, web_url=web_url)
    review = Review(
        review.goal, review.tasks, review.metrics, facts, _retro(services, sprint, crew, facts)
    )
    if sprint.tracking_issue:
        upsert_post(
            gateway or gateway_of_sprint(services, sprint),
            thread=sprint.tracking_issue,
            sprint_id=sprint_id,
            part=REVIEW_PART,
            body=review_comment(lead.github.header, review),
            role=lead.key,
        )
    channel = channel_for(crew, topic="sprint")  # sprint announcements' channel, else the crew's
    if channel:
        tracking = forge_link(web_url, sprint.repo, issue=sprint.tracking_issue)
        text, blocks = review_message(review, tracking_url=tracking)
        enqueue_message(
            engine,
            channel=channel,
            key=f"sprint:{sprint_id}:{REVIEW_PART}",
            text=text,
            blocks=blocks,
            role=lead.key,
        )
        queue.enqueue(engine, kind=SLACK_OUTBOX_JOB)
    stored.move_sprint(
        engine,
        sprint_id=sprint_id,
        expected=SprintState.REVIEWING,
        target=SprintState.CLOSED,
        reason="reviewed",
        finished_at=utcnow(),
    )
    return SprintState(stored.get_sprint(engine, sprint_id).state)


def _retro(services: Services, sprint: Sprint, crew: Crew, facts: list[Fact]) -> list[RetroPoint]:
    """The lead's phrasing, checked point by point against the facts; the templates when the
    model is unavailable or fails."""
    try:
        answer = _ask_lead(services, sprint, crew, facts)
    except (AgentStopped, ModelError) as error:
        log.warning("sprint %s: the retrospective from templates (%s)", sprint.id, error)
        return template_retro(facts)
    points, dropped = checked_retro(answer, facts)
    if dropped:
        log.warning("sprint %s: %d retrospective points cited no fact", sprint.id, dropped)
    return points


def _ask_lead(services: Services, sprint: Sprint, crew: Crew, facts: list[Fact]) -> dict[str, Any]:
    step = f"sprint-{sprint.id}-retro"
    return ask_lead(
        services,
        sprint,
        crew,
        step=step,
        tool=SUBMIT_RETROSPECTIVE,
        context="The sprint's facts: " + json.dumps([vars(fact) for fact in facts]),
        prompt=PromptLibrary().render(
            "steps/sprint_retro", step=step, goal=sprint.goal, facts=facts
        ),
        what="retrospective",
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware: compare them alike."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
