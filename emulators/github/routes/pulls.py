"""Pull requests: create, list, get, update, files and commits from git, merge."""

from __future__ import annotations

from typing import Any

from emulators.github import hooks, render_git, render_work
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.pulls import announce_pull, branch_moved, refresh, stats
from emulators.github.routes.repos import commit_json
from emulators.github.state import Issue, Pull, Repository


def pull_json(ctx: Ctx, repo: Repository, pull: Pull) -> dict[str, Any]:
    refresh(repo, pull)
    return render_work.pull(ctx.api, repo, pull, stats(repo, pull))


def find_pull(ctx: Ctx, repo: Repository) -> Pull:
    pull = repo.pulls.get(int(ctx.params["number"]))
    if pull is None:
        raise not_found()
    refresh(repo, pull)
    return pull


@route("POST", "/repos/{owner}/{repo}/pulls")
def create_pull(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="pull_requests")
    data = ctx.body()
    ctx.require(data, "head", "base")
    head_ref = data["head"].split(":", 1)[-1]
    refs = repo.git.refs("refs/heads/")
    head = refs.get(f"refs/heads/{head_ref}")
    base = refs.get(f"refs/heads/{data['base']}")
    if head is None:
        raise invalid(resource="PullRequest", field="head", code="invalid")
    if base is None:
        raise invalid(resource="PullRequest", field="base", code="invalid")
    if repo.git.is_ancestor(head, base):
        raise invalid(
            resource="PullRequest",
            code="custom",
            message=f"No commits between {data['base']} and {head_ref}",
        )
    for other in repo.pulls.values():
        if other.issue.state == "open" and (other.head_ref, other.base_ref) == (
            head_ref,
            data["base"],
        ):
            raise invalid(
                resource="PullRequest",
                code="custom",
                message=f"A pull request already exists for {data['head']}.",
            )
    if not data.get("title"):
        raise invalid(resource="PullRequest", field="title", code="missing_field")
    now = ctx.emulator.now()
    issue = Issue(
        id=ctx.emulator.next_id(),
        number=repo.next_number(),
        title=data["title"],
        body=data.get("body"),
        user=ctx.actor(),
        created_at=now,
        updated_at=now,
        is_pull=True,
    )
    pull = Pull(
        issue=issue,
        id=ctx.emulator.next_id(),
        head_ref=head_ref,
        base_ref=data["base"],
        head_sha=head,
        base_sha=base,
        draft=bool(data.get("draft")),
        maintainer_can_modify=bool(data.get("maintainer_can_modify")),
    )
    repo.issues[issue.number] = issue
    repo.pulls[issue.number] = pull
    body = pull_json(ctx, repo, pull)
    announce_pull(ctx, repo, pull, "opened")
    return Reply(201, body, {"Location": body["url"]})


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    state = ctx.query.get("state", "open")
    pulls = [
        p
        for p in sorted(repo.pulls.values(), key=lambda p: -p.number)
        if state == "all" or p.issue.state == state
    ]
    if "head" in ctx.query:
        pulls = [p for p in pulls if p.head_ref == ctx.query["head"].split(":", 1)[-1]]
    if "base" in ctx.query:
        pulls = [p for p in pulls if p.base_ref == ctx.query["base"]]
    if ctx.query.get("direction") == "asc":
        pulls.reverse()
    return Reply(body=[_listed(pull_json(ctx, repo, p)) for p in ctx.page(pulls)])


def _listed(body: dict[str, Any]) -> dict[str, Any]:
    """List items omit the computed fields, as GitHub does."""
    return {k: v for k, v in body.items() if k not in render_work.PULL_COMPUTED}


@route("GET", "/repos/{owner}/{repo}/pulls/{number:int}")
def get_pull(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    return Reply(body=pull_json(ctx, repo, find_pull(ctx, repo)))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{number:int}")
def update_pull(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="pull_requests")
    pull = find_pull(ctx, repo)
    data = ctx.body()
    now = ctx.emulator.now()
    before = {"title": pull.issue.title, "body": pull.issue.body}
    base, draft, state = (pull.base_ref, pull.base_sha), pull.draft, pull.issue.state
    if "title" in data:
        pull.issue.title = data["title"]
    if "body" in data:
        pull.issue.body = data["body"]
    if "base" in data:
        if f"refs/heads/{data['base']}" not in repo.git.refs("refs/heads/"):
            raise invalid(resource="PullRequest", field="base", code="invalid")
        pull.base_ref = data["base"]
    if "maintainer_can_modify" in data:
        pull.maintainer_can_modify = bool(data["maintainer_can_modify"])
    if "draft" in data:
        pull.draft = bool(data["draft"])
    if data.get("state") in ("open", "closed") and not pull.merged:
        pull.issue.state = data["state"]
        pull.issue.closed_at = now if data["state"] == "closed" else None
        pull.issue.closed_by = ctx.actor() if data["state"] == "closed" else None
    elif "state" in data and data["state"] not in ("open", "closed"):
        raise invalid(resource="PullRequest", field="state", code="invalid")
    pull.issue.updated_at = now
    refresh(repo, pull)
    edits = hooks.changes(before, {"title": pull.issue.title, "body": pull.issue.body})
    if pull.base_ref != base[0]:
        edits["base"] = {"ref": {"from": base[0]}, "sha": {"from": base[1]}}
    if edits:
        announce_pull(ctx, repo, pull, "edited", changes=edits)
    if pull.draft != draft:
        announce_pull(ctx, repo, pull, "converted_to_draft" if pull.draft else "ready_for_review")
    if pull.issue.state != state:
        announce_pull(ctx, repo, pull, "closed" if pull.issue.state == "closed" else "reopened")
    return Reply(body=pull_json(ctx, repo, pull))


@route("GET", "/repos/{owner}/{repo}/pulls/{number:int}/files")
def list_pull_files(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    pull = find_pull(ctx, repo)
    base = repo.git.merge_base(pull.base_sha, pull.head_sha) or pull.base_sha
    files = repo.git.diff_files(base, pull.head_sha)
    body = [render_git.file_change(ctx.api, repo, pull.head_sha, f) for f in ctx.page(files)]
    return Reply(body=body)


@route("GET", "/repos/{owner}/{repo}/pulls/{number:int}/commits")
def list_pull_commits(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    pull = find_pull(ctx, repo)
    shas = repo.git.commits_between(pull.base_sha, pull.head_sha)
    return Reply(body=[commit_json(ctx, repo, sha) for sha in ctx.page(shas)])


@route("GET", "/repos/{owner}/{repo}/pulls/{number:int}/merge")
def check_merged(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    if not find_pull(ctx, repo).merged:
        raise not_found()
    return Reply(204)


@route("PUT", "/repos/{owner}/{repo}/pulls/{number:int}/merge")
def merge_pull(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="contents")
    pull = find_pull(ctx, repo)
    data = ctx.body()
    if pull.merged or pull.issue.state != "open":
        raise HTTPError(405, "Pull Request is not mergeable")
    if data.get("sha") and data["sha"] != pull.head_sha:
        raise HTTPError(409, "Head branch was modified. Review and try the merge again.")
    method = data.get("merge_method", "merge")
    if method not in ("merge", "squash", "rebase"):
        raise invalid(resource="PullRequest", field="merge_method", code="invalid")
    tree = repo.git.merge_tree(pull.base_sha, pull.head_sha)
    if tree is None:
        raise HTTPError(405, "Pull Request is not mergeable")
    actor = ctx.actor()
    signature = ctx.emulator.signature(actor)
    if method == "merge":
        title = data.get("commit_title") or (
            f"Merge pull request #{pull.number} from {repo.owner.login}/{pull.head_ref}"
        )
        message = "\n\n".join(
            x for x in (title, data.get("commit_message") or pull.issue.title) if x
        )
        parents = [pull.base_sha, pull.head_sha]
    else:
        # squash and rebase both land the whole change as one commit on the base branch
        title = data.get("commit_title") or f"{pull.issue.title} (#{pull.number})"
        message = "\n\n".join(x for x in (title, data.get("commit_message")) if x)
        parents = [pull.base_sha]
    sha = repo.git.commit_tree(tree, parents, message, signature)
    repo.git.update_ref(f"refs/heads/{pull.base_ref}", sha, pull.base_sha)
    now = ctx.emulator.now()
    pull.merged, pull.merged_at, pull.merged_by, pull.merge_commit_sha = True, now, actor, sha
    pull.issue.state, pull.issue.closed_at, pull.issue.updated_at = "closed", now, now
    repo.pushed_at = now
    announce_pull(ctx, repo, pull, "closed")
    branch_moved(ctx, repo, pull.base_ref, pull.base_sha, sha)
    return Reply(body={"sha": sha, "merged": True, "message": "Pull Request successfully merged"})
