"""The run's Slack thread: the lead opens it, each finished step replies under its persona,
and a run that waits for a human gets the decision buttons.

Messages go to the store's outbox (keyed, so a step done twice edits its post instead of
posting twice) and a `slack.outbox` job sends them at Slack's pace.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.roster.models import Crew, Role
from bot.roster.routing import run_channel
from bot.runs.links import run_link
from bot.runs.states import RunState
from bot.slack import blocks
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.store.engine import Engine
from bot.store.models import Run
from bot.store.queue import enqueue
from bot.store.runs import last_move
from bot.store.slack_outbox import enqueue_message, message_by_key
from bot.store.sprints import task_of_run

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


def _post(
    engine: Engine,
    crew: Crew,
    run: Run,
    key: str,
    message: tuple[str, list[dict[str, Any]]],
    poster: Role,
    *,
    parent: bool = False,
) -> None:
    thread = f"run:{run.id}"
    text, body = message
    enqueue_message(
        engine,
        channel=thread_channel(engine, crew, run),
        key=f"{thread}:{key}",
        text=text,
        blocks=body,
        role=poster.key,
        thread_key=thread,
        parent=parent,
    )


def thread_channel(engine: Engine, crew: Crew, run: Run) -> str:
    """The channel of the run's thread: where it was opened (a crew file edited since moves
    no thread), else its owning role's channel (`bot.roster.routing.run_channel`)."""
    opened = message_by_key(engine, key=f"run:{run.id}:open")
    if opened is not None:
        return opened.channel
    task = task_of_run(engine, run.id or 0)  # a sprint's task: its owner codes it
    owner = task.owner if task is not None and task.owner in crew.roles else None
    return run_channel(crew, owner=owner) or ""


def _open(engine: Engine, crew: Crew, run: Run, link: str) -> None:
    lead = crew.roles[crew.lead]
    title = run.title or run.task[:80]
    opening = blocks.run_thread_opening(lead, run.repo, run.issue_number, title, link)
    _post(engine, crew, run, "open", opening, lead, parent=True)


def announce(
    engine: Engine,
    crew: Crew,
    run: Run,
    *,
    step_key: str,
    role: Role,
    output: dict[str, Any] | None,
    target: RunState,
    web_url: str,
) -> None:
    """Queue the Slack posts for a finished step (nothing when the crew has no channel);
    `web_url` is GitHub's web address (`bot.runs.links.github_web_url`)."""
    if not crew.channel:
        return
    link = run_link(run, web_url)
    _open(engine, crew, run, link)
    if step_key and step_key != "start":
        next_role = _next_role(crew, step_key, target)
        reply = blocks.step_reply(role, step_key, _summary(output), link, next_role)
        _post(engine, crew, run, f"step:{step_key}", reply, role)
    if _decides(target, output):
        tally = blocks.Tally(
            approvals=output["approvals"],
            needed=output["needed"],
            votes=[(crew.roles[v["role"]].name, v["decision"]) for v in output["votes"]],
        )
        decision = blocks.awaiting_human(run.id or 0, link, tally)
        _post(engine, crew, run, "decision", decision, crew.roles[crew.lead])
    enqueue(engine, kind=SLACK_OUTBOX_JOB, args={"run_id": run.id})


def announce_end(
    engine: Engine, crew: Crew, run: Run, *, target: RunState, reason: str, web_url: str
) -> None:
    """Say in the run's thread why it ended early, as the lead does on GitHub."""
    if not crew.channel:
        return
    link = run_link(run, web_url)
    _open(engine, crew, run, link)
    ended = blocks.run_ended(run.id or 0, target.value, reason, link)
    _post(engine, crew, run, "end", ended, crew.roles[crew.lead])
    enqueue(engine, kind=SLACK_OUTBOX_JOB, args={"run_id": run.id})


def _decides(target: RunState, output: dict[str, Any] | None) -> bool:
    """The vote handed the run to a human: the decision message (with its buttons) follows."""
    return target is RunState.AWAITING_HUMAN and bool(output) and "votes" in output


def last_post_key(step_key: str, output: dict[str, Any] | None, target: RunState) -> str:
    """The key of the last post `announce` queues for a step: if it is there, all are."""
    if _decides(target, output):
        return "decision"
    return f"step:{step_key}" if step_key and step_key != "start" else "open"


def catch_up(engine: Engine, crew: Crew, run: Run, *, web_url: str) -> bool:
    """Queue the posts of the run's last step if they are missing: a worker that died between
    saving the step and queuing its posts left them out. True when it queued them."""
    if not crew.channel:
        return False
    moved = last_move(engine, run.id or 0)
    if moved is None:
        return False
    transition, saved = moved
    if saved is not None:
        step_key, role = saved.step, crew.roles.get(saved.role)
        output = json.loads(saved.content)
    elif transition.from_state == RunState.QUEUED:
        step_key, role, output = "start", crew.roles[crew.lead], None
    else:
        return False  # an early end or a human's move: those say so themselves
    target = RunState(transition.to_state)
    key = f"run:{run.id}:{last_post_key(step_key, output, target)}"
    if role is None or message_by_key(engine, key=key) is not None:
        return False
    log.warning("run %s: queuing the Slack posts of %s a worker left out", run.id, step_key)
    announce(
        engine,
        crew,
        run,
        step_key=step_key,
        role=role,
        output=output,
        target=target,
        web_url=web_url,
    )
    return True
