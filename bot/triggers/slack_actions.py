"""Steering the crew from Slack: who is asking, whether they may, and the decision buttons.

Shared by the `/crew` command and the buttons under a run that waits for a human (Approve,
Request changes, Stop). A Slack user is known to GitHub only through `/crew link`; steering a
repository's crew takes write access there, the same rule as for `/crew` comments on GitHub.
The worker answers privately (chat.postEphemeral: refusals, queries) or through the outbox (what
was done, in the channel or the run's thread).

Approve records the person's approval and says so on the pull request; the run keeps waiting,
because merging stays with humans on GitHub and the merge or close ends the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session
from sqlmodel import select as select_models

from bot.ports.slack import PostError
from bot.roster.loader import load_crew
from bot.roster.models import Crew
from bot.runs.states import TERMINAL, RunState
from bot.settings import Settings
from bot.slack.blocks import APPROVE, REQUEST_CHANGES, STOP, escape
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.store.models import Run, SlackLink, SlackMessage
from bot.store.queue import enqueue
from bot.store.runs import get_run, outputs, save_output
from bot.store.slack_outbox import enqueue_message, message_by_key
from bot.store.standups import record_human_update
from bot.triggers.commands import WRITE_PERMISSIONS
from bot.triggers.github_runs import RepoGateway, repo_gateway, request_changes, stop_run
from bot.triggers.slack_deliveries import router

log = logging.getLogger(__name__)


class SlackReplies(Protocol):
    """How the worker answers one person: a private message, or a modal (bot.slack.poster)."""

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[dict] | None) -> None: ...

    def open_view(self, trigger_id: str, view: dict) -> str: ...


# Unit tests swap this, as they swap bot.triggers.github_runs.gateway_factory.
replies_factory: Callable[[Settings], SlackReplies] | None = None

UNLINKED = (
    "I don't know your GitHub login yet. Link it once with `/crew link <github-login>`, "
    "then try again."
)
FEEDBACK_BLOCK, FEEDBACK_INPUT = "feedback", "text"


def replies(settings: Settings) -> SlackReplies:
    if replies_factory is not None:
        return replies_factory(settings)
    from bot.slack.poster import make_poster

    return make_poster(settings)


@dataclass
class Asker:
    """Who asked, in which channel, and how to answer them."""

    engine: Engine
    settings: Settings
    team: str
    user: str
    channel: str
    key: str  # names this request, so a retried job does not post twice
    channel_name: str = ""  # slash commands carry it ("crew"); interactions need not

    @classmethod
    def of(cls, body: dict, engine: Engine, settings: Settings, *, channel: str = "") -> Asker:
        """From a slash command (flat fields) or an interaction (nested user, team, channel)."""
        user, team, where = (_dict(body.get(name)) for name in ("user", "team", "channel"))
        key = body.get("trigger_id") or hashlib.sha256(json.dumps(body).encode()).hexdigest()
        return cls(
            engine=engine,
            settings=settings,
            team=str(body.get("team_id") or team.get("id") or user.get("team_id") or ""),
            user=str(body.get("user_id") or user.get("id") or ""),
            channel=channel or str(body.get("channel_id") or where.get("id") or ""),
            key=str(key)[:64],
            channel_name=str(body.get("channel_name") or where.get("name") or ""),
        )

    @property
    def login(self) -> str | None:
        with Session(self.engine) as session:
            link = session.get(SlackLink, (self.team, self.user))
            return link.github_login if link is not None else None

    def tell(self, text: str) -> None:
        """Only the asker sees it; a failure is logged, not retried (the ack told them already)."""
        try:
            replies(self.settings).ephemeral(self.channel, self.user, text, None)
        except (PostError, ValueError) as error:
            log.warning("could not answer %s in %s: %s", self.user, self.channel, error)

    def say(
        self,
        text: str,
        *,
        blocks: list[dict] | None = None,
        crew: Crew | None = None,
        thread: str | None = None,
    ) -> None:
        """Everyone sees it, posted by the lead: in the asker's channel, or in a run's thread
        (`thread`) in the crew's channel."""
        crew = crew or load_crew(self.settings.crew_file)
        channel = crew.channel if thread and crew.channel else self.channel
        enqueue_message(
            self.engine,
            channel=channel,
            key=f"slack:{self.key}:{thread or 'reply'}",
            text=text,
            blocks=blocks,
            role=crew.lead,
            thread_key=thread if channel == crew.channel else None,
        )
        enqueue(self.engine, kind=SLACK_OUTBOX_JOB, args={"channel": channel})


def steering_gateway(asker: Asker, installation_id: int, repo: str) -> RepoGateway | None:
    """The repository's gateway when the asker may steer its crew; else they are told why."""
    login = asker.login
    if login is None:
        asker.tell(UNLINKED)
        return None
    gateway = repo_gateway(asker.settings, installation_id, repo)
    permission = gateway.permission_of(login)
    if permission not in WRITE_PERMISSIONS:
        asker.tell(
            f"Only people with write access to `{repo}` can start or steer its crew; "
            f"@{login} has `{permission}` there, so nothing was done."
        )
        return None
    return gateway


def run_for(asker: Asker, word: str) -> Run | None:
    """The run a command or button names, if it is a GitHub run; else the asker is told."""
    try:
        run = get_run(asker.engine, int(word.removeprefix("#")))
    except (ValueError, LookupError):
        asker.tell(f"There is no run `{escape(word)}`. `/crew status` lists the active ones.")
        return None
    if run.forge != "github" or run.installation_id is None:
        asker.tell(f"Run {run.id} is a local run; steer it where it runs.")
        return None
    return run


def steered_run(asker: Asker, word: str) -> tuple[Run, RepoGateway] | None:
    run = run_for(asker, word)
    if run is None:
        return None
    gateway = steering_gateway(asker, run.installation_id or 0, run.repo)
    return (run, gateway) if gateway is not None else None


def crew_of(run: Run) -> Crew:
    """The crew the run started with (its thread is in that crew's channel)."""
    return Crew.model_validate(json.loads(run.config))


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


def thread(run: Run) -> str:
    return f"run:{run.id}"  # the thread key bot.runs.announce opens


# -- the buttons and the form -----------------------------------------------------------------


@router.register("block_actions", APPROVE)
def approve_clicked(body: dict, engine: Engine, settings: Settings) -> None:
    asker = Asker.of(body, engine, settings)
    found = steered_run(asker, _value(body))
    if found is not None:
        approve(asker, *found)


@router.register("block_actions", STOP)
def stop_clicked(body: dict, engine: Engine, settings: Settings) -> None:
    asker = Asker.of(body, engine, settings)
    found = steered_run(asker, _value(body))
    if found is not None:
        stop(asker, found[0], in_thread=True)


@router.register("block_actions", REQUEST_CHANGES)
def request_changes_clicked(body: dict, engine: Engine, settings: Settings) -> None:
    """Open the feedback form; Slack lets a click's trigger_id open one within 3 seconds."""
    asker = Asker.of(body, engine, settings)
    found = steered_run(asker, _value(body))
    if found is None:
        return
    run = found[0]
    if run.state != RunState.AWAITING_HUMAN:
        asker.tell(f"Run {run.id} is `{run.state}`, not waiting for you.")
        return
    try:
        replies(settings).open_view(str(body.get("trigger_id")), changes_form(run, asker.channel))
    except (PostError, ValueError) as error:
        log.warning("no feedback form for run %s: %s", run.id, error)
        asker.tell(
            "Slack's feedback form did not open (it must open within 3 seconds of the click). "
            f"Type `/crew changes {run.id} <what to change>` instead."
        )


@router.register("view_submission", REQUEST_CHANGES)
def changes_submitted(body: dict, engine: Engine, settings: Settings) -> None:
    view = body.get("view") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    asker = Asker.of(body, engine, settings, channel=str(meta.get("channel", "")))
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


# -- people talking in a standup's thread -----------------------------------------------------

HUMAN_SUBTYPES = frozenset({"", "thread_broadcast", "file_share"})
STANDUP_PREFIX = "standup:"  # bot.standups.render.thread_key: standup:<channel>:<day>


@router.register("event_callback", "message")
def message_posted(body: dict, engine: Engine, _settings: Settings) -> None:
    """A person's reply in a thread may be their standup update; bots' posts never are."""
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype", "") not in HUMAN_SUBTYPES:
        return  # our own posts come back as events: ignoring them means no loops
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts or not event.get("user"):
        return
    day = standup_day(engine, channel_id=event.get("channel", ""), thread_ts=thread_ts)
    if day is not None:
        record_human_update(
            engine,
            channel=day[0],
            day=day[1],
            slack_user_id=event["user"],
            message_ts=ts,
            text=event.get("text", ""),
        )


def standup_day(engine: Engine, *, channel_id: str, thread_ts: str) -> tuple[str, str] | None:
    """(channel as the standup names it, day) of the standup a thread belongs to, if any."""
    query = select_models(SlackMessage).where(
        SlackMessage.channel_id == channel_id,
        SlackMessage.ts == thread_ts,
        SlackMessage.parent.is_(True),  # type: ignore[attr-defined]
    )
    with Session(engine) as session:
        parent = session.exec(query).first()
    key = parent.thread_key if parent is not None else None
    if not key or not key.startswith(STANDUP_PREFIX):
        return None
    channel, _, day = key.removeprefix(STANDUP_PREFIX).rpartition(":")
    return channel, day


def _value(body: dict) -> str:
    return str(((body.get("actions") or [{}])[0]).get("value", ""))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
