"""The sprint's retrospective — Continue, Improve, Try — where every point cites a fact of the
sprint: the facts are stated from the review's numbers, the templates pick advice by which facts
there are, and a point the lead's model phrased stands only if it cites one of the facts given
(otherwise the template's point for its section takes its place)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.metrics.render import duration
from bot.sprints.metrics import SprintMetrics

SECTIONS = ("continue", "improve", "try")
MAX_POINT = 300


@dataclass(frozen=True)
class Fact:
    key: str  # F1, F2 … as the points cite them
    kind: str
    text: str


@dataclass(frozen=True)
class RetroPoint:
    section: str
    text: str
    fact: str  # the key of the fact it cites


@dataclass(frozen=True)
class Outcome:
    """One task at the end of the sprint, for the facts and the review's lists."""

    key: str
    title: str
    state: str
    reason: str = ""


def sprint_facts(outcomes: Sequence[Outcome], metrics: SprintMetrics) -> list[Fact]:
    """What happened, one sentence each: the only things a retrospective point may cite."""
    found: list[tuple[str, str]] = []
    delivered = [o.key for o in outcomes if o.state == "delivered"]
    listed = f" ({', '.join(delivered)})" if delivered else ""
    found.append(("delivered", f"{len(delivered)} of {len(outcomes)} tasks delivered{listed}"))
    for outcome in outcomes:
        if outcome.state != "delivered":
            why = f": {outcome.reason}" if outcome.reason else ""
            found.append(("not_delivered", f"task {outcome.key} {outcome.state}{why}"))
    if metrics.review_rounds:
        most = max(metrics.review_rounds.values())
        keys = ", ".join(k for k, n in metrics.review_rounds.items() if n == most)
        found.append(("review_rounds", f"the most review rounds for one task: {most} ({keys})"))
    q = metrics.questions
    if q.asked or q.answered:
        found.append(
            (
                "questions",
                f"{_count(q.asked, 'question')} asked, {q.answered} answered, "
                f"median answer {duration(q.answer_seconds)}",
            )
        )
    if q.human_answer_seconds is not None:
        waited = duration(q.human_answer_seconds)
        found.append(("human_wait", f"questions to the humans waited {waited} (median)"))
    if metrics.blockers_raised:
        raised, resolved = metrics.blockers_raised, metrics.blockers_resolved
        found.append(("blockers", f"{_count(raised, 'blocker')} raised, {resolved} resolved"))
    if metrics.handoffs:
        n, giver, taker = max(
            (n, giver, taker)
            for giver, takers in metrics.interactions.items()
            for taker, n in takers.items()
        )
        found.append(
            (
                "handoffs",
                f"{_count(metrics.handoffs, 'hand-off')}, the most from {giver} to {taker} ({n})",
            )
        )
    found.append(("cost", f"model calls cost ${metrics.cost_usd:.2f}"))
    return [Fact(f"F{i}", kind, text) for i, (kind, text) in enumerate(found, start=1)]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


# Per section, the advice for each kind of fact, in the order they are preferred.
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "continue": [
        ("delivered", "Keep splitting the goal into tasks that deliver on their own"),
        ("handoffs", "Keep handing work between roles in small, reviewed steps"),
        ("questions", "Keep asking teammates instead of guessing"),
        ("cost", "Keep the sprint's scope as small as this one"),
    ],
    "improve": [
        ("not_delivered", "Find out early why a task stalls, before its dependents wait on it"),
        ("human_wait", "Answer the agents' questions sooner: a waiting run holds its task"),
        ("review_rounds", "Write acceptance criteria a reviewer can check in one round"),
        ("blockers", "Clear blockers the day they are raised"),
        ("cost", "Watch the spend per delivered task"),
    ],
    "try": [
        ("human_wait", "Try a fixed time each day for answering the crew's questions"),
        ("not_delivered", "Try starting the riskiest dependency first"),
        ("review_rounds", "Try having the reviewer read the plan before the code is written"),
        ("blockers", "Try naming who unblocks each dependency in the plan"),
        ("cost", "Try a smaller model for the routine steps"),
    ],
}


def template_point(section: str, facts: Sequence[Fact]) -> RetroPoint:
    """The section's advice for the first kind of fact the sprint has (cost always is)."""
    by_kind: dict[str, Fact] = {}
    for fact in facts:
        by_kind.setdefault(fact.kind, fact)
    delivered_none = by_kind["delivered"].text.startswith("0 of")
    for kind, advice in TEMPLATES[section]:
        if kind in by_kind and not (kind == "delivered" and delivered_none):
            return RetroPoint(section, advice, by_kind[kind].key)
    return RetroPoint(section, TEMPLATES[section][-1][1], facts[-1].key)


def template_retro(facts: Sequence[Fact]) -> list[RetroPoint]:
    return [template_point(section, facts) for section in SECTIONS]


def checked_retro(
    proposed: Mapping[str, Any], facts: Sequence[Fact]
) -> tuple[list[RetroPoint], int]:
    """The model's points that cite a given fact; each one that does not is replaced by the
    template's point for its section (once), and an empty section gets the template's.
    Returns the points and how many of the model's were dropped."""
    known = {fact.key for fact in facts}
    points: list[RetroPoint] = []
    dropped = 0
    for section in SECTIONS:
        kept: list[RetroPoint] = []
        raw = proposed.get(section)
        for item in raw if isinstance(raw, list) else []:
            text = " ".join(str(item.get("text", "")).split()) if isinstance(item, dict) else ""
            fact = str(item.get("fact", "")).strip() if isinstance(item, dict) else ""
            if text and fact in known:
                kept.append(RetroPoint(section, text[:MAX_POINT], fact))
                continue
            dropped += 1
            fallback = template_point(section, facts)
            if fallback not in kept:
                kept.append(fallback)
        points += kept or [template_point(section, facts)]
    return points, dropped
