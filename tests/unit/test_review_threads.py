"""Review threads, the pure parts: when a reply asks for a change, which thread is the crew's,
the finding it is about, and what the crew says there."""

from __future__ import annotations

import pytest

from bot.ports.forge import PostedReview, ReviewComment
from bot.runs.thread_replies import (
    commit_url,
    crew_thread,
    finding_for,
    fixed_body,
    lines_around,
    review_step,
    thread_context,
)
from bot.triggers.thread_requests import asks_for_change

CREW = "repocrew[bot]"


@pytest.mark.parametrize(
    "body",
    [
        "/crew fix",
        "Thanks.\n/crew fix",
        "Please fix this.",
        "Fair enough. Please fix it, and accept +42 too.",
        "Can you change the message?",
        "could you please rename it",
        "Good catch. Fix it.",
        "OK, apply your suggestion",
    ],
)
def test_a_request_for_a_change_is_recognised(body: str) -> None:
    assert asks_for_change(body)


@pytest.mark.parametrize(
    "body",
    [
        "Why strip it? int() already ignores whitespace.",
        "I don't think that is right.",
        "Please don't change this, it is intended.",
        "> Please fix this\nI disagree with the above.",
        "```\nplease fix\n```\nthis is just the log",
        "/crew status",
        "Should we fix this?",
        "",
    ],
)
def test_a_question_or_a_quote_is_not_a_request(body: str) -> None:
    assert not asks_for_change(body)


def _comment(id: int, author: str, reply_to: int | None = None, **extra) -> ReviewComment:
    return ReviewComment(
        id, f"comment {id}", author, "calc/ages.py", 8, reply_to, review_id=extra.get("review")
    )


class Threads:
    """A fake of the `ReviewThreads` port: comments in posting order."""

    def __init__(self, *comments: ReviewComment) -> None:
        self.comments = list(comments)

    def is_own(self, author: str) -> bool:
        return author == CREW

    def list_review_comments(self, number: int) -> list[ReviewComment]:
        return list(self.comments)


def test_a_thread_is_the_crews_only_when_its_first_comment_is_by_the_crew() -> None:
    forge = Threads(
        _comment(1, CREW, review=10),
        _comment(2, "octocat", 1),
        _comment(3, "mallory"),  # a human's own thread, whose text may copy the crew's markers
        _comment(4, "octocat", 3),
        _comment(5, CREW, 1),
    )
    thread = crew_thread(forge, 7, 2)
    assert thread is not None and thread.root.id == 1 and thread.reply.id == 2
    assert [c.id for c in thread.comments] == [1, 2, 5]
    assert crew_thread(forge, 7, 4) is None  # not the crew's thread
    assert crew_thread(forge, 7, 5) is None  # the crew's own reply
    assert crew_thread(forge, 7, 1) is None  # not a reply
    assert crew_thread(forge, 7, 99) is None


def test_the_review_that_opened_the_thread_names_its_run_and_step_only_if_the_crews() -> None:
    thread = crew_thread(Threads(_comment(1, CREW, review=10), _comment(2, "o", 1)), 7, 2)
    assert thread is not None
    marked = "Review\n\n<!-- repocrew:run=4 step=review-1 -->"
    own = PostedReview(10, marked, "COMMENT", author=CREW)
    assert review_step([own], thread, lambda a: a == CREW) == (4, "review-1")
    copied = PostedReview(10, marked, "COMMENT", author="mallory")
    assert review_step([copied], thread, lambda a: a == CREW) is None


def test_the_finding_is_the_review_steps_comment_on_that_line() -> None:
    finding = {"path": "calc/ages.py", "line": 8, "rule": "strip", "body": "Strip it"}
    outputs = {
        "review-1": {"comments": [{"path": "calc/ages.py", "line": 3, "rule": "other"}, finding]},
        "review-2": {"comments": []},
    }
    root = _comment(1, CREW)
    assert finding_for(outputs, "review-1", root) == finding
    assert finding_for(outputs, "", root) == finding  # newest review with one, if unknown
    assert finding_for({}, "review-1", root) == {}


def test_the_context_fences_what_humans_wrote_and_marks_the_line() -> None:
    forge = Threads(_comment(1, CREW), _comment(2, "octocat", 1))
    thread = crew_thread(forge, 7, 2)
    assert thread is not None
    text = "\n".join(f"line {n}" for n in range(1, 30))
    context = thread_context(thread, {"rule": "strip", "body": "Strip it"}, text, forge.is_own)
    assert ">    8 line 8" in context and "   16 line 16" in context and "line 17" not in context
    assert "- rule: strip" in context
    assert '<untrusted source="a comment by @octocat"' in context
    assert lines_around(None, 8) == "" and lines_around("a\nb", None) == ""


def test_the_fix_reply_links_the_commit_beside_the_pull_request() -> None:
    url = commit_url("https://github.com/octo-org/ages/pull/7", "abcdef1234567890")
    assert url == "https://github.com/octo-org/ages/commit/abcdef1234567890"
    assert fixed_body("octocat", "abcdef1234567890", url) == (
        f"@octocat, changed in [`abcdef1`]({url})."
    )
