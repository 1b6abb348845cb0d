"""What the demo shows in a terminal: the plan, the diff, each review with its checklist, the
test result and the votes, as rich renderables built from what the run saved in the store and
what GitHub (the emulator) shows of the pull request. Pure: plain data in, renderables out."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from bot.runs.memory import kind_of

MARKS = {"pass": "✔", "fail": "✘", "n/a": "–"}
DIFF_LINES = 120  # a longer diff is cut, with a note


@dataclass(frozen=True)
class Story:
    """The run, as the demo tells it."""

    plan: Mapping[str, Any] = field(default_factory=dict)
    diff: str = ""
    reviews: Sequence[Mapping[str, Any]] = ()
    test: Mapping[str, Any] | None = None
    votes: Sequence[Mapping[str, Any]] = ()


def story_of(outputs: Mapping[str, Mapping[str, Any]], files: Sequence[Mapping[str, Any]]) -> Story:
    """The story from the run's step results (in order) and the pull request's files."""
    latest: dict[str, Mapping[str, Any]] = {}
    reviews = []
    for key, content in outputs.items():
        latest[kind_of(key)] = content
        if kind_of(key) == "review":
            reviews.append({"step": key, **content})
    vote = latest.get("vote") or {}
    return Story(
        plan=latest.get("plan") or {},
        diff=pull_diff(files),
        reviews=reviews,
        test=latest.get("test"),
        votes=list(vote.get("votes", [])),
    )


def pull_diff(files: Sequence[Mapping[str, Any]]) -> str:
    """A unified diff of the pull request from GitHub's list of its files and their patches."""
    parts = []
    for changed in files:
        name = changed["filename"]
        parts.append(f"--- a/{name}\n+++ b/{name}\n{changed.get('patch') or ''}".rstrip("\n"))
    return "\n".join(parts)


def plan_panel(plan: Mapping[str, Any]) -> Panel:
    lines = Text()
    lines.append(f"{plan.get('summary', '')}\n", style="bold")
    for number, step in enumerate(plan.get("steps", []), 1):
        lines.append(f"{number}. {step.get('title', '')}: {step.get('detail', '')}\n")
    if plan.get("approach"):
        lines.append(f"Approach: {plan['approach']}\n")
    for unknown in plan.get("unknowns", []):
        lines.append(f"Open question: {unknown}\n")
    return Panel(lines, title="Plan", title_align="left")


def diff_panel(diff: str) -> Panel:
    lines = diff.splitlines()
    shown = "\n".join(lines[:DIFF_LINES])
    if len(lines) > DIFF_LINES:
        shown += f"\n… {len(lines) - DIFF_LINES} more lines"
    body = Syntax(shown or "(no changes)", "diff", theme="ansi_dark", word_wrap=True)
    return Panel(body, title="Diff of the pull request", title_align="left")


def review_panel(review: Mapping[str, Any]) -> Panel:
    parts: list[RenderableType] = [
        Text(f"{review.get('event', review.get('verdict', ''))}: {review.get('summary', '')}")
    ]
    for comment in review.get("comments", []):
        where = f"{comment.get('path')}:{comment.get('line')}"
        parts.append(Text(f"  {where} [{comment.get('severity', '')}] {comment.get('body', '')}"))
    checklist = Table("", "checklist", "why", box=None, pad_edge=False)
    for row in review.get("checklist", []):
        status = str(row.get("status", ""))
        checklist.add_row(MARKS.get(status, status), str(row.get("item", "")), row.get("reason"))
    if checklist.row_count:
        parts.append(checklist)
    return Panel(Group(*parts), title=f"Review ({review.get('step', '')})", title_align="left")


def test_panel(test: Mapping[str, Any] | None) -> Panel:
    if test is None:
        text = Text("Not run: the run ended before the tests.")
    elif test.get("not_run"):
        text = Text(f"Not run: {test['not_run']}", style="yellow")
    else:
        counts = ", ".join(f"{n} {kind}" for kind, n in test.get("counts", {}).items() if n)
        verdict = "passed" if test.get("passed") else "failed"
        text = Text(f"Tests {verdict} ({counts or 'no tests ran'}) in {test.get('sandbox')}")
        for failure in test.get("failures", []):
            text.append(f"\n  {failure.get('test')}: {failure.get('message')}")
    return Panel(text, title="Tests", title_align="left")


def votes_panel(votes: Sequence[Mapping[str, Any]]) -> Panel:
    table = Table("agent", "vote", "reason", box=None, pad_edge=False)
    for vote in votes:
        table.add_row(str(vote.get("role")), str(vote.get("decision")), vote.get("reason"))
    approvals = sum(vote.get("decision") == "approve" for vote in votes)
    title = f"Votes ({approvals} of {len(votes)} approve)"
    return Panel(table if votes else Text("no votes"), title=title, title_align="left")


def story_renderables(story: Story) -> list[RenderableType]:
    return [
        plan_panel(story.plan),
        diff_panel(story.diff),
        *(review_panel(review) for review in story.reviews),
        test_panel(story.test),
        votes_panel(story.votes),
    ]


def story_text(story: Story, *, width: int = 100) -> str:
    """The story as plain text (no colour), as a terminal of `width` columns shows it."""
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False)
    for renderable in story_renderables(story):
        console.print(renderable)
    return out.getvalue()
