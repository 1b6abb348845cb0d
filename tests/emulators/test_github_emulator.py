"""The GitHub emulator driven by the unpatched PyGithub over loopback HTTP, with real git."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import github
import httpx
import pytest
from github import Auth

from emulators.github import GitHubEmulator, create_app
from emulators.server import running


def git(cwd: Path, *args: str) -> str:
    env_args = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    result = subprocess.run(
        ["git", *env_args, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout


# PyGithub throttles by default (0.25 s between requests, 1 s between writes); not needed here.
FAST = {"retry": None, "seconds_between_requests": None, "seconds_between_writes": None}


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.now = float(int(time.time()))
        self.emulator = GitHubEmulator(tmp_path / "repos", clock=lambda: self.now)
        self.emulator.add_user("octo-org", type="Organization")
        self.emulator.add_user("alice", token="ghp_alice")
        self.repo = self.emulator.create_repo(
            "octo-org/widgets",
            files={"README.md": "# widgets\n", "src/app.py": "x = 1\n"},
            collaborators={"alice": "write"},
        )
        self.app = self.emulator.add_app(slug="repocrew")
        self.installation = self.emulator.install(self.app, "octo-org", repositories=["widgets"])


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    with running(create_app(world.emulator)) as url:
        yield url


def integration(world: World, base_url: str) -> github.GithubIntegration:
    auth = Auth.AppAuth(world.app.id, world.app.private_key_pem.decode())
    return github.GithubIntegration(auth=auth, base_url=base_url, **FAST)


def bot(world: World, base_url: str) -> github.Github:
    token = integration(world, base_url).get_access_token(world.installation.id).token
    return github.Github(auth=Auth.Token(token), base_url=base_url, **FAST)


def test_app_endpoints_need_an_app_jwt(world: World, base_url: str) -> None:
    gi = integration(world, base_url)
    assert gi.get_app().slug == "repocrew"
    assert gi.get_repo_installation("octo-org", "widgets").id == world.installation.id
    access = gi.get_access_token(world.installation.id)
    assert access.token.startswith("ghs_")
    assert access.expires_at.timestamp() == world.now + 3600
    response = httpx.get(f"{base_url}/app", headers={"Authorization": f"token {access.token}"})
    assert response.status_code == 401
    other = GitHubEmulator(world.emulator.base_dir / "other").add_app(app_id=world.app.id)
    forged = Auth.AppAuth(world.app.id, other.private_key_pem.decode())
    with pytest.raises(github.GithubException) as raised:
        github.GithubIntegration(auth=forged, base_url=base_url).get_app()
    assert raised.value.status == 401


def test_the_whole_pull_request_flow(world: World, base_url: str, tmp_path: Path) -> None:
    gh = bot(world, base_url)
    repo = gh.get_repo("octo-org/widgets")
    assert repo.default_branch == "main" and repo.clone_url.startswith("file://")
    main_sha = repo.get_branch("main").commit.sha
    ref = repo.create_git_ref("refs/heads/feature", main_sha)
    assert ref.object.sha == main_sha
    created = repo.create_file("docs/guide.md", "Add a guide", "hello\n", branch="feature")
    readme = repo.get_contents("README.md", ref="feature")
    updated = repo.update_file(
        "README.md", "Update readme", "# widgets!\n", readme.sha, branch="feature"
    )
    assert updated["commit"].sha != created["commit"].sha

    pull = repo.create_pull(base="main", head="feature", title="Guide", body="Adds a guide")
    assert pull.number == 1 and pull.mergeable is True
    assert sorted(f.filename for f in pull.get_files()) == ["README.md", "docs/guide.md"]
    assert [c.commit.message for c in pull.get_commits()] == ["Add a guide", "Update readme"]
    assert (pull.additions, pull.deletions, pull.changed_files) == (2, 1, 2)

    head = pull.head.sha
    review = pull.create_review(
        commit=repo.get_commit(head),
        body="Looks good",
        event="COMMENT",
        comments=[{"path": "docs/guide.md", "line": 1, "side": "RIGHT", "body": "Nice"}],
    )
    assert review.state == "COMMENTED"
    comments = list(pull.get_review_comments())
    assert [(c.path, c.line, c.body) for c in comments] == [("docs/guide.md", 1, "Nice")]
    assert comments[0].diff_hunk.startswith("@@")

    run = repo.create_check_run("crew/review", head, status="in_progress")
    run.edit(
        status="completed",
        conclusion="success",
        output={
            "title": "Review",
            "summary": "All good",
            "annotations": [
                {
                    "path": "README.md",
                    "start_line": 1,
                    "end_line": 1,
                    "annotation_level": "notice",
                    "message": "ok",
                }
            ],
        },
    )
    assert repo.get_check_run(run.id).conclusion == "success"
    assert run.output.annotations_count == 1
    repo.get_commit(head).create_status("success", context="crew/plan", description="ok")
    assert repo.get_commit(head).get_combined_status().state == "success"

    merge = pull.merge(merge_method="merge")
    assert merge.merged
    assert repo.get_pull(1).merged and repo.get_pull(1).state == "closed"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", repo.clone_url, str(clone))
    log = git(clone, "log", "--format=%H %P %s", "-1").split()
    assert log[0] == merge.sha and log[1:3] == [main_sha, head]
    assert (clone / "docs/guide.md").read_text() == "hello\n"

    issue = repo.create_issue("Bug found", body="It breaks", labels=["bug"])
    issue.create_comment("On it")
    issue.add_to_labels("triage")
    assert [lb.name for lb in issue.get_labels()] == ["bug", "triage"]
    issue.remove_from_labels("bug")
    assert [lb.name for lb in repo.get_issue(issue.number).labels] == ["triage"]
    assert [c.body for c in issue.get_comments()] == ["On it"]
    issue.edit(state="closed")
    assert repo.get_issue(issue.number).state == "closed"
    assert [i.number for i in repo.get_issues(state="all")] == [2, 1]


def test_a_git_push_shows_in_the_pull_request(world: World, base_url: str, tmp_path: Path) -> None:
    gh = bot(world, base_url)
    repo = gh.get_repo("octo-org/widgets")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", repo.clone_url, str(clone))
    git(clone, "switch", "--quiet", "-c", "pushed")
    (clone / "src/app.py").write_text("x = 2\n")
    git(clone, "commit", "--quiet", "-am", "Bump x")
    git(clone, "push", "--quiet", "origin", "pushed")
    pull = repo.create_pull(base="main", head="pushed", title="Bump")
    (clone / "new.txt").write_text("new\n")
    git(clone, "add", "new.txt")
    git(clone, "commit", "--quiet", "-m", "Add new")
    git(clone, "push", "--quiet", "origin", "pushed")
    assert [c.commit.message for c in pull.get_commits()] == ["Bump x", "Add new"]
    files = {f.filename: f for f in pull.get_files()}
    assert files["new.txt"].status == "added" and files["src/app.py"].status == "modified"
    assert "+x = 2" in files["src/app.py"].patch
    assert repo.get_pull(pull.number).head.sha == git(clone, "rev-parse", "HEAD").strip()


def test_bad_and_expired_tokens_are_bad_credentials(world: World, base_url: str) -> None:
    gh = bot(world, base_url)
    assert gh.get_repo("octo-org/widgets").name == "widgets"
    world.now += 3601
    with pytest.raises(github.BadCredentialsException):
        gh.get_repo("octo-org/widgets")
    wrong = github.Github(auth=Auth.Token("ghs_wrong"), base_url=base_url, **FAST)
    with pytest.raises(github.BadCredentialsException):
        wrong.get_repo("octo-org/widgets")


def test_a_personal_token_acts_as_the_user(world: World, base_url: str) -> None:
    gh = github.Github(auth=Auth.Token("ghp_alice"), base_url=base_url, **FAST)
    repo = gh.get_repo("octo-org/widgets")
    issue = repo.create_issue("From a human")
    assert issue.user.login == "alice"
    assert repo.get_collaborator_permission("alice") == "write"
    with pytest.raises(github.UnknownObjectException):
        gh.get_repo("octo-org/missing")


def test_pagination_follows_link_headers(world: World, base_url: str) -> None:
    gh = github.Github(auth=Auth.Token("ghp_alice"), base_url=base_url, **FAST, per_page=2)
    repo = gh.get_repo("octo-org/widgets")
    for n in range(5):
        repo.create_issue(f"Issue {n}")
    assert [i.title for i in repo.get_issues()] == [f"Issue {n}" for n in reversed(range(5))]
    assert gh.get_rate_limit().resources.core.limit == 5000


def test_faults_are_served_then_cleared(world: World, base_url: str) -> None:
    gh = github.Github(auth=Auth.Token("ghp_alice"), base_url=base_url, **FAST)
    world.emulator.faults.add("GET", "/repos/octo-org/widgets", "server_error")
    with pytest.raises(github.GithubException) as raised:
        gh.get_repo("octo-org/widgets")
    assert raised.value.status == 502
    assert gh.get_repo("octo-org/widgets").name == "widgets"


def test_standalone_defaults(tmp_path: Path) -> None:
    app = create_app()
    emulator = app.state.emulator
    with running(app) as url:
        gh = github.Github(auth=Auth.Token("ghp_octocat"), base_url=url, **FAST)
        assert gh.get_repo("octo-org/hello").get_contents("README.md").decoded_content == (
            b"# hello\n"
        )
        auth = Auth.AppAuth(1, emulator.apps[1].private_key_pem.decode())
        token = github.GithubIntegration(auth=auth, base_url=url).get_access_token(1).token
        assert token.startswith("ghs_")


def test_contents_put_checks_the_blob_sha(world: World, base_url: str) -> None:
    repo = bot(world, base_url).get_repo("octo-org/widgets")
    readme = repo.get_contents("README.md")
    with pytest.raises(github.GithubException) as stale:
        repo.update_file("README.md", "Stale", "x\n", "0" * 40)
    assert stale.value.status == 409
    with pytest.raises(github.GithubException) as missing:
        repo.create_file("README.md", "Again", "x\n")
    assert missing.value.status == 422
    repo.update_file("README.md", "Fresh", "y\n", readme.sha)
    assert repo.get_contents("README.md").decoded_content == b"y\n"
    assert [c.path for c in repo.get_contents("src")] == ["src/app.py"]


def test_conflicts_block_the_merge_and_squash_makes_one_parent(world: World, base_url: str) -> None:
    repo = bot(world, base_url).get_repo("octo-org/widgets")
    main_sha = repo.get_branch("main").commit.sha
    for name in ("left", "right"):
        repo.create_git_ref(f"refs/heads/{name}", main_sha)
        repo.update_file(
            "src/app.py",
            f"From {name}",
            f"x = '{name}'\n",
            repo.get_contents("src/app.py", ref=name).sha,
            branch=name,
        )
    left = repo.create_pull(base="main", head="left", title="Left")
    right = repo.create_pull(base="main", head="right", title="Right")
    assert left.merge(merge_method="squash").merged
    squashed = repo.get_commit(repo.get_branch("main").commit.sha)
    assert [p.sha for p in squashed.parents] == [main_sha]
    assert squashed.commit.message.startswith("Left (#1)")
    conflicted = repo.get_pull(right.number)
    assert conflicted.mergeable is False and conflicted.mergeable_state == "dirty"
    with pytest.raises(github.GithubException) as refused:
        conflicted.merge()
    assert refused.value.status == 405


def test_a_token_with_fewer_permissions_cannot_write(world: World, base_url: str) -> None:
    access = integration(world, base_url).get_access_token(
        world.installation.id, permissions={"issues": "read", "metadata": "read"}
    )
    assert access.permissions == {"issues": "read", "metadata": "read"}
    repo = github.Github(auth=Auth.Token(access.token), base_url=base_url, **FAST).get_repo(
        "octo-org/widgets"
    )
    with pytest.raises(github.GithubException) as refused:
        repo.create_issue("Not allowed")
    assert refused.value.status == 403


def test_headers_like_github(world: World, base_url: str) -> None:
    token = integration(world, base_url).get_access_token(world.installation.id).token
    headers = {"Authorization": f"token {token}"}
    created = httpx.post(
        f"{base_url}/repos/octo-org/widgets/issues", json={"title": "T"}, headers=headers
    )
    assert created.status_code == 201
    assert created.headers["location"] == created.json()["url"]
    for name in (
        "etag",
        "x-github-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-used",
        "x-ratelimit-resource",
    ):
        assert name in created.headers
    again = httpx.get(created.json()["url"], headers=headers)
    cached = httpx.get(
        created.json()["url"], headers={**headers, "If-None-Match": again.headers["etag"]}
    )
    assert cached.status_code == 304
    world.emulator.faults.add("GET", "/repos/*/widgets/issues/*", "secondary_rate_limit")
    limited = httpx.get(created.json()["url"], headers=headers)
    assert limited.status_code == 403 and limited.headers["retry-after"] == "1"
    assert "secondary rate limit" in limited.json()["message"]
