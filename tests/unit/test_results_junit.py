"""JUnit XML from real runs (tests/fixtures/results, made by its regenerate.sh) read into cases
with the right ids, outcomes, messages and places."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.results import Outcome, ResultsUnreadable, TestResults, read_junit
from bot.results.pytest_ids import pytest_node_id

FIXTURES = Path(__file__).parents[1] / "fixtures" / "results"
WORK = "/tmp/repocrew-results"  # where regenerate.sh ran the projects
MIXED = "tests/test_mixed.py"


def _read(name: str, project: str) -> TestResults:
    return read_junit((FIXTURES / name).read_bytes(), root=f"{WORK}/{project}")


def _outcomes(results: TestResults) -> dict[str, str]:
    return {case.id: case.outcome.value for case in results.cases}


def _source_line(needle: str) -> int:
    """The line of `needle` in the pytest project that regenerate.sh writes."""
    script = (FIXTURES / "regenerate.sh").read_text().splitlines()
    start = script.index("  cat > tests/test_mixed.py <<'PY'")
    return next(n for n, line in enumerate(script[start + 1 :], 1) if needle in line)


PYTEST_OUTCOMES = {
    "tests/test_broken.py": "error",
    f"{MIXED}::test_passes": "passed",
    f"{MIXED}::test_fails": "failed",
    f"{MIXED}::test_param[1]": "passed",
    f"{MIXED}::test_param[a b]": "failed",
    f"{MIXED}::TestThing::test_method": "failed",
    f"{MIXED}::test_setup_error": "error",
    f"{MIXED}::test_skipped": "skipped",
    f"{MIXED}::test_xfailed": "xfailed",
    f"{MIXED}::test_xpassed": "passed",  # JUnit shows a non-strict xpass as a plain pass
    f"{MIXED}::test_xpassed_strict": "failed",
    f"{MIXED}::test_subtests": "failed",  # one of its subtests failed
    f"{MIXED}::TestCase::test_sub": "failed",  # unittest's subTest
}


@pytest.mark.parametrize(
    "name", ["pytest9.xml", "pytest8-subtests.xml", "pytest9-xunit1.xml", "pytest8-subtests-q.xml"]
)
def test_pytest_junit_gives_node_ids_and_outcomes(name):
    results = _read(name, "pytest")
    assert results.source == "junit" and results.complete
    assert _outcomes(results) == PYTEST_OUTCOMES
    assert (results.count(Outcome.FAILED), results.count(Outcome.ERROR)) == (6, 2)
    assert (results.count(Outcome.PASSED), results.count(Outcome.SKIPPED)) == (3, 1)
    assert results.count(Outcome.XFAILED) == 1 and results.total == 13
    assert not results.ok and not results.no_tests_ran


def test_pytest_failures_read_like_the_text_reader_reads_them():
    cases = _read("pytest9.xml", "pytest").by_id()
    fails = cases[f"{MIXED}::test_fails"]
    assert fails.message == "AssertionError: assert (1 + 1) == 3"
    assert (fails.path, fails.line) == (MIXED, _source_line("assert 1 + 1 == 3"))
    method = cases[f"{MIXED}::TestThing::test_method"]
    assert method.message == "ValueError: bad value"
    assert method.details == "ValueError: bad value\nsecond line"
    setup = cases[f"{MIXED}::test_setup_error"]
    assert setup.message == "RuntimeError: fixture exploded"
    assert setup.line == _source_line('raise RuntimeError("fixture exploded")')
    broken = cases["tests/test_broken.py"]
    assert broken.message == "ModuleNotFoundError: No module named 'no_such_module_here'"
    assert (broken.path, broken.line) == ("tests/test_broken.py", 1)
    assert cases[f"{MIXED}::test_xpassed_strict"].message == "[XPASS(strict)] fixed for real"
    assert cases[f"{MIXED}::test_xfailed"].message == "known bug"
    assert cases[f"{MIXED}::test_skipped"].message == "not today"
    subtests = cases[f"{MIXED}::test_subtests"]
    assert subtests.line == _source_line("assert i % 2 == 0")


def test_xunit1_lines_are_one_based():
    cases = _read("pytest9-xunit1.xml", "pytest").by_id()
    assert cases[f"{MIXED}::test_passes"].line == _source_line("def test_passes")


def _rA_ids(text: str) -> set[str]:
    """The node ids pytest printed in its short summary (`-rA`)."""
    pattern = r"^(?:PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+(?:\[.*?\])?)(?: - .*)?$"
    return set(re.findall(pattern, text, re.M))


@pytest.mark.parametrize("run", ["pytest9", "pytest8-subtests"])
def test_junit_ids_are_the_node_ids_pytest_prints(run):
    printed = _rA_ids((FIXTURES / f"{run}.txt").read_text())
    assert len(printed) == 12  # all but the skip, which -rA names by its line
    ids = {case.id for case in _read(f"{run}.xml", "pytest").cases}
    assert ids - printed == {f"{MIXED}::test_skipped"}


def test_an_interrupted_collection_is_one_error_not_no_tests():
    results = _read("pytest9-interrupted.xml", "pytest")
    assert _outcomes(results) == {"tests/test_broken.py": "error"}
    assert not results.ok and not results.no_tests_ran


def test_node_ids_from_a_dotted_classname():
    assert pytest_node_id("tests.unit.test_a.TestOuter.TestInner", "test_b[x.y/z]") == (
        "tests/unit/test_a.py::TestOuter::TestInner::test_b[x.y/z]",
        "tests/unit/test_a.py",
    )
    assert pytest_node_id("", "tests.test_broken") == ("tests/test_broken.py",) * 2
    # A module with a capital letter looks like a class, unless the file says otherwise.
    assert pytest_node_id("tests.TestApi", "test_get")[0] == "tests.py::TestApi::test_get"
    files = {"tests/TestApi.py", "tests/__init__.py"}
    assert pytest_node_id("tests.TestApi", "test_get", files=files)[0] == (
        "tests/TestApi.py::test_get"
    )
    assert pytest_node_id("tests.TestApi", "test_get", file="tests/TestApi.py")[0] == (
        "tests/TestApi.py::test_get"
    )


def test_node_runner_nests_suites_in_suites():
    results = _read("node-test.xml", "node")
    assert _outcomes(results) == NODE_OUTCOMES
    cases = results.by_id()
    wrong = cases["math > subtracts wrong"]
    assert wrong.message == "Expected values to be strictly equal:2 !== 1"
    assert (wrong.path, wrong.line) == ("test/math.test.js", 9)
    # The thrown error's line (the cause), not the line that declared the subtest.
    assert cases["top level with subtests > sub fails"].line == 32
    assert cases["test/broken.test.js"].path == "test/broken.test.js"


NODE_OUTCOMES = {
    "test/broken.test.js": "failed",
    "top level passes": "passed",
    "math > adds": "passed",
    "math > subtracts wrong": "failed",
    "math > nested > multiplies": "passed",
    "math > nested > divides": "skipped",
    "math > nested > modulo": "skipped",  # it.todo()
    "hooks > never runs": "failed",  # cancelled: its suite's before() hook threw
    "top level with subtests > sub ok": "passed",
    "top level with subtests > sub fails": "failed",
}


def test_jest_junit_with_file_attributes_and_suite_errors():
    results = _read("jest-file.xml", "jest")
    assert _outcomes(results) == {
        "test/math.test.js > math adds": "passed",
        "test/math.test.js > math subtracts wrong": "failed",
        "test/math.test.js > math nested multiplies": "passed",
        "test/math.test.js > math nested divides": "skipped",
        "test/math.test.js > math nested modulo": "passed",  # jest-junit writes a todo as a pass
        "test/math.test.js > top level passes": "passed",
        "test/math.test.js > each 1 is odd": "passed",
        "test/math.test.js > each 2 is odd": "failed",
        # jest-junit writes the suite's error twice (an error, then a failure): one case.
        "test/broken.test.js > Test suite failed to run": "error",
    }
    wrong = results.by_id()["test/math.test.js > math subtracts wrong"]
    assert wrong.message == "Error: expect(received).toBe(expected) // Object.is equality"
    assert (wrong.path, wrong.line) == ("test/math.test.js", 6)
    assert "Received: 2" in wrong.details
    broken = results.by_id()["test/broken.test.js > Test suite failed to run"]
    assert (broken.path, broken.line) == ("test/broken.test.js", 1)


def test_jest_junit_defaults_name_no_file_and_skip_the_broken_suite():
    ids = set(_outcomes(_read("jest.xml", "jest")))
    assert "math nested multiplies" in ids and "top level passes" in ids
    assert len(ids) == 8 and not any("broken" in i for i in ids)


def test_vitest_ids_are_file_and_test_path():
    results = _read("vitest.xml", "vitest")
    assert _outcomes(results) == {
        "test/broken.test.js": "failed",
        "test/math.test.js > math > adds": "passed",
        "test/math.test.js > math > subtracts wrong": "failed",
        "test/math.test.js > math > nested > multiplies": "passed",
        "test/math.test.js > math > nested > divides": "skipped",
        "test/math.test.js > math > nested > modulo": "skipped",
        "test/math.test.js > top level passes": "passed",
        "test/math.test.js > each 1 is odd": "passed",
        "test/math.test.js > each 2 is odd": "failed",
    }
    cases = results.by_id()
    wrong = cases["test/math.test.js > math > subtracts wrong"]
    assert wrong.message == "expected 2 to be 1 // Object.is equality"
    assert (wrong.path, wrong.line) == ("test/math.test.js", 8)
    assert cases["test/broken.test.js"].message.startswith("Cannot find module")


def test_mocha_xunit_ids_name_the_file_relative_to_the_root():
    results = _read("mocha.xml", "mocha")
    assert _outcomes(results) == {
        "test/math.test.js > top level passes": "passed",
        "test/math.test.js > math > adds": "passed",
        "test/math.test.js > math > subtracts wrong": "failed",
        "test/math.test.js > math nested > multiplies": "passed",
        "test/math.test.js > math nested > divides": "skipped",
        "test/math.test.js > math nested > modulo": "skipped",
        'test/math.test.js > math hooks > "before all" hook for "never runs"': "failed",
    }
    hook = results.by_id()['test/math.test.js > math hooks > "before all" hook for "never runs"']
    assert (hook.message, hook.path, hook.line) == ("hook exploded", "test/math.test.js", 19)


def test_without_the_root_an_absolute_file_stays_absolute():
    ids = {case.id for case in read_junit((FIXTURES / "mocha.xml").read_text()).cases}
    assert f"{WORK}/mocha/test/math.test.js > math > adds" in ids


@pytest.mark.parametrize("text", ["", "not xml", "<html><body/></html>", "<testsuites"])
def test_what_is_not_junit_is_unreadable(text):
    with pytest.raises(ResultsUnreadable):
        read_junit(text)


def test_an_empty_report_ran_no_tests():
    results = read_junit('<?xml version="1.0"?><testsuites name="pytest tests"></testsuites>')
    assert results.no_tests_ran and not results.ok and results.summary == "no tests ran"
