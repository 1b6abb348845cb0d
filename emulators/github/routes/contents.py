"""Repository contents: read a file or directory, create or update a file (a real commit)."""

from __future__ import annotations

import base64
import binascii

from emulators.github import render_git
from emulators.github.gitrepo import Signature
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.pulls import branch_moved
from emulators.github.routes.repos import commit_json


@route("GET", "/repos/{owner}/{repo}/contents/{path:path}")
def get_contents(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="contents")
    path = ctx.params["path"].strip("/")
    ref = ctx.query.get("ref") or repo.default_branch
    commit = repo.git.resolve(ref)
    entry = repo.git.entry(commit, path) if commit else None
    if entry is None:
        raise not_found()
    mode, kind, sha = entry
    if kind == "tree":
        items = [
            render_git.content_file(
                ctx.api, repo, p, s, ref, kind="dir" if k == "tree" else "file", size=size
            )
            for _m, k, s, p, size in repo.git.tree_entries(commit, path)
        ]
        return Reply(body=items)
    data = repo.git.blob(sha)
    return Reply(
        body=render_git.content_file(ctx.api, repo, path, sha, ref, size=len(data), data=data)
    )


@route("PUT", "/repos/{owner}/{repo}/contents/{path:path}")
def put_contents(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="contents")
    path = ctx.params["path"].strip("/")
    data = ctx.body()
    ctx.require(data, "message")
    if "content" not in data:
        ctx.require(data, "content")
    try:
        content = base64.b64decode(data["content"], validate=True)
    except (binascii.Error, TypeError) as error:
        raise invalid("content is not valid Base64") from error
    branch = data.get("branch") or repo.default_branch
    head = repo.git.refs(f"refs/heads/{branch}").get(f"refs/heads/{branch}")
    if head is None and repo.git.refs("refs/heads/"):
        raise not_found()
    existing = repo.git.entry(head, path) if head else None
    if existing and data.get("sha") != existing[2]:
        if not data.get("sha"):
            raise invalid('Invalid request.\n\n"sha" wasn\'t supplied.')
        raise HTTPError(409, f"{path} does not match {existing[2]}")
    if not existing and data.get("sha"):
        raise HTTPError(422, f'{path} does not exist; remove "sha" to create it')
    actor = ctx.actor()
    now = ctx.emulator.now()
    author = _signature(data.get("author"), ctx.emulator.signature(actor), now)
    committer = _signature(data.get("committer"), author, now)
    sha = repo.git.commit_files(
        parent=head,
        files={path: content},
        message=data["message"],
        author=author,
        committer=committer,
    )
    repo.git.update_ref(f"refs/heads/{branch}", sha, head)
    repo.pushed_at = now
    if head:
        branch_moved(ctx, repo, branch, head, sha)
    blob = repo.git.entry(sha, path)[2]
    commit = commit_json(ctx, repo, sha)
    body = {
        "content": render_git.content_file(ctx.api, repo, path, blob, branch, size=len(content)),
        "commit": {
            **commit["commit"],
            "sha": sha,
            "node_id": commit["node_id"],
            "html_url": commit["html_url"],
            "parents": commit["parents"],
        },
    }
    if existing:
        return Reply(200, body)
    return Reply(201, body, {"Location": body["content"]["url"]})


def _signature(given: dict | None, default: Signature, now: str) -> Signature:
    if not given:
        return default
    return Signature(
        given.get("name", default.name), given.get("email", default.email), given.get("date", now)
    )
