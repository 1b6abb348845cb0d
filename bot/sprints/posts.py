"""Posting about a sprint once: find the crew's earlier post by its marker and edit it, or post.

The gateway is the repository's (`Services.repo_gateway`); a marker counts only in the crew's
own comments, so a reader who copies one does not make their comment the crew's.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.ports.forge import Comment
from bot.sprints.render import marker, with_marker


class SprintGateway(Protocol):
    """What a sprint needs of its repository on the forge (GitHub's `GitHubForge` has it)."""

    def is_own(self, author: str) -> bool: ...

    def list_comments(self, thread: int) -> list[Comment]: ...

    def create_comment(self, thread: int, body: str, *, role: str) -> Comment: ...

    def update_comment(self, comment_id: int, body: str, *, role: str) -> Comment: ...

    def create_issue(self, title: str, body: str = "", **options: Any) -> Any: ...

    def find_own_issue(self, marker: str) -> int | None:
        """The number of the crew's issue whose body has `marker`, or None."""
        ...


def upsert_post(
    gateway: SprintGateway, *, thread: int, sprint_id: int, part: str, body: str, role: str
) -> Comment:
    text = with_marker(body, sprint_id, part)
    tag = marker(sprint_id, part)
    for comment in gateway.list_comments(thread):
        if tag in comment.body and gateway.is_own(comment.author):
            if comment.body.strip() == text.strip():
                return comment
            return gateway.update_comment(comment.id, text, role=role)
    return gateway.create_comment(thread, text, role=role)
