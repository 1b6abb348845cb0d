"""Two `sprint.review` jobs of one sprint running at once (two deliveries, a close racing the
last task's end), on PostgreSQL, through PyGithub and the anthropic SDK against the emulators:
the job that claims the review posts it and closes the sprint; the other does nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.roster.loader import load_crew
from bot.runs.lifecycle import crew_snapshot
from bot.sprints.review import SPRINT_REVIEW_JOB, queue_review
from bot.store import queue
from bot.store import sprints as stored
from bot.store.models import SlackMessage
from bot.wiring import build_services
from emulators.anthropic import Turn
from emulators.anthropic.script import Script
from jobs.handlers import JOB_HANDLERS
from tests.support.world import REPO, World, emulated_world

pytestmark = pytest.mark.postgres
RETRO = {
    "continue": [{"text": "Keep the tasks this small", "fact": "F1"}],
    "improve": [],
    "try": [],
}


@pytest.fixture
def world(postgres_url, tmp_path) -> Iterator[World]:
    with emulated_world(postgres_url, tmp_path / "work", in_process_worker=False) as world:
        match = {"first_user": "[step: sprint-", "turn": 0}
        world.model.script = Script(
            [Turn.tool_use("submit_retrospective", RETRO, match=match)], reuse=True
        )
        yield world


def _reviewing_sprint(world: World) -> tuple[int, Any]:
    world.hub.webhooks.configure(None)  # no other jobs: the two claimed below are the reviews
    tracking = world.human.get_repo(REPO).create_issue("Sprint: greetings", body="the goal")
    sprint_id = stored.insert_sprint(
        world.engine,
        repo=REPO,
        goal="Deliver the greetings",
        state="reviewing",
        installation_id=1,
        tracking_issue=tracking.number,
        requested_by="octocat",
        config=crew_snapshot(load_crew(world.settings.crew_file)),
    )
    stored.save_tasks(
        world.engine, sprint_id=sprint_id, tasks=[{"key": "A", "title": "alpha", "owner": "coder"}]
    )
    return sprint_id, tracking


def test_two_review_jobs_at_once_post_one_review(world):
    sprint_id, tracking = _reviewing_sprint(world)
    for _ in range(2):
        queue_review(world.engine, sprint_id)
    jobs = [
        queue.claim(world.engine, worker_id=f"worker-{n}", lease_seconds=300, workers_limit=5)
        for n in (1, 2)
    ]
    assert [job.kind for job in jobs if job] == [SPRINT_REVIEW_JOB] * 2
    # GitHub answers the comment listings slowly: a job that got that far overlaps the other.
    path = f"/repos/{REPO}/issues/{tracking.number}/comments"
    world.hub.faults.add("GET", path, times=2, delay=1.0)

    start, failures = threading.Barrier(2), []

    def review(job) -> None:
        services = build_services(world.settings, world.engine)  # each worker its own
        start.wait()
        try:
            JOB_HANDLERS[SPRINT_REVIEW_JOB](job, services)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=review, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    reviews = [c.body for c in tracking.get_comments() if "part=sprint-review" in c.body]
    assert len(reviews) == 1
    sprint = stored.get_sprint(world.engine, sprint_id)
    assert sprint.state == "closed" and sprint.review_job in {job.id for job in jobs if job}
    with world.engine.connect() as connection:
        keys = connection.execute(select(SlackMessage.key)).scalars().all()  # type: ignore[call-overload]
    assert keys == [f"sprint:{sprint_id}:sprint-review"]
