"""Sprints on GitHub: `/crew sprint` on a tracking issue, `/crew go` approving its plan, and a
person merging one of its pull requests (`pull_request` closed and merged)."""

from __future__ import annotations

import re
from typing import Any

from bot.ports.forge import RepoGateway
from bot.services import Services
from bot.sprints.control import approve_sprint, pull_merged, sprint_here, start_sprint
from bot.sprints.states import SprintState
from bot.store.sprints import sprint_on_issue
from bot.triggers.commands import Command
from bot.triggers.github_deliveries import router
from bot.triggers.starting import crew_or_reply, is_bot, reply, requester, run_here

_DAYS = re.compile(r"(?:^|\s)--days[ =](\d{1,2})\b")
DEFAULT_DAYS = 5


def goal_and_days(argument: str, issue: dict[str, Any]) -> tuple[str, int]:
    """`/crew sprint <goal> [--days N]`: the goal (else the issue's title and body) and days."""
    found = _DAYS.search(argument)
    days = max(1, int(found.group(1))) if found else DEFAULT_DAYS
    goal = _DAYS.sub(" ", argument).strip()
    if not goal:
        goal = f"{issue.get('title', '')}\n\n{issue.get('body') or ''}".strip()
    return goal, days


def sprint_command(
    services: Services, gateway: RepoGateway, payload: dict[str, Any], command: Command
) -> None:
    issue = payload["issue"]
    repo = payload["repository"]["full_name"]
    if "pull_request" in issue:
        reply(gateway, payload, "`/crew sprint` works on an issue, which tracks the sprint.")
        return
    found = sprint_here(services.engine, repo=repo, issue=issue["number"])
    if found is not None:
        reply(gateway, payload, f"Sprint {found.id} is already `{found.state}` here.")
        return
    if run_here(services.engine, payload) is not None:
        reply(gateway, payload, "A run is working on this issue; a sprint needs its own issue.")
        return
    crew = crew_or_reply(services.settings, gateway, issue["number"])
    if crew is None:
        return
    goal, days = goal_and_days(command.argument, issue)
    sprint_id = start_sprint(
        services.engine,
        crew=crew,
        repo=repo,
        installation_id=payload["installation"]["id"],
        tracking_issue=issue["number"],
        goal=goal,
        days=days,
        requested_by=requester(payload["sender"]),
    )
    reply(gateway, payload, f"Sprint {sprint_id}: the lead is planning it; the plan follows here.")


def approve_here(services: Services, gateway: RepoGateway, payload: dict[str, Any]) -> bool:
    """`/crew go` on a sprint's tracking issue (an ended sprint's too: its issue is no task
    to run); False when no sprint was ever tracked here."""
    repo = payload["repository"]["full_name"]
    sprint = sprint_on_issue(services.engine, repo=repo, issue=payload["issue"]["number"])
    if sprint is None:
        return False
    login = payload["sender"]["login"]
    if sprint.state == SprintState.AWAITING_APPROVAL:
        if approve_sprint(services.engine, sprint, by=login):
            reply(gateway, payload, f"Sprint {sprint.id} approved by @{login}: opening its tasks.")
        return True
    reply(gateway, payload, f"Sprint {sprint.id} is `{sprint.state}`: nothing to approve.")
    return True


@router.register("pull_request", action="closed")
def pull_closed(payload: dict[str, Any], services: Services) -> None:
    """Delivered: a person (never a bot) merged a sprint task's pull request."""
    pull = payload["pull_request"]
    merger = pull.get("merged_by")
    if not pull.get("merged") or is_bot(merger):
        return
    repo = payload["repository"]["full_name"]
    pull_merged(services.engine, repo=repo, pr=pull["number"], by=merger["login"])
