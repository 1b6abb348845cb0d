"""Conversations in review threads: which thread a reply belongs to, the finding it is about,
what the reviewer is shown, and the crew's replies there, each posted once.

A thread counts as the crew's only when its first comment's author is the crew (`is_own`),
never because a marker is in its text; the review that carried it names the run and step by
its hidden marker. Every crew reply carries the marker of the step that wrote it
(`thread-<reply id>` for an answer, the fix's step for the commit), so a redelivered webhook or
a resumed step finds it and posts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.ports.forge import PostedReview, ReviewComment, ReviewThreads
from bot.runs.memory import kind_of
from bot.runs.publish import OutgoingCheck, marker, markers_in, with_marker
from bot.security.untrusted import fence_untrusted

AROUND = 8  # lines shown on each side of the commented line


@dataclass(frozen=True)
class Thread:
    """A review thread as one reply finds it: the crew's first comment, then every reply in
    order, `reply` (the one being answered) among them."""

    number: int  # the pull request
    root: ReviewComment
    comments: tuple[ReviewComment, ...]
    reply: ReviewComment


def crew_thread(forge: ReviewThreads, number: int, reply_id: int) -> Thread | None:
    """The thread `reply_id` answers in, if its first comment is the crew's (else None)."""
    comments = forge.list_review_comments(number)
    reply = next((c for c in comments if c.id == reply_id), None)
    if reply is None or reply.in_reply_to is None or forge.is_own(reply.author):
        return None
    root = next((c for c in comments if c.id == reply.in_reply_to), None)
    if root is None or root.in_reply_to is not None or not forge.is_own(root.author):
        return None
    replies = tuple(c for c in comments if c.in_reply_to == root.id)
    return Thread(number, root, (root, *replies), reply)


def review_step(reviews: Sequence[PostedReview], thread: Thread, is_own) -> tuple[int, str] | None:
    """(run id, step) of the crew's review that opened the thread, from its hidden marker."""
    for review in reviews:
        if review.id == thread.root.review_id and is_own(review.author):
            found = markers_in(review.body)
            return found[0] if found else None
    return None


def finding_for(outputs: Mapping[str, Any], step: str, root: ReviewComment) -> dict[str, Any]:
    """The reviewer's finding the thread is about (by place), from the review step's result;
    the newest review's when the step is unknown; {} when none matches."""
    steps = [step] if step in outputs else [k for k in outputs if kind_of(k) == "review"][::-1]
    for key in steps:
        for comment in outputs[key].get("comments", []):
            if comment.get("path") == root.path and comment.get("line") == root.line:
                return comment
    return {}


def lines_around(text: str | None, line: int | None) -> str:
    """The commented line and its neighbours, numbered ('' when the file cannot be read)."""
    if not text or not line:
        return ""
    lines = text.splitlines()
    first, last = max(1, line - AROUND), min(len(lines), line + AROUND)
    marked = [f"{'>' if n == line else ' '}{n:5} {lines[n - 1]}" for n in range(first, last + 1)]
    return "\n".join(marked)


def thread_context(thread: Thread, finding: dict[str, Any], file_text: str | None, is_own) -> str:
    """What the reviewer is shown to answer: the place, its code, the finding, the thread.

    Everything a human or the repository wrote is fenced as untrusted."""
    root = thread.root
    parts = [f"## Where\n`{root.path}` line {root.line} of pull request #{thread.number}"]
    code = lines_around(file_text, root.line)
    if code:
        parts.append("## The code around it\n" + fence_untrusted(code, source=root.path))
    if root.diff_hunk:
        parts.append("## The diff hunk\n" + fence_untrusted(root.diff_hunk, source="the diff"))
    if finding:
        shown = {k: finding[k] for k in ("severity", "rule", "body", "suggestion") if k in finding}
        parts.append("## Your finding\n" + "\n".join(f"- {k}: {v}" for k, v in shown.items()))
    said = []
    for comment in thread.comments:
        who = "you (the crew)" if is_own(comment.author) else f"@{comment.author}"
        text = (
            comment.body
            if is_own(comment.author)
            else fence_untrusted(comment.body, source=f"a comment by @{comment.author}")
        )
        said.append(f"### {who}\n{text}")
    parts.append("## The thread so far (oldest first)\n" + "\n\n".join(said))
    return "\n\n".join(parts)


def reply_once(
    forge: ReviewThreads,
    guard: OutgoingCheck,
    number: int,
    root_id: int,
    *,
    run_id: int,
    step: str,
    body: str,
    role: str,
) -> ReviewComment | None:
    """Reply in the thread unless the crew's reply for `step` is there already (None then)."""
    tag = marker(run_id, step)
    text = with_marker(body, run_id, step)
    guard.check_outgoing(text, where=f"{step} reply")
    for comment in forge.list_review_comments(number):
        if tag in comment.body and forge.is_own(comment.author):
            return None
    return forge.reply_to_review_comment(number, root_id, text, role=role)


def reply_with_commit(
    forge: ReviewThreads,
    guard: OutgoingCheck,
    feedback: Mapping[str, Any],
    *,
    run_id: int,
    step: str,
    sha: str,
    pull_url: str,
    role: str,
) -> None:
    """After a fix a human asked for in a review thread: the commit that did it, in that
    thread (nothing for feedback from anywhere else)."""
    where = feedback.get("thread")
    if not isinstance(where, Mapping):
        return
    body = fixed_body(str(feedback.get("reviewer", "")), sha, commit_url(pull_url, sha))
    reply_once(
        forge,
        guard,
        int(where["number"]),
        int(where["comment_id"]),
        run_id=run_id,
        step=step,
        body=body,
        role=role,
    )


def thread_feedback(thread: Thread, login: str, finding: Mapping[str, Any]) -> dict[str, Any]:
    """What the coder is given for a change asked in a thread (and where to say it is done)."""
    root = thread.root
    return {
        "reviewer": login,
        "body": thread.reply.body,
        "path": root.path,
        "line": root.line,
        "finding": {k: finding[k] for k in ("body", "rule", "suggestion") if k in finding},
        "thread": {"number": thread.number, "comment_id": root.id, "reply_id": thread.reply.id},
    }


def replied(forge: ReviewThreads, thread: Thread, *, run_id: int, step: str) -> bool:
    tag = marker(run_id, step)
    return any(tag in c.body and forge.is_own(c.author) for c in thread.comments)


def commit_url(pull_url: str, sha: str) -> str:
    """The commit's page, beside the pull request's (`…/owner/name/pull/7` → `…/commit/sha`)."""
    return f"{pull_url.rsplit('/pull/', 1)[0]}/commit/{sha}"


def fix_queued_body(login: str, run_id: int) -> str:
    return (
        f"On it, @{login}: the coder is changing this now (run {run_id}). "
        "This thread gets the commit that does it."
    )


def fix_busy_body(login: str, run_id: int) -> str:
    return (
        f"@{login}, the crew is still working on this pull request (run {run_id}), so nothing "
        "new was started. Reply again with `/crew fix` once it waits for you."
    )


def fixed_body(login: str, sha: str, url: str) -> str:
    return f"@{login}, changed in [`{sha[:7]}`]({url})."


def not_allowed_note(login: str) -> str:
    return (
        f"_Only people with write access to this repository can ask the crew to change code, "
        f"@{login}, so nothing was started._"
    )


NOT_THE_CREWS_NOTE = (
    "_The crew changes only the pull requests it opened; the changes here are the author's to "
    "make._"
)
