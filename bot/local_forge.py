"""A forge on disk for runs on a local repository: GitHub's semantics without GitHub.

Posts are appended to a JSON file (locked, replaced atomically), so a crash never leaves it
half-written and a second post is a real duplicate, exactly as it would be on GitHub. The
repository itself is any git URL or path; branches are pushed to it for real.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bot.ports.forge import (
    Annotation,
    CheckRun,
    CloneSource,
    Comment,
    InlineComment,
    PostedReview,
    PullRequest,
    ReviewDraft,
)

_EMPTY: dict[str, Any] = {
    "next_id": 1,
    "comments": [],
    "pulls": [],
    "reviews": [],
    "checks": [],
    "statuses": [],
}


class LocalForge:
    """Comments, pull requests, reviews and checks of one local repository, kept in `path`."""

    def __init__(self, path: Path, *, clone_url: str, default_branch: str = "main") -> None:
        self.path = Path(path)
        self.clone_url = clone_url
        self.default_branch = default_branch
        self.path.parent.mkdir(parents=True, exist_ok=True)

    # -- storage -------------------------------------------------------------------------
    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self.path.read_text()) if self.path.exists() else None
                state = state or json.loads(json.dumps(_EMPTY))
                before = json.dumps(state, sort_keys=True)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    temporary = self.path.with_suffix(".tmp")
                    temporary.write_text(json.dumps(state, indent=1))
                    with open(temporary, "rb+") as handle:
                        os.fsync(handle.fileno())
                    temporary.replace(self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def snapshot(self) -> dict[str, Any]:
        """Everything posted so far (for tests, the demo and `repocrew run`'s summary)."""
        with self._state() as state:
            return json.loads(json.dumps(state))

    @staticmethod
    def _new_id(state: dict[str, Any]) -> int:
        state["next_id"] += 1
        return state["next_id"] - 1

    @staticmethod
    def _edit(rows: list[dict[str, Any]], key: int, change: Callable[[dict[str, Any]], None]):
        for row in rows:
            if row["id"] == key:
                change(row)
                row["revisions"] = row.get("revisions", 0) + 1
                return row
        raise LookupError(f"no such item {key}")

    # -- Forge ---------------------------------------------------------------------------
    def clone_source(self, *, push: bool = False) -> CloneSource:
        return CloneSource(url=self.clone_url, default_branch=self.default_branch)

    def is_own(self, author: str) -> bool:
        return True  # only the crew writes here: every post's author is one of its roles

    def list_comments(self, thread: int) -> list[Comment]:
        with self._state() as state:
            return [
                Comment(id=c["id"], body=c["body"], author=c["role"])
                for c in state["comments"]
                if c["thread"] == thread
            ]

    def create_comment(self, thread: int, body: str, *, role: str) -> Comment:
        with self._state() as state:
            comment = {"id": self._new_id(state), "thread": thread, "body": body, "role": role}
            state["comments"].append(comment)
        return Comment(id=comment["id"], body=body, author=role)

    def update_comment(self, comment_id: int, body: str, *, role: str) -> Comment:
        with self._state() as state:
            self._edit(state["comments"], comment_id, lambda row: row.update(body=body))
        return Comment(id=comment_id, body=body, author=role)

    def get_pull(self, number: int) -> PullRequest:
        with self._state() as state:
            return _pull(next(p for p in state["pulls"] if p["number"] == number))

    def find_pull(self, head: str) -> PullRequest | None:
        with self._state() as state:
            found = [p for p in state["pulls"] if p["head"] == head and p["state"] == "open"]
        return _pull(found[0]) if found else None

    def create_pull(
        self, *, head: str, base: str, title: str, body: str, draft: bool, role: str
    ) -> PullRequest:
        with self._state() as state:
            if any(p["head"] == head and p["state"] == "open" for p in state["pulls"]):
                # GitHub answers 422 "A pull request already exists" here.
                raise ValueError(f"a pull request for {head} already exists")
            pull = {
                "id": self._new_id(state),
                "number": len(state["pulls"]) + 1,
                "head": head,
                "base": base,
                "title": title,
                "body": body,
                "draft": draft,
                "state": "open",
                "role": role,
            }
            state["pulls"].append(pull)
        return _pull(pull)

    def update_pull(
        self, number: int, *, title: str, body: str, draft: bool | None = None
    ) -> PullRequest:
        with self._state() as state:
            pull = next(p for p in state["pulls"] if p["number"] == number)
            pull.update(title=title, body=body)
            if draft is not None:
                pull["draft"] = draft
            pull["revisions"] = pull.get("revisions", 0) + 1
        return _pull(pull)

    def list_reviews(self, number: int) -> list[PostedReview]:
        with self._state() as state:
            return [_review(r) for r in state["reviews"] if r["pull"] == number]

    def create_review(self, number: int, draft: ReviewDraft, *, role: str) -> PostedReview:
        with self._state() as state:
            review = {
                "id": self._new_id(state),
                "pull": number,
                "body": draft.body,
                "event": draft.event,
                "commit_sha": draft.commit_sha,
                "comments": [asdict(c) for c in draft.comments],
                "role": role,
            }
            state["reviews"].append(review)
        return _review(review)

    def resolve_threads(self, number: int, markers: Sequence[str]) -> int:
        return 0  # a local forge has no review threads to resolve

    def list_checks(self, sha: str, name: str) -> list[CheckRun]:
        with self._state() as state:
            return [
                _check(c) for c in state["checks"] if c["head_sha"] == sha and c["name"] == name
            ]

    def create_check(self, sha: str, name: str, *, role: str, **fields: Any) -> CheckRun:
        check = _check_fields(CheckRun(id=0, name=name, head_sha=sha, status="queued"), fields)
        with self._state() as state:
            row = {**_check_row(check), "id": self._new_id(state), "role": role}
            state["checks"].append(row)
        return _check(row)

    def update_check(self, check_id: int, **fields: Any) -> CheckRun:
        with self._state() as state:
            row = next(c for c in state["checks"] if c["id"] == check_id)
            updated = _check_row(_check_fields(_check(row), fields))
            row.update(updated)
            row["revisions"] = row.get("revisions", 0) + 1
        return _check(row)

    def set_status(self, sha: str, *, context: str, state: str, description: str) -> None:
        with self._state() as stored:
            stored["statuses"].append(
                {"sha": sha, "context": context, "state": state, "description": description}
            )


def _pull(row: dict[str, Any]) -> PullRequest:
    return PullRequest(
        number=row["number"],
        head=row["head"],
        base=row["base"],
        title=row["title"],
        body=row["body"],
        draft=row["draft"],
        state=row["state"],
        url=f"local:pull/{row['number']}",
    )


def _review(row: dict[str, Any]) -> PostedReview:
    return PostedReview(
        id=row["id"],
        body=row["body"],
        event=row["event"],
        commit_sha=row["commit_sha"],
        comments=tuple(InlineComment(**c) for c in row["comments"]),
        author=row.get("role", ""),
    )


def _check(row: dict[str, Any]) -> CheckRun:
    annotations = tuple(Annotation(**a) for a in row.get("annotations", ()))
    fields = {k: v for k, v in row.items() if k in CheckRun.__dataclass_fields__}
    return CheckRun(**{**fields, "annotations": annotations})


def _check_fields(check: CheckRun, fields: dict[str, Any]) -> CheckRun:
    if "annotations" in fields:
        fields = {**fields, "annotations": tuple(fields["annotations"])}
    return replace(check, **fields)


def _check_row(check: CheckRun) -> dict[str, Any]:
    row = asdict(check)
    row["annotations"] = [asdict(a) for a in check.annotations]
    return row
