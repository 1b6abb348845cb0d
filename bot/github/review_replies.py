"""Review threads on GitHub: the comments on a pull request's lines, replies in a thread, and a
file as it was at the commit a comment was made on (mixed into `GitHubForge`).

A reply goes through `POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/
replies`, as GitHub documents it: the comment id must be the thread's first comment.
"""

from __future__ import annotations

from typing import Any

from github import UnknownObjectException
from github.PullRequestComment import PullRequestComment

from bot.github.access import PULL, READ
from bot.github.refused_tokens import renews_refused_token
from bot.ports.forge import ReviewComment


def review_comment(found: PullRequestComment) -> ReviewComment:
    data: dict[str, Any] = found.raw_data
    return ReviewComment(
        id=found.id,
        body=data.get("body") or "",
        author=(data.get("user") or {}).get("login", ""),
        path=data.get("path") or "",
        line=data.get("line") or data.get("original_line"),
        in_reply_to=data.get("in_reply_to_id"),
        review_id=data.get("pull_request_review_id"),
        commit_sha=data.get("original_commit_id") or data.get("commit_id") or "",
        diff_hunk=data.get("diff_hunk") or "",
    )


class GitHubReviewReplies:
    """The `ReviewThreads` port for `GitHubForge` (which supplies `_repo` and `client_for`)."""

    _repo: Any
    client_for: Any

    @renews_refused_token
    def list_review_comments(self, number: int) -> list[ReviewComment]:
        pull = self._repo(access=PULL).get_pull(number)
        return [review_comment(c) for c in pull.get_review_comments()]

    @renews_refused_token
    def reply_to_review_comment(
        self, number: int, comment_id: int, body: str, *, role: str
    ) -> ReviewComment:
        client = self.client_for(role)
        pull = self._repo(client, PULL).get_pull(number)
        with client.writing():
            return review_comment(pull.create_review_comment_reply(comment_id, body))

    @renews_refused_token
    def read_text_at(self, path: str, ref: str) -> str | None:
        try:
            found = self._repo(access=READ).get_contents(path, ref=ref)
        except UnknownObjectException:
            return None
        if isinstance(found, list) or found.type != "file":
            return None
        return found.decoded_content.decode("utf-8", errors="replace")
