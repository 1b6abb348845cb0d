"""A sprint task's pull request merged while GitHub's webhook was lost, through PyGithub against
the emulator: the reconcile pass finds the merge and the task after it starts; the webhook,
delivered late, starts nothing more."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update

from bot.roster.loader import load_crew
from bot.runs.lifecycle import crew_snapshot
from bot.runs.progress import create_run
from bot.sprints.schedule import SPRINT_SCHEDULE_JOB, schedule_sprint
from bot.store import sprints as stored
from bot.store.deliveries import get_delivery
from bot.store.models import Delivery, Job, Run
from bot.triggers.github_deliveries import handle_github_delivery
from bot.triggers.missed_merges import ReconcileIncomplete, reconcile_merges
from bot.wiring import build_services
from tests.conftest import GITHUB_SECRET
from tests.support.world import REPO, World, emulated_world

NOWHERE = "http://127.0.0.1:9/github/webhook"  # nothing listens: the delivery is lost


@pytest.fixture
def world(database_url, tmp_path) -> Iterator[World]:
    with emulated_world(database_url, tmp_path / "work", in_process_worker=False) as world:
        yield world


def _task_pull(world: World) -> int:
    """A's pull request, as its run would have opened it."""
    repo = world.human.get_repo(REPO)
    main = repo.get_branch(repo.default_branch).commit.sha
    repo.create_git_ref("refs/heads/crew/alpha", main)
    repo.create_file("calc/alpha.py", "Add alpha", '"""alpha"""\n', branch="crew/alpha")
    return repo.create_pull(base=repo.default_branch, head="crew/alpha", title="alpha").number


def _running_sprint(world: World, pr: int, repo: str = REPO) -> int:
    """A running sprint: A's run waits for a person to merge `pr`; B waits on A."""
    tracking = 1  # a repository the emulator does not hold has no issue to open
    if repo == REPO:
        tracking = world.human.get_repo(REPO).create_issue("Sprint: greetings", "the goal").number
    crew = load_crew(world.settings.crew_file)
    engine = world.engine
    sprint_id = stored.insert_sprint(
        engine,
        repo=repo,
        goal="Deliver the greetings",
        state="running",
        installation_id=1,
        tracking_issue=tracking,
        requested_by="octocat",
        config=crew_snapshot(crew),
    )
    tasks = [
        {"key": "A", "title": "alpha", "owner": "coder"},
        {"key": "B", "title": "beta", "owner": "coder", "depends_on": ["A"]},
    ]
    stored.save_tasks(engine, sprint_id=sprint_id, tasks=tasks)
    stored.move_task(engine, sprint_id=sprint_id, key="A", expected="pending", target="running")
    run_id = create_run(engine, repo=repo, task="alpha", installation_id=1, forge="github")
    with engine.begin() as connection:
        table = Run.__table__  # type: ignore[attr-defined]
        waiting = {"state": "awaiting_human", "pr_number": pr}
        connection.execute(update(table).where(table.c.id == run_id).values(**waiting))
    assert stored.claim_task_run(engine, sprint_id=sprint_id, key="A", run_id=run_id)
    return sprint_id


def _count(world: World, query) -> int:
    with world.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def _states(world: World, sprint_id: int) -> dict[str, tuple[str, int | None]]:
    return {t.key: (t.state, t.run_id) for t in stored.tasks(world.engine, sprint_id)}


def test_a_lost_merge_webhook_is_made_good_by_the_reconcile_pass_once(world):
    services = build_services(world.settings, world.engine)
    pr = _task_pull(world)
    sprint_id = _running_sprint(world, pr)

    world.hub.webhooks.configure(NOWHERE, GITHUB_SECRET)
    world.human.get_repo(REPO).get_pull(pr).merge()
    world.hub.webhooks.wait_idle(10)
    (lost,) = [d for d in world.hub.webhooks.deliveries if d.action == "closed"]
    assert lost.event == "pull_request" and lost.status is None and lost.error
    world.hub.webhooks.configure(f"{world.crew_url}/github/webhook", GITHUB_SECRET)

    # Without the webhook the sprint does not know: a scheduling pass leaves B waiting.
    schedule_sprint(services, sprint_id)
    assert _states(world, sprint_id)["B"] == ("pending", None)

    assert reconcile_merges(services) == [(REPO, pr)]
    assert _states(world, sprint_id)["A"][0] == "delivered"
    schedule_sprint(services, sprint_id)  # the pass the reconcile queued
    b_state, b_run = _states(world, sprint_id)["B"]
    assert b_state == "running" and b_run is not None
    assert reconcile_merges(services) == []  # nothing left to look at: A's run is done

    # The webhook arrives late: nothing more is queued or started.
    schedules = select(func.count()).select_from(Job).where(Job.kind == SPRINT_SCHEDULE_JOB)
    before = (_count(world, schedules), _count(world, select(func.count()).select_from(Run)))
    world.hub.webhooks.redeliver(lost)
    world.hub.webhooks.wait_idle(10)
    query = select(Delivery.id).where(Delivery.delivery_id == lost.guid)  # type: ignore[arg-type]
    late = get_delivery(world.engine, _count(world, query))
    assert handle_github_delivery(late, services) >= 1  # `pull_closed` ran
    schedule_sprint(services, sprint_id)
    after = (_count(world, schedules), _count(world, select(func.count()).select_from(Run)))
    assert after == before == (before[0], 2)
    assert _states(world, sprint_id)["B"] == ("running", b_run)


def test_a_repository_github_will_not_answer_for_does_not_hold_up_the_others(world):
    """The pass asks about every pull request: the one it cannot ask about (the App lost the
    repository) is named in its error, after the merge it could see was delivered."""
    services = build_services(world.settings, world.engine)
    unreachable = _running_sprint(world, 7, repo="octo-org/removed")  # looked at first
    pr = _task_pull(world)
    sprint_id = _running_sprint(world, pr)
    world.human.get_repo(REPO).get_pull(pr).merge()

    with pytest.raises(ReconcileIncomplete, match=r"octo-org/removed#7"):
        reconcile_merges(services)
    assert _states(world, sprint_id)["A"][0] == "delivered"
    assert _states(world, unreachable)["A"][0] == "running"
