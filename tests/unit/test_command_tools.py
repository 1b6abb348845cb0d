"""The tools that run or compare: test selections made into commands, output capped to its start
and end, numbered reads, the change's diff on a real git clone, and who gets which tool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.environments.plan import EnvironmentPlan
from bot.environments.selection import SelectionRefused, TestSelection, selected_command
from bot.roster.loader import load_crew
from bot.runs.steps.bench import command_report
from bot.runs.steps.workspace_tools import Bench, tools_for, workspace_tools
from bot.sandbox import SandboxResult
from bot.workspace.diffs import change_diff
from bot.workspace.files import Workspace
from bot.workspace.paths import WorkspaceError
from bot.workspace.text import head_and_tail, numbered


def plan(command: tuple[str, ...], runner: str = "pytest") -> EnvironmentPlan:
    return EnvironmentPlan(
        kind="python",
        setup=(),
        test_command=command,
        test_runner=runner,  # type: ignore[arg-type]
        depends_on=(),
        python=None,
        node=None,
        cache=True,
        reason="",
        environment_dir=None,
        path=(),
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_one():\n    pass\n")
    (tmp_path / "tests" / "test_b.py").write_text("def test_two():\n    pass\n")
    return tmp_path


# -- selections ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ("python", "-m", "pytest", "-x", "tests"),
            ("python", "-m", "pytest", "-x", "tests/test_a.py::test_one", "-k", "one"),
        ),
        (
            (".venv/bin/pytest", "-p", "no:cacheprovider", "--rootdir", ".", "tests"),
            (".venv/bin/pytest", "-p", "no:cacheprovider", "--rootdir", ".")
            + ("tests/test_a.py::test_one", "-k", "one"),
        ),
        (
            ("sh", "-c", "cd . && python -m pytest -q tests"),
            ("sh", "-c", "cd . && python -m pytest -q tests/test_a.py::test_one -k one"),
        ),
    ],
)
def test_a_pytest_selection_replaces_the_commands_own_test_paths(repo, command, expected):
    selection = TestSelection(("tests/test_a.py::test_one",), "one")
    assert selected_command(plan(command), selection, repo) == expected


def test_no_selection_is_the_whole_command(repo):
    command = ("python", "-m", "pytest", "tests")
    assert selected_command(plan(command), TestSelection(), repo) == command


def test_a_shell_line_with_a_redirection_only_gets_the_selection_added(repo):
    command = ("sh", "-c", "pytest tests 2>&1")
    selected = selected_command(plan(command), TestSelection(("tests/test_b.py",)), repo)
    assert selected == ("sh", "-c", "pytest tests 2>&1 tests/test_b.py")


def test_other_runners_take_paths_after_their_script_and_refuse_ids_and_keywords(repo):
    npm = plan(("npm", "test"), "jest")
    assert selected_command(npm, TestSelection(("tests/test_a.py",)), repo) == (
        "npm",
        "test",
        "--",
        "tests/test_a.py",
    )
    with pytest.raises(SelectionRefused, match="with jest: select them by file paths only"):
        selected_command(npm, TestSelection(("tests/test_a.py::x",)), repo)
    with pytest.raises(SelectionRefused, match="file paths only"):
        selected_command(npm, TestSelection(keyword="one"), repo)


def test_a_command_of_no_known_runner_refuses_any_selection(repo):
    with pytest.raises(SelectionRefused, match="`make test` is not a test runner repocrew knows"):
        selected_command(plan(("make", "test"), "unknown"), TestSelection(("tests",)), repo)


@pytest.mark.parametrize(
    ("test", "reason"),
    [
        ("--co", "not a test path"),
        ("/etc/passwd", "not a test path"),
        ("../x/test_a.py", "not a test path"),
        ("tests/test_missing.py::test_x", "`tests/test_missing.py` does not exist"),
    ],
)
def test_selections_outside_the_repository_or_missing_are_refused(repo, test, reason):
    with pytest.raises(SelectionRefused, match=reason):
        selected_command(plan(("pytest",)), TestSelection((test,)), repo)


# -- output, numbering -------------------------------------------------------------------


def test_head_and_tail_keeps_both_ends_within_the_limit():
    text = "START" + "x" * 50_000 + "END"
    capped = head_and_tail(text, 16_000)
    assert capped.startswith("START") and capped.endswith("END")
    assert "[… 34008 characters cut …]" in capped
    assert len(capped) < 16_100
    assert head_and_tail("short", 16_000) == "short"


def test_command_report_redacts_then_caps_and_says_how_it_ended():
    result = SandboxResult(
        command=("sh", "-c", "x"),
        exit_code=None,
        output="token=SECRET\n" + "y" * 40_000 + "\nlast line\n",
        timed_out=True,
        limit_hit="wall_time",
        duration_seconds=30.04,
        sandboxed=True,
    )
    report = command_report("./repro.sh", result, lambda text: text.replace("SECRET", "[R]"))
    lines = report.splitlines()
    assert lines[:3] == ["$ ./repro.sh", "stopped after 30.0 s: the wall_time limit", "token=[R]"]
    assert report.rstrip().endswith("last line") and len(report) < 16_200


def test_numbered_is_cat_n_from_the_first_line_asked():
    assert numbered("a\nb\n", 9) == "     9\ta\n    10\tb\n"
    assert numbered("no newline", 1) == "     1\tno newline\n"
    assert numbered("") == ""


def test_read_file_shows_numbered_lines_and_says_so(repo):
    tool = workspace_tools(Workspace(repo))["read_file"]
    assert "cat -n" in tool.description
    assert tool.run({"path": "tests/test_a.py"}) == "     1\tdef test_one():\n     2\t    pass\n"
    assert tool.run({"path": "tests/test_a.py", "start_line": 2}) == "     2\t    pass\n"


# -- the change's diff ---------------------------------------------------------------------


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def clone(repo: Path) -> Path:
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "crew/1")
    return repo


def test_git_diff_shows_edits_and_new_files_against_the_base_and_one_path_alone(clone):
    (clone / "tests" / "test_a.py").write_text("def test_one():\n    assert True\n")
    (clone / "repro.py").write_text("print('bug')\n")
    whole = change_diff(clone, "main")
    assert "-    pass\n+    assert True" in whole
    assert "+++ b/repro.py\n@@ -0,0 +1 @@\n+print('bug')" in whole
    one = change_diff(clone, "main", "repro.py")
    assert "repro.py" in one and "test_a.py" not in one
    assert change_diff(clone, "main", "tests/test_b.py") == (
        "(no changes in `tests/test_b.py` against the base)"
    )
    with pytest.raises(WorkspaceError, match="not a path inside the repository"):
        change_diff(clone, "main", "../elsewhere")


def test_git_diff_over_its_cap_lists_the_files_and_cuts_the_rest(clone):
    (clone / "big.txt").write_text("".join(f"line {n}\n" for n in range(5000)))
    (clone / "tests" / "test_b.py").write_text("def test_two():\n    assert 2\n")
    capped = change_diff(clone, "main", limit=2000)
    assert len(capped) < 2100
    assert "tests/test_b.py (+1/-1)" in capped and "big.txt (new file)" in capped
    assert "Ask git_diff for one path" in capped and "characters cut]" in capped


# -- who gets what ------------------------------------------------------------------------


def test_each_role_gets_the_tools_its_roster_grants_that_the_bench_backs(repo):
    crew = load_crew(None)
    bench = Bench(Workspace(repo), diff=str, run=str, tests=str)
    names = {key: [t.name for t in tools_for(role, bench)] for key, role in crew.roles.items()}
    assert names["tester"] == ["run_tests", "read_file", "list_files", "run", "git_diff"]
    assert names["coder"][-3:] == ["run_tests", "run", "git_diff"]
    assert "run" in names["researcher"] and "git_diff" in names["reviewer"]
    # A bench without commands leaves those tools out, whatever the roster says.
    bare = [t.name for t in tools_for(crew.roles["tester"], Workspace(repo))]
    assert bare == ["read_file", "list_files"]
