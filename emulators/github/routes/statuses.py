"""Commit statuses: create, list for a ref, and the combined status."""

from __future__ import annotations

from emulators.github import render_checks
from emulators.github.http import Ctx, HTTPError, Reply, invalid, route
from emulators.github.state import Repository, Status

STATES = ("error", "failure", "pending", "success")


def _sha(repo: Repository, ref: str) -> str:
    sha = repo.git.resolve(ref)
    if sha is None:
        raise HTTPError(422, f"No commit found for SHA: {ref}")
    return sha


@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="statuses")
    data = ctx.body()
    if data.get("state") not in STATES:
        raise invalid(
            resource="Status",
            field="state",
            code="custom",
            message=f"state is not included in the list: {', '.join(STATES)}",
        )
    sha = _sha(repo, ctx.params["sha"])
    now = ctx.emulator.now()
    status = Status(
        id=ctx.emulator.next_id(),
        sha=sha,
        state=data["state"],
        context=data.get("context") or "default",
        description=data.get("description"),
        target_url=data.get("target_url"),
        creator=ctx.actor(),
        created_at=now,
        updated_at=now,
    )
    repo.statuses.append(status)
    body = render_checks.status(ctx.api, repo, status)
    return Reply(201, body, {"Location": body["url"]})


def _for(repo: Repository, sha: str) -> list[Status]:
    return [s for s in reversed(repo.statuses) if s.sha == sha]


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}/statuses")
def list_statuses(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="statuses")
    statuses = ctx.page(_for(repo, _sha(repo, ctx.params["ref"])))
    return Reply(body=[render_checks.status(ctx.api, repo, s) for s in statuses])


@route("GET", "/repos/{owner}/{repo}/statuses/{ref}")
def list_statuses_legacy(ctx: Ctx) -> Reply:
    return list_statuses(ctx)


@route("GET", "/repos/{owner}/{repo}/commits/{ref:path}/status")
def combined_status(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="statuses")
    sha = _sha(repo, ctx.params["ref"])
    latest: dict[str, Status] = {}
    for status in _for(repo, sha):
        latest.setdefault(status.context, status)
    statuses = sorted(latest.values(), key=lambda s: s.context)
    return Reply(body=render_checks.combined_status(ctx.api, repo, sha, ctx.page(statuses)))
