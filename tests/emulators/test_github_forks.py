"""Forks on the GitHub emulator, through PyGithub and real git: a fork's pull request names its
head `owner:branch`, shows the fork as `head.repo`, keeps its commits at `refs/pull/N/head` in
the base repository, and follows a push to the fork's branch (with `synchronize`)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import github
import pytest

from emulators.github import GitHubEmulator, create_app
from emulators.github.forks import fork
from emulators.server import running

FAST = {"retry": None, "seconds_between_requests": None, "seconds_between_writes": None}
REPO = "octo-org/shop"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[GitHubEmulator, str]]:
    hub = GitHubEmulator(tmp_path / "repos")
    hub.add_user("octo-org", type="Organization")
    hub.add_user("forker", token="ghp_forker")
    hub.create_repo(REPO, files={"a.py": "x = 1\n"})
    fork(hub, REPO, "forker")
    with running(create_app(hub)) as url:
        hub.base_url = url
        yield hub, url


def test_a_fork_pull_request_is_kept_at_refs_pull_head_and_follows_pushes(hub, tmp_path):
    hub, url = hub
    forker = github.Github(base_url=url, auth=github.Auth.Token("ghp_forker"), **FAST)
    mine = forker.get_repo("forker/shop")
    assert mine.fork is True and forker.get_repo(REPO).fork is False
    mine.create_git_ref("refs/heads/main-fix", mine.get_branch("main").commit.sha)
    found = mine.get_contents("a.py", ref="main-fix")
    mine.update_file("a.py", "two", "x = 2\n", found.sha, branch="main-fix")

    # forker has no write on the base repository: proposing a fork's branch needs none
    pull = forker.get_repo(REPO).create_pull(
        title="Two", body="", head="forker:main-fix", base="main"
    )
    assert pull.head.repo.full_name == "forker/shop" and pull.base.repo.full_name == REPO
    assert pull.head.label == "forker:main-fix"
    base = hub.repo(REPO)
    assert base.git.resolve(f"refs/pull/{pull.number}/head") == pull.head.sha
    assert "refs/heads/main-fix" not in base.git.refs("refs/heads/")
    assert [f.filename for f in pull.get_files()] == ["a.py"]
    assert forker.get_repo(REPO).get_pulls(head="octo-org:main-fix").totalCount == 0
    assert forker.get_repo(REPO).get_pulls(head="forker:main-fix").totalCount == 1

    # a push to the fork's branch over smart HTTP moves the pull request and its ref
    work = tmp_path / "clone"
    header = "http.extraHeader=Authorization: Bearer ghp_forker"
    git = ["git", "-c", header, "-c", "user.name=f", "-c", "user.email=f@example.com"]
    subprocess.run([*git, "clone", "-q", "-b", "main-fix", f"{url}/forker/shop.git", str(work)],
                   check=True)  # fmt: skip
    (work / "a.py").write_text("x = 3\n")
    subprocess.run([*git, "commit", "-qam", "three"], cwd=work, check=True)
    subprocess.run([*git, "push", "-q", "origin", "main-fix"], cwd=work, check=True)
    moved = forker.get_repo(REPO).get_pull(pull.number)
    assert moved.head.sha != pull.head.sha
    assert base.git.resolve(f"refs/pull/{pull.number}/head") == moved.head.sha


def test_a_branch_of_someone_who_has_no_fork_is_refused(hub):
    hub, url = hub
    hub.add_user("stranger", token="ghp_stranger")
    stranger = github.Github(base_url=url, auth=github.Auth.Token("ghp_stranger"), **FAST)
    with pytest.raises(github.GithubException) as refused:
        stranger.get_repo(REPO).create_pull(title="x", body="", head="stranger:main", base="main")
    assert refused.value.status in (403, 422)
    assert hub.repo(REPO).pulls == {}
