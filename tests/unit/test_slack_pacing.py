"""The pacing rule after a 429 (`bot/slack/pacing.py`), on numbers: Retry-After once, then
Slack's documented interval from slot to slot."""

from __future__ import annotations

import pytest

from bot.slack.pacing import POST_INTERVAL, Pace


def test_unpaced_until_slack_refuses():
    pace = Pace()
    pace.posted(at=5.0)
    assert pace.wait(at=5.0) == 0.0


def test_after_a_refusal_retry_after_once_then_one_interval_per_post():
    pace = Pace()
    assert pace.refused(at=10.25, retry_after=3) == 3
    assert pace.wait(at=11.0) == pytest.approx(2.25)
    pace.posted(at=13.26)  # the refused post, on its slot (10.25 + 3)
    # Not another 3 s (Retry-After) and not counted from 13.26 (when the post went).
    assert pace.wait(at=13.26) == pytest.approx(13.25 + POST_INTERVAL - 13.26)
    pace.posted(at=14.30)  # 50 ms late for its slot: the next slot does not move
    assert pace.wait(at=14.30) == pytest.approx(15.25 - 14.30)


def test_a_post_later_than_a_whole_interval_lets_the_next_go_at_once():
    pace = Pace()
    pace.refused(at=0.0, retry_after=1)
    pace.posted(at=1.0)
    pace.posted(at=4.5)  # held up elsewhere: Slack's allowance refilled meanwhile
    assert pace.wait(at=4.5) == 0.0


def test_a_refusal_on_the_slots_starts_them_again_from_it():
    pace = Pace()
    pace.refused(at=0.0, retry_after=1)
    pace.posted(at=1.0)
    assert pace.refused(at=2.0, retry_after=2) == 2
    assert pace.wait(at=2.0) == 2.0
