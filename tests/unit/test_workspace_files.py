"""The coder's file tools on real temporary directories: confinement first, then the work."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.roster.globs import GlobSet
from bot.workspace.files import SearchHit, Workspace, WorkspaceError
from bot.workspace.paths import open_file


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the workspace holding a file the crew must never touch."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("host secret\n")
    return directory


@pytest.fixture
def root(tmp_path: Path) -> Path:
    directory = tmp_path / "repo"
    (directory / "src").mkdir(parents=True)
    (directory / "src" / "app.py").write_text("def main():\n    return 1\n")
    (directory / "README.md").write_text("# Demo\nSee src/app.py\n")
    (directory / ".github" / "workflows").mkdir(parents=True)
    (directory / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (directory / ".env").write_text("API_KEY=hunter2\n")
    return directory


@pytest.fixture
def ws(root: Path) -> Workspace:
    return Workspace(root)


def _refused(call, *fragments: str) -> str:
    with pytest.raises(WorkspaceError) as caught:
        call()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    return message


# -- confinement ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../etc/passwd", "`..` is not allowed"),
        ("a/../../x", "`..` is not allowed"),
        ("src/..", "`..` is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("C:\\Windows\\win.ini", "absolute paths are not allowed"),
        ("~root/x", "`~` paths are not allowed"),
        ("~/x", "`~` paths are not allowed"),
        ("src/app.py\0.txt", "NUL byte"),
    ],
)
def test_paths_that_leave_the_workspace_are_refused_by_every_tool(ws, root, path, reason):
    for call in (
        lambda: ws.read(path),
        lambda: ws.write(path, "x"),
        lambda: ws.edit(path, "a", "b"),
        lambda: ws.delete(path),
        lambda: ws.list_files(path),
        lambda: ws.search("x", path=path),
        lambda: ws.resolve(path),
    ):
        message = _refused(call, reason)
        assert str(root) not in message and str(root.parent) not in message


def test_a_symlink_to_a_file_outside_is_neither_read_nor_written(ws, root, outside):
    (root / "link.txt").symlink_to(outside / "secret.txt")
    _refused(lambda: ws.read("link.txt"), "`link.txt` is a symbolic link")
    _refused(lambda: ws.write("link.txt", "pwned"), "symbolic link")
    _refused(lambda: ws.edit("link.txt", "host", "pwned"), "symbolic link")
    _refused(lambda: ws.delete("link.txt"), "symbolic link")
    assert (outside / "secret.txt").read_text() == "host secret\n"
    assert ws.search("host secret") == []


def test_a_symlinked_directory_pointing_outside_is_not_entered(ws, root, outside):
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    message = _refused(lambda: ws.write("vendor/new.txt", "x"), "`vendor` is a symbolic link")
    assert str(outside) not in message
    _refused(lambda: ws.write("vendor/deep/er/new.txt", "x"), "symbolic link")
    _refused(lambda: ws.read("vendor/secret.txt"), "symbolic link")
    _refused(lambda: ws.list_files("vendor"), "symbolic link")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_the_link_free_open_refuses_links_even_when_the_precheck_is_bypassed(root, outside):
    # A link swapped in after `resolve` looked (a race) is still not followed.
    (root / "swapped").symlink_to(outside, target_is_directory=True)
    (root / "swapped.txt").symlink_to(outside / "secret.txt")
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for parts in (("swapped", "secret.txt"), ("swapped.txt",)):
            with pytest.raises(WorkspaceError, match="symbolic link"):
                open_file(root_fd, parts, os.O_WRONLY | os.O_CREAT, create_dirs=True)
    finally:
        os.close(root_fd)
    assert (outside / "secret.txt").read_text() == "host secret\n"


def test_a_hard_link_is_not_written_through(ws, root, outside):
    os.link(outside / "secret.txt", root / "hard.txt")
    _refused(lambda: ws.write("hard.txt", "pwned"), "hard links")
    assert (outside / "secret.txt").read_text() == "host secret\n"


def test_fifos_do_not_hang_a_read(ws, root):
    os.mkfifo(root / "pipe")
    _refused(lambda: ws.read("pipe"), "not a regular file")


# -- protected and unreadable paths --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".github/workflows/new.yml",
        ".GITHUB/workflows/x.yml",
        "./.github//Workflows/ci.yml",
        ".git/hooks/pre-commit",
        ".git/config",
        "vendor/lib/.git/hooks/post-checkout",
        ".env",
        ".env.production",
        "deploy/tls/server.pem",
        "id_rsa",
        "home/.ssh/id_ed25519.pub",
        "config/secrets.yml",
        ".repocrew.toml",
    ],
)
def test_protected_paths_refuse_every_change(ws, root, path):
    message = _refused(lambda: ws.write(path, "x"), "is a protected path", "may_edit")
    assert message.startswith("`")
    _refused(lambda: ws.edit(path, "push", "pull"), "is a protected path")
    _refused(lambda: ws.delete(path), "is a protected path")


def test_a_protected_file_is_left_as_it_was(ws, root):
    _refused(lambda: ws.write(".github/workflows/ci.yml", "on: pull_request_target\n"))
    _refused(lambda: ws.delete(".github/workflows/ci.yml"))
    assert (root / ".github/workflows/ci.yml").read_text() == "on: push\n"
    assert ws.read(".github/workflows/ci.yml") == "on: push\n"  # reading is fine


def test_the_protected_list_is_configurable_but_dot_git_always_is(root):
    ws = Workspace(root, protected=())
    assert ws.write(".github/workflows/ci.yml", "on: [push]\n").startswith("Updated")
    _refused(lambda: ws.write(".git/hooks/pre-commit", "#!/bin/sh\n"), "protected path")


def test_look_alikes_of_protected_paths_are_writable(ws):
    names = (".gitignore", ".github-notes.md", "github/ci.yml", "docs/env.md", "keys.py", "env.py")
    for path in (*names, "src/environment.yml", "docs/.envs/readme.md", "notes/secrets.py"):
        assert ws.write(path, "x\n").startswith("Created")


def test_secret_files_cannot_be_read_or_found_by_search(ws, root):
    (root / "backend").mkdir()
    (root / "backend" / ".env").write_text("DB_PASSWORD=hunter2\n")
    (root / "certs.pem").write_text("hunter2\n")
    _refused(lambda: ws.read(".env"), "`.env` may hold secrets")
    _refused(lambda: ws.read("backend/.env"), "may hold secrets")
    _refused(lambda: ws.read(".ENV"), "may hold secrets")
    assert ws.search("hunter2") == []
    assert ".env" in ws.list_files()  # its name is no secret


def test_glob_semantics():
    globs = GlobSet(["**/*.pem", ".github/workflows/**", "docs/*.md", "[ab]?.txt"])
    assert globs.matches("key.pem") and globs.matches("a/b/key.PEM")
    assert globs.matches(".github/workflows") and globs.matches(".github/workflows/a/b.yml")
    assert globs.matches("docs/x.md") and not globs.matches("docs/sub/x.md")
    assert globs.matches("a1.txt") and not globs.matches("c1.txt")
    assert not globs.matches(".github/dependabot.yml")


# -- reading ---------------------------------------------------------------------------------


def test_read_returns_the_plain_text(ws):
    assert ws.read("src/app.py") == "def main():\n    return 1\n"
    assert ws.read("./src//app.py") == "def main():\n    return 1\n"


def test_read_line_ranges(ws, root):
    (root / "lines.txt").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    assert ws.read("lines.txt", start_line=2, end_line=3) == "line 2\nline 3\n"
    assert ws.read("lines.txt", start_line=10) == "line 10\n"
    assert ws.read("lines.txt", end_line=1) == "line 1\n"
    assert ws.read("lines.txt", start_line=9, end_line=99) == "line 9\nline 10\n"
    _refused(lambda: ws.read("lines.txt", start_line=11), "has 10 lines", "past the end")
    _refused(lambda: ws.read("lines.txt", start_line=3, end_line=2), "before start_line")
    _refused(lambda: ws.read("lines.txt", start_line=0), "start at 1")
    (root / "empty.txt").write_text("")
    assert ws.read("empty.txt") == ws.read("empty.txt", start_line=1) == ""


def test_binary_and_oversize_reads_are_refused_with_a_hint(root):
    ws = Workspace(root, max_read_bytes=1000)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (root / "latin1.txt").write_bytes("café".encode("latin-1"))
    (root / "big.txt").write_text("".join(f"row {n:04}\n" for n in range(500)))
    _refused(lambda: ws.read("logo.png"), "binary file")
    _refused(lambda: ws.read("logo.png", start_line=1), "binary file")
    _refused(lambda: ws.read("latin1.txt"), "not UTF-8")
    _refused(
        lambda: ws.read("big.txt"), "`big.txt` is 4 KB, over the 1 KB read limit", "start_line"
    )
    assert ws.read("big.txt", start_line=100, end_line=101) == "row 0099\nrow 0100\n"
    _refused(lambda: ws.read("big.txt", start_line=1, end_line=400), "ask for fewer lines")


def test_missing_files_and_directories_say_what_to_do(ws):
    _refused(lambda: ws.read("src/nope.py"), "`src/nope.py` does not exist", "list_files")
    _refused(lambda: ws.read("src"), "`src` is a directory")
    _refused(lambda: ws.read("."), "not the repository root")
    _refused(lambda: ws.read("README.md/x"), "`README.md` is not a directory")


# -- listing and searching -------------------------------------------------------------------


def test_list_files_walks_a_plain_directory(ws, root):
    (root / "src" / "util.py").write_text("")
    assert ws.list_files() == [
        ".env",
        ".github/workflows/ci.yml",
        "README.md",
        "src/app.py",
        "src/util.py",
    ]
    assert ws.list_files("src", pattern="*.py") == ["src/app.py", "src/util.py"]
    assert ws.list_files(pattern="src/u*.py") == ["src/util.py"]
    assert ws.list_files("src", pattern="u*.py") == ["src/util.py"]
    assert ws.list_files("README.md") == ["README.md"]
    assert ws.list_files(limit=2) == [".env", ".github/workflows/ci.yml"]
    _refused(lambda: ws.list_files("nope"), "does not exist")


def test_list_files_in_a_git_repository_respects_gitignore(ws, root):
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=_clean_git_env())
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "build" / "out.js").write_text("")
    (root / "debug.log").write_text("")
    listed = ws.list_files()
    assert "build/out.js" not in listed and "debug.log" not in listed
    assert {".gitignore", "README.md", "src/app.py"} <= set(listed)
    assert not any(name.startswith(".git/") for name in listed)
    assert ws.list_files("src") == ["src/app.py"]


def test_search_finds_strings_and_regexes(ws, root):
    (root / "src" / "util.py").write_text("def helper():\n    return main()\r\n")
    assert ws.search("main") == [
        SearchHit("src/app.py", 1, "def main():"),
        SearchHit("src/util.py", 2, "    return main()"),
    ]
    assert ws.search(r"def \w+\(\)", regex=True, path="src") == [
        SearchHit("src/app.py", 1, "def main():"),
        SearchHit("src/util.py", 1, "def helper():"),
    ]
    assert len(ws.search("def", max_results=1)) == 1
    _refused(lambda: ws.search("(", regex=True), "invalid regex")
    _refused(lambda: ws.search(""), "empty")


def test_search_skips_binary_files(ws, root):
    (root / "blob.bin").write_bytes(b"main\0main")
    assert [hit.path for hit in ws.search("main")] == ["src/app.py"]


# -- changing ---------------------------------------------------------------------------------


def test_write_creates_parents_and_confirms_briefly(ws, root):
    assert ws.write("pkg/sub/mod.py", "x = 1\ny = 2\n") == "Created `pkg/sub/mod.py` (2 lines)"
    assert (root / "pkg/sub/mod.py").read_text() == "x = 1\ny = 2\n"
    assert ws.write("pkg/sub/mod.py", "x = 3") == "Updated `pkg/sub/mod.py` (1 line)"
    assert ws.read("pkg/sub/mod.py") == "x = 3"


def test_write_keeps_an_executable_bit_and_refuses_oversize_content(root):
    ws = Workspace(root, max_write_bytes=10)
    script = root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    ws.write("run.sh", "exit 0\n")
    assert os.stat(script).st_mode & 0o111
    _refused(lambda: ws.write("run.sh", "x" * 11), "11 bytes", "write limit")
    _refused(lambda: ws.write("src", "x"), "`src` is a directory")


def test_edit_replaces_exactly_one_occurrence(ws, root):
    assert ws.edit("src/app.py", "return 1", "return 2") == "Edited `src/app.py` at line 2"
    assert (root / "src/app.py").read_text() == "def main():\n    return 2\n"


def test_edit_explains_zero_and_many_matches(ws, root):
    (root / "dup.py").write_text("x = 1\nx = 1\n")
    _refused(lambda: ws.edit("dup.py", "y = 1", "y = 2"), "not found in `dup.py`", "exactly")
    _refused(lambda: ws.edit("dup.py", "x = 1", "x = 2"), "occurs 2 times", "more surrounding")
    _refused(lambda: ws.edit("dup.py", "", "x"), "empty")
    assert (root / "dup.py").read_text() == "x = 1\nx = 1\n"


def test_edit_matches_across_windows_line_endings(ws, root):
    (root / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    ws.edit("win.txt", "one\ntwo", "uno\ndos")
    assert (root / "win.txt").read_bytes() == b"uno\r\ndos\r\n"


def test_delete_removes_files_but_not_directories(ws, root):
    assert ws.delete("src/app.py") == "Deleted `src/app.py`"
    assert not (root / "src/app.py").exists()
    _refused(lambda: ws.delete("src"), "is a directory")
    _refused(lambda: ws.delete("src/app.py"), "does not exist")


def _clean_git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
