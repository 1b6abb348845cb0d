"""Protected and secret paths as .gitignore globs (pathspec), and list_files' pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.roster.globs import GlobError, GlobSet
from bot.roster.loader import ConfigError, apply_repo_overrides, load_crew
from bot.workspace.files import Workspace, WorkspaceError


def test_matching_ignores_case_in_names_and_in_character_classes():
    globs = GlobSet([".github/workflows/**", "[a-c]x.txt", "[!a-c]y.txt", "**/*.pem"])
    assert globs.matches(".GitHub/Workflows/x.yml") and globs.matches("./.GITHUB//workflows/a")
    assert globs.matches("Bx.txt") and globs.matches("bx.txt") and not globs.matches("dx.txt")
    assert globs.matches("dy.txt") and not globs.matches("By.txt") and not globs.matches("by.txt")
    assert globs.matches("certs/SERVER.PEM")


@pytest.mark.parametrize("pattern", [".git/**", "/.git/**", ".git/"])
def test_a_directory_glob_protects_the_entry_itself(pattern):
    globs = GlobSet([pattern])
    assert globs.matches(".git") and globs.matches(".git/hooks/pre-commit")
    assert not globs.matches(".gitignore") and not globs.matches(".github/x")


def test_an_anchored_directory_glob_stays_at_the_top():
    globs = GlobSet(["secrets/**", "**/.git/**"])
    assert globs.matches("secrets") and globs.matches("secrets/a/b")
    assert not globs.matches("app/secrets") and not globs.matches("app/secrets/x")
    assert globs.matches(".git") and globs.matches("vendor/lib/.git") and globs.matches("a/.git/x")


def test_star_star_slash_matches_at_the_top_and_deep():
    globs = GlobSet(["**/*.pem", "**/id_rsa*"])
    for path in ("key.pem", "a/key.pem", "a/b/c/key.pem", "id_rsa", "home/.ssh/id_rsa.pub"):
        assert globs.matches(path), path
    assert not globs.matches("key.pem.txt") and not globs.matches("a/my_id_rsa")


def test_a_glob_without_a_slash_matches_at_any_depth():
    globs = GlobSet([".env", ".env.*", "*.key"])
    assert globs.matches(".env") and globs.matches("app/.env") and globs.matches("a/b/.ENV")
    assert globs.matches("app/.env.production") and globs.matches("deploy/tls.key")
    assert not globs.matches(".envrc") and not globs.matches("docs/env.md")
    assert not globs.matches("keys.py")


def test_a_glob_with_a_slash_is_anchored_and_star_stays_in_one_directory():
    globs = GlobSet(["docs/*.md", "/Makefile"])
    assert globs.matches("docs/x.md") and not globs.matches("docs/sub/x.md")
    assert not globs.matches("site/docs/x.md")
    assert globs.matches("Makefile") and not globs.matches("sub/Makefile")


def test_brackets_in_names_are_escaped_with_a_backslash():
    literal, klass = GlobSet([r"x\[1].txt"]), GlobSet(["x[1].txt"])
    assert literal.matches("x[1].txt") and not literal.matches("x1.txt")
    assert klass.matches("x1.txt") and not klass.matches("x[1].txt")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("!.git/hooks/x", "`!` cannot take paths back out"),
        ("#notes", "matches nothing"),
        ("", "matches nothing"),
        ("x[", "matches nothing"),
        (" .env", "remove the spaces"),
        ("[z-a]", "is not a valid glob: bad character range z-a$"),
    ],
)
def test_globs_that_would_protect_nothing_or_take_back_are_refused(pattern, message):
    with pytest.raises(GlobError, match=message):
        GlobSet(["**/*.pem", pattern])


def test_no_repository_can_un_protect_dot_git(tmp_path: Path):
    with pytest.raises(ValueError, match="`!` cannot take paths back out"):
        Workspace(tmp_path, protected=["!.git/**"])
    text = '\nprotected_paths = ["secrets/**", "!.git/hooks/pre-commit"]\n'
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(load_crew(None), text)
    assert str(caught.value).startswith(
        ".repocrew.toml:2: protected_paths: '!.git/hooks/pre-commit': `!` cannot take paths"
    )


def test_a_protected_env_file_in_a_subdirectory_refuses_changes(tmp_path: Path):
    (tmp_path / "app").mkdir()
    ws = Workspace(tmp_path, protected=[".env"])
    with pytest.raises(WorkspaceError, match="`app/.env` is a protected path"):
        ws.write("app/.env", "SECRET=1\n")
    assert ws.write("app/.envrc", "x\n").startswith("Created")


# -- list_files patterns ---------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Workspace:
    for name in ("src/app.py", "src/util.py", "src/pkg/deep.py", "src/README.md", "setup.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "src" / "pkg" / "x[1].py").write_text("")
    return Workspace(tmp_path)


def test_a_pattern_without_a_slash_matches_file_names_case_sensitively(tree):
    assert tree.list_files(pattern="*.py") == [
        "setup.py",
        "src/app.py",
        "src/pkg/deep.py",
        "src/pkg/x[1].py",
        "src/util.py",
    ]
    assert tree.list_files(pattern="*.PY") == []
    assert tree.list_files(pattern="src") == []  # a directory's name is not a file name
    assert tree.list_files(pattern=r"x\[1].py") == ["src/pkg/x[1].py"]


def test_a_pattern_with_a_slash_matches_from_the_root_or_the_directory(tree):
    assert tree.list_files(pattern="src/*.py") == ["src/app.py", "src/util.py"]
    assert tree.list_files("src", pattern="pkg/*.py") == ["src/pkg/deep.py", "src/pkg/x[1].py"]
    assert tree.list_files(pattern="**/deep.py") == ["src/pkg/deep.py"]
    # As in .gitignore, a pattern naming a directory stands for the files in it.
    assert tree.list_files(pattern="src/pkg") == ["src/pkg/deep.py", "src/pkg/x[1].py"]


@pytest.mark.parametrize(("pattern", "message"), [("!*.py", "`!`"), ("[z-a]", "not a valid")])
def test_an_unusable_list_files_pattern_is_told_to_the_model(tree, pattern, message):
    with pytest.raises(WorkspaceError, match=f"the list_files pattern .*{message}"):
        tree.list_files(pattern=pattern)
