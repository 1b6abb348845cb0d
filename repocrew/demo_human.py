"""The demo's human, octocat: opens and labels the issue, then reads the pull request back,
through GitHub's REST API as a person's client would (the crew's own GitHub side is PyGithub,
behind `bot.github`; this is the other side of the conversation)."""

from __future__ import annotations

import base64
from typing import Any

import httpx


class Human:
    """A GitHub user with a personal token, on one repository."""

    def __init__(self, api_url: str, token: str, repo: str) -> None:
        self.repo = repo
        self.http = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
            timeout=30,
        )

    def close(self) -> None:
        self.http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/repos/{self.repo}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def open_issue(self, title: str, body: str) -> int:
        return self._json("POST", "/issues", json={"title": title, "body": body})["number"]

    def label(self, number: int, name: str) -> None:
        self._json("POST", f"/issues/{number}/labels", json={"labels": [name]})

    def first_pull(self) -> dict[str, Any] | None:
        pulls = self._json("GET", "/pulls", params={"state": "all"})
        return self._json("GET", f"/pulls/{pulls[0]['number']}") if pulls else None

    def review_comments(self, number: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/pulls/{number}/comments", params={"per_page": 100})

    def pull_files(self, number: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/pulls/{number}/files", params={"per_page": 100})

    def reviews(self, number: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/pulls/{number}/reviews", params={"per_page": 100})

    def check_runs(self, sha: str, name: str) -> list[dict[str, Any]]:
        found = self._json("GET", f"/commits/{sha}/check-runs", params={"check_name": name})
        return found["check_runs"]

    # -- a sprint: the tracking issue, the crew's issues and pull requests -----------------
    def comment(self, number: int, body: str) -> int:
        return self._json("POST", f"/issues/{number}/comments", json={"body": body})["id"]

    def issues(self) -> list[dict[str, Any]]:
        """Every issue (pull requests left out, as GitHub lists them together)."""
        found = self._json("GET", "/issues", params={"state": "all", "per_page": 100})
        return [issue for issue in found if "pull_request" not in issue]

    def pulls(self) -> list[dict[str, Any]]:
        return self._json("GET", "/pulls", params={"state": "all", "per_page": 100})

    def pull(self, number: int) -> dict[str, Any]:
        return self._json("GET", f"/pulls/{number}")

    def merge(self, number: int) -> None:
        """Merge the pull request, as its reviewer would with the button."""
        self._json("PUT", f"/pulls/{number}/merge", json={"merge_method": "merge"})

    # -- a person's own pull request ------------------------------------------------------
    def push_file(self, branch: str, path: str, text: str, message: str) -> str:
        """Commit `text` to `path` on `branch` (made from main when missing); the new head."""
        try:
            self._json("GET", f"/branches/{branch}")
        except httpx.HTTPStatusError:
            main = self._json("GET", "/branches/main")["commit"]["sha"]
            self._json("POST", "/git/refs", json={"ref": f"refs/heads/{branch}", "sha": main})
        put: dict[str, Any] = {"message": message, "content": _base64(text), "branch": branch}
        try:
            put["sha"] = self._json("GET", f"/contents/{path}", params={"ref": branch})["sha"]
        except httpx.HTTPStatusError:
            pass  # a new file
        return self._json("PUT", f"/contents/{path}", json=put)["commit"]["sha"]

    def open_pull(self, branch: str, title: str, body: str) -> int:
        pull = {"title": title, "body": body, "head": branch, "base": "main"}
        return self._json("POST", "/pulls", json=pull)["number"]

    def reply(self, number: int, comment_id: int, body: str) -> dict[str, Any]:
        path = f"/pulls/{number}/comments/{comment_id}/replies"
        return self._json("POST", path, json={"body": body})

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/issues/{number}/comments", params={"per_page": 100})

    def review_threads(self, number: int) -> list[dict[str, Any]]:
        """The pull request's review threads, through GraphQL as GitHub offers them."""
        owner, name = self.repo.split("/")
        response = self.http.post(
            "/graphql",
            json={"query": THREADS, "variables": {"owner": owner, "name": name, "number": number}},
        )
        response.raise_for_status()
        return response.json()["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]


THREADS = """query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100) {
        nodes { id isResolved comments(first: 50) { nodes { databaseId } } }
      }
    }
  }
}"""


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
