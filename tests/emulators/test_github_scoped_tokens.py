"""Installation tokens limited to repositories and permissions, as GitHub mints and enforces them:
the access-token request's `repositories` / `repository_ids` and `permissions` fields, a token
refused (404) on a repository it was not minted for and (403 "Resource not accessible by
integration") for a permission it lacks, over the REST API and over git's smart HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import github
import httpx
import pytest
from github import Auth

from emulators.github import GitHubEmulator, create_app
from emulators.server import running

FAST = {"retry": None, "seconds_between_requests": None, "seconds_between_writes": None}


@pytest.fixture
def hub(tmp_path: Path) -> GitHubEmulator:
    hub = GitHubEmulator(tmp_path / "repos")
    hub.add_user("octo-org", type="Organization")
    for name in ("widgets", "gadgets"):
        hub.create_repo(f"octo-org/{name}", files={"README.md": f"# {name}\n"}, private=True)
    hub.install(hub.add_app(slug="repocrew", app_id=7), "octo-org", installation_id=70)
    return hub


@pytest.fixture
def url(hub: GitHubEmulator) -> Iterator[str]:
    with running(create_app(hub)) as base:
        hub.base_url = base
        yield base


def mint(hub: GitHubEmulator, url: str, body: dict[str, Any]) -> httpx.Response:
    jwt = Auth.AppAuth(7, hub.apps[7].private_key_pem.decode()).token
    return httpx.post(
        f"{url}/app/installations/70/access_tokens",
        json=body,
        headers={"Authorization": f"Bearer {jwt}", "Accept": "application/vnd.github+json"},
    )


def api(url: str, token: str) -> github.Github:
    return github.Github(auth=Auth.Token(token), base_url=url, **FAST)


def test_a_token_minted_for_one_repository_is_refused_on_another(hub, url) -> None:
    asked = {"repositories": ["widgets"], "permissions": {"issues": "write"}}
    minted = mint(hub, url, asked)
    assert minted.status_code == 201, minted.text
    body = minted.json()
    assert body["repository_selection"] == "selected"
    assert [r["full_name"] for r in body["repositories"]] == ["octo-org/widgets"]
    assert body["permissions"] == {"issues": "write"}
    (record,) = hub.minted
    assert record.repositories == ("octo-org/widgets",)
    assert record.permissions == {"issues": "write"} and record.token == body["token"]

    client = api(url, body["token"])
    client.get_repo("octo-org/widgets").create_issue("allowed")
    with pytest.raises(github.UnknownObjectException):  # 404, as GitHub hides it
        client.get_repo("octo-org/gadgets").create_issue("not for this token")
    with pytest.raises(github.UnknownObjectException):
        client.get_repo("octo-org/gadgets").get_branch("main")
    assert list(hub.repo("octo-org/gadgets").issues) == []


def test_a_token_without_the_permission_is_refused_with_githubs_403(hub, url) -> None:
    token = mint(hub, url, {"repository_ids": [hub.repo("octo-org/widgets").id],
                            "permissions": {"contents": "read"}}).json()["token"]  # fmt: skip
    repo = api(url, token).get_repo("octo-org/widgets")
    assert repo.get_contents("README.md").decoded_content == b"# widgets\n"
    for write in (
        lambda: repo.create_issue("no issues permission"),
        lambda: repo.get_issue(1).get_comments().totalCount,
        lambda: repo.create_check_run(name="x", head_sha=repo.get_branch("main").commit.sha),
    ):
        with pytest.raises(github.GithubException) as refused:
            write()
        assert refused.value.status == 403
        assert refused.value.data["message"] == "Resource not accessible by integration"


def test_git_honours_the_tokens_repositories_and_permissions(hub, url, tmp_path) -> None:
    read = mint(hub, url, {"repositories": ["widgets"], "permissions": {"contents": "read"}})
    token = read.json()["token"]

    def git(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        header = f"http.extraHeader=Authorization: Bearer {token}"
        return subprocess.run(["git", "-c", header, *args], cwd=cwd, capture_output=True,
                              text=True, check=False)  # fmt: skip

    assert git("clone", "-q", f"{url}/octo-org/widgets.git", "w").returncode == 0
    other = git("clone", "-q", f"{url}/octo-org/gadgets.git", "g")
    assert other.returncode != 0 and "not found" in other.stderr.lower()
    work = tmp_path / "w"
    subprocess.run(["git", "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q",
                    "--allow-empty", "-m", "x"], cwd=work, check=True)  # fmt: skip
    push = git("push", "-q", "origin", "HEAD:refs/heads/crew/x", cwd=work)
    assert push.returncode != 0 and "403" in push.stderr
    assert "refs/heads/crew/x" not in hub.repo("octo-org/widgets").git.refs("refs/heads/")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"repositories": ["elsewhere"]}, 422),  # not a repository of the installation
        ({"repository_ids": [999999]}, 422),
        ({"permissions": {"administration": "write"}}, 422),  # not granted to the installation
        ({"permissions": {"contents": "admin"}}, 422),
        ({"permissions": "contents"}, 400),
    ],
)
def test_a_request_for_more_than_the_installation_has_is_refused(hub, url, body, status) -> None:
    response = mint(hub, url, body)
    assert response.status_code == status, response.text
    assert hub.minted == []


def test_an_unscoped_request_still_gets_the_whole_installation(hub, url) -> None:
    body = mint(hub, url, {}).json()
    assert body["repository_selection"] == "all" and "repositories" not in body
    assert hub.minted[0].repositories is None and hub.minted[0].permissions is None
    client = api(url, body["token"])
    for name in ("widgets", "gadgets"):
        client.get_repo(f"octo-org/{name}").create_issue("both")
