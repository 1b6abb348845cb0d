"""App endpoints: the app itself, installation tokens, a repository's installation, rate limit."""

from __future__ import annotations

from typing import Any

from emulators.github import render
from emulators.github.emulator import iso
from emulators.github.http import Ctx, HTTPError, Reply, not_found, route
from emulators.github.ratelimit import rate_limit
from emulators.github.state import Installation, Minted, Repository


def _app(ctx: Ctx):
    if ctx.principal.app is None:
        raise HTTPError(401, "A JSON web token could not be decoded")
    return ctx.principal.app


@route("GET", "/app")
def get_app(ctx: Ctx) -> Reply:
    return Reply(body=render.app(ctx.api, _app(ctx)))


@route("POST", "/app/installations/{installation_id:int}/access_tokens")
def create_access_token(ctx: Ctx) -> Reply:
    """A token limited, when asked, to `repositories` (names) or `repository_ids` of the
    installation and to `permissions` it holds; GitHub's 422s for anything else."""
    app = _app(ctx)
    installation = ctx.emulator.installations.get(ctx.params["installation_id"])
    if installation is None or installation.app.id != app.id:
        raise not_found()
    data = ctx.body()
    wanted = data.get("permissions") or {}
    if not isinstance(wanted, dict):
        raise HTTPError(400, "Problems parsing JSON")
    for name, level in wanted.items():
        held = installation.permissions.get(name)
        if level not in ("read", "write") or held not in (level, "write"):
            raise HTTPError(422, "The permissions requested are not granted to this installation.")
    repos = _asked_repositories(ctx, installation, data)
    ids = None if repos is None else tuple(r.id for r in repos)
    token = ctx.emulator.issue_installation_token(installation, wanted, ids)
    names = None if repos is None else tuple(r.full_name for r in repos)
    ctx.emulator.minted.append(Minted(installation.id, names, dict(wanted) or None, token.token))
    body = {
        "token": token.token,
        "expires_at": iso(token.expires_at or 0),
        "permissions": dict(wanted or installation.permissions),
        "repository_selection": installation.repository_selection,
    }
    if repos is not None:
        body["repository_selection"] = "selected"
        body["repositories"] = [render.repository(ctx.api, r, full=False) for r in repos]
    return Reply(201, body)


def _asked_repositories(
    ctx: Ctx, installation: Installation, data: dict[str, Any]
) -> list[Repository] | None:
    """The repositories the request names (None: it names none), each one the installation
    reaches; names are looked up in the installation's account."""
    names, ids = data.get("repositories"), data.get("repository_ids")
    if names is None and ids is None:
        return None
    if not isinstance(names or [], list) or not isinstance(ids or [], list):
        raise HTTPError(400, "Problems parsing JSON")
    found: list[Repository] = []
    for name in names or []:
        found.append(ctx.emulator.repo(f"{installation.account.login}/{name}"))
    by_id = {r.id: r for r in ctx.emulator.repos.values()}
    found += [by_id.get(i) for i in ids or []]  # type: ignore[misc]
    if not found or any(r is None or not installation.covers(r) for r in found):
        raise HTTPError(
            422,
            "There is at least one repository that does not exist or is not accessible "
            "to the parent installation.",
        )
    return list({r.id: r for r in found}.values())


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
