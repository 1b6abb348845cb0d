"""Resolving the crew's review threads on GitHub, which only GraphQL can do.

REST lists a pull request's review comments (with their authors as REST names them); GraphQL
lists its review threads (`reviewThreads`, each with its comments' `databaseId`) and resolves
one (`resolveReviewThread`). A thread is resolved only when its first comment is the crew's
own and carries one of the given markers: a person's thread is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.github.access import PULL

THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { id isResolved comments(first: 1) { nodes { databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
RESOLVE_MUTATION = """
mutation($input: ResolveReviewThreadInput!) {
  resolveReviewThread(input: $input) { thread { id isResolved } }
}
"""


class ReviewThreadsMixin:
    """`resolve_threads` for `GitHubForge` (which gives `_repo`, `main` and `is_own`)."""

    repo_full_name: str
    main: Any

    def _repo(self, client: Any = None, access: Any = None) -> Any: ...

    def is_own(self, author: str) -> bool: ...

    def resolve_threads(self, number: int, markers: Sequence[str]) -> int:
        """Resolve the crew's open threads on `number` whose first comment has one of
        `markers`; returns how many were resolved."""
        if not markers:
            return 0
        repo = self._repo(access=PULL)
        ours = {
            c.id
            for c in repo.get_pull(number).get_review_comments()
            if self.is_own(c.user.login) and any(m in (c.body or "") for m in markers)
        }
        if not ours:
            return 0
        owner, name = self.repo_full_name.split("/", 1)
        open_threads = [
            thread["id"]
            for thread in self._threads(repo.requester, owner, name, number)
            if not thread["isResolved"]
            and any(c["databaseId"] in ours for c in thread["comments"]["nodes"][:1])
        ]
        with self.main.writing():
            for thread in open_threads:
                repo.requester.graphql_query(RESOLVE_MUTATION, {"input": {"threadId": thread}})
        return len(open_threads)

    @staticmethod
    def _threads(requester: Any, owner: str, name: str, number: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = None
        while True:
            variables = {"owner": owner, "name": name, "number": number, "after": after}
            _, data = requester.graphql_query(THREADS_QUERY, variables)
            page = data["data"]["repository"]["pullRequest"]["reviewThreads"]
            found += page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]
