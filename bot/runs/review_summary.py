"""Pure builders of what the reviewer says about a person's pull request as a whole: the one
summary comment it keeps up to date, and the note that the day's review budget is spent.

Hidden markers let the crew find its own posts again (`bot.runs.publish` style); only a post
the crew wrote counts (`Forge.is_own`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUMMARY_MARKER = "<!-- repocrew:pull-review -->"


def finding_marker(fingerprint: str) -> str:
    """Hidden in an inline comment, so the thread of a finding is found when it is fixed."""
    return f"<!-- repocrew:finding={fingerprint} -->"


def budget_marker(day: str) -> str:
    return f"<!-- repocrew:review-budget={day} -->"


@dataclass(frozen=True)
class ReviewPass:
    """One review of a pull request, as the summary tells it."""

    head: str
    kind: str  # full, incremental, forced (full: the old head left the history)
    since: str = ""  # the head the incremental review started from
    ignored: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # past the size cap, riskiest first
    capped_by: str = ""
    cost_usd: float = 0.0
    total_usd: float = 0.0
    new_findings: int = 0


def _short(sha: str) -> str:
    return sha[:7]


def _what(review: ReviewPass) -> str:
    if review.kind == "incremental":
        return f"incremental: only the commits since `{_short(review.since)}`"
    if review.kind == "forced":
        return (
            f"full: `{_short(review.since)}`, reviewed before, is no longer in the branch's "
            "history (a force-push), so the whole pull request was reviewed again"
        )
    return "full: the whole pull request"


def summary_comment(
    header: str, review: ReviewPass, findings: Mapping[str, Mapping[str, Any]]
) -> str:
    """The persistent summary: what was reviewed, open and resolved findings, what was left
    out and why, and what reviewing cost."""
    open_ = [f for f in findings.values() if f.get("status") == "open"]
    resolved = [f for f in findings.values() if f.get("status") == "resolved"]
    parts = [
        f"### {header} · Review summary",
        f"Reviewed `{_short(review.head)}` ({_what(review)}); "
        f"{review.new_findings} new finding(s).",
        f"**Open findings ({len(open_)})**\n" + _list([f["label"] for f in open_]),
        f"**Resolved ({len(resolved)})**\n"
        + _list(
            [f"~~{f['label']}~~ fixed by `{_short(f.get('resolved_in', ''))}`" for f in resolved]
        ),
    ]
    left_out = []
    if review.ignored:
        left_out.append("left out by `review.ignore_paths`: " + _codes(review.ignored))
    if review.skipped:
        left_out.append(
            f"not reviewed, past the size cap ({review.capped_by}); the riskiest files "
            "(security-sensitive paths, then code, tests, docs, lockfiles and generated files; "
            "bigger changes first) were reviewed: " + _codes(review.skipped)
        )
    if left_out:
        parts.append("**Not reviewed**\n" + _list(left_out))
    parts.append(
        f"**Cost** this review ${review.cost_usd:.4f} · all reviews of this pull request "
        f"${review.total_usd:.4f}"
    )
    parts.append("_`/crew review full` reviews the whole pull request again._")
    return "\n\n".join(parts)


def budget_note(header: str, *, spent: float, budget: float, day: str) -> str:
    return (
        f"### {header} · Automatic review paused\n\n"
        f"This repository's automatic reviews have spent ${spent:.4f} of their "
        f"${budget:g} budget for {day} (UTC), so this pull request was not reviewed "
        "automatically. Someone with write access can still ask with `/crew review`; automatic "
        "reviews resume tomorrow."
    )


def _codes(items: Sequence[str]) -> str:
    return ", ".join(f"`{item}`" for item in items[:50]) + (
        f" and {len(items) - 50} more" if len(items) > 50 else ""
    )


def _list(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- none"
