"""Pull request reviews (with inline comments) and review comments."""

from __future__ import annotations

from typing import Any

from emulators.github import hooks, render_work
from emulators.github.http import Ctx, HTTPError, Reply, invalid, not_found, route
from emulators.github.routes.pulls import find_pull
from emulators.github.state import Pull, Repository, Review, ReviewComment

REVIEW_STATES = {
    "COMMENT": "COMMENTED",
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
}


def _hunk(repo: Repository, pull: Pull, path: str) -> str:
    base = repo.git.merge_base(pull.base_sha, pull.head_sha) or pull.base_sha
    for change in repo.git.diff_files(base, pull.head_sha):
        if change.filename == path:
            return change.patch
    raise invalid(
        "Unprocessable Entity",
        resource="PullRequestReviewComment",
        field="path",
        code="invalid",
        message="path is not part of the diff",
    )


def _comment(
    ctx: Ctx,
    repo: Repository,
    pull: Pull,
    data: dict[str, Any],
    review_id: int | None,
    commit_id: str,
) -> ReviewComment:
    if not data.get("path") or not data.get("body"):
        raise invalid(resource="PullRequestReviewComment", field="path", code="missing_field")
    line = data.get("line", data.get("position"))
    if line is None and data.get("subject_type") != "file":
        raise invalid(resource="PullRequestReviewComment", field="line", code="missing_field")
    now = ctx.emulator.now()
    return ReviewComment(
        id=ctx.emulator.next_id(),
        review_id=review_id,
        user=ctx.actor(),
        body=data["body"],
        path=data["path"],
        line=line,
        side=data.get("side", "RIGHT"),
        start_line=data.get("start_line"),
        start_side=data.get("start_side"),
        commit_id=commit_id,
        diff_hunk=_hunk(repo, pull, data["path"]),
        created_at=now,
        updated_at=now,
        in_reply_to_id=data.get("in_reply_to"),
    )


def _announce(
    ctx: Ctx, repo: Repository, pull: Pull, review: Review, comments: list[ReviewComment]
) -> None:
    """`pull_request_review` `submitted`, and `pull_request_review_comment` `created` for each
    of its comments (GitHub sends both, even for a lone comment, which makes its own review)."""
    if not ctx.emulator.webhooks.enabled or review.submitted_at is None:
        return
    simple = hooks.simple_pull_request(ctx.api, repo, pull)
    body = hooks.review(ctx.api, repo, pull, review)
    ctx.notify("pull_request_review", "submitted", repo, review=body, pull_request=simple)
    for comment in comments:
        body = hooks.review_comment(ctx.api, repo, pull, comment)
        event = "pull_request_review_comment"
        ctx.notify(event, "created", repo, comment=body, pull_request=simple)


@route("GET", "/repos/{owner}/{repo}/pulls/{number:int}/reviews")
def list_reviews(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    pull = find_pull(ctx, repo)
    return Reply(body=[render_work.review(ctx.api, repo, pull, r) for r in ctx.page(pull.reviews)])


@route("POST", "/repos/{owner}/{repo}/pulls/{number:int}/reviews")
def create_review(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="pull_requests")
    pull = find_pull(ctx, repo)
    data = ctx.body()
    event = data.get("event")
    if event is not None and event not in REVIEW_STATES:
        raise invalid(resource="PullRequestReview", field="event", code="invalid")
    if event in ("COMMENT", "REQUEST_CHANGES") and not data.get("body"):
        raise invalid("Unprocessable Entity", errors=[f"Review body is required for {event}"])
    actor = ctx.actor()
    if event in ("APPROVE", "REQUEST_CHANGES") and actor.id == pull.issue.user.id:
        raise invalid(
            "Unprocessable Entity",
            errors=["Can not approve or request changes on your own pull request"],
        )
    commit_id = data.get("commit_id") or pull.head_sha
    review = Review(
        id=ctx.emulator.next_id(),
        user=actor,
        body=data.get("body") or "",
        state=REVIEW_STATES.get(event or "", "PENDING"),
        commit_id=commit_id,
        submitted_at=ctx.emulator.now() if event else None,
    )
    comments = [
        _comment(ctx, repo, pull, c, review.id, commit_id) for c in data.get("comments") or []
    ]
    pull.reviews.append(review)
    pull.review_comments.extend(comments)
    _announce(ctx, repo, pull, review, comments)
    return Reply(200, render_work.review(ctx.api, repo, pull, review))


@route("GET", "/repos/{owner}/{repo}/pulls/{number:int}/comments")
def list_review_comments(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    pull = find_pull(ctx, repo)
    comments = ctx.page(pull.review_comments)
    return Reply(body=[render_work.review_comment(ctx.api, repo, pull, c) for c in comments])


@route("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id:int}")
def get_review_comment(ctx: Ctx) -> Reply:
    repo = ctx.repo(read="pull_requests")
    wanted = int(ctx.params["comment_id"])
    for pull in repo.pulls.values():
        for comment in pull.review_comments:
            if comment.id == wanted:
                return Reply(body=render_work.review_comment(ctx.api, repo, pull, comment))
    raise not_found()


@route("POST", "/repos/{owner}/{repo}/pulls/{number:int}/comments")
def create_review_comment(ctx: Ctx) -> Reply:
    repo = ctx.repo(write="pull_requests")
    pull = find_pull(ctx, repo)
    data = ctx.body()
    if data.get("in_reply_to"):
        parent = next((c for c in pull.review_comments if c.id == data["in_reply_to"]), None)
        if parent is None:
            raise invalid(resource="PullRequestReviewComment", field="in_reply_to", code="invalid")
        data = {**data, "path": parent.path, "line": parent.line, "side": parent.side}
    ctx.require(data, "body")
    comment = _comment(ctx, repo, pull, data, None, data.get("commit_id") or pull.head_sha)
    return _post_alone(ctx, repo, pull, comment)


@route("POST", "/repos/{owner}/{repo}/pulls/{number:int}/comments/{comment_id:int}/replies")
def reply_to_review_comment(ctx: Ctx) -> Reply:
    """A reply in a review thread: GitHub files it under the thread's first comment (a reply to
    a reply lands there too), on the same line, and answers 201 like any review comment.
    Anyone who can read the repository may reply; an App needs `pull_requests` write."""
    repo = ctx.repo(write="pull_requests" if ctx.principal.installation else None)
    if ctx.principal.kind == "anonymous":
        raise HTTPError(401, "Requires authentication")
    pull = find_pull(ctx, repo)
    wanted = int(ctx.params["comment_id"])
    parent = next((c for c in pull.review_comments if c.id == wanted), None)
    if parent is None:
        raise not_found()
    root = next((c for c in pull.review_comments if c.id == parent.in_reply_to_id), parent)
    data = ctx.body()
    ctx.require(data, "body")
    place = {"path": root.path, "line": root.line, "side": root.side, "in_reply_to": root.id}
    comment = _comment(ctx, repo, pull, {**data, **place}, None, root.commit_id)
    return _post_alone(ctx, repo, pull, comment)


def _post_alone(ctx: Ctx, repo: Repository, pull: Pull, comment: ReviewComment) -> Reply:
    """A review comment posted on its own makes a review of its own, as on GitHub."""
    review = Review(
        id=ctx.emulator.next_id(),
        user=comment.user,
        body="",
        state="COMMENTED",
        commit_id=comment.commit_id,
        submitted_at=comment.created_at,
    )
    comment.review_id = review.id
    pull.reviews.append(review)
    pull.review_comments.append(comment)
    _announce(ctx, repo, pull, review, [comment])
    body = render_work.review_comment(ctx.api, repo, pull, comment)
    return Reply(201, body, {"Location": body["url"]})
