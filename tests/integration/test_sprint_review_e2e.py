"""The sprint review end to end through the emulators (PyGithub, slack_sdk and the anthropic
SDK over HTTP): a sprint that reaches `reviewing` gets exactly one review comment on its
tracking issue and one Slack post, then closes — however often its job runs, and when a
worker dies between the comment and the rest. The lead's phrasing is checked against the
facts; with the model failing, the templates speak."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.roster.loader import load_crew
from bot.runs.lifecycle import crew_snapshot
from bot.sprints.control import check_sprints
from bot.sprints.planning import gateway_of_sprint
from bot.sprints.review import begin_review, queue_review, review_sprint
from bot.store import sprints as stored
from bot.store.models import utcnow
from bot.store.sprint_models import Sprint
from bot.wiring import build_services
from emulators.anthropic import Turn
from emulators.anthropic.script import Script
from tests.support.world import REPO, World, emulated_world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TIMEOUT = 30
MARK = "part=sprint-review"
RETRO = {
    "continue": [{"text": "Keep the tasks this small", "fact": "F1"}],
    "improve": [{"text": "The team felt rushed", "fact": "F42"}],  # cites nothing given
    "try": [{"text": "Try a cheaper model for the plan", "fact": "F3"}],
}


@pytest.fixture
def world(request, database_url, tmp_path) -> Iterator[World]:
    with emulated_world(database_url, tmp_path / "work") as world:
        phrased = getattr(request, "param", True)
        match = {"first_user": "[step: sprint-", "turn": 0}
        turns = [Turn.tool_use("submit_retrospective", RETRO, match=match)] if phrased else []
        world.model.script = Script(turns, reuse=True)
        yield world


def _sprint(world: World) -> tuple[int, Any]:
    """A running sprint of two tasks on a tracking issue: A delivered, B blocked."""
    tracking = world.human.get_repo(REPO).create_issue("Sprint: greetings", body="the goal")
    crew = load_crew(world.settings.crew_file)
    sprint_id = stored.insert_sprint(
        world.engine,
        repo=REPO,
        goal="Deliver the greetings",
        state="running",
        installation_id=1,
        tracking_issue=tracking.number,
        requested_by="octocat",
        config=crew_snapshot(crew),
    )
    tasks = [
        {"key": "A", "title": "alpha", "owner": "coder"},
        {"key": "B", "title": "beta", "owner": "coder", "depends_on": ["A"]},
    ]
    stored.save_tasks(world.engine, sprint_id=sprint_id, tasks=tasks)
    for key, target, reason in (("A", "delivered", "merged"), ("B", "blocked", "it waited")):
        middle = "running" if target == "delivered" else "pending"
        if middle == "running":
            stored.move_task(
                world.engine, sprint_id=sprint_id, key=key, expected="pending", target=middle
            )
        stored.move_task(
            world.engine,
            sprint_id=sprint_id,
            key=key,
            expected=middle,
            target=target,
            reason=reason,
        )
    return sprint_id, tracking


def _closed(world: World, sprint_id: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if stored.get_sprint(world.engine, sprint_id).state == "closed" and _posts(world):
            return
        time.sleep(0.2)
    raise AssertionError(f"sprint {stored.get_sprint(world.engine, sprint_id)} not reviewed")


def _reviews(tracking) -> list[str]:
    return [c.body for c in tracking.get_comments() if MARK in c.body]


def _posts(world: World) -> list[str]:
    return [
        p.text for p in world.chat.channel_transcript("#crew").posts if "Sprint review" in p.text
    ]


def _settle(world: World) -> None:
    """Let the worker take whatever was queued (it polls every 0.05 s)."""
    time.sleep(1.5)


def test_a_sprint_reaching_reviewing_gets_one_review_and_one_slack_post(world):
    sprint_id, tracking = _sprint(world)
    assert begin_review(world.engine, sprint_id, reason="every task ended")
    _closed(world, sprint_id)
    (body,) = _reviews(tracking)
    assert "### Sprint review: Deliver the greetings" in body
    assert "**Delivered** (1 of 2)" in body and "`blocked`: it waited" in body
    # The lead's points stand where they cite a fact; the uncited one gave way to a template's.
    assert "- Keep the tasks this small — _F1: 1 of 2 tasks delivered (A)_" in body
    assert "felt rushed" not in body
    assert "- Find out early why a task stalls" in body
    assert "- Try a cheaper model for the plan — _F3: " in body

    # Redelivered: the job again, the periodic check long after; a second begin does nothing.
    queue_review(world.engine, sprint_id)
    check_sprints(world.engine, now=utcnow() + timedelta(hours=1))
    assert not begin_review(world.engine, sprint_id, reason="again")
    _settle(world)
    assert len(_reviews(tracking)) == 1 and len(_posts(world)) == 1
    assert stored.get_sprint(world.engine, sprint_id).state == "closed"


class DiesAfterCommenting:
    """The App's gateway, but the worker dies right after GitHub took the comment."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def create_comment(self, thread: int, body: str, *, role: str) -> Any:
        self.real.create_comment(thread, body, role=role)
        raise KeyboardInterrupt("the worker is killed")


@pytest.mark.parametrize("world", [False], indirect=True)
def test_a_worker_killed_mid_review_posts_nothing_twice_and_templates_speak(world):
    sprint_id, tracking = _sprint(world)
    stored.move_sprint(world.engine, sprint_id=sprint_id, expected="running", target="reviewing")
    services = build_services(world.settings, world.engine)
    sprint = stored.get_sprint(world.engine, sprint_id)
    dying = DiesAfterCommenting(gateway_of_sprint(services, sprint))
    with pytest.raises(KeyboardInterrupt):
        review_sprint(services, sprint_id, job_id=0, gateway=dying)  # no job holds it after
    assert len(_reviews(tracking)) == 1 and stored.get_sprint(world.engine, sprint_id).state == (
        "reviewing"
    )

    # The job runs again (the model still answers nothing: the templates speak).
    queue_review(world.engine, sprint_id)
    _closed(world, sprint_id)
    # Killed after the posts, before the move was committed: done once more, nothing new.
    with world.engine.begin() as connection:
        table = Sprint.__table__  # type: ignore[attr-defined]
        connection.execute(update(table).where(table.c.id == sprint_id).values(state="reviewing"))
    queue_review(world.engine, sprint_id)
    _closed(world, sprint_id)
    _settle(world)
    (body,) = _reviews(tracking)
    assert len(_posts(world)) == 1
    assert "- Keep splitting the goal into tasks that deliver on their own — _F1: " in body
