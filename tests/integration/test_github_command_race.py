"""`/crew go` and `/crew retry` handled twice at once on one issue (two comments, two workers),
on PostgreSQL, with the real webhook payloads and PyGithub against the emulator: one run starts,
and the other command gets the usual answer that a run is already there."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.runs.lifecycle import CREW_RUN_JOB
from bot.store.models import Job, Run
from bot.triggers.github_comments import comment_created
from bot.wiring import build_services
from tests.support.world import REPO, World, emulated_world

pytestmark = pytest.mark.postgres
BUSY = {
    "go": "The crew is already on it: run {id} is `queued`.",
    "retry": "Run {id} is still `queued`; `/crew stop` it first.",
}


@pytest.fixture
def world(postgres_url, tmp_path) -> Iterator[World]:
    with emulated_world(postgres_url, tmp_path / "work", in_process_worker=False) as world:
        yield world


@pytest.mark.parametrize("word", ["go", "retry"])
def test_two_racing_commands_start_one_run_and_the_second_is_told(world, word):
    issue = world.human.get_repo(REPO).create_issue("Add a greeting", body="Say hello.")
    for _ in range(2):
        issue.create_comment(f"/crew {word}")
    world.hub.webhooks.wait_idle(10)
    payloads = [
        d.payload
        for d in world.hub.webhooks.deliveries
        if d.event == "issue_comment" and d.payload["comment"]["body"] == f"/crew {word}"
    ]
    assert len(payloads) == 2
    # The repository's crew file is read slowly: both commands have looked for a run before
    # either could insert one, as two workers taking the comments at once may.
    world.hub.faults.add("GET", f"/repos/{REPO}/contents/*", times=2, delay=1.0)

    start, failures = threading.Barrier(2), []

    def handle(payload) -> None:
        services = build_services(world.settings, world.engine)  # each worker its own
        start.wait()
        try:
            comment_created(payload, services)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=handle, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with world.engine.connect() as connection:
        runs = connection.execute(select(Run.id).where(Run.issue_number == issue.number)).all()  # type: ignore[arg-type]
        queued = connection.execute(select(Job.args).where(Job.kind == CREW_RUN_JOB)).all()  # type: ignore[arg-type]
    assert len(runs) == 1 and len(queued) == 1
    replies = [c.body for c in issue.get_comments() if c.user.login == "repocrew[bot]"]
    assert len(replies) == 1 and replies[0].startswith(BUSY[word].format(id=runs[0].id))
