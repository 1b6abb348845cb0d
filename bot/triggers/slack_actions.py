"""The decision buttons under a run that waits for a human (Approve, Request changes, Stop),
the feedback form, and what each does to the run.

Approve records the person's approval and says so on the pull request; the run keeps waiting,
because merging stays with humans on GitHub and the merge or close ends the run.
"""

from __future__ import annotations

import json
import logging

from bot.ports.forge import RepoGateway
from bot.ports.slack import PostError
from bot.runs.progress import stop_run
from bot.runs.states import TERMINAL, RunState
from bot.services import Services
from bot.slack.blocks import APPROVE, REQUEST_CHANGES, STOP, escape
from bot.store.engine import Engine
from bot.store.models import Run
from bot.store.runs import outputs, save_output
from bot.store.slack_outbox import enqueue_message, message_by_key
from bot.triggers.slack_asker import Asker, crew_of, steered_run, thread
from bot.triggers.slack_deliveries import router
from bot.triggers.starting import request_changes

log = logging.getLogger(__name__)

FEEDBACK_BLOCK, FEEDBACK_INPUT = "feedback", "text"


# -- what a person can do to a run ------------------------------------------------------------


def stop(asker: Asker, run: Run, *, in_thread: bool) -> None:
    """Stop the run; said in its thread (a button) or in the asker's channel (a command)."""
    if run.state in TERMINAL:
        asker.tell(f"Run {run.id} has ended already: `{run.state}`.")
        return
    stop_run(asker.engine, run.id or 0, reason=f"stopped in Slack by {asker.login}")
    note = f"Run {run.id} stopped by <@{asker.user}>."
    settle_decision(asker.engine, run, note)
    asker.say(note, crew=crew_of(run), thread=thread(run) if in_thread else None)


def send_back(asker: Asker, run: Run, *, key: str, feedback: str, in_thread: bool) -> None:
    """A Slack user's change request sends a waiting run back to the coder."""
    content = {"reviewer": asker.login, "body": feedback, "slack_user": asker.user}
    if not request_changes(asker.engine, run, key=key, feedback=content):
        asker.tell(f"Run {run.id} is `{run.state}`, not waiting for you: nothing was sent.")
        return
    settle_decision(asker.engine, run, f"<@{asker.user}> asked for changes.")
    quoted = "\n".join(f"> {escape(line)}" for line in feedback.splitlines())
    text = f"<@{asker.user}> asked for changes on run {run.id}:\n{quoted}"
    asker.say(text, crew=crew_of(run), thread=thread(run) if in_thread else None)


def settle_decision(engine: Engine, run: Run, note: str) -> None:
    """The decision message loses its buttons once decided (a next round brings them back)."""
    key = f"{thread(run)}:decision"  # bot.runs.announce's key for it
    posted = message_by_key(engine, key=key)
    if posted is None:
        return
    kept = [b for b in json.loads(posted.blocks or "[]") if b.get("type") != "actions"]
    note_block = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
    enqueue_message(
        engine,
        channel=posted.channel,
        key=key,
        text=f"{posted.text} {note}",
        blocks=[*kept, note_block],
        role=posted.role,
        thread_key=posted.thread_key,
    )


def approve(asker: Asker, run: Run, gateway: RepoGateway) -> None:
    """Record the approval and say so on the pull request; the run waits for the merge."""
    if run.state != RunState.AWAITING_HUMAN:
        asker.tell(f"Run {run.id} is `{run.state}`, not waiting for you: nothing was recorded.")
        return
    done = outputs(asker.engine, run.id or 0)
    after = [key for key in done if not key.startswith("human-")][-1:]  # the crew's last step
    approvals = [content for key, content in done.items() if key.startswith("human-approve-")]
    if any(a["reviewer"] == asker.login and a["after"] == after for a in approvals):
        asker.tell(f"Your approval of run {run.id} is recorded already.")
        return
    content = {"reviewer": asker.login, "slack_user": asker.user, "after": after, "body": ""}
    step = f"human-approve-{len(approvals) + 1}"
    save_output(asker.engine, run_id=run.id or 0, step=step, role="human", content=content)
    crew = crew_of(run)
    if run.pr_number:
        note = f"Approved in Slack by @{asker.login}. Merging stays with a human, here on GitHub."
        gateway.create_comment(run.pr_number, note, role=crew.lead)
    asker.say(f"<@{asker.user}> approves. A human merges on GitHub.", crew=crew, thread=thread(run))


# -- the buttons and the form -----------------------------------------------------------------


@router.register("block_actions", APPROVE)
def approve_clicked(body: dict, services: Services) -> None:
    asker = Asker.of(body, services)
    found = steered_run(asker, _value(body))
    if found is not None:
        approve(asker, *found)


@router.register("block_actions", STOP)
def stop_clicked(body: dict, services: Services) -> None:
    asker = Asker.of(body, services)
    found = steered_run(asker, _value(body))
    if found is not None:
        stop(asker, found[0], in_thread=True)


@router.register("block_actions", REQUEST_CHANGES)
def request_changes_clicked(body: dict, services: Services) -> None:
    """Open the feedback form; Slack lets a click's trigger_id open one within 3 seconds."""
    asker = Asker.of(body, services)
    found = steered_run(asker, _value(body))
    if found is None:
        return
    run = found[0]
    if run.state != RunState.AWAITING_HUMAN:
        asker.tell(f"Run {run.id} is `{run.state}`, not waiting for you.")
        return
    try:
        form = changes_form(run, asker.channel)
        services.slack_replies().open_view(str(body.get("trigger_id")), form)
    except (PostError, ValueError) as error:
        log.warning("no feedback form for run %s: %s", run.id, error)
        asker.tell(
            "Slack's feedback form did not open (it must open within 3 seconds of the click). "
            f"Type `/crew changes {run.id} <what to change>` instead."
        )


@router.register("view_submission", REQUEST_CHANGES)
def changes_submitted(body: dict, services: Services) -> None:
    view = body.get("view") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    asker = Asker.of(body, services, channel=str(meta.get("channel", "")))
    values = (view.get("state") or {}).get("values") or {}
    feedback = str(values.get(FEEDBACK_BLOCK, {}).get(FEEDBACK_INPUT, {}).get("value") or "")
    found = steered_run(asker, str(meta.get("run", "")))
    if found is not None and feedback.strip():
        key = f"human-{view.get('id', asker.key)}"
        send_back(asker, found[0], key=key, feedback=feedback, in_thread=True)


def changes_form(run: Run, channel: str) -> dict:
    """The modal asking what to change (pure: plain data in, Block Kit out)."""
    title = escape(run.title or f"run {run.id}")[:150]
    return {
        "type": "modal",
        "callback_id": REQUEST_CHANGES,
        "private_metadata": json.dumps({"run": run.id, "channel": channel}),
        "title": {"type": "plain_text", "text": "Request changes"},
        "submit": {"type": "plain_text", "text": "Send to the crew"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Run {run.id}:* {title}"}},
            {
                "type": "input",
                "block_id": FEEDBACK_BLOCK,
                "label": {"type": "plain_text", "text": "What should the crew change?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FEEDBACK_INPUT,
                    "multiline": True,
                },
            },
        ],
    }


def _value(body: dict) -> str:
    return str(((body.get("actions") or [{}])[0]).get("value", ""))
