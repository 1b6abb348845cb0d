"""The run's Slack thread: the lead opens it, each finished step replies under its persona,
and a run that waits for a human gets the decision buttons.

Messages go to the store's outbox (keyed, so a step done twice edits its post instead of
posting twice) and a `slack.outbox` job sends them at Slack's pace.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from bot.crew.config import Crew, Role
from bot.crew.states import RunState
from bot.slack import blocks
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.slack.store import enqueue_message
from bot.store.models import Run
from bot.store.queue import enqueue

log = logging.getLogger(__name__)

# What each state's step hands on, and to whom (the step's role names the next persona).
NEXT_STEP = {
    "plan": "research",
    "research": "code",
    "code": "review",
    "fix": "review",
    "review": "fix",
    "test": None,
}

SUMMARY_FIELDS = ("summary", "notes", "analysis")


def run_link(run: Run, github_url: str = "https://github.com") -> str:
    if run.forge != "github":
        return ""
    if run.pr_number:
        return f"{github_url}/{run.repo}/pull/{run.pr_number}"
    if run.issue_number:
        return f"{github_url}/{run.repo}/issues/{run.issue_number}"
    return f"{github_url}/{run.repo}"


def _summary(output: dict[str, Any] | None) -> str:
    for field in SUMMARY_FIELDS:
        if output and isinstance(output.get(field), str):
            return output[field]
    if output and "approvals" in output:
        return f"{output['approvals']} of {len(output.get('votes', []))} approve"
    return ""


def _next_role(crew: Crew, step_key: str, target: RunState) -> Role | None:
    kind = step_key.split("-", 1)[0]
    if target is RunState.FIXING:
        return crew.role_for("fix")
    if target is RunState.TESTING:
        return crew.role_for("test")
    if target is RunState.VOTING or target in (RunState.AWAITING_HUMAN, RunState.DONE):
        return None
    following = NEXT_STEP.get(kind)
    return crew.role_for(following) if following else None


def announce(
    engine: Engine,
    crew: Crew,
    run: Run,
    *,
    step_key: str,
    role: Role,
    output: dict[str, Any] | None,
    target: RunState,
) -> None:
    """Queue the Slack posts for a finished step (nothing when the crew has no channel)."""
    if not crew.channel:
        return
    thread = f"run:{run.id}"
    link = run_link(run)
    lead = crew.roles[crew.lead]

    def post(key: str, message: tuple[str, list[dict[str, Any]]], poster: Role, **extra) -> None:
        text, body = message
        enqueue_message(
            engine,
            channel=crew.channel or "",
            key=f"{thread}:{key}",
            text=text,
            blocks=body,
            role=poster.key,
            thread_key=thread,
            **extra,
        )

    title = run.title or run.task[:80]
    post(
        "open",
        blocks.run_thread_opening(lead, run.repo, run.issue_number, title, link),
        lead,
        parent=True,
    )
    if step_key and step_key != "start":
        next_role = _next_role(crew, step_key, target)
        post(
            f"step:{step_key}",
            blocks.step_reply(role, step_key, _summary(output), link, next_role),
            role,
        )
    if target is RunState.AWAITING_HUMAN and output and "votes" in output:
        tally = blocks.Tally(
            approvals=output["approvals"],
            needed=output["needed"],
            votes=[(crew.roles[v["role"]].name, v["decision"]) for v in output["votes"]],
        )
        post("decision", blocks.awaiting_human(run.id or 0, link, tally), lead)
    enqueue(engine, kind=SLACK_OUTBOX_JOB, args={"run_id": run.id})
