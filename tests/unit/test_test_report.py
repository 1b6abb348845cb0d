"""pytest's output, from real runs of small projects, read into counts and failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.roster.models import DEFAULT_TEST_COMMAND
from bot.sandbox.test_report import TestReport, parse_test_output

HELPERS = """\
def check(x):
    assert x == 3, f"expected 3, got {x}"
"""
MIXED = """\
import json

import pytest

from tests.helpers import check


def test_passes():
    assert True


def test_equal():
    assert 1 + 1 == 3


def test_in_helper():
    check(2)


def test_in_library():
    json.loads("{not json")


@pytest.mark.parametrize("value", [1, "a - b"])
def test_param(value):
    assert value == 2


class TestThing:
    def test_method(self):
        raise ValueError("bad value\\nsecond line")


def test_long_message():
    assert "x" * 300 == "y" * 300


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_uses_broken(broken):
    pass


@pytest.fixture
def broken_teardown():
    yield
    raise OSError("teardown exploded")


def test_teardown(broken_teardown):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail
def test_xfailed():
    assert False


@pytest.mark.xfail
def test_xpassed():
    pass
"""
BROKEN_IMPORT = "import no_such_module_here\n\n\ndef test_x():\n    pass\n"
BROKEN_SYNTAX = "def test_x():\n    x = (\n    pass\n"
PASSING = """\
import warnings


def test_a():
    warnings.warn("careful")


def test_b():
    pass
"""


def _project(root: Path, files: dict[str, str]) -> Path:
    (root / "pytest.ini").write_text("[pytest]\n")  # pins the rootdir to the project
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _pytest(project: Path, *args: str) -> tuple[int, str]:
    """Run the default test command for real and return (exit code, output)."""
    # pytest never cuts its short summary when CI or BUILD_NUMBER is set: drop them too, so
    # the output here is the same locally and in CI.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "PY_COLORS")) and k not in ("CI", "BUILD_NUMBER")
    }
    done = subprocess.run(
        [sys.executable, *DEFAULT_TEST_COMMAND[1:], *args],
        cwd=project,
        # No plugins from the venv: quicker, and the output is pytest's own.
        env=env | {"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> tuple[int, str, TestReport]:
    files = {"tests/__init__.py": "", "tests/helpers.py": HELPERS, "tests/test_mixed.py": MIXED}
    code, output = _pytest(_project(tmp_path_factory.mktemp("mixed"), files))
    return code, output, parse_test_output(output)


def _failure(report: TestReport, test_id: str, kind: str = "failed"):
    matches = [f for f in report.failures if f.test_id == test_id and f.kind == kind]
    assert len(matches) == 1, (test_id, report.failures)
    return matches[0]


def test_counts_come_from_the_summary_line(mixed):
    code, output, report = mixed
    assert code == 1
    assert (report.passed, report.failed, report.errors) == (2, 7, 2), report.summary
    assert (report.skipped, report.xfailed, report.xpassed) == (1, 1, 1)
    assert report.summary is not None and report.summary in output
    assert not report.ok and not report.no_tests_ran and report.interrupted is None
    assert len(report.failures) == 9
    assert report.total == 14


def test_a_failure_has_its_file_line_and_message(mixed):
    failure = _failure(mixed[2], "tests/test_mixed.py::test_equal")
    assert (failure.path, failure.line) == ("tests/test_mixed.py", _line_of(MIXED, "1 + 1 == 3"))
    assert failure.message == "AssertionError: assert (1 + 1) == 3"


def test_a_failure_in_a_helper_points_at_the_helper(mixed):
    failure = _failure(mixed[2], "tests/test_mixed.py::test_in_helper")
    assert (failure.path, failure.line) == ("tests/helpers.py", 2)
    assert failure.message == "AssertionError: expected 3, got 2"


def test_a_crash_inside_a_library_points_at_the_test_line(mixed):
    failure = _failure(mixed[2], "tests/test_mixed.py::test_in_library")
    assert (failure.path, failure.line) == ("tests/test_mixed.py", _line_of(MIXED, "json.loads"))
    assert failure.message.startswith("json.decoder.JSONDecodeError: Expecting property name")


def test_parametrized_and_class_ids_survive(mixed):
    report = mixed[2]
    assert _failure(report, "tests/test_mixed.py::test_param[1]").message == (
        "AssertionError: assert 1 == 2"
    )
    dashed = _failure(report, "tests/test_mixed.py::test_param[a - b]")
    assert dashed.line == _line_of(MIXED, "assert value == 2")
    method = _failure(report, "tests/test_mixed.py::TestThing::test_method")
    assert method.message == "ValueError: bad value"
    assert method.details == "ValueError: bad value\nsecond line"


def test_a_message_cut_in_the_short_summary_is_whole_in_the_report(mixed):
    code, output, report = mixed
    short = next(line for line in output.splitlines() if "::test_long_message - " in line)
    assert short.endswith("...")  # pytest cut it to the terminal width
    failure = _failure(report, "tests/test_mixed.py::test_long_message")
    assert not failure.message.endswith("...") and len(failure.message) > len(short)


def test_setup_and_teardown_errors_are_errors(mixed):
    report = mixed[2]
    setup = _failure(report, "tests/test_mixed.py::test_uses_broken", kind="error")
    assert setup.line == _line_of(MIXED, 'raise RuntimeError("fixture exploded")')
    assert setup.message == "RuntimeError: fixture exploded"
    teardown = _failure(report, "tests/test_mixed.py::test_teardown", kind="error")
    assert teardown.line == _line_of(MIXED, 'raise OSError("teardown exploded")')
    assert report.collection_errors == ()


def test_collection_errors_name_the_file_and_line(tmp_path):
    files = {"tests/test_import.py": BROKEN_IMPORT, "tests/test_syntax.py": BROKEN_SYNTAX}
    code, output = _pytest(_project(tmp_path, files))
    report = parse_test_output(output)
    assert code == 2
    assert report.errors == 2 and report.total == 2 and not report.ok
    assert report.interrupted == "Interrupted: 2 errors during collection"
    errors = {f.test_id: f for f in report.collection_errors}
    assert set(errors) == {"tests/test_import.py", "tests/test_syntax.py"}
    imported = errors["tests/test_import.py"]
    assert (imported.path, imported.line) == ("tests/test_import.py", 1)
    assert imported.message == "ModuleNotFoundError: No module named 'no_such_module_here'"
    syntax = errors["tests/test_syntax.py"]
    assert (syntax.path, syntax.line) == ("tests/test_syntax.py", 2)
    assert syntax.message.startswith("SyntaxError: ")


@pytest.mark.parametrize("args", [(), ("-k", "nothing_matches")], ids=["empty", "deselected"])
def test_no_tests_ran(tmp_path, args):
    files = {"tests/test_some.py": PASSING} if args else {}
    code, output = _pytest(_project(tmp_path, files), *args)
    report = parse_test_output(output)
    assert code == 5
    assert report.no_tests_ran and not report.ok and report.failures == ()
    assert report.deselected == (2 if args else 0)


def test_a_passing_run_without_q_reads_the_framed_summary(tmp_path):
    code, output = _pytest(_project(tmp_path, {"test_some.py": PASSING}), "--verbose")
    report = parse_test_output(output)
    assert code == 0
    assert "===" in next(line for line in output.splitlines() if "2 passed" in line)
    assert (report.passed, report.warnings, report.failures) == (2, 1, ())
    assert report.ok


def test_without_a_short_summary_the_sections_still_give_failures(tmp_path):
    files = {"tests/__init__.py": "", "tests/helpers.py": HELPERS, "tests/test_mixed.py": MIXED}
    code, output = _pytest(_project(tmp_path, files), "-rN")
    report = parse_test_output(output)
    assert "short test summary info" not in output
    assert report.failed == 7 and len(report.failures) == 9
    helper = next(f for f in report.failures if f.test_id == "test_in_helper")
    assert (helper.path, helper.line) == ("tests/helpers.py", 2)


def test_a_run_cut_short_has_no_summary(mixed):
    code, output, _ = mixed
    cut = output[: output.index("short test summary info")]
    report = parse_test_output(cut)
    assert report.summary is None and report.total == 0 and not report.ok
    assert not report.no_tests_ran


def test_nothing_to_read():
    assert parse_test_output("") == TestReport()
