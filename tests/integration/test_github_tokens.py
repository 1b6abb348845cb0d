"""Least-privilege installation tokens: every token the crew mints is for the run's repository
only and the permissions its call needs (read to clone, contents: write only to push), as the
GitHub emulator records each access-token request (`emulator.minted`) and enforces it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.github import ClientOptions, GitHubApps, GitHubForge
from bot.github.access import CHECKS, COMMENT, LEVELS, PULL, PUSH, READ, STATUSES
from bot.sandbox import sandbox_status
from repocrew import demo_session
from tests.support.world import REPO, World, emulated_world

OTHER = "octo-org/hello"  # the same installation reaches it; the run's tokens must not
FAST = ClientOptions(retries=0, seconds_between_writes=None)
SCOPES = {tuple(sorted(level.as_permissions().items())) for level in LEVELS}


@pytest.fixture
def world(database_url, tmp_path) -> Iterator[World]:
    with emulated_world(database_url, tmp_path / "work") as world:
        yield world


def _scoped(world: World, since: int = 0) -> list[Any]:
    return world.hub.minted[since:]


def _refused_elsewhere(world: World, token: str) -> int:
    headers = {"Authorization": f"token {token}"}
    return httpx.get(f"{world.hub_url}/repos/{OTHER}/issues", headers=headers).status_code


@pytest.mark.skipif(not sandbox_status().available, reason="the run's tests need the sandbox")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_whole_run_mints_only_repository_scoped_least_privilege_tokens(world: World) -> None:
    repo = world.human.get_repo(REPO)
    issue = repo.create_issue(demo_session.TASK_TITLE, body=demo_session.TASK_BODY)
    issue.add_to_labels("crew")
    run = world.wait_for({"awaiting_human", "failed", "budget_exhausted", "stopped"})
    assert run.state == "awaiting_human", run.reason

    minted = world.hub.minted
    assert minted, "the crew minted no token"
    for record in minted:
        if record.repositories is None:  # the one installation-level token: metadata only
            assert record.permissions == {"metadata": "read"}, record
            continue
        assert record.repositories == (REPO,), record
        assert tuple(sorted((record.permissions or {}).items())) in SCOPES, record
        assert _refused_elsewhere(world, record.token) == 404
    scopes = {tuple(sorted((r.permissions or {}).items())) for r in minted if r.repositories}
    for needed in (READ, COMMENT, PULL, PUSH, CHECKS, STATUSES):
        assert tuple(sorted(needed.as_permissions().items())) in scopes, needed.name
    pushers = [r for r in minted if (r.permissions or {}).get("contents") == "write"]
    assert pushers and all(set(r.permissions or {}) == {"contents", "metadata"} for r in pushers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_forge_call_mints_its_own_access_and_nothing_more(world: World) -> None:
    apps = GitHubApps.from_settings(world.settings, options=FAST)
    repo = world.human.get_repo(REPO)
    thread = repo.create_issue("tokens").number
    sha = repo.get_branch("main").commit.sha

    def fresh() -> GitHubForge:  # a new forge each time: no token cached from another call
        apps.main.tokens.forget(1)
        return GitHubForge.for_installation(apps, REPO, installation_id=1)

    calls = {
        "comment": (COMMENT, lambda f: f.create_comment(thread, "hi", role="lead")),
        "check": (CHECKS, lambda f: f.create_check(sha, "t", role="tester", status="queued")),
        "status": (
            STATUSES,
            lambda f: f.set_status(sha, context="c", state="success", description="d"),
        ),  # fmt: skip
        "clone": (READ, lambda f: f.clone_source()),
        "push": (PUSH, lambda f: f.clone_source(push=True)),
    }
    for name, (access, call) in calls.items():
        before = len(world.hub.minted)
        call(fresh())
        asked = {(r.repositories, tuple(sorted((r.permissions or {}).items())))
                 for r in _scoped(world, before)}  # fmt: skip
        wanted = (REPO,), tuple(sorted(access.as_permissions().items()))
        assert wanted in asked, (name, asked)
        assert all(r.repositories == (REPO,) for r in _scoped(world, before)), name
        assert (
            not any(
                (r.permissions or {}).get("contents") == "write" for r in _scoped(world, before)
            )
            or name == "push"
        ), name
    apps.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_token_of_one_access_is_refused_what_another_access_does(world: World) -> None:
    apps = GitHubApps.from_settings(world.settings, options=FAST)
    client = apps.main.installation(1)
    sha = world.human.get_repo(REPO).get_branch("main").commit.sha
    read, comment = client.token(REPO, READ), client.token(REPO, COMMENT)
    headers = {"Accept": "application/vnd.github+json"}

    def post(token: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{world.hub_url}/repos/{path}", json=body,
                          headers={**headers, "Authorization": f"token {token}"})  # fmt: skip

    refused = post(read, f"{REPO}/issues", {"title": "a read token"})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"
    assert post(comment, f"{REPO}/check-runs", {"name": "x", "head_sha": sha}).status_code == 403
    assert post(comment, f"{REPO}/issues", {"title": "allowed"}).status_code == 201
    assert post(comment, f"{OTHER}/issues", {"title": "another repository"}).status_code == 404
    apps.close()
