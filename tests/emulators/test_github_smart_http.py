"""git's smart HTTP against the emulator: plain git clones and pushes with GitHub's credentials."""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import github
import httpx
import pytest
from github import Auth

from emulators.github import create_app
from emulators.server import running
from tests.emulators.test_github_emulator import FAST, World, bot, integration
from tests.emulators.test_github_webhooks import SECRET, Receiver, validate

# no prompts and no credential helpers: a refused credential fails at once
GIT_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


def git(cwd: Path, *args: str, token: str | None = None, check: bool = True):
    options = [
        "-c",
        "user.name=Dev",
        "-c",
        "user.email=dev@example.com",
        "-c",
        "credential.helper=",
    ]
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        options += ["-c", f"http.extraHeader=Authorization: Basic {basic}"]
    result = subprocess.run(
        ["git", *options, *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True
    )
    if check and result.returncode:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    with running(create_app(world.emulator)) as url:
        world.emulator.base_url = url
        yield url


def token(world: World, base_url: str, **permissions: str) -> str:
    access = integration(world, base_url).get_access_token(
        world.installation.id, permissions=permissions or None
    )
    return access.token


def test_clone_urls_are_smart_http_once_the_base_url_is_known(world: World, base_url: str):
    repo = bot(world, base_url).get_repo("octo-org/widgets")
    assert repo.clone_url == f"{base_url}/octo-org/widgets.git"
    assert repo.git_url == world.repo.git.url  # the file:// URL stays at hand


def test_a_push_over_http_shows_in_the_pull_request_and_synchronizes(
    world: World, base_url: str, tmp_path: Path, corpus: Path
) -> None:
    receiver = Receiver()
    with running(receiver.app()) as hook_url:
        world.emulator.webhooks.configure(f"{hook_url}/hook", SECRET)
        ghs = token(world, base_url)
        repo = bot(world, base_url).get_repo("octo-org/widgets")
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "--quiet", repo.clone_url, str(clone), token=ghs)
        git(clone, "switch", "--quiet", "-c", "pushed")
        (clone / "src/app.py").write_text("x = 2\n")
        git(clone, "commit", "--quiet", "-am", "Bump x")
        git(clone, "push", "--quiet", "origin", "pushed", token=ghs)
        pull = repo.create_pull(base="main", head="pushed", title="Bump")
        before = pull.head.sha
        (clone / "new.txt").write_text("new\n")
        git(clone, "add", "new.txt")
        git(clone, "commit", "--quiet", "-m", "Add new")
        git(clone, "push", "--quiet", "origin", "pushed", token=ghs)
        after = git(clone, "rev-parse", "HEAD").stdout.strip()

        assert [c.commit.message for c in pull.get_commits()] == ["Bump x", "Add new"]
        assert [c.sha for c in pull.get_commits()][-1] == after
        files = {f.filename: f.status for f in pull.get_files()}
        assert files == {"new.txt": "added", "src/app.py": "modified"}
        assert repo.get_pull(pull.number).head.sha == after
        assert world.emulator.webhooks.wait_idle(10)
    events = [(r.event, r.payload["action"]) for r in receiver.received]
    assert events == [("pull_request", "opened"), ("pull_request", "synchronize")]
    sync = receiver.received[1].payload
    assert (sync["before"], sync["after"]) == (before, after)
    assert sync["sender"]["login"] == "repocrew[bot]"
    validate("pull_request", sync)


def test_a_personal_token_pushes_too_and_fetches_again(
    world: World, base_url: str, tmp_path: Path
) -> None:
    url = f"{base_url}/octo-org/widgets.git"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", url, str(clone), token="ghp_alice")
    (clone / "README.md").write_text("# widgets, by alice\n")
    git(clone, "commit", "--quiet", "-am", "Sign the readme")
    git(clone, "push", "--quiet", "origin", "main", token="ghp_alice")
    human = github.Github(auth=Auth.Token("ghp_alice"), base_url=base_url, **FAST)
    remote = human.get_repo("octo-org/widgets")
    readme = remote.get_contents("README.md")
    assert readme.decoded_content == b"# widgets, by alice\n"
    moved = remote.update_file("README.md", "Edit online", "# widgets!\n", readme.sha)
    # enough local-only commits that git gzips its negotiation (http-backend inflates it)
    for n in range(40):
        git(clone, "commit", "--quiet", "--allow-empty", "-m", f"Local {n}")
    git(clone, "fetch", "--quiet", "origin", token="ghp_alice")
    assert git(clone, "rev-parse", "origin/main").stdout.strip() == moved["commit"].sha


def test_wrong_or_missing_credentials_are_refused_like_github(
    world: World, base_url: str, tmp_path: Path
) -> None:
    sent = git(
        tmp_path, "clone", world.repo.http_url, str(tmp_path / "a"), token="ghs_wrong", check=False
    )
    assert sent.returncode != 0 and "could not read Username" in sent.stderr  # a 401
    # credentials in the URL go out only after a 401, which a private repository answers
    world.repo.private = True
    host = base_url.removeprefix("http://")
    url = f"http://x-access-token:ghs_wrong@{host}/octo-org/widgets.git"
    wrong = git(tmp_path, "clone", url, str(tmp_path / "b"), check=False)
    assert wrong.returncode != 0 and "Authentication failed" in wrong.stderr
    world.repo.private = False
    refs = f"{base_url}/octo-org/widgets.git/info/refs"
    anonymous_push = httpx.get(refs, params={"service": "git-receive-pack"})
    assert anonymous_push.status_code == 401
    assert anonymous_push.headers["www-authenticate"] == 'Basic realm="GitHub"'
    # public repositories can be fetched without credentials, as on GitHub
    assert httpx.get(refs, params={"service": "git-upload-pack"}).status_code == 200
    world.repo.private = True
    assert httpx.get(refs, params={"service": "git-upload-pack"}).status_code == 401
    jwt_auth = Auth.AppAuth(world.app.id, world.app.private_key_pem.decode()).token
    assert httpx.get(refs, headers={"Authorization": f"Bearer {jwt_auth}"}).status_code == 401
    missing = httpx.get(
        f"{base_url}/octo-org/missing.git/info/refs",
        params={"service": "git-upload-pack"},
        auth=("x-access-token", "ghp_alice"),
    )
    assert missing.status_code == 404


def test_a_push_needs_contents_write(world: World, base_url: str, tmp_path: Path) -> None:
    reader = token(world, base_url, contents="read", metadata="read")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", f"{base_url}/octo-org/widgets.git", str(clone), token=reader)
    (clone / "README.md").write_text("# nope\n")
    git(clone, "commit", "--quiet", "-am", "Try")
    refused = git(clone, "push", "origin", "main", token=reader, check=False)
    assert refused.returncode != 0
    assert "Write access to repository not granted" in refused.stderr
    world.emulator.add_user("bob", token="ghp_bob")
    world.repo.collaborators["bob"] = "read"
    refused = git(clone, "push", "origin", "main", token="ghp_bob", check=False)
    assert "Permission to octo-org/widgets.git denied to bob" in refused.stderr
    assert world.repo.git.resolve("main") != git(clone, "rev-parse", "HEAD").stdout.strip()


def test_a_gzipped_request_body_is_inflated(world: World, base_url: str) -> None:
    head = world.repo.git.resolve("main")
    want = f"want {head}\n"
    request = f"{len(want) + 4:04x}{want}0000" + "0009done\n"
    response = httpx.post(
        f"{base_url}/octo-org/widgets.git/git-upload-pack",
        content=gzip.compress(request.encode()),
        headers={
            "Content-Type": "application/x-git-upload-pack-request",
            "Content-Encoding": "gzip",
        },
        auth=("x-access-token", "ghp_alice"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-result"
    assert response.content.startswith(b"0008NAK\n") and b"PACK" in response.content
