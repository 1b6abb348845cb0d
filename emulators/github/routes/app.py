"""App endpoints: the app itself, installation tokens, a repository's installation, rate limit."""

from __future__ import annotations

from emulators.github import render
from emulators.github.emulator import iso
from emulators.github.http import Ctx, HTTPError, Reply, not_found, route
from emulators.github.ratelimit import rate_limit


def _app(ctx: Ctx):
    if ctx.principal.app is None:
        raise HTTPError(401, "A JSON web token could not be decoded")
    return ctx.principal.app


@route("GET", "/app")
def get_app(ctx: Ctx) -> Reply:
    return Reply(body=render.app(ctx.api, _app(ctx)))


@route("POST", "/app/installations/{installation_id:int}/access_tokens")
def create_access_token(ctx: Ctx) -> Reply:
    app = _app(ctx)
    installation = ctx.emulator.installations.get(ctx.params["installation_id"])
    if installation is None or installation.app.id != app.id:
        raise not_found()
    wanted = ctx.body().get("permissions") or {}
    for name, level in wanted.items():
        if installation.permissions.get(name) not in (level, "write"):
            raise HTTPError(422, "The permissions requested are not granted to this installation.")
    token = ctx.emulator.issue_installation_token(installation, wanted)
    body = {
        "token": token.token,
        "expires_at": iso(token.expires_at or 0),
        "permissions": dict(wanted or installation.permissions),
        "repository_selection": installation.repository_selection,
    }
    return Reply(201, body)


@route("GET", "/repos/{owner}/{repo}/installation")
def get_repo_installation(ctx: Ctx) -> Reply:
    app = _app(ctx)
    repo = ctx.emulator.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
    installation = ctx.emulator.installation_for(repo, app.id) if repo else None
    if installation is None:
        raise not_found()
    return Reply(body=render.installation(ctx.api, installation))


@route("GET", "/installation/repositories")
def list_installation_repositories(ctx: Ctx) -> Reply:
    installation = ctx.principal.installation
    if installation is None:
        raise HTTPError(403, "You must authenticate with an installation access token")
    covered = [r for r in ctx.emulator.repos.values() if installation.covers(r)]
    shown = ctx.page(sorted(covered, key=lambda r: r.id))
    body = {
        "total_count": len(covered),
        "repository_selection": installation.repository_selection,
        "repositories": [render.repository(ctx.api, r) for r in shown],
    }
    return Reply(body=body)


OTHER_LIMITS = {
    "integration_manifest": 5000,
    "source_import": 100,
    "code_scanning_upload": 1000,
    "code_scanning_autofix": 10,
    "actions_runner_registration": 10000,
    "scim": 15000,
    "dependency_snapshots": 100,
    "audit_log": 1750,
    "audit_log_streaming": 15,
    "code_search": 10,
}


@route("GET", "/rate_limit")
def get_rate_limit(ctx: Ctx) -> Reply:
    core = rate_limit(ctx.emulator, ctx.principal)
    search = {"limit": 30, "used": 0, "remaining": 30, "reset": core["reset"]}
    graphql = {**core, "used": 0, "remaining": core["limit"]}
    resources = {"core": core, "search": search, "graphql": graphql}
    for name, limit in OTHER_LIMITS.items():
        resources[name] = {"limit": limit, "used": 0, "remaining": limit, "reset": core["reset"]}
    return Reply(body={"resources": resources, "rate": core})
