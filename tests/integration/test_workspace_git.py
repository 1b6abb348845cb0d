"""The workspace clone against real git, with a bare repository or loopback HTTP as remote."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.workspace.files import Workspace
from bot.workspace.git import GitError, GitIdentity, GitWorkspace, branch_name
from bot.workspace.gitcli import check_attr

TOKEN = "ghs_secret1234567890abcdefTOKEN"
HEADER = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
CODER = GitIdentity("Coder (repocrew)", "coder@repocrew.dev")
REVIEWER = GitIdentity("Reviewer (repocrew)", "reviewer@repocrew.dev")


def git(*args: str, cwd: Path) -> str:
    """Plain git for setting up and inspecting, with no host config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Seed",
        GIT_AUTHOR_EMAIL="seed@example.com",
        GIT_COMMITTER_NAME="Seed",
        GIT_COMMITTER_EMAIL="seed@example.com",
    )
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with `main` (one commit) and `crew/existing`."""
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    seed = tmp_path / "seed"
    git("init", "-q", "-b", "main", str(seed), cwd=tmp_path)
    (seed / "README.md").write_text("# Demo\n")
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "Initial commit", cwd=seed)
    git("push", "-q", str(bare), "main", "main:crew/existing", cwd=seed)
    git("update-server-info", cwd=bare)  # for the dumb HTTP server below
    return bare


def _remote_sha(bare: Path, branch: str) -> str:
    return git("rev-parse", f"refs/heads/{branch}", cwd=bare).strip()


def _clone(remote: Path, tmp_path: Path) -> GitWorkspace:
    return GitWorkspace.clone(remote.as_uri(), tmp_path / "work")


def test_clone_branch_commit_push(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    assert ws.current_branch() == "main"
    base = ws.head_sha()
    branch = branch_name("crew/", 12, "Add input validation")
    assert branch == "crew/12-add-input-validation"
    ws.checkout_new_branch(branch)
    Workspace(ws.root).write("src/valid.py", "def valid(x):\n    return bool(x)\n")
    assert ws.status_paths() == ["src/valid.py"]

    sha = ws.commit(
        "Add input validation\n\n#12: checks the form before saving.",
        paths=["src/valid.py"],
        author=CODER,
        co_authors=[REVIEWER],
        trailers={"Repocrew-Run": "7", "Repocrew-Step": "code"},
    )
    assert sha == ws.head_sha() and sha != base
    who = git("log", "-1", "--format=%an <%ae>|%cn <%ce>", cwd=ws.root).strip()
    assert who == f"{CODER}|{CODER}"
    body = git("log", "-1", "--format=%B", cwd=ws.root)
    assert "#12: checks the form before saving." in body  # `#` lines survive
    trailers = git("log", "-1", "--format=%(trailers:only,unfold)", cwd=ws.root).split("\n")
    assert {"Repocrew-Run: 7", "Repocrew-Step: code", f"Co-authored-by: {REVIEWER}"} <= set(
        trailers
    )

    ws.push(branch, allowed_prefix="crew/")
    assert _remote_sha(remote, branch) == sha
    assert ws.remote_branch_sha(branch) == sha
    assert ws.remote_branch_sha("crew/never-pushed") is None
    assert ws.changed_files(base) == ["src/valid.py"]
    assert "+def valid(x):" in ws.diff(base)
    assert ws.status_paths() == []


def test_the_committer_can_differ_from_the_author(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    Workspace(ws.root).write("a.txt", "a\n")
    ws.commit("Add a", paths=["a.txt"], author=CODER, committer=REVIEWER)
    assert (
        git("log", "-1", "--format=%an|%cn", cwd=ws.root).strip() == f"{CODER.name}|{REVIEWER.name}"
    )


def test_commit_with_nothing_changed_returns_none(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    head = ws.head_sha()
    assert ws.commit("Nothing", paths=[], author=CODER) is None
    (ws.root / "left-by-a-test.txt").write_text("x\n")
    assert ws.commit("Nothing of ours", paths=["gone.txt"], author=CODER) is None
    assert ws.head_sha() == head


def test_find_commit_with_trailer_finds_the_step_commit(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    ws.checkout_new_branch("crew/7-x")
    Workspace(ws.root).write("a.txt", "a\n")
    first = ws.commit(
        "Step one", paths=["a.txt"], author=CODER, trailers={"Repocrew-Step": "run=7 step=code"}
    )
    Workspace(ws.root).write("b.txt", "b\n")
    ws.commit(
        "Step two", paths=["b.txt"], author=CODER, trailers={"Repocrew-Step": "run=7 step=fix"}
    )
    assert ws.find_commit_with_trailer("Repocrew-Step", "run=7 step=code") == first
    assert ws.find_commit_with_trailer("repocrew-step", "run=7 step=code") == first
    assert ws.find_commit_with_trailer("Repocrew-Step", "run=8 step=code") is None
    assert ws.find_commit_with_trailer("Repocrew-Step", "run=7 step=code", ref="main") is None
    assert ws.find_commit_with_trailer("Repocrew-Step", "x", ref="no-such-branch") is None


def test_push_to_main_is_refused_and_main_is_unchanged(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    before = _remote_sha(remote, "main")
    Workspace(ws.root).write("evil.txt", "x\n")
    ws.commit("Straight to main", paths=["evil.txt"], author=CODER)
    with pytest.raises(ValueError, match="only branches under 'crew/'"):
        ws.push("main", allowed_prefix="crew/")
    with pytest.raises(ValueError, match="only branches under"):
        ws.push("main", allowed_prefix="crew/", force=True)
    assert _remote_sha(remote, "main") == before


@pytest.mark.parametrize(
    ("branch", "prefix", "reason"),
    [
        ("feature/x", "crew/", "only branches under"),
        ("crewmate", "crew/", "only branches under"),
        ("refs/heads/crew/x", "crew/", "not a ref"),
        ("crew/x:refs/heads/main", "crew/", "not a valid branch name"),
        ("crew/x main", "crew/", "not a valid branch name"),
        ("crew/@{-1}", "crew/", "not a valid branch name"),
        ("-crew/x", "crew/", "not a valid branch name"),
        ("crew/x", "", "allowed_prefix"),
        ("crew/x", "/", "allowed_prefix"),
    ],
)
def test_push_refuses_branches_outside_the_rules(remote, tmp_path, branch, prefix, reason):
    ws = _clone(remote, tmp_path)
    with pytest.raises(ValueError, match=reason):
        ws.push(branch, allowed_prefix=prefix)


def test_push_never_forces_unless_asked(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    assert ws.checkout_remote_branch("crew/existing") is True
    Workspace(ws.root).write("a.txt", "a\n")
    pushed = ws.commit("One", paths=["a.txt"], author=CODER)
    ws.push("crew/existing", allowed_prefix="crew/")
    git("reset", "-q", "--hard", "HEAD~1", cwd=ws.root)
    Workspace(ws.root).write("b.txt", "b\n")
    rewritten = ws.commit("Other", paths=["b.txt"], author=CODER)
    with pytest.raises(GitError, match="rejected"):
        ws.push("crew/existing", allowed_prefix="crew/")
    assert _remote_sha(remote, "crew/existing") == pushed
    ws.push("crew/existing", allowed_prefix="crew/", force=True)
    assert _remote_sha(remote, "crew/existing") == rewritten


def test_push_sends_only_the_branch(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    ws.checkout_new_branch("crew/1-a")
    git("tag", "v9", cwd=ws.root)
    ws.checkout_new_branch("crew/2-b")
    ws.push("crew/1-a", allowed_prefix="crew/")
    heads = git("for-each-ref", "--format=%(refname)", cwd=remote).split()
    assert sorted(heads) == ["refs/heads/crew/1-a", "refs/heads/crew/existing", "refs/heads/main"]
    with pytest.raises(GitError, match="no local branch"):
        ws.push("crew/3-never-made", allowed_prefix="crew/")


def test_checkout_remote_branch_and_new_branches(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    assert ws.checkout_remote_branch("crew/existing") is True
    assert ws.current_branch() == "crew/existing"
    assert ws.checkout_remote_branch("crew/missing") is False
    assert ws.current_branch() == "crew/existing"
    ws.checkout_new_branch("crew/2-from-main", start="origin/main")
    assert ws.current_branch() == "crew/2-from-main"
    with pytest.raises(GitError):
        ws.checkout_new_branch("crew/2-from-main")  # exists already
    git("switch", "-q", "--detach", cwd=ws.root)
    with pytest.raises(GitError, match="detached"):
        ws.current_branch()


def test_clone_of_a_given_branch_and_fetch(remote, tmp_path):
    ws = GitWorkspace.clone(remote, tmp_path / "work", branch="crew/existing")
    assert ws.current_branch() == "crew/existing"
    seed = tmp_path / "seed"
    (seed / "new.txt").write_text("n\n")
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "More", cwd=seed)
    git("push", "-q", str(remote), "main", cwd=seed)
    ws.fetch()
    assert ws.changed_files("HEAD", "origin/main") == ["new.txt"]


@pytest.mark.parametrize(
    "url", ["ext::sh -c touch% /tmp/pwned", "https://x-access-token:abc@github.com/o/r", "-u"]
)
def test_clone_refuses_credentials_in_urls_and_remote_helpers(tmp_path, url):
    with pytest.raises(ValueError) as caught:
        GitWorkspace.clone(url, tmp_path / "work")
    assert "abc" not in str(caught.value)


@pytest.mark.parametrize(
    ("issue", "title", "expected"),
    [
        (12, "Add input validation", "crew/12-add-input-validation"),
        (3, "Ünïcödé títle — with émojis 🚀!", "crew/3-unicode-title-with-emojis"),
        (None, "Fix: ~^:?*[\\ weird..chars.lock", "crew/fix-weird-chars-lock"),
        (4, "!!!", "crew/4"),
        (None, "", "crew/untitled"),
        (5, "word " * 40, "crew/5-" + "-".join(["word"] * 10)),
        (6, "x" * 100, "crew/6-" + "x" * 53),
    ],
)
def test_branch_names_are_short_valid_refs(tmp_path, issue, title, expected):
    name = branch_name("crew/", issue, title)
    assert name == expected and len(name) <= 60
    assert git("check-ref-format", "--branch", name, cwd=tmp_path).strip() == name


def test_branch_name_refuses_a_bad_prefix():
    with pytest.raises(ValueError, match="prefix"):
        branch_name("../", 1, "x")


# -- tokens ----------------------------------------------------------------------------------


def _files_under(directory: Path) -> Iterator[Path]:
    return (path for path in directory.rglob("*") if path.is_file())


def _assert_no_token_in(git_dir: Path) -> None:
    secrets = [TOKEN.encode(), HEADER.split()[1].encode()]
    for path in _files_under(git_dir):
        data = path.read_bytes()
        assert not any(secret in data for secret in secrets), path
    assert "extraheader" not in (git_dir / "config").read_text().lower()


def test_a_token_is_never_written_for_a_file_remote(remote, tmp_path):
    ws = GitWorkspace.clone(remote.as_uri(), tmp_path / "work", token=TOKEN)
    ws.checkout_new_branch("crew/1-t")
    Workspace(ws.root).write("a.txt", "a\n")
    ws.commit("A", paths=["a.txt"], author=CODER)
    ws.fetch(token=TOKEN)
    ws.push("crew/1-t", allowed_prefix="crew/", token=TOKEN)
    assert ws.remote_branch_sha("crew/1-t", token=TOKEN) == ws.head_sha()
    _assert_no_token_in(ws.root / ".git")
    assert TOKEN not in ws.remote_url()


class _GitServer:
    """A dumb-HTTP git server on loopback that demands the token and records what it got."""

    def __init__(self, directory: Path) -> None:
        self.authorizations: list[str | None] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                got = self.headers.get("Authorization")
                server.authorizations.append(got)
                if got != HEADER:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(directory))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> _GitServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def http_remote(remote, monkeypatch) -> Iterator[_GitServer]:
    for proxy in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    with _GitServer(remote.parent) as server:
        yield server


class ArgvLog:
    """The git command lines a `git` on PATH recorded before running the real one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _lines(self) -> list[list[str]]:
        text = self.path.read_text() if self.path.exists() else ""
        return [record.split("\0")[:-1] for record in text.split("\x1e") if record]

    def __iter__(self):
        return iter(self._lines())

    def __bool__(self) -> bool:
        return bool(self._lines())


@pytest.fixture
def argv_seen(tmp_path, monkeypatch) -> ArgvLog:
    """Every git command line run (what `ps` would show), seen by a `git` first on PATH."""
    log, shims = tmp_path / "argv.log", tmp_path / "shims"
    shims.mkdir()
    shim = shims / "git"
    shim.write_text(
        f'#!/bin/sh\nprintf "%s\\0" "$@" >> "{log}"\nprintf "\\036" >> "{log}"\n'
        f'exec "{shutil.which("git")}" "$@"\n'
    )
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    return ArgvLog(log)


def test_the_token_goes_as_a_header_and_nowhere_else(http_remote, tmp_path, argv_seen):
    url = f"{http_remote.url}/remote.git"
    ws = GitWorkspace.clone(url, tmp_path / "work", token=TOKEN)
    assert (ws.root / "README.md").read_text() == "# Demo\n"
    assert http_remote.authorizations and set(http_remote.authorizations) == {HEADER}
    assert ws.remote_branch_sha("crew/existing", token=TOKEN) is not None
    ws.fetch(token=TOKEN)
    _assert_no_token_in(ws.root / ".git")
    assert ws.remote_url() == url
    assert argv_seen and not any(TOKEN in " ".join(argv) for argv in argv_seen)
    assert not any(HEADER in " ".join(argv) for argv in argv_seen)


def test_a_refused_token_leaves_no_trace_in_the_error(http_remote, tmp_path):
    url = f"{http_remote.url}/remote.git"
    wrong = "ghs_wrongtoken0987654321"
    with pytest.raises(GitError) as caught:
        GitWorkspace.clone(url, tmp_path / "work", token=wrong)
    sent = http_remote.authorizations[-1]
    assert sent == "Basic " + base64.b64encode(f"x-access-token:{wrong}".encode()).decode()
    message = str(caught.value)
    assert "git clone" in message and caught.value.returncode not in (0, None)
    assert wrong not in message and sent.split()[1] not in message
    assert not (tmp_path / "work" / ".git").exists()


def test_a_missing_repository_and_a_missing_token_fail_cleanly(http_remote, tmp_path):
    ws = GitWorkspace.clone(f"{http_remote.url}/remote.git", tmp_path / "work", token=TOKEN)
    with pytest.raises(GitError) as caught:
        ws.fetch()  # no token: the server answers 401 and git may not prompt
    assert "terminal prompts disabled" in str(caught.value) or "401" in str(caught.value)
    with pytest.raises(GitError) as caught:
        GitWorkspace.clone(f"{http_remote.url}/missing.git", tmp_path / "other", token=TOKEN)
    assert TOKEN not in str(caught.value) and HEADER not in str(caught.value)


def test_attributes_are_read_as_git_resolves_them(remote, tmp_path):
    ws = _clone(remote, tmp_path)
    unprotected = Workspace(ws.root, protected=())  # .gitattributes is protected by default
    unprotected.write(".gitattributes", "gen/** linguist-generated\n*.dat binary\n")
    unprotected.write("web/.gitattributes", "yarn.lock -linguist-generated\n")

    paths = ["gen/api.py", "blob.dat", "web/yarn.lock", "café notes.md"]
    found = check_attr(ws.root, paths, ["linguist-generated", "diff"])

    assert found["gen/api.py"] == {"linguist-generated": "set", "diff": "unspecified"}
    assert found["blob.dat"]["diff"] == "unset"  # the `binary` macro is -diff
    assert found["web/yarn.lock"]["linguist-generated"] == "unset"  # a nested file counts
    assert found["café notes.md"] == {"linguist-generated": "unspecified", "diff": "unspecified"}
    assert check_attr(ws.root, [], ["diff"]) == {}
