"""A sprint whose lead keeps failing to plan, through signed webhooks, the worker, PyGithub, the
anthropic SDK and slack_sdk against the emulators: once the `sprint.plan` job runs out of
attempts the sprint fails with the reason, says so once on the tracking issue and in Slack,
and a new `/crew sprint` on the same issue starts a sprint that plans."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.sprints.planning import SPRINT_PLAN_JOB
from bot.store.models import Job
from bot.store.sprint_models import Sprint
from tests.support import sprint_script as scripted
from tests.support.world import REPO, World, emulated_world

TIMEOUT = 60
REFUSED = "The request was refused (emulated)."


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with emulated_world(f"sqlite:///{tmp_path / 'repocrew.db'}", tmp_path / "work") as world:
        world.model.script = scripted.sprint_script()
        yield world


def wait_until(world: World, check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: sprints {_rows(world, Sprint)}")


def _rows(world: World, model: Any) -> list[Any]:
    with world.engine.connect() as connection:
        return list(connection.execute(select(model.__table__).order_by(model.id)).all())


def _posts(world: World) -> list[str]:
    return [p.text for p in world.chat.channel_transcript("#crew").posts]


def test_a_plan_out_of_attempts_fails_the_sprint_once_and_a_new_one_may_start(world):
    repo = world.human.get_repo(REPO)
    tracking = repo.create_issue("Sprint: greetings", body=scripted.GOAL)
    attempts = 5  # the `sprint.plan` job's; each answered by a refusal the client never retries
    world.model.fail("invalid_request_error", times=attempts, message=REFUSED)
    tracking.create_comment("/crew sprint")

    (first,) = wait_until(
        world, lambda: [s for s in _rows(world, Sprint) if s.state == "failed"], "the failure"
    )
    assert first.reason.startswith(f"plan failed: failed after {attempts} attempts: ")
    assert REFUSED in first.reason and first.finished_at is not None
    (job,) = wait_until(  # recorded once the handler has said it: the failure comes first
        world,
        lambda: [j for j in _rows(world, Job) if j.kind == SPRINT_PLAN_JOB and j.status == "dead"],
        "the plan's job given up",
    )
    assert job.attempts == attempts
    said = [c.body for c in tracking.get_comments() if "Sprint plan refused" in c.body]
    assert len(said) == 1 and "the lead could not plan: failed after 5 attempts" in said[0]
    slack = wait_until(world, lambda: [t for t in _posts(world) if "failed" in t], "Slack")
    assert len(slack) == 1 and slack[0].startswith(f"Sprint {first.id} failed: Sprint: greetings")

    # The issue is free again: a new sprint starts, and this time the lead plans it.
    tracking.create_comment("/crew sprint")
    second = wait_until(
        world,
        lambda: [s for s in _rows(world, Sprint) if s.state == "awaiting_approval"],
        "the second sprint's plan",
    )[0]
    assert second.id != first.id and second.tracking_issue == tracking.number
    replies = [c.body for c in tracking.get_comments()]
    assert not any("is already `planning` here" in body for body in replies)
    time.sleep(0.5)  # the outbox posts the second plan; the failure is not said again
    assert len([t for t in _posts(world) if "failed" in t]) == 1
    assert len([c for c in tracking.get_comments() if "Sprint plan refused" in c.body]) == 1
