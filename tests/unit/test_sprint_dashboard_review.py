"""The dashboard's sprint page on the seeded sprint (`tests/support/sprint_review_seed.py`):
each task's state at the end of each day, from the transition log, and the review — metrics,
the interaction matrix and the retrospective with the facts it cites."""

from __future__ import annotations

from pathlib import Path

from bot.security.secrets import SecretScanner
from tests.support.sprint_review_seed import seeded_sprint
from webhooks.dashboard.render import ENV
from webhooks.dashboard.sprints import sprint_page


def test_the_sprint_page_shows_the_state_by_day_and_the_review(tmp_path: Path):
    page = sprint_page(seeded_sprint(tmp_path / "page.db"), 1, web_url="https://github.test")
    assert page is not None
    assert page.days == ["2026-11-10", "2026-11-11", "2026-11-12"]
    assert page.by_day == {
        "A": ["delivered", "delivered", "delivered"],
        "B": ["failed", "failed", "failed"],
        "C": ["blocked", "running", "delivered"],  # unblocked and started on the 11th
        "D": ["pending", "pending", "blocked"],
    }
    assert page.review is not None
    assert "Blockers: 5 raised, 3 resolved" in page.review.lines
    assert page.review.takers == ["coder", "lead", "reviewer", "tester"]
    assert ["reviewer", "2", "1", "", "1"] in page.review.matrix

    html = ENV.get_template("sprint.html").render(scanner=SecretScanner(), data=page, current="")
    assert (
        '<tr data-task="C"><td><strong>C</strong></td><td><span class="state state-blocked">'
        in html
    )
    assert "<li>Questions: 4 asked (2 to the humans), 4 answered, median answer 25 min</li>" in html
    assert (
        '<li data-section="try"><strong>Try</strong>: Try a fixed time each day for answering the '
        'crew&#39;s questions <span class="muted">(F6: questions to the humans waited 1 h 00 min'
        in html
    )
