"""A sprint's plan in Slack: posted in the sprint announcements' channel (else the crew's) with
approve / edit / cancel buttons, settled (buttons gone, the decision said) once a person
decides, or replaced by why there is no plan to approve.

Through the outbox under one key per sprint (`sprint:<id>:plan`): a resumed planning job or a
second click enqueues the same message again, which changes nothing, and a new plan after an
edit replaces the old one in place.
"""

from __future__ import annotations

import json

from bot.roster.models import Crew
from bot.roster.routing import channel_for
from bot.runs.links import forge_link, github_web_url
from bot.settings import Settings
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.slack.sprint_blocks import decided, plan_message, refused_message
from bot.sprints.graph import TaskSpec
from bot.store import queue
from bot.store.engine import Engine
from bot.store.slack_outbox import enqueue_message, message_by_key
from bot.store.sprint_models import Sprint


def plan_key(sprint_id: int) -> str:
    return f"sprint:{sprint_id}:plan"


def post_plan(
    engine: Engine,
    settings: Settings,
    sprint: Sprint,
    crew: Crew,
    *,
    summary: str,
    tasks: list[TaskSpec],
) -> bool:
    """Post the plan for approval in the sprint announcements' channel, else the crew's
    (False: the crew has no Slack channel)."""
    channel = channel_for(crew, topic="sprint")
    if not channel:
        return False
    link = forge_link(github_web_url(settings), sprint.repo, issue=sprint.tracking_issue)
    text, blocks = plan_message(
        sprint.id or 0,
        goal=sprint.goal,
        days=sprint.days,
        summary=summary,
        tasks=[(t.key, t.title, t.owner, t.depends_on) for t in tasks],
        link=link,
    )
    _enqueue(engine, channel, plan_key(sprint.id or 0), text, blocks, role=crew.lead)
    return True


def post_refusal(
    engine: Engine, settings: Settings, sprint: Sprint, crew: Crew, *, problems: list[str]
) -> bool:
    """Say in the plan's place why the sprint failed before approval (False: no Slack channel).

    Under the plan's key: a plan already posted loses its buttons, and saying it again (a
    resumed job) changes nothing."""
    channel = channel_for(crew, topic="sprint")
    if not channel:
        return False
    link = forge_link(github_web_url(settings), sprint.repo, issue=sprint.tracking_issue)
    sprint_id = sprint.id or 0
    text, blocks = refused_message(sprint_id, goal=sprint.goal, problems=problems, link=link)
    _enqueue(engine, channel, plan_key(sprint_id), text, blocks, role=crew.lead)
    return True


def settle_plan(engine: Engine, sprint_id: int, note: str) -> None:
    """The plan's message loses its buttons and says what was decided (mrkdwn `note`)."""
    posted = message_by_key(engine, key=plan_key(sprint_id))
    if posted is None:
        return
    blocks = decided(json.loads(posted.blocks or "[]"), note)
    _enqueue(engine, posted.channel, posted.key, posted.text, blocks, role=posted.role)


def _enqueue(
    engine: Engine, channel: str, key: str, text: str, blocks: list[dict], *, role: str
) -> None:
    enqueue_message(engine, channel=channel, key=key, text=text, blocks=blocks, role=role)
    queue.enqueue(engine, kind=SLACK_OUTBOX_JOB, args={"channel": channel})
