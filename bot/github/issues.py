"""Issues on GitHub for `GitHubForge`: read, open, label, and find the crew's own issue by a
hidden marker in its body (a sprint opens each task's issue once, whatever crashes between)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import github

from bot.github import convert
from bot.github.access import COMMENT
from bot.github.convert import Issue
from bot.github.refused_tokens import renews_refused_token


class IssuesMixin:
    """Issue methods for `GitHubForge` (which gives `_repo`, `main`, `client_for`, `is_own`)."""

    main: Any

    def _repo(self, client: Any = None, access: Any = None) -> Any: ...

    def client_for(self, role: str | None) -> Any: ...

    def is_own(self, author: str) -> bool: ...

    @renews_refused_token
    def get_issue(self, number: int) -> Issue:
        return convert.issue(self._repo(access=COMMENT).get_issue(number))

    @renews_refused_token
    def create_issue(
        self, title: str, body: str = "", *, labels: Sequence[str] = (), role: str | None = None
    ) -> Issue:
        client = self.client_for(role)
        with client.writing():
            created = self._repo(client, COMMENT).create_issue(
                title=title, body=body, labels=list(labels)
            )
        return convert.issue(created)

    @renews_refused_token
    def find_own_issue(self, marker: str) -> int | None:
        """The newest issue the crew opened whose body has `marker` (open or closed), or None.

        Newest first: the issue a crashed attempt just opened is found on the first page.
        """
        for found in self._repo(access=COMMENT).get_issues(state="all"):
            if found.pull_request is None and marker in (found.body or ""):
                if self.is_own(found.user.login):
                    return found.number
        return None

    @renews_refused_token
    def add_labels(self, number: int, *labels: str) -> None:
        with self.main.writing():
            self._repo(access=COMMENT).get_issue(number).add_to_labels(*labels)

    @renews_refused_token
    def remove_label(self, number: int, label: str) -> None:
        """Take `label` off; a label that is not there is already off (GitHub answers 404)."""
        with self.main.writing():
            try:
                self._repo(access=COMMENT).get_issue(number).remove_from_labels(label)
            except github.UnknownObjectException:
                pass
