"""The demo's human, octocat: opens and labels the issue, then reads the pull request back,
through GitHub's REST API as a person's client would (the crew's own GitHub side is PyGithub,
behind `bot.github`; this is the other side of the conversation)."""

from __future__ import annotations

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
