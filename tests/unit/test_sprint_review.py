"""The sprint review from a seeded store, worked out by hand: the metrics (interaction matrix,
hand-offs, questions with the median answer time, review rounds, blockers raised and resolved,
messages by channel, cost), the facts, the retrospective from the templates, and the lead's
phrasing checked point by point.

The seed (`tests/support/sprint_review_seed.py`) lists every row with why it counts or not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.metrics.collaboration import QuestionCounts
from bot.sprints.retro import RetroPoint, checked_retro, template_retro
from bot.sprints.review import build_review
from bot.sprints.review_render import review_comment, review_message
from bot.store import sprints as stored
from tests.support.sprint_review_seed import seeded_sprint


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return seeded_sprint(tmp_path / "review.db")


def _review(engine: Engine):
    return build_review(engine, stored.get_sprint(engine, 1), web_url="https://github.test")


def test_the_metrics_equal_the_hand_computed_values(engine):
    metrics = _review(engine)[0].metrics
    # run 1: planner→coder, coder→reviewer ×2, reviewer→coder, reviewer→tester; run 2:
    # planner→coder, coder→reviewer, reviewer→lead, the vote's two askers → coder; run 3:
    # coder→reviewer ×2, a person's review → coder (review-2 → review-3: the same role).
    assert metrics.interactions == {
        "coder": {"reviewer": 5},
        "human": {"coder": 1},
        "planner": {"coder": 2},
        "reviewer": {"coder": 2, "lead": 1, "tester": 1},
        "tester": {"coder": 1},
    }
    assert metrics.handoffs == 13
    assert metrics.questions == QuestionCounts(
        asked=4,
        asked_humans=2,
        answered=4,
        answer_seconds=1500.0,  # median of 1, 20, 30, 90 min: (20 + 30) / 2 min
        human_answer_seconds=3600.0,  # median of 30 and 90 min
        asker_to_addressee={
            "coder": {"architect": 1, "humans": 1, "reviewer": 1},
            "tester": {"humans": 1},
        },
    )
    assert metrics.review_rounds == {"A": 2, "B": 1, "C": 3}
    # Runs: two waits for an answer and a failure; tasks: C and D blocked. Resolved: both
    # answers came, C may start again.
    assert (metrics.blockers_raised, metrics.blockers_resolved) == (5, 3)
    assert metrics.messages_by_channel == {"#development": 3, "#devops": 1, "#general": 1}
    assert metrics.cost_by_role == {"coder": 0.9, "lead": 0.1, "reviewer": 0.25}
    assert metrics.cost_usd == 1.25


EXPECTED_FACTS = [
    ("F1", "delivered", "2 of 4 tasks delivered (A, C)"),
    ("F2", "not_delivered", "task B failed: its run 2 failed: tests broke"),
    ("F3", "not_delivered", "task D blocked: dependency B failed"),
    ("F4", "review_rounds", "the most review rounds for one task: 3 (C)"),
    ("F5", "questions", "4 questions asked, 4 answered, median answer 25 min"),
    ("F6", "human_wait", "questions to the humans waited 1 h 00 min (median)"),
    ("F7", "blockers", "5 blockers raised, 3 resolved"),
    ("F8", "handoffs", "13 hand-offs, the most from coder to reviewer (5)"),
    ("F9", "cost", "model calls cost $1.25"),
]


def test_the_retrospective_from_templates_cites_the_sprints_facts(engine):
    review, facts = _review(engine)
    assert [(f.key, f.kind, f.text) for f in facts] == EXPECTED_FACTS
    assert list(review.retro) == [
        RetroPoint(
            "continue", "Keep splitting the goal into tasks that deliver on their own", "F1"
        ),
        RetroPoint(
            "improve", "Find out early why a task stalls, before its dependents wait on it", "F2"
        ),
        RetroPoint("try", "Try a fixed time each day for answering the crew's questions", "F6"),
    ]
    body = review_comment("**Lead**", review)
    assert "**Delivered** (2 of 4)" in body
    assert "- **A** Schema (architect) — [#2](https://github.test/o/r/issues/2), PR " in body
    assert "[#11](https://github.test/o/r/pull/11)" in body
    assert "- **D** Docs (docs) — `blocked`: dependency B failed — [#5](" in body
    assert "| gave → took | coder | lead | reviewer | tester |" in body
    assert "| reviewer | 2 | 1 |  | 1 |" in body
    assert "Questions: 4 asked (2 to the humans), 4 answered, median answer 25 min" in body
    assert "Blockers: 5 raised, 3 resolved" in body
    assert "- Keep splitting the goal into tasks that deliver on their own — _F1: 2 of 4" in body
    text, blocks = review_message(review, tracking_url="https://github.test/o/r/issues/1")
    assert text == "Sprint review: User service — 2 of 4 tasks delivered"
    assert "*Try*: Try a fixed time each day" in blocks[-1]["text"]["text"]


def test_the_model_phrased_retro_drops_a_point_that_cites_no_fact(engine):
    facts = _review(engine)[1]
    proposed = {
        "continue": [{"text": "Keep the coder and the reviewer close", "fact": "F8"}],
        "improve": [
            {"text": "Morale was low", "fact": "F99"},  # no such fact
            {"text": "Reviews dragged on", "fact": ""},  # none cited
            {"text": "Answer   questions\nsooner", "fact": "F6"},
        ],
        "try": [],
    }
    points, dropped = checked_retro(proposed, facts)
    assert dropped == 2
    assert points == [
        RetroPoint("continue", "Keep the coder and the reviewer close", "F8"),
        RetroPoint(
            "improve", "Find out early why a task stalls, before its dependents wait on it", "F2"
        ),
        RetroPoint("improve", "Answer questions sooner", "F6"),
        template_retro(facts)[2],  # an empty section gets the template's point
    ]
    assert all("Morale" not in p.text and "dragged" not in p.text for p in points)
