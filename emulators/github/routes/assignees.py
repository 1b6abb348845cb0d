"""Assignees: who may be assigned, and adding and removing an issue's assignees."""

from __future__ import annotations

from emulators.github import assigning, render, render_work
from emulators.github.http import Ctx, HTTPError, Reply, not_found, route
from emulators.github.state import Issue, Repository, User


def _issue(ctx: Ctx, repo: Repository) -> Issue:
    issue = repo.issues.get(int(ctx.params["number"]))
    if issue is None:
        raise not_found()
    return issue


def _logins(ctx: Ctx) -> list[str]:
    data = ctx.body()
    ctx.require(data, "assignees")
    assignees = data["assignees"]
    return [str(login) for login in (assignees if isinstance(assignees, list) else [assignees])]


def _may_change(ctx: Ctx, repo: Repository) -> bool:
    """An App without `issues: write` is refused; a person without triage is ignored."""
    if ctx.principal.kind == "anonymous":
        raise HTTPError(401, "Requires authentication")
    if ctx.principal.installation and not assigning.may_assign(ctx, repo):
        raise HTTPError(403, "Resource not accessible by integration")
    return assigning.may_assign(ctx, repo)


def _known(ctx: Ctx, repo: Repository, logins: list[str]) -> list[User]:
    users = [assigning.assignable(ctx.emulator, repo, login) for login in logins]
    return [user for user in users if user is not None]


@route("GET", "/repos/{owner}/{repo}/assignees")
def list_assignees(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    people = _known(ctx, repo, list(repo.collaborators))
    bots = [app.bot.login for app in ctx.emulator.apps.values()]
    people += _known(ctx, repo, bots)
    return Reply(body=[render.user(ctx.api, user) for user in ctx.page(people)])


@route("GET", "/repos/{owner}/{repo}/assignees/{assignee}")
def check_assignee(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    if assigning.assignable(ctx.emulator, repo, ctx.params["assignee"]) is None:
        raise not_found()
    return Reply(204)


@route("GET", "/repos/{owner}/{repo}/issues/{number:int}/assignees/{assignee}")
def check_issue_assignee(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    _issue(ctx, repo)
    if assigning.assignable(ctx.emulator, repo, ctx.params["assignee"]) is None:
        raise not_found()
    return Reply(204)


@route("POST", "/repos/{owner}/{repo}/issues/{number:int}/assignees")
def add_assignees(ctx: Ctx) -> Reply:
    """Up to ten assignees, added to those already there; logins that cannot be assigned are
    dropped silently, as GitHub drops them."""
    repo = ctx.repo(read="issues")
    issue = _issue(ctx, repo)
    logins = _logins(ctx)
    if _may_change(ctx, repo):
        before = list(issue.assignees)
        chosen = list(before)
        for user in _known(ctx, repo, logins):
            chosen += [] if user in chosen else [user]
        issue.assignees = chosen[: assigning.MAX_ASSIGNEES]
        if issue.assignees != before:
            issue.updated_at = ctx.emulator.now()
        assigning.announce(ctx, repo, issue, before)
    return Reply(201, render_work.issue(ctx.api, repo, issue))


@route("DELETE", "/repos/{owner}/{repo}/issues/{number:int}/assignees")
def remove_assignees(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="issues")
    issue = _issue(ctx, repo)
    wanted = {login.lower() for login in _logins(ctx)}
    if _may_change(ctx, repo):
        before = list(issue.assignees)
        issue.assignees = [user for user in before if user.login.lower() not in wanted]
        if issue.assignees != before:
            issue.updated_at = ctx.emulator.now()
        assigning.announce(ctx, repo, issue, before)
    return Reply(body=render_work.issue(ctx.api, repo, issue))
