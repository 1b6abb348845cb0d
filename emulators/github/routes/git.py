"""Git references: get, list, create, move (fast-forward or forced) and delete."""

from __future__ import annotations

from emulators.github import render_git
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.pulls import branch_moved


def _full(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/{ref}"


@route("GET", "/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="contents")
    ref = _full(ctx.params["ref"])
    sha = repo.git.refs(ref).get(ref)
    if sha is None:
        raise not_found()
    return Reply(body=render_git.git_ref(ctx.api, repo, ref, sha))


@route("GET", "/repos/{owner}/{repo}/git/refs")
def list_refs(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="contents")
    refs = sorted(repo.git.refs("refs/heads/").items()) + sorted(
        repo.git.refs("refs/tags/").items()
    )
    return Reply(body=[render_git.git_ref(ctx.api, repo, r, s) for r, s in ctx.page(refs)])


@route("GET", "/repos/{owner}/{repo}/git/refs/{ref:path}")
def get_refs(ctx: Ctx) -> Reply:
    """A single ref when the name matches exactly; else the refs under the prefix (as GitHub)."""
    repo = ctx.repo(read="contents")
    ref = _full(ctx.params["ref"])
    refs = repo.git.refs(ref)
    if ref in refs:
        return Reply(body=render_git.git_ref(ctx.api, repo, ref, refs[ref]))
    matching = sorted((r, s) for r, s in refs.items() if r.startswith(ref.rstrip("/") + "/"))
    if not matching:
        raise not_found()
    return Reply(body=[render_git.git_ref(ctx.api, repo, r, s) for r, s in matching])


@route("POST", "/repos/{owner}/{repo}/git/refs")
def create_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="contents")
    data = ctx.body()
    ctx.require(data, "ref", "sha")
    ref = data["ref"]
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise invalid("Reference name must start with 'refs/' and have at least two slashes.")
    if ref in repo.git.refs(ref):
        raise invalid("Reference already exists")
    sha = repo.git.resolve(data["sha"])
    if sha is None or sha != data["sha"]:
        raise invalid("Object does not exist")
    repo.git.update_ref(ref, sha)
    body = render_git.git_ref(ctx.api, repo, ref, sha)
    return Reply(201, body, {"Location": body["url"]})


def _update(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="contents")
    ref = _full(ctx.params["ref"])
    current = repo.git.refs(ref).get(ref)
    if current is None:
        raise invalid("Reference does not exist")
    data = ctx.body()
    ctx.require(data, "sha")
    sha = repo.git.resolve(data["sha"])
    if sha is None:
        raise invalid("Object does not exist")
    if not data.get("force") and not repo.git.is_ancestor(current, sha):
        raise invalid("Update is not a fast forward")
    repo.git.update_ref(ref, sha, current)
    repo.pushed_at = ctx.emulator.now()
    if ref.startswith("refs/heads/") and sha != current:
        branch_moved(ctx, repo, ref.removeprefix("refs/heads/"), current, sha)
    return Reply(body=render_git.git_ref(ctx.api, repo, ref, sha))


def _delete(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="contents")
    ref = _full(ctx.params["ref"])
    if ref not in repo.git.refs(ref):
        raise HTTPError(422, "Reference does not exist")
    repo.git.delete_ref(ref)
    return Reply(204)


for _prefix in ("ref", "refs"):
    route("PATCH", f"/repos/{{owner}}/{{repo}}/git/{_prefix}/{{ref:path}}")(_update)
    route("DELETE", f"/repos/{{owner}}/{{repo}}/git/{_prefix}/{{ref:path}}")(_delete)
