"""Who may be assigned to an issue, who may assign, and the webhooks an assignment sends.

As on GitHub: a collaborator may be assigned, and so may an App's bot user (`<slug>[bot]`)
where that App is installed on the repository. People with triage access or more (an App:
`issues: write`) may assign; what anyone else asks is silently dropped. Each assignee added
sends its own `assigned` webhook with the `assignee` field, each one taken off `unassigned`.
"""

from __future__ import annotations

from typing import Any

from emulators.github import hooks
from emulators.github.emulator import GitHubEmulator
from emulators.github.http import Ctx, invalid
from emulators.github.pulls import announce_pull
from emulators.github.state import Issue, Repository, User

ASSIGNERS = ("admin", "maintain", "write", "triage")  # triage may assign, not push
MAX_ASSIGNEES = 10


def assignable(emulator: GitHubEmulator, repo: Repository, login: str) -> User | None:
    """The user `login` names, if it may be assigned on `repo`; None otherwise."""
    wanted = login.lower()
    for app in emulator.apps.values():
        if app.bot.login.lower() == wanted:
            return app.bot if emulator.installation_for(repo, app.id) else None
    for name in repo.collaborators:
        if name.lower() == wanted:
            user = emulator.users.get(name)
            return user if user is not None and user.type == "User" else None
    return None


def may_assign(ctx: Ctx, repo: Repository) -> bool:
    principal = ctx.principal
    if principal.installation:
        return principal.can_write(repo, "issues")
    if principal.user:
        return repo.collaborators.get(principal.user.login) in ASSIGNERS
    return False


def requested(ctx: Ctx, repo: Repository, data: dict[str, Any], current: list[User]) -> list[User]:
    """The assignees a create or edit body asks for (`assignees`, or the deprecated
    `assignee`), each checked as GitHub checks them (422 for one that cannot be assigned);
    `current` when the body names none or the caller may not assign."""
    if "assignees" in data:
        logins = list(data["assignees"] or [])
    elif "assignee" in data:
        logins = [data["assignee"]] if data["assignee"] else []
    else:
        return list(current)
    if not may_assign(ctx, repo):
        return list(current)
    users = []
    for login in logins:
        user = assignable(ctx.emulator, repo, str(login))
        if user is None:
            raise invalid(resource="Issue", field="assignees", code="invalid", value=login)
        if user not in users:
            users.append(user)
    return users[:MAX_ASSIGNEES]


def announce(ctx: Ctx, repo: Repository, issue: Issue, before: list[User]) -> None:
    """One `unassigned` per assignee taken off, then one `assigned` per assignee added."""
    for user in before:
        if user not in issue.assignees:
            _send(ctx, repo, issue, "unassigned", user)
    for user in issue.assignees:
        if user not in before:
            _send(ctx, repo, issue, "assigned", user)


def _send(ctx: Ctx, repo: Repository, issue: Issue, action: str, user: User) -> None:
    assignee = hooks.user(ctx.api, user)
    if issue.is_pull:
        announce_pull(ctx, repo, repo.pulls[issue.number], action, assignee=assignee)
    else:
        issue_body = hooks.issue(ctx.api, repo, issue)
        ctx.notify("issues", action, repo, issue=issue_body, assignee=assignee)
