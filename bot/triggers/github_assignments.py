"""`issues.assigned` and `issues.unassigned`: an issue assigned to the crew's bot user starts a
run, as the trigger label does; taking the crew off it stops a run that has no pull request yet.

The crew's bot users are the App's (`<slug>[bot]`) and those of roles with their own App, as
`trigger_assignees` in the crew file lists them. The person who assigns is the one judged: the
same write-access rule and refusal as for the label, and bots never steer. Once the run has
opened its pull request, unassigning does not throw that work away: the issue is told the run
continues to its pull request, and `/crew stop` stops it.
"""

from __future__ import annotations

from typing import Any

from bot.ports.forge import RepoGateway
from bot.roster.loader import ConfigError, load_crew
from bot.roster.models import APP_ASSIGNEE, Crew
from bot.runs.progress import active_run, stop_run
from bot.services import Services
from bot.triggers.commands import not_allowed_reply
from bot.triggers.github_deliveries import router
from bot.triggers.starting import (
    crew_for,
    gateway_of,
    is_bot,
    may_steer,
    reply_invalid_config,
    start_github_run,
)


def crew_logins(gateway: RepoGateway, crew: Crew) -> set[str]:
    """The bot users (lower case) whose assignment starts a run on this crew."""
    logins = set()
    for key in crew.assignee_keys:
        identity = None if key == APP_ASSIGNEE else crew.roles[key].github
        logins.add(gateway.bot_login(identity).lower())
    return logins


def _login(user: dict[str, Any] | None) -> str:
    return str((user or {}).get("login", "")).lower()


def _may_be_crew(assignee: dict[str, Any] | None) -> bool:
    """Decided from the payload, before asking GitHub: the crew's users are `<slug>[bot]`, so a
    person assigned is never the crew."""
    return _login(assignee).endswith("[bot]")


@router.register("issues", action="assigned")
def issue_assigned(payload: dict[str, Any], services: Services) -> None:
    sender = payload.get("sender")
    if is_bot(sender) or not _may_be_crew(payload.get("assignee")):
        return
    gateway = gateway_of(services, payload)
    number = payload["issue"]["number"]
    try:
        crew = crew_for(services.settings, gateway, configs=services.repo_configs, payload=payload)
    except ConfigError as error:
        # Answer an assignment of the operator's crew only, as the label handler does.
        if _login(payload.get("assignee")) in crew_logins(gateway, load_crew_of(services)):
            reply_invalid_config(gateway, number, error)
        return
    if _login(payload.get("assignee")) not in crew_logins(gateway, crew):
        return
    if not may_steer(gateway, sender):
        gateway.create_comment(number, not_allowed_reply(sender["login"]), role="lead")
        return
    start_github_run(services, gateway, payload, crew=crew, if_idle=True)


@router.register("issues", action="unassigned")
def issue_unassigned(payload: dict[str, Any], services: Services) -> None:
    sender = payload.get("sender")
    if is_bot(sender) or not _may_be_crew(payload.get("assignee")):
        return
    gateway = gateway_of(services, payload)
    try:
        crew = crew_for(services.settings, gateway, configs=services.repo_configs, payload=payload)
    except ConfigError:
        crew = load_crew_of(services)  # a broken repo config must not keep a run from stopping
    logins = crew_logins(gateway, crew)
    if _login(payload.get("assignee")) not in logins:
        return
    issue = payload["issue"]
    if any(_login(user) in logins for user in issue.get("assignees") or ()):
        return  # still assigned to the crew (another of its bot users)
    run = active_run(services.engine, payload["repository"]["full_name"], issue=issue["number"])
    if run is None:
        return
    if not may_steer(gateway, sender):
        gateway.create_comment(issue["number"], not_allowed_reply(sender["login"]), role="lead")
        return
    body = unassigned_reply(run.id, run.pr_number, sender["login"])
    if run.pr_number is None:
        stop_run(services.engine, run.id, reason=f"unassigned by {sender['login']}")
    gateway.create_comment(issue["number"], body, role="lead")


def unassigned_reply(run_id: int, pr_number: int | None, login: str) -> str:
    if pr_number is None:
        return f"Run {run_id} stopped: @{login} took the crew off this issue."
    return (
        f"Run {run_id} continues to its pull request #{pr_number}: unassigning stops a run "
        "only before it opens one. `/crew stop` there stops it."
    )


def load_crew_of(services: Services) -> Crew:
    """The operator's crew, without the repository's overrides."""
    return load_crew(services.settings.crew_file)
