"""Repositories: the repository, branches, commits and collaborator permissions."""

from __future__ import annotations

from typing import Any

from emulators.github import render, render_git
from emulators.github.http import Ctx, HTTPError, Reply, not_found, route
from emulators.github.state import Repository


def commit_json(
    ctx: Ctx, repo: Repository, sha: str, *, with_files: bool = False
) -> dict[str, Any]:
    info = repo.git.commit_info(sha)
    files = None
    if with_files:
        base = info.parents[0] if info.parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        files = repo.git.diff_files(base, sha)
    return render_git.commit(
        ctx.api,
        repo,
        info,
        author=ctx.emulator.user_for_email(info.author.email),
        committer=ctx.emulator.user_for_email(info.committer.email),
        files=files,
    )


@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx) -> Reply:
    return Reply(body=render.repository(ctx.api, ctx.repo()))


@route("GET", "/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="contents")
    name = ctx.params["branch"]
    sha = repo.git.refs(f"refs/heads/{name}").get(f"refs/heads/{name}")
    if sha is None:
        raise HTTPError(404, "Branch not found")
    return Reply(body=render_git.branch(ctx.api, repo, name, commit_json(ctx, repo, sha)))


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}")
def get_commit(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="contents")
    ref = ctx.params["ref"]
    if ref.endswith(("/status", "/statuses", "/check-runs")):
        raise not_found()
    sha = repo.git.resolve(ref)
    if sha is None:
        raise HTTPError(422, f"No commit found for SHA: {ref}")
    return Reply(body=commit_json(ctx, repo, sha, with_files=True))


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_collaborator_permission(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    user = ctx.emulator.users.get(ctx.params["username"])
    if user is None:
        raise not_found()
    permission = repo.collaborators.get(user.login)
    role = {"maintain": "maintain", "triage": "triage"}.get(permission or "", permission)
    shown = {"maintain": "write", "triage": "read"}.get(permission or "", permission or "none")
    if permission is None and not repo.private:
        shown, role = "read", "read"
    body = {
        "permission": shown,
        "role_name": role or "none",
        "user": {
            **render.user(ctx.api, user),
            "permissions": {
                "admin": shown == "admin",
                "maintain": permission in ("admin", "maintain"),
                "push": shown in ("admin", "write"),
                "triage": shown != "none",
                "pull": shown != "none",
            },
            "role_name": role or "none",
        },
    }
    return Reply(body=body)
