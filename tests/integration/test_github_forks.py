"""Pull requests from forks on the GitHub emulator: `/crew review` reviews the fork's code (from
`refs/pull/N/head`), not the base repository's branch of the same name; the crew never pushes
to a fork (a fix is refused with a comment saying why) and its clone holds no credential.

Real clone over smart HTTP, the real GitHub forge through PyGithub, the real agent loop through
the anthropic SDK, driven in-process like `test_review_lines.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import github
import pytest

from bot.llm.client import ModelClient
from bot.roster.loader import load_crew
from bot.runs.driver import drive
from bot.runs.lifecycle import crew_snapshot
from bot.runs.progress import create_run
from bot.store.runs import get_run
from bot.triggers.starting import request_changes
from bot.wiring import services_for
from emulators.anthropic import AnthropicEmulator, Turn
from emulators.anthropic import create_app as anthropic_app
from emulators.anthropic.script import Script
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.github.forks import fork
from emulators.server import running
from tests.conftest import make_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

KEY = "sk-ant-test-emulator-key-0016-forks"
REPO = "octo-org/shop"
BASE = "def price(n):\n    return n\n"
FORK_CODE = "def price(n):\n    return n * FORKS_OWN_FACTOR\n"
DECOY = "def price(n):\n    return n + BASE_BRANCH_DECOY\n"
REVIEW = {
    "summary": "Looked at the fork's change.",
    "verdict": "comment",
    "comments": [],
    "checklist": [{"item": "Input validation", "status": "pass", "reason": "n is a number"}],
}


@pytest.fixture
def hub_and_model() -> Iterator[tuple[GitHubEmulator, AnthropicEmulator, str, str]]:
    hub = GitHubEmulator.with_defaults()
    match = {"system": "You are Reviewer on", "first_user": "[step: review-1]"}
    turn = Turn(content=Turn.tool_use("submit_review", REVIEW).content, match=match)
    model = AnthropicEmulator(Script([turn]))
    with running(github_app(hub)) as hub_url, running(anthropic_app(model)) as model_url:
        hub.base_url = hub_url
        yield hub, model, hub_url, model_url


def _fork_pull(hub: GitHubEmulator, hub_url: str) -> Any:
    """forker's pull request from `forker/shop:feature`; the base repository has a `feature`
    branch of its own, with other code."""
    hub.create_repo(REPO, files={"app/core.py": BASE}, collaborators={"octocat": "admin"})
    hub.add_user("forker", token="ghp_forker")
    fork(hub, REPO, "forker")
    octocat = github.Github(base_url=hub_url, auth=github.Auth.Token("ghp_octocat"))
    forker = github.Github(base_url=hub_url, auth=github.Auth.Token("ghp_forker"))
    for client, repo_name, code in ((octocat, REPO, DECOY), (forker, "forker/shop", FORK_CODE)):
        repo = client.get_repo(repo_name)
        repo.create_git_ref("refs/heads/feature", repo.get_branch("main").commit.sha)
        found = repo.get_contents("app/core.py", ref="feature")
        repo.update_file("app/core.py", "change", code, found.sha, branch="feature")
    return forker.get_repo(REPO).create_pull(
        title="Price factor", body="Please review.", head="forker:feature", base="main"
    )


def _review_run(engine, database_url, hub, hub_url, model_url, tmp_path) -> tuple[Any, Any, int]:
    pull = _fork_pull(hub, hub_url)
    settings = make_settings(
        database_url,
        github_app_id=1,
        github_private_key=hub.apps[1].private_key_pem.decode(),
        github_api_url=hub_url,
        anthropic_api_key=KEY,
        anthropic_base_url=model_url,
        work_dir=tmp_path / "work",
    )
    run_id = create_run(
        engine,
        repo=REPO,
        clone_url=hub.repo(REPO).http_url,
        installation_id=1,
        requested_by="octocat <1+octocat@users.noreply.github.com>",
        forge="github",
        config=crew_snapshot(load_crew(None)),
        title=pull.title,
        task=pull.body,
        pr_number=pull.number,
        mode="review",
    )
    client = ModelClient(api_key=KEY, base_url=model_url, max_retries=0)
    services = services_for(engine, settings, run_id, model=client)
    state = drive(services, run_id)
    assert state.value == "awaiting_human", get_run(engine, run_id).reason
    return pull, services, run_id


def test_a_review_of_a_fork_pull_request_reads_the_forks_code(
    engine, database_url, hub_and_model, tmp_path
):
    hub, model, hub_url, model_url = hub_and_model
    pull, services, run_id = _review_run(engine, database_url, hub, hub_url, model_url, tmp_path)
    fork_head = hub.repo("forker/shop").git.resolve("refs/heads/feature")
    assert pull.head.repo.full_name == "forker/shop" and pull.head.sha == fork_head
    assert hub.repo(REPO).git.resolve(f"refs/pull/{pull.number}/head") == fork_head

    seen = json.dumps([b for b in model.message_bodies() if "[step: review-1]" in json.dumps(b)])
    assert "FORKS_OWN_FACTOR" in seen and "BASE_BRANCH_DECOY" not in seen
    (review,) = pull.get_reviews()
    assert review.commit_id == fork_head and review.user.login == "repocrew[bot]"

    # The clone the reviewer read (and tests would run in) holds no credential anywhere.
    root = services.workspace_dir(run_id)
    config = (root / ".git" / "config").read_text()
    assert "ghs_" not in config and "extraheader" not in config.lower() and "@" not in config
    assert not any("contents" in (m.permissions or {}) and m.permissions["contents"] == "write"
                   for m in hub.minted)  # fmt: skip


def test_the_crew_never_pushes_to_a_fork(engine, database_url, hub_and_model, tmp_path):
    hub, _model, hub_url, model_url = hub_and_model
    pull, services, run_id = _review_run(engine, database_url, hub, hub_url, model_url, tmp_path)
    refs = {name: hub.repo(name).git.refs("refs/heads/") for name in (REPO, "forker/shop")}

    feedback = {"reviewer": "octocat", "body": "Please fix the factor."}
    assert request_changes(engine, get_run(engine, run_id), key="human-1", feedback=feedback)
    state = drive(services, run_id)

    assert state.value == "failed"
    assert "never pushes to a fork" in get_run(engine, run_id).reason
    notice = [c.body for c in pull.get_issue_comments() if "never pushes to a fork" in c.body]
    assert notice and "forker/shop" in notice[0]
    assert {name: hub.repo(name).git.refs("refs/heads/") for name in refs} == refs
    assert len(list(hub.repo(REPO).pulls)) == 1  # no pull request of the crew's own either
    assert not any((m.permissions or {}).get("contents") == "write" for m in hub.minted)
