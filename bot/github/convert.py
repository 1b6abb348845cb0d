"""Between GitHub and the crew: PyGithub objects to the ports' data classes, and back to payloads.

Pure functions, plus the GitHub limits the payloads must respect (50 annotations per check-run
request, 65,535 characters of summary or text, 140 of a status description).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from github.CheckRun import CheckRun as GhCheckRun
from github.CheckRunAnnotation import CheckRunAnnotation
from github.Issue import Issue as GhIssue
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest as GhPullRequest
from github.PullRequestComment import PullRequestComment
from github.PullRequestReview import PullRequestReview

from bot.ports.forge import (
    Annotation,
    CheckRun,
    Comment,
    InlineComment,
    PostedReview,
    PullMerge,
    PullRequest,
)

MAX_ANNOTATIONS = 50
MAX_OUTPUT_CHARS = 65_535
MAX_STATUS_DESCRIPTION = 140
TRUNCATED = "\n\n… (truncated)"
OUTPUT_FIELDS = ("title", "summary", "text", "annotations")
CHECK_FIELDS = ("status", "conclusion", *OUTPUT_FIELDS)
# A review's state on GitHub, as the event that submitted it.
REVIEW_EVENTS = {"APPROVED": "APPROVE", "CHANGES_REQUESTED": "REQUEST_CHANGES"}
LEVELS = {"error": "failure", "info": "notice"}  # GitHub knows notice, warning and failure


@dataclass(frozen=True)
class Issue:
    """An issue (or pull request) as the triggers read it."""

    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    author: str
    state: str = "open"
    is_pull: bool = False


def comment(found: IssueComment) -> Comment:
    return Comment(id=found.id, body=found.body or "", author=found.user.login)


def pull(found: GhPullRequest) -> PullRequest:
    # GitHub sends `head.repo: null` once a fork is deleted: still a fork's pull request.
    head_repo = found.head.repo.full_name if found.head.repo is not None else ""
    base_repo = found.base.repo.full_name if found.base.repo is not None else ""
    return PullRequest(
        number=found.number,
        head=found.head.ref,
        base=found.base.ref,
        title=found.title,
        body=found.body or "",
        draft=bool(found.draft),
        url=found.html_url,
        state=found.state,
        head_repo=head_repo,
        from_fork=not head_repo or head_repo.lower() != base_repo.lower(),
    )


def merge(found: GhPullRequest) -> PullMerge | None:
    """Who merged a pull request fetched whole (a listed one lacks `merged_by`); None: open,
    or closed unmerged."""
    merger = found.merged_by if found.merged else None
    return PullMerge(login=merger.login, user_type=merger.type) if merger is not None else None


def review(found: PullRequestReview, comments: Iterable[PullRequestComment]) -> PostedReview:
    return PostedReview(
        id=found.id,
        body=found.body or "",
        event=REVIEW_EVENTS.get(found.state, "COMMENT"),
        commit_sha=found.commit_id or "",
        author=found.user.login if found.user else "",
        comments=tuple(
            InlineComment(path=c.path, line=c.line, body=c.body)
            for c in comments
            if c.pull_request_review_id == found.id
        ),
    )


def check(found: GhCheckRun, annotations: Iterable[CheckRunAnnotation] = ()) -> CheckRun:
    return CheckRun(
        id=found.id,
        name=found.name,
        head_sha=found.head_sha,
        status=found.status,
        conclusion=found.conclusion,
        title=found.output.title or "",
        summary=found.output.summary or "",
        text=found.output.text or "",
        annotations=tuple(
            Annotation(path=a.path, line=a.start_line, message=a.message, level=a.annotation_level)
            for a in annotations
        ),
    )


def issue(found: GhIssue) -> Issue:
    return Issue(
        number=found.number,
        title=found.title,
        body=found.body or "",
        labels=tuple(label.name for label in found.labels),
        author=found.user.login,
        state=found.state,
        is_pull=found.pull_request is not None,
    )


def inline(comment: InlineComment) -> dict[str, Any]:
    # `line` and `side` place the comment on the new file's line, not on a diff position.
    return {"path": comment.path, "line": comment.line, "side": "RIGHT", "body": comment.body}


def status_description(text: str) -> str:
    return text if len(text) <= MAX_STATUS_DESCRIPTION else text[: MAX_STATUS_DESCRIPTION - 1] + "…"


def check_requests(
    fields: Mapping[str, Any], *, current: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The keyword arguments of each request that sets `fields` on a check run.

    GitHub takes 50 annotations per request (and adds each request's to the run), and wants an
    output's title and summary every time: missing ones come from `current`. The status and
    conclusion go with the last request, so "completed" is announced with every annotation in.
    """
    unknown = set(fields) - set(CHECK_FIELDS)
    if unknown:
        raise TypeError(f"unknown check run fields: {', '.join(sorted(unknown))}")
    state = {k: fields[k] for k in ("status", "conclusion") if fields.get(k) is not None}
    if not any(k in fields for k in OUTPUT_FIELDS):
        return [state]
    title = fields.get("title") or current.get("title") or ""
    output = {
        "title": _capped(title),
        "summary": _capped(fields.get("summary") or current.get("summary") or title),
    }
    text = fields.get("text", current.get("text"))
    if text:
        output["text"] = _capped(text)
    notes = [_annotation(a) for a in fields.get("annotations") or ()]
    batches = [notes[i : i + MAX_ANNOTATIONS] for i in range(0, len(notes), MAX_ANNOTATIONS)]
    requests: list[dict[str, Any]] = [
        {"output": {**output, "annotations": batch}} for batch in batches or [[]]
    ]
    if not notes:
        del requests[0]["output"]["annotations"]
    requests[-1].update(state)
    return requests


def _capped(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[: MAX_OUTPUT_CHARS - len(TRUNCATED)] + TRUNCATED


def _annotation(note: Annotation) -> dict[str, Any]:
    return {
        "path": note.path,
        "start_line": note.line,
        "end_line": note.line,
        "annotation_level": LEVELS.get(note.level, note.level),
        "message": note.message,
    }
