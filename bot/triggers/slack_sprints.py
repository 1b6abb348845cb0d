"""Sprints from Slack: `/crew sprint owner/repo <goal> [--days N]` opens the tracking issue and
starts the sprint on it, `/crew sprint close <sprint>` sends a running sprint to its review,
and the plan's buttons approve it (as `/crew go` on the tracking issue), edit its goal (a form;
the lead plans again) or cancel it.

Every one needs a linked Slack user with write access to the sprint's repository, checked on
GitHub at the time (`steering_gateway`). Redelivery does nothing twice: the moves are
conditional; the note on the tracking issue is posted by the request whose move it was (two
deliveries of one click may run at once, and a marker lookup cannot keep both from posting),
and the Slack posts are keyed in the outbox, so a request that finds the move its own (a
retried job, a second delivery) makes them again, which changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from bot.ports.slack import PostError
from bot.roster.loader import ConfigError
from bot.roster.routing import channel_for
from bot.runs.links import forge_link, github_web_url
from bot.services import Services
from bot.slack.blocks import escape
from bot.slack.sprint_blocks import (
    SPRINT_APPROVE,
    SPRINT_CANCEL,
    SPRINT_EDIT,
    edit_form,
    form_values,
)
from bot.sprints.announce import settle_plan
from bot.sprints.control import (
    approve_sprint,
    cancel_sprint,
    close_sprint,
    queue_plan,
    replan_sprint,
    sprint_here,
    start_sprint,
)
from bot.sprints.posts import SprintGateway, upsert_post
from bot.sprints.states import SprintState
from bot.store.sprint_models import Sprint
from bot.store.sprints import get_sprint, plan_rounds
from bot.triggers.github_sprints import goal_and_days
from bot.triggers.slack_asker import Asker, repo_gateway, steering_gateway
from bot.triggers.slack_deliveries import router
from bot.triggers.starting import crew_for

log = logging.getLogger(__name__)

USAGE = "Usage: `/crew sprint owner/repo <goal> [--days N]` or `/crew sprint close <sprint>`"


def sprint_command(asker: Asker, text: str, repo_pattern: re.Pattern[str]) -> None:
    """`/crew sprint …` (the text already unescaped)."""
    word, _, rest = text.strip().partition(" ")
    if word.lower() == "close":
        _close(asker, rest.strip())
        return
    goal, days = goal_and_days(rest, {})
    if not repo_pattern.match(word) or not goal:
        asker.tell(USAGE)
        return
    _start(asker, word, goal, days)


def _start(asker: Asker, repo: str, goal: str, days: int) -> None:
    reached = repo_gateway(asker, repo)
    if reached is None:
        return
    found, installation = reached
    gateway, login = cast(SprintGateway, found), asker.login or ""
    try:
        crew = crew_for(asker.settings, found)
    except ConfigError as error:
        asker.tell(f"The crew's configuration in `{repo}` is invalid:\n```{escape(str(error))}```")
        return
    # The tracking issue carries this request's key: a retried job finds it, not a second one.
    tag = f"<!-- repocrew:slack-sprint={asker.key} -->"
    number = gateway.find_own_issue(tag)
    if number is None:
        body = f"{goal}\n\nA sprint of {days} days, requested by @{login} from Slack.\n\n{tag}"
        number = gateway.create_issue(f"Sprint: {goal.splitlines()[0][:120]}", body).number
    sprint = sprint_here(asker.engine, repo=repo, issue=number)
    sprint_id = sprint.id if sprint is not None else None
    if sprint_id is None:
        sprint_id = start_sprint(
            asker.engine,
            crew=crew,
            repo=repo,
            installation_id=installation,
            tracking_issue=number,
            goal=goal,
            days=days,
            requested_by=f"{login} <{login}@users.noreply.github.com>",
        )
    link = forge_link(github_web_url(asker.settings), repo, issue=number)
    where = channel_for(crew, topic="sprint") or "the tracking issue"
    asker.say(
        f"<@{asker.user}> started sprint {sprint_id} on <{link}|{escape(f'{repo}#{number}')}>:"
        f" {escape(goal)}. The lead is planning it; the plan follows in {escape(where)}.",
        crew=crew,
    )


def _close(asker: Asker, word: str) -> None:
    found = _steered_sprint(asker, word)
    if found is None:
        return
    sprint, gateway = found
    login = asker.login or ""
    moved = close_sprint(asker.engine, sprint, by=login)
    if not (moved or _decided(asker, sprint, SprintState.REVIEWING, f"closed by {login}")):
        asker.tell(f"Sprint {sprint.id} is `{sprint.state}`: only a running sprint closes.")
        return
    if moved:  # only the request that moved it: two deliveries may run at once
        _note(
            gateway, sprint, "closed", f"Sprint {sprint.id} closed by @{login}: its review follows."
        )
    asker.say(f"<@{asker.user}> closed sprint {sprint.id}: its review follows.")


# -- the plan's buttons and the edit form -----------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    """What a plan's button does: the move, the state it leads to, and the words for it."""

    move: Callable[..., bool]
    state: str
    word: str  # approved, cancelled
    verb: str  # approve, cancel
    after: str  # what the note on the tracking issue adds
    settled: str  # what the plan's message says instead of its buttons


DECISIONS = {
    SPRINT_APPROVE: _Decision(
        approve_sprint, SprintState.RUNNING, "approved", "approve", "opening its tasks",
        "opening its tasks.",
    ),
    SPRINT_CANCEL: _Decision(
        cancel_sprint, SprintState.CANCELLED, "cancelled", "cancel", "nothing was started", "",
    ),
}  # fmt: skip


def _decide(body: dict, services: Services, decision: _Decision) -> None:
    asker = Asker.of(body, services)
    found = _steered_sprint(asker, _value(body))
    if found is None:
        return
    sprint, gateway = found
    login = asker.login or ""
    moved = decision.move(asker.engine, sprint, by=login)
    reason = f"{decision.word} by {login}"
    if not (moved or _decided(asker, sprint, decision.state, reason)):
        asker.tell(f"Sprint {sprint.id} is `{sprint.state}`: nothing to {decision.verb}.")
        return
    text = f"Sprint {sprint.id} {decision.word} by @{login} in Slack: {decision.after}."
    if moved:  # only the request that moved it: two deliveries may run at once
        _note(gateway, sprint, decision.word, text)
    settled = f"{decision.word.capitalize()} by <@{asker.user}>."
    if decision.settled:
        settled = f"{settled[:-1]}: {decision.settled}"
    settle_plan(asker.engine, sprint.id or 0, settled)


for _action, _decision in DECISIONS.items():
    router.register("block_actions", _action)(
        lambda body, services, decision=_decision: _decide(body, services, decision)
    )


@router.register("block_actions", SPRINT_EDIT)
def edit_clicked(body: dict, services: Services) -> None:
    """Open the form; Slack lets a click's trigger_id open one within 3 seconds."""
    asker = Asker.of(body, services)
    found = _steered_sprint(asker, _value(body))
    if found is None:
        return
    sprint = found[0]
    if sprint.state != SprintState.AWAITING_APPROVAL:
        asker.tell(f"Sprint {sprint.id} is `{sprint.state}`: its plan cannot be edited now.")
        return
    try:
        form = edit_form(sprint.id or 0, goal=sprint.goal, channel=asker.channel)
        services.slack_replies().open_view(str(body.get("trigger_id")), form)
    except (PostError, ValueError) as error:
        log.warning("no edit form for sprint %s: %s", sprint.id, error)
        asker.tell("Slack's form did not open (it must open within 3 seconds): click again.")


@router.register("view_submission", SPRINT_EDIT)
def edit_submitted(body: dict, services: Services) -> None:
    view = body.get("view") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    asker = Asker.of(body, services, channel=str(meta.get("channel", "")))
    goal, notes = form_values(view)
    found = _steered_sprint(asker, str(meta.get("sprint", "")))
    if found is None or not goal:
        return
    sprint, gateway = found
    login = asker.login or ""
    moved = replan_sprint(asker.engine, sprint, goal=goal, notes=notes, by=login)
    if not (moved or _decided(asker, sprint, SprintState.PLANNING, f"goal edited by {login}")):
        asker.tell(f"Sprint {sprint.id} is `{sprint.state}`: its plan cannot be edited now.")
        return
    if moved:  # the rest only by the request that moved it, in this order (see `queue_plan`)
        note = f"<@{asker.user}> edited the goal: planning again."
        settle_plan(asker.engine, sprint.id or 0, note)
        rounds = plan_rounds(asker.engine, sprint.id or 0, into=SprintState.PLANNING)
        text = f"@{login} edited the sprint's goal in Slack; the lead plans it again."
        _note(gateway, sprint, f"edited-{rounds}", text)
        queue_plan(asker.engine, sprint.id or 0)


# -- helpers ----------------------------------------------------------------------------------


def _steered_sprint(asker: Asker, word: str) -> tuple[Sprint, SprintGateway] | None:
    """The sprint named, when the asker may steer its repository's crew; else they are told."""
    try:
        sprint = get_sprint(asker.engine, int(word.strip().removeprefix("#")))
    except (ValueError, LookupError):
        asker.tell(f"There is no sprint `{escape(word)}`.")
        return None
    gateway = steering_gateway(asker, sprint.installation_id or 0, sprint.repo)
    return (sprint, cast(SprintGateway, gateway)) if gateway is not None else None


def _decided(asker: Asker, sprint: Sprint, state: str, reason: str) -> bool:
    """Whether this person's own decision moved the sprint already (a retried job, a
    redelivered click): its follow-ups are then made again, changing nothing."""
    now = get_sprint(asker.engine, sprint.id or 0)
    return now.state == state and now.reason == reason


def _note(gateway: SprintGateway, sprint: Sprint, part: str, text: str) -> None:
    upsert_post(
        gateway,
        thread=sprint.tracking_issue or 0,
        sprint_id=sprint.id or 0,
        part=part,
        body=text,
        role="lead",
    )


def _value(body: dict) -> str:
    return str(((body.get("actions") or [{}])[0]).get("value", ""))
