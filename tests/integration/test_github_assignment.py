"""Assignment as a trigger, end to end: issues assigned on the GitHub emulator reach repocrew's
web app as signed webhooks, its worker starts (or refuses, or stops) the run, and the answers
are read back from the emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import github
import pytest

from repocrew import demo_session
from tests.emulators.test_github_webhooks import validate
from tests.support.world import REPO, World, emulated_world

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
APP_BOT = "repocrew[bot]"


@pytest.fixture
def world(database_url, tmp_path) -> Iterator[World]:
    with emulated_world(database_url, tmp_path / "work") as world:
        world.hub.add_user("triager", token="ghp_triager")
        world.hub.repo(REPO).collaborators["triager"] = "triage"  # may assign, may not push
        yield world


def _settle(world: World, seconds: float = 1.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        time.sleep(0.1)


def _wait_for_runs(world: World, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not world.runs():
        world.hub.webhooks.wait_idle(5)
        time.sleep(0.1)
    return world.runs()


def _as(world: World, token: str) -> github.Github:
    return github.Github(base_url=world.hub_url, auth=github.Auth.Token(token))


@SQLITE_ONLY
def test_assigning_the_app_starts_one_run_and_unassigning_stops_it_before_the_pr(
    world: World, corpus
):
    world.model.slow_down(8)  # the planner's first answer waits: the run has no PR for a while
    repo = world.human.get_repo(REPO)
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_assignees(APP_BOT)
    issue.add_to_labels("crew")  # the label as well: still one run
    assert len(_wait_for_runs(world)) == 1
    for delivery in list(world.hub.webhooks.deliveries):  # GitHub redelivers everything
        world.hub.webhooks.redeliver(delivery)
    _settle(world)
    (run,) = world.runs()
    assert run.issue_number == issue.number and run.requested_by.startswith("octocat <")

    issue.remove_from_assignees(APP_BOT)
    stopped = world.wait_for({"stopped"}, timeout=30)
    assert (stopped.id, stopped.reason) == (run.id, "unassigned by octocat")
    assert list(repo.get_pulls(state="all")) == []
    replies = [(c.user.login, c.body) for c in issue.get_comments()]
    assert (APP_BOT, f"Run {run.id} stopped: @octocat took the crew off this issue.") in replies
    assert len(world.runs()) == 1

    sent = [d for d in world.hub.webhooks.deliveries if d.action in ("assigned", "unassigned")]
    assert [(d.action, d.payload["assignee"]["login"]) for d in sent] == [
        ("assigned", APP_BOT),
        ("assigned", APP_BOT),  # the redelivery, same delivery id
        ("unassigned", APP_BOT),
    ]
    assert sent[0].guid == sent[1].guid
    for delivery in sent:
        validate(delivery.event, delivery.payload)


@SQLITE_ONLY
def test_an_assigner_without_write_access_is_refused_and_nothing_runs(world: World):
    issue = world.human.get_repo(REPO).create_issue("Please", body="do things")
    # A reader may not assign at all: GitHub drops it, and no webhook is sent.
    as_reader = _as(world, "ghp_reader").get_repo(REPO).get_issue(issue.number)
    as_reader.add_to_assignees(APP_BOT)
    assert as_reader.assignees == []
    # Triage may assign, but does not have the write access that steers the crew.
    as_triager = _as(world, "ghp_triager").get_repo(REPO).get_issue(issue.number)
    as_triager.add_to_assignees(APP_BOT)
    assert [u.login for u in as_triager.assignees] == [APP_BOT]
    _settle(world, 3)

    assert world.runs() == []
    replies = [(c.user.login, c.body) for c in issue.get_comments()]
    assert len(replies) == 1
    assert replies[0][0] == APP_BOT and "only people with write access" in replies[0][1]
    assert "@triager" in replies[0][1]
