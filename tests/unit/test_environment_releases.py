"""Detection on projects as real releases ship them: a pytest of the code's own time, tox's
lines for some environments only, and requirements files kept beside the tests."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.environments.detect import detect_environment
from bot.environments.pytest_era import MAJORS, pytest_cap
from bot.environments.python_files import line_for_tests
from bot.roster.models import EnvironmentConfig
from bot.workspace.history import code_date
from tests.unit.test_environment_detect import CREW, PIP, _pyproject, _tree

PYPROJECT = _pyproject()
OLD = datetime(2023, 5, 1, tzinfo=UTC)


def _detect(root: Path, *, when: datetime | None = None, tools=(), **environment):
    env = EnvironmentConfig.model_validate(environment)
    return detect_environment(root, tests=CREW.tests, environment=env, tools=tools, code_date=when)


# --- a pytest of the code's own time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "cap"),
    [
        (datetime(2019, 3, 1, tzinfo=UTC), 8),  # never older than pytest 7.4
        (datetime(2024, 1, 27, 21, 0, tzinfo=UTC), 8),
        (datetime(2024, 1, 27, 22, 0, tzinfo=UTC), 9),
        (datetime(2025, 11, 1), 9),  # a naive date is UTC
        (datetime(2025, 11, 9, tzinfo=UTC), None),
        (None, None),
    ],
)
def test_the_cap_is_the_first_major_released_after_the_code(when, cap):
    assert pytest_cap(when) == cap


def test_the_majors_are_listed_in_order():
    assert [major for major, _ in MAJORS] == sorted(major for major, _ in MAJORS)
    assert [day for _, day in MAJORS] == sorted(day for _, day in MAJORS)


def test_older_code_gets_a_pytest_of_its_time_beside_its_own_requirements(tmp_path):
    files = {"pyproject.toml": PYPROJECT, "requirements-test.txt": "pytest>=6\nhypothesis\n"}
    plan = _detect(_tree(tmp_path, files), when=OLD)
    assert plan.setup[-1] == f"{PIP} -e . -r requirements-test.txt 'pytest<8'"
    assert "pytest<8: the code is from 2023-05-01" in plan.reason


def test_new_code_and_unknown_dates_get_no_cap(tmp_path):
    _tree(tmp_path, {"pyproject.toml": PYPROJECT})
    for when in (None, datetime.now(UTC)):
        assert _detect(tmp_path, when=when).setup[-1] == f"{PIP} -e . pytest"


def test_a_lock_file_or_another_runner_gets_no_cap(tmp_path):
    _tree(tmp_path, {"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n"})
    assert not any("pytest<" in step for step in _detect(tmp_path, when=OLD, tools={"uv"}).setup)
    plan = detect_environment(
        tmp_path,
        tests=CREW.tests.model_copy(update={"command": ("python", "-m", "unittest")}),
        environment=EnvironmentConfig(),
        code_date=OLD,
    )
    assert not any("pytest" in step for step in plan.setup)


# --- tox: lines for some environments only ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "seen"),
    [
        ("pytest-cov", "pytest-cov"),
        ("tests: tests", "tests"),
        ("py311-tests: hypothesis", "hypothesis"),
        ("py38,test: mock", "mock"),
        ("mypy: tests-mypy", None),
        ("py311: trio", None),
        ("!tests: coverage", None),
        ("pytestmain: git+https://github.com/pytest-dev/pytest.git@main", None),
    ],
)
def test_a_tox_line_holds_for_the_tests_when_its_condition_names_them(line, seen):
    assert line_for_tests(line) == seen


def test_tox_picks_among_the_test_extras_and_its_conditional_deps(tmp_path):
    tox = """
        [testenv]
        extras =
            tests: tests
            mypy: tests-mypy
        deps =
            tests: pytest-randomly
            py37: importlib-metadata
    """
    extras = '[project.optional-dependencies]\ntests = ["pytest"]\ntests-mypy = ["mypy"]\n'
    files = {"pyproject.toml": PYPROJECT + extras, "tox.ini": tox}
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e '.[tests]' pytest-randomly"


def test_without_tox_every_test_extra_is_installed(tmp_path):
    extras = '[project.optional-dependencies]\ntests = ["pytest"]\ntesting-extra = ["mock"]\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": PYPROJECT + extras}))
    assert plan.setup[-1] == f"{PIP} -e '.[tests,testing-extra]'"


def test_tox_installs_every_extra_its_test_environment_names(tmp_path):
    tox = "[testenv]\nextras = diagrams\ndeps = pytest\n"
    extras = '[project.optional-dependencies]\ndiagrams = ["jinja2"]\ntests = ["mock"]\n'
    plan = _detect(_tree(tmp_path, {"pyproject.toml": PYPROJECT + extras, "tox.ini": tox}))
    assert plan.setup[-1] == f"{PIP} -e '.[diagrams]' pytest"


def test_when_tox_names_the_tests_needs_other_requirements_files_are_not_theirs(tmp_path):
    files = {
        "pyproject.toml": PYPROJECT,
        "tox.ini": "[testenv]\ndeps = -r requirements-tests39.txt\n",
        "requirements-tests39.txt": "pytest==7.4.4\n",
        "requirements-tests36.txt": "pytest==6.1\n",  # for another Python: pins clash
        "tests/requirements.txt": "tox==3.5.2\n",
    }
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e . -r requirements-tests39.txt"


def test_a_tox_setting_read_in_part_leaves_the_requirements_files_in(tmp_path):
    files = {
        "pyproject.toml": PYPROJECT,
        "tox.ini": "[testenv]\nextras = {env:EXTRAS:}\ndeps =\n    {[base]deps}\n    pytest\n",
        "requirements-test.txt": "hypothesis\n",
    }
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e . -r requirements-test.txt pytest"


# --- requirements kept beside the tests ----------------------------------------------------------


@pytest.mark.parametrize("name", ["tests/requirements.txt", "test/dev-requirements.txt"])
def test_requirements_in_the_tests_folder_are_the_tests(tmp_path, name):
    files = {"pyproject.toml": PYPROJECT, name: "pretend\npytest\n", "requirements.txt": "x\n"}
    plan = _detect(_tree(tmp_path, files))
    assert plan.setup[-1] == f"{PIP} -e . -r {name}"
    assert name in plan.depends_on


# --- the code's date: the commit shared with the default branch ---------------------------------


def _git(cwd: Path, *args: str, when: str | None = None) -> str:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_the_code_date_is_the_base_a_branch_shares_with_the_default_branch(tmp_path):
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    (origin / "a.py").write_text("a = 1\n")
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "release", when="2023-05-01T12:00:00Z")
    _git(tmp_path, "clone", "-q", str(origin), "work")
    work = tmp_path / "work"
    _git(work, "switch", "-qc", "crew/fix")
    (work / "a.py").write_text("a = 2\n")
    _git(work, "commit", "-qam", "fix")  # dated now
    assert code_date(work) == datetime(2023, 5, 1, 12, tzinfo=UTC)
    assert code_date(origin) == datetime(2023, 5, 1, 12, tzinfo=UTC)  # no remote: HEAD's
    assert code_date(tmp_path / "nowhere") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    _git(empty, "init", "-q")
    assert code_date(empty) is None
