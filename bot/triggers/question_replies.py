"""People answering the crew's questions: a reply on the issue (a comment that is not a `/crew`
command) or in the run's Slack thread, while the run waits in `awaiting_answer`.

The first reply from someone with write access to the repository is the answer and resumes
the run; a redelivered or later reply finds the question answered and the run moving, and does
nothing. A reader's reply does not count, and they are told why once per question (the
permission rule is the one that steers the crew: `starting.may_steer`, `steering_gateway`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.runs.question_posts import reader_note
from bot.runs.questions import answer_from_human, waiting_question
from bot.runs.states import RunState
from bot.services import Services
from bot.store.questions import tell_reader_once
from bot.store.runs import get_run
from bot.store.slack_outbox import parent_thread_key
from bot.triggers.commands import parse_command
from bot.triggers.github_deliveries import router as github_router
from bot.triggers.slack_asker import Asker, steering_gateway
from bot.triggers.slack_deliveries import router as slack_router
from bot.triggers.slack_messages import HUMAN_SUBTYPES
from bot.triggers.starting import gateway_of, is_bot, may_steer, reply, run_here

RUN_THREAD = "run:"  # bot.runs.announce opens each run's thread under the key run:<id>


@github_router.register("issue_comment", action="created")
def answered_on_github(payload: dict[str, Any], services: Services) -> None:
    comment = payload.get("comment") or {}
    sender = payload.get("sender")
    if parse_command(comment.get("body")) is not None or is_bot(sender):
        return  # commands have their own table; the crew's own posts never answer
    run = run_here(services.engine, payload)
    if run is None or run.state != RunState.AWAITING_ANSWER:
        return
    question = waiting_question(services.engine, run)
    gateway = gateway_of(services, payload)
    login = str((sender or {}).get("login", ""))
    if not may_steer(gateway, sender or {}):
        if question is not None and tell_reader_once(
            services.engine, question_id=question.id or 0, who=f"github:{login}"
        ):
            reply(gateway, payload, reader_note(f"@{login}", run.repo))
        return
    answer_from_human(
        services.engine,
        run.id,
        answer=str(comment.get("body") or ""),
        by=login,
        via="github",
    )


@dataclass
class _QuietAsker(Asker):
    """An asker whose refusals are kept, not sent: a reader is told once, by the caller."""

    refusals: list[str] = field(default_factory=list)

    def tell(self, text: str) -> None:
        self.refusals.append(text)


@slack_router.register("event_callback", "message")
def answered_in_slack(body: dict, services: Services) -> None:
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype", "") not in HUMAN_SUBTYPES:
        return
    thread_ts, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
    if not thread_ts or thread_ts == ts or not user:
        return
    channel = str(event.get("channel", ""))
    key = parent_thread_key(services.engine, channel_id=channel, ts=thread_ts) or ""
    if not key.startswith(RUN_THREAD) or not key.removeprefix(RUN_THREAD).isdigit():
        return
    run = get_run(services.engine, int(key.removeprefix(RUN_THREAD)))
    if run.state != RunState.AWAITING_ANSWER or run.forge != "github":
        return
    team = str(body.get("team_id") or event.get("team") or "")
    asker = _QuietAsker(services, team, str(user), channel, key=f"answer:{ts}"[:64])
    gateway = steering_gateway(asker, run.installation_id or 0, run.repo)
    if gateway is None:
        question = waiting_question(services.engine, run)
        if question is not None and tell_reader_once(
            services.engine, question_id=question.id or 0, who=f"slack:{team}:{user}"
        ):
            why = " ".join(asker.refusals)
            Asker.tell(asker, f"{reader_note(f'<@{user}>', run.repo)} {why}".strip())
        return
    answer_from_human(
        services.engine,
        run.id or 0,
        answer=str(event.get("text") or ""),
        by=asker.login or str(user),
        via="slack",
    )
