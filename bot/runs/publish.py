"""Idempotent posting: find the crew's earlier post by its hidden marker and edit it, or post.

A step that is re-run after a crash calls the same functions again; the marker makes the
second call an update (or nothing) instead of a duplicate. A marker counts only in a post the
crew wrote (`Forge.is_own`): a reader who copies one into a comment does not make it the
crew's. Every body is scanned for secrets before it leaves: a leak stops the step, it is never
posted redacted-and-hoped-for-the-best.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Protocol

from bot.ports.forge import CheckRun, Comment, Forge, PostedReview, PullRequest, ReviewDraft

_MARKER = re.compile(r"<!-- repocrew:run=(\d+) step=([\w.-]+) -->")


class OutgoingCheck(Protocol):
    def check_outgoing(self, text: str, *, where: str) -> None: ...


def marker(run_id: int, step: str) -> str:
    return f"<!-- repocrew:run={run_id} step={step} -->"


def markers_in(text: str) -> list[tuple[int, str]]:
    return [(int(run), step) for run, step in _MARKER.findall(text or "")]


def with_marker(body: str, run_id: int, step: str) -> str:
    return f"{body.rstrip()}\n\n{marker(run_id, step)}\n"


def upsert_comment(
    forge: Forge,
    guard: OutgoingCheck,
    *,
    thread: int,
    run_id: int,
    step: str,
    body: str,
    role: str,
) -> Comment:
    text = with_marker(body, run_id, step)
    guard.check_outgoing(text, where=f"{step} comment")
    tag = marker(run_id, step)
    for comment in forge.list_comments(thread):
        if tag in comment.body and forge.is_own(comment.author):
            if comment.body.strip() == text.strip():
                return comment
            return forge.update_comment(comment.id, text, role=role)
    return forge.create_comment(thread, text, role=role)


def ensure_pull(
    forge: Forge,
    guard: OutgoingCheck,
    *,
    run_id: int,
    head: str,
    base: str,
    title: str,
    body: str,
    draft: bool | None,
    role: str,
) -> PullRequest:
    """The run's one pull request, opened once and updated after (found by its head branch)."""
    text = with_marker(body, run_id, "pull")
    guard.check_outgoing(title + "\n" + text, where="pull request")
    existing = forge.find_pull(head)
    if existing is None:
        return forge.create_pull(
            head=head, base=base, title=title, body=text, draft=bool(draft), role=role
        )
    unchanged = existing.title == title and existing.body.strip() == text.strip()
    if unchanged and (draft is None or existing.draft == draft):
        return existing
    return forge.update_pull(existing.number, title=title, body=text, draft=draft)


def ensure_review(
    forge: Forge,
    guard: OutgoingCheck,
    *,
    run_id: int,
    step: str,
    number: int,
    draft: ReviewDraft,
    role: str,
) -> PostedReview:
    """Submit a review once per step (reviews cannot be edited wholesale on GitHub either)."""
    text = with_marker(draft.body, run_id, step)
    guard.check_outgoing(text + "".join(c.body for c in draft.comments), where=f"{step} review")
    tag = marker(run_id, step)
    for review in forge.list_reviews(number):
        if tag in review.body and forge.is_own(review.author):
            return review
    return forge.create_review(number, replace(draft, body=text), role=role)


def ensure_check(
    forge: Forge, guard: OutgoingCheck, *, sha: str, name: str, role: str, **fields: object
) -> CheckRun:
    """Create the named check on `sha`, or update the one already there."""
    guard.check_outgoing(
        "\n".join(str(v) for k, v in fields.items() if k in ("title", "summary", "text")),
        where=f"check {name}",
    )
    existing = forge.list_checks(sha, name)
    if existing:
        return forge.update_check(existing[0].id, **fields)
    return forge.create_check(sha, name, role=role, **fields)
