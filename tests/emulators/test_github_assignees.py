"""Issue assignees on the emulator, driven by PyGithub: who is assignable (a collaborator, or the
bot of an App installed on the repository), who may assign, and the `assigned`/`unassigned`
webhooks, checked against the corpus schemas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import github
import pytest
from github import Auth

from emulators.github import create_app
from emulators.server import running
from tests.emulators.test_github_emulator import FAST, World, bot
from tests.emulators.test_github_webhooks import SECRET, Receiver, validate

REPO = "octo-org/widgets"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver()
    with running(found.app()) as url:
        yield found, f"{url}/hook"


@pytest.fixture
def base_url(world: World, receiver: tuple[Receiver, str]) -> Iterator[str]:
    world.emulator.webhooks.configure(receiver[1], SECRET)
    with running(create_app(world.emulator)) as url:
        world.emulator.base_url = url
        yield url


def person(base_url: str, token: str) -> github.Github:
    return github.Github(auth=Auth.Token(token), base_url=base_url, **FAST)


def delivered(world: World, receiver: tuple[Receiver, str]) -> list[tuple[str, str, str]]:
    """(event, action, assignee) of every assignment webhook so far, each schema-checked."""
    assert world.emulator.webhooks.wait_idle(10)
    found = []
    for received in receiver[0].received:
        payload = received.payload
        if payload["action"] in ("assigned", "unassigned"):
            validate(received.event, payload)
            found.append((received.event, payload["action"], payload["assignee"]["login"]))
    return found


def test_assigning_the_apps_bot_sends_schema_valid_assigned_and_unassigned(
    world: World, base_url: str, receiver: tuple[Receiver, str], corpus: Path
) -> None:
    alice = person(base_url, "ghp_alice").get_repo(REPO)
    issue = alice.create_issue("Bug")
    issue.add_to_assignees("repocrew[bot]", "alice")
    assert [u.login for u in issue.assignees] == ["repocrew[bot]", "alice"]
    issue.add_to_assignees("alice")  # already there: nothing changes, nothing is sent
    issue.remove_from_assignees("repocrew[bot]")
    assert [u.login for u in alice.get_issue(issue.number).assignees] == ["alice"]

    assert delivered(world, receiver) == [
        ("issues", "assigned", "repocrew[bot]"),
        ("issues", "assigned", "alice"),
        ("issues", "unassigned", "repocrew[bot]"),
    ]
    first = next(r.payload for r in receiver[0].received if r.payload["action"] == "assigned")
    assert first["assignee"]["type"] == "Bot" and first["sender"]["login"] == "alice"
    assert first["installation"]["id"] == world.installation.id
    assert [a["login"] for a in first["issue"]["assignees"]] == ["repocrew[bot]", "alice"]


def test_a_bot_is_assignable_only_where_its_app_is_installed(
    world: World, base_url: str, receiver: tuple[Receiver, str]
) -> None:
    world.emulator.add_app(slug="elsewhere")  # never installed
    world.emulator.add_user("stranger", token="ghp_stranger")
    repo = person(base_url, "ghp_alice").get_repo(REPO)
    assert repo.has_in_assignees("repocrew[bot]") and repo.has_in_assignees("alice")
    assert not repo.has_in_assignees("elsewhere[bot]")
    assert not repo.has_in_assignees("stranger")
    # the owning organization is a collaborator of sorts, but nobody to assign
    assert {u.login for u in repo.get_assignees()} == {"alice", "repocrew[bot]"}

    issue = repo.create_issue("Who fixes it?")
    issue.add_to_assignees("elsewhere[bot]", "stranger")  # dropped silently, as GitHub does
    assert issue.assignees == []
    with pytest.raises(github.GithubException) as refused:
        issue.edit(assignees=["elsewhere[bot]"])
    assert refused.value.status == 422
    assert refused.value.data["errors"][0]["field"] == "assignees"
    issue.edit(assignees=["repocrew[bot]"])  # PATCH replaces the set
    assert delivered(world, receiver) == [("issues", "assigned", "repocrew[bot]")]


def test_only_triage_or_more_may_assign(
    world: World, base_url: str, receiver: tuple[Receiver, str]
) -> None:
    world.emulator.add_user("reader", token="ghp_reader")
    world.emulator.add_user("triager", token="ghp_triager")
    world.repo.collaborators.update(reader="read", triager="triage")
    issue = person(base_url, "ghp_alice").get_repo(REPO).create_issue("Triage me")

    as_reader = person(base_url, "ghp_reader").get_repo(REPO).get_issue(issue.number)
    as_reader.add_to_assignees("repocrew[bot]")  # 201, but nothing changes
    assert as_reader.assignees == []
    as_triager = person(base_url, "ghp_triager").get_repo(REPO).get_issue(issue.number)
    as_triager.add_to_assignees("repocrew[bot]")
    assert [u.login for u in as_triager.assignees] == ["repocrew[bot]"]
    assert delivered(world, receiver) == [("issues", "assigned", "repocrew[bot]")]


def test_new_issues_and_pull_requests_announce_their_assignees(
    world: World, base_url: str, receiver: tuple[Receiver, str]
) -> None:
    repo = bot(world, base_url).get_repo(REPO)
    repo.create_issue("Born assigned", assignees=["alice"], labels=["bug"])
    main_sha = repo.get_branch("main").commit.sha
    repo.create_git_ref("refs/heads/topic", main_sha)
    repo.create_file("topic.txt", "Topic", "t\n", branch="topic")
    pull = repo.create_pull(base="main", head="topic", title="Topic")
    repo.get_issue(pull.number).add_to_assignees("alice")
    repo.get_issue(pull.number).remove_from_assignees("alice")
    assert delivered(world, receiver) == [
        ("issues", "assigned", "alice"),
        ("pull_request", "assigned", "alice"),
        ("pull_request", "unassigned", "alice"),
    ]
    kinds = [(r.event, r.payload["action"]) for r in receiver[0].received]
    assert kinds[:3] == [("issues", "opened"), ("issues", "labeled"), ("issues", "assigned")]
