"""The sprint review in words, as pure builders: the tracking issue's comment (Markdown) and the
Slack message (fallback text and Block Kit), from the same data — what was delivered and what
not (with links), the collaboration metrics, and the retrospective with the fact each point
cites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.metrics.render import duration
from bot.slack.blocks import MAX_SECTION_TEXT, check_blocks, clip, escape
from bot.sprints.metrics import SprintMetrics
from bot.sprints.retro import SECTIONS, Fact, RetroPoint

REVIEW_PART = "sprint-review"  # the hidden marker's part and the Slack outbox key's end
HEADINGS = {"continue": "Continue", "improve": "Improve", "try": "Try"}


@dataclass(frozen=True)
class TaskResult:
    """One task as the review lists it."""

    key: str
    title: str
    owner: str
    state: str
    reason: str = ""
    issue: int | None = None
    issue_url: str = ""
    pr: int | None = None
    pr_url: str = ""


@dataclass(frozen=True)
class Review:
    goal: str
    tasks: Sequence[TaskResult]
    metrics: SprintMetrics
    facts: Sequence[Fact]
    retro: Sequence[RetroPoint]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _task_md(task: TaskResult) -> str:
    links = [f"[#{task.issue}]({task.issue_url})" if task.issue else ""]
    links.append(f"PR [#{task.pr}]({task.pr_url})" if task.pr else "")
    linked = ", ".join(link for link in links if link)
    why = f": {_one_line(task.reason)}" if task.state != "delivered" and task.reason else ""
    state = "" if task.state == "delivered" else f" — `{task.state}`{why}"
    return f"- **{task.key}** {_one_line(task.title)} ({task.owner}){state}" + (
        f" — {linked}" if linked else ""
    )


def metric_lines(m: SprintMetrics) -> list[str]:
    """The metrics as short lines (the comment, the Slack post and the dashboard share them)."""
    channels = ", ".join(f"{channel} {n}" for channel, n in m.messages_by_channel.items())
    q = m.questions
    rounds = ", ".join(f"{key} {n}" for key, n in m.review_rounds.items()) or "none"
    roles = ", ".join(f"{role} ${cost:.2f}" for role, cost in m.cost_by_role.items())
    return [
        f"Messages: {m.messages}" + (f" ({channels})" if channels else ""),
        f"Hand-offs: {m.handoffs}",
        f"Questions: {q.asked} asked ({q.asked_humans} to the humans), {q.answered} answered, "
        f"median answer {duration(q.answer_seconds)}",
        f"Review rounds: {rounds}",
        f"Blockers: {m.blockers_raised} raised, {m.blockers_resolved} resolved",
        f"Cost: ${m.cost_usd:.2f}" + (f" ({roles})" if roles else ""),
    ]


def matrix_rows(m: SprintMetrics) -> tuple[list[str], list[list[str]]]:
    """The interaction matrix as a table: takers across, givers down ("" where none)."""
    takers = sorted({t for row in m.interactions.values() for t in row})
    rows = [
        [giver, *[str(row.get(t, "")) for t in takers]] for giver, row in m.interactions.items()
    ]
    return takers, rows


def _matrix_md(m: SprintMetrics) -> str:
    takers, rows = matrix_rows(m)
    if not rows:
        return ""
    head = "| gave → took | " + " | ".join(takers) + " |"
    rule = "|---" * (len(takers) + 1) + "|"
    return "\n".join([head, rule, *("| " + " | ".join(row) + " |" for row in rows)])


def _retro_md(review: Review) -> str:
    facts = {fact.key: fact.text for fact in review.facts}
    parts = []
    for section in SECTIONS:
        points = [p for p in review.retro if p.section == section]
        lines = [f"- {p.text} — _{p.fact}: {_one_line(facts[p.fact])}_" for p in points]
        parts.append(f"**{HEADINGS[section]}**\n" + "\n".join(lines))
    return "\n\n".join(parts)


def review_comment(header: str, review: Review) -> str:
    delivered = [t for t in review.tasks if t.state == "delivered"]
    missed = [t for t in review.tasks if t.state != "delivered"]
    metrics = "\n".join(f"- {line}" for line in metric_lines(review.metrics))
    matrix = _matrix_md(review.metrics)
    return (
        f"{header}\n\n### Sprint review: {_one_line(review.goal)}\n\n"
        f"**Delivered** ({len(delivered)} of {len(review.tasks)})\n"
        + ("\n".join(_task_md(t) for t in delivered) or "- none")
        + "\n\n**Not delivered**\n"
        + ("\n".join(_task_md(t) for t in missed) or "- none")
        + f"\n\n### Collaboration\n\n{metrics}\n"
        + (f"\n**Who handed work to whom**\n\n{matrix}\n" if matrix else "")
        + f"\n### Retrospective\n\n{_retro_md(review)}"
    )


def review_message(review: Review, *, tracking_url: str) -> tuple[str, list[dict]]:
    """The Slack post: headline, tasks, metrics and the retrospective, one section each."""
    delivered = sum(1 for t in review.tasks if t.state == "delivered")
    head = f"Sprint review: {escape(_one_line(review.goal))} — {delivered} of "
    head += f"{len(review.tasks)} tasks delivered"
    tasks = "\n".join(
        f"• {escape(t.key)} {escape(_one_line(t.title))} — "
        + ("delivered" if t.state == "delivered" else escape(t.state))
        for t in review.tasks
    )
    facts = {fact.key: fact.text for fact in review.facts}
    retro = "\n".join(
        f"*{HEADINGS[p.section]}*: {escape(p.text)} _({escape(_one_line(facts[p.fact]))})_"
        for p in review.retro
    )
    link = f"\n<{tracking_url}|The review on the tracking issue>" if tracking_url else ""
    sections = [
        f"*{head}*{link}",
        tasks,
        "\n".join(escape(line) for line in metric_lines(review.metrics)),
        retro,
    ]
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}
        for text in sections
        if text
    ]
    problems = check_blocks(blocks)
    if problems:  # a builder bug: every section is clipped above
        raise ValueError("; ".join(problems))
    return head, blocks
