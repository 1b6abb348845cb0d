"""Review threads over GraphQL, as GitHub models them: a pull request's `reviewThreads`
connection (a thread is a top-level review comment and its replies) and the
`resolveReviewThread` / `unresolveReviewThread` mutations (GitHub's GraphQL reference, "Pulls").

The emulator does not parse GraphQL: a query naming `reviewThreads` gets every field listed
in THREAD_FIELDS for each thread, whatever it selected (a superset of what a client asks).
"""

from __future__ import annotations

from typing import Any

from emulators.github.http import Ctx, HTTPError
from emulators.github.render import node_id
from emulators.github.state import Pull, Repository, ReviewComment

THREAD_FIELDS = "id isResolved isOutdated path line resolvedBy{login} comments{totalCount nodes}"
PAGE = 100


def thread_id(comment: ReviewComment) -> str:
    return node_id("PullRequestReviewThread", comment.id)


def _threads(pull: Pull) -> list[tuple[ReviewComment, list[ReviewComment]]]:
    tops = [c for c in pull.review_comments if c.in_reply_to_id is None]
    return [(t, [t, *(c for c in pull.review_comments if c.in_reply_to_id == t.id)]) for t in tops]


def _author(login: str) -> dict[str, Any]:
    # GraphQL names a GitHub App's bot by its slug, without REST's "[bot]".
    return {"login": login.removesuffix("[bot]")}


def _thread(pull: Pull, top: ReviewComment, comments: list[ReviewComment]) -> dict[str, Any]:
    resolved = top.id in pull.resolved_threads
    resolver = pull.resolved_threads.get(top.id)
    return {
        "id": thread_id(top),
        "isResolved": resolved,
        "isOutdated": top.commit_id != pull.head_sha,
        "path": top.path,
        "line": top.line,
        "resolvedBy": None if resolver is None else _author(resolver.login),
        "comments": {
            "totalCount": len(comments),
            "nodes": [
                {
                    "id": node_id("PullRequestReviewComment", c.id),
                    "databaseId": c.id,
                    "body": c.body,
                    "path": c.path,
                    "author": _author(c.user.login),
                }
                for c in comments
            ],
        },
    }


def review_threads(ctx: Ctx, variables: dict[str, Any]) -> dict[str, Any]:
    """`repository(owner, name) { pullRequest(number) { reviewThreads(first, after) } }`."""
    ctx.params.update(owner=str(variables.get("owner")), repo=str(variables.get("name")))
    repo = ctx.repo(read="pull_requests")
    pull = repo.pulls.get(int(variables.get("number") or 0))
    if pull is None:
        raise HTTPError(404, f"Could not resolve to a PullRequest with the number of "
                        f"{variables.get('number')}.")  # fmt: skip
    threads = _threads(pull)
    start = int(variables.get("after") or 0)
    first = min(int(variables.get("first") or PAGE), PAGE)
    page = threads[start : start + first]
    end = start + len(page)
    connection = {
        "totalCount": len(threads),
        "nodes": [_thread(pull, top, comments) for top, comments in page],
        "pageInfo": {"hasNextPage": end < len(threads), "endCursor": str(end) if page else None},
    }
    return {"repository": {"pullRequest": {"reviewThreads": connection}}}


def set_resolved(ctx: Ctx, thread: str, *, resolved: bool) -> dict[str, Any] | None:
    """The thread `thread` (a node id) resolved or reopened; None when no thread has that id."""
    for repo in list(ctx.emulator.repos.values()):
        for pull in repo.pulls.values():
            for top, comments in _threads(pull):
                if thread_id(top) == thread:
                    _write(ctx, repo)
                    if resolved:
                        pull.resolved_threads.setdefault(top.id, ctx.principal.actor)
                    else:
                        pull.resolved_threads.pop(top.id, None)
                    return {"clientMutationId": None, "thread": _thread(pull, top, comments)}
    return None


def _write(ctx: Ctx, repo: Repository) -> None:
    ctx.params.update(owner=repo.owner.login, repo=repo.name)
    ctx.repo(write="pull_requests")
