"""`repocrew demo --pull-request`: the crew reviewing a person's pull request, offline.

octocat opens a pull request on the sample repository; the reviewer reviews it unasked (inline
comment with a suggestion, security checklist, one summary comment). octocat asks about the
comment in its thread and the reviewer answers there; octocat pushes the fix, and the reviewer
reviews only the new commit, repeats nothing and resolves the fixed finding's thread. Every
figure is read back from the GitHub emulator (REST and GraphQL), not from repocrew's memory.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.roster.loader import roster_text
from bot.store.pull_reviews import review_runs
from emulators.anthropic import Turn
from emulators.anthropic.script import Script
from repocrew import demo_session
from repocrew.demo_human import Human
from repocrew.world import World, emulated_world

REPO = "octo-org/ages"
BRANCH = "octocat/age-from-years"
PATH = "calc/birthdays.py"
RISKY = '''"""Ages from the years typed into the sign-up form."""


def age_from_years(year_text, born_text):
    """The age in `year_text` of someone born in `born_text`."""
    return eval(f"{year_text} - {born_text}")
'''
FIXED = RISKY.replace('eval(f"{year_text} - {born_text}")', "int(year_text) - int(born_text)")
FINDING = {
    "path": PATH,
    "line": 6,
    "body": "`eval` runs whatever the form sends: `0; __import__('os').remove(...)` is an age.",
    "severity": "high",
    "rule": "no-eval",
    "suggestion": "    return int(year_text) - int(born_text)",
}
CHECKLIST = [
    {"item": "Untrusted input", "status": "fail", "reason": "form text reaches eval"},
    {"item": "Secrets", "status": "pass", "reason": "none added"},
    {"item": "Dependencies", "status": "n/a", "reason": "none changed"},
]
QUESTION = "The form only sends digits, is eval really a problem here?"
ANSWER = (
    "The browser sends digits; an attacker's client sends anything. `eval` turns that text into "
    "code running in our process, so one request could read or delete files. `int()` parses "
    "the same digits and refuses everything else, with no cost to honest users."
)
FINDING_MARK = re.compile(r"repocrew:finding=([0-9a-f]+)")
ENDED = ("done", "failed", "awaiting_human", "stopped", "budget_exhausted")


@dataclass
class PullRequestDemo:
    pr: int | None = None
    reviews: int = 0
    inline_comments: int = 0
    checklist_items: int = 0
    incremental_reviews: int = 0
    repeated_findings: int = 0
    resolved_findings: int = 0
    thread_replies: int = 0
    summary_comments: int = 0
    review_cost_usd: float = 0.0
    runs: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def script() -> Script:
    """The reviewer's three answers, each matched by what its request holds."""

    def reviewer(step: str, seen: str, answer: dict[str, Any]) -> Turn:
        match = {"system": seen, "first_user": f"[step: {step}", "turn": 0}
        return Turn(content=Turn.tool_use("submit_review", answer).content, match=match)

    def review(summary: str, comments: list[dict[str, Any]]) -> dict[str, Any]:
        return {"summary": summary, "verdict": "comment", "comments": comments,
                "checklist": CHECKLIST}  # fmt: skip

    thread = {"system": "You are Reviewer on", "first_user": "[step: thread-", "turn": 0}
    return Script([
        reviewer("review-1", "This is an incremental review",
                 review("The fix parses the years with int(); nothing new to flag.", [])),
        reviewer("review-1", "You are Reviewer on",
                 review("One way in for untrusted input: the form's text is evaluated.",
                        [FINDING])),
        Turn(content=Turn.tool_use("submit_thread_reply", {"reply": ANSWER}).content,
             match=thread),
    ])  # fmt: skip


def crew_text() -> str:
    """The default crew with automatic reviews on (the operator's `[review] unasked`)."""
    text = roster_text("default")
    if "\nunasked = false\n" not in text:
        raise RuntimeError("the default roster no longer says unasked = false")
    return text.replace("\nunasked = false\n", "\nunasked = true\n")


def run_pull_request_demo(
    *, timeout: float = 120.0, say: Callable[[str], None] = lambda _line: None
) -> PullRequestDemo:
    with tempfile.TemporaryDirectory(prefix="repocrew-demo-pr-") as directory:
        root = Path(directory)
        crew_file = root / "crew.toml"
        crew_file.write_text(crew_text(), encoding="utf-8")
        with emulated_world(
            repo=REPO,
            files=demo_session.sample_files(),
            script=script(),
            root=root,
            overrides={"crew_file": crew_file},
        ) as world:
            say("GitHub, Slack and the model are emulated; repocrew listens on loopback")
            human = world.human()
            try:
                return _play(world, human, timeout, say)
            finally:
                human.close()


def _play(world: World, human: Human, timeout: float, say: Callable[[str], None]) -> Any:
    human.push_file(BRANCH, PATH, RISKY, "Add age_from_years")
    number = human.open_pull(BRANCH, "Ages from birth years", "Reads ages from the form.")
    say(f"octocat opened {REPO}#{number} ({PATH}); the reviewer reviews it unasked")
    _wait_runs(world, 1, timeout)
    comment = _crew_inline(human, number)[0]
    say(f"the reviewer commented on {comment['path']}:{comment['line']}; octocat asks why")
    human.reply(number, comment["id"], QUESTION)
    _wait(lambda: _thread_replies(human, number), timeout, "an answer in the review thread")
    say("the reviewer answered in the thread; octocat pushes the suggested fix")
    human.push_file(BRANCH, PATH, FIXED, "Parse the years with int()")
    _wait_runs(world, 2, timeout)
    world.hub.webhooks.wait_idle(5)
    return _read_back(world, human, number)


def _read_back(world: World, human: Human, number: int) -> PullRequestDemo:
    # A reply in a thread is filed as a review with no body, on GitHub and its emulator.
    reviews = [r for r in human.reviews(number) if _is_crew(r) and r.get("body")]
    inline = _crew_inline(human, number)
    marks = Counter(m for c in inline for m in FINDING_MARK.findall(c["body"]))
    threads = human.review_threads(number)
    crew_ids = {c["id"] for c in inline}
    resolved = [
        t for t in threads
        if t["isResolved"] and t["comments"]["nodes"][0]["databaseId"] in crew_ids
    ]  # fmt: skip
    summaries = [c for c in human.issue_comments(number) if "repocrew:pull-review" in c["body"]]
    runs = review_runs(world.engine, repo=REPO, pr=number)
    return PullRequestDemo(
        pr=number,
        reviews=len(reviews),
        inline_comments=len(inline),
        checklist_items=sum(
            line.lstrip().startswith(("- [x]", "- [ ]"))
            for review in reviews
            for line in (review.get("body") or "").splitlines()
        ),
        incremental_reviews=sum("Incremental review" in (r.get("body") or "") for r in reviews),
        repeated_findings=sum(count - 1 for count in marks.values()),
        resolved_findings=len(resolved),
        thread_replies=len(_thread_replies(human, number)),
        summary_comments=len(summaries),
        review_cost_usd=round(sum(run.cost_usd for run in runs), 6),
        runs=[f"{run.mode}:{run.state}" for run in runs],
    )


def _is_crew(item: dict[str, Any]) -> bool:
    return (item.get("user") or {}).get("type") == "Bot"


def _crew_inline(human: Human, number: int) -> list[dict[str, Any]]:
    """The crew's inline comments that open a thread (not its replies in threads)."""
    return [
        c for c in human.review_comments(number)
        if _is_crew(c) and not c.get("in_reply_to_id")
    ]  # fmt: skip


def _thread_replies(human: Human, number: int) -> list[dict[str, Any]]:
    return [c for c in human.review_comments(number) if _is_crew(c) and c.get("in_reply_to_id")]


def _wait_runs(world: World, count: int, timeout: float) -> None:
    def ended() -> bool:
        runs = review_runs(world.engine, repo=REPO)
        return len(runs) >= count and all(run.state in ENDED for run in runs)

    _wait(ended, timeout, f"{count} finished review(s)")


def _wait(ready: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise TimeoutError(f"the demo waited {timeout:.0f} s for {what}")
