"""pytest's text, the fallback reader: subtests are counted, and a run with failures is never
"no tests ran" (fixtures from real runs of pytest 9 and of pytest 8 with pytest-subtests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.results import Outcome, read_junit, read_pytest_text
from bot.results.pytest_text import parse_test_output

FIXTURES = Path(__file__).parents[1] / "fixtures" / "results"
MIXED = "tests/test_mixed.py"


def _text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_the_subtests_plugin_summary_counts_tests_and_subtests():
    report = parse_test_output(_text("pytest8-subtests-q.txt"))
    assert report.summary is not None and "2 errors, 3 subtests passed in " in report.summary
    assert (report.failed, report.passed, report.errors) == (6, 4, 2)
    assert (report.skipped, report.xfailed, report.xpassed) == (1, 1, 1)
    assert report.subtests_passed == 3 and report.subtests_failed == 0
    assert not report.ok and not report.no_tests_ran


@pytest.mark.parametrize(
    ("line", "failed", "passed", "subtests"),
    [
        ("4 failed, 737 passed, 10 subtests passed in 3.2s", 4, 737, {"passed": 10}),
        ("= 737 passed, 2 subtests failed, 10 subtests passed in 3.20s =", 0, 737, None),
        ("1 passed, 1 subtests skipped in 0.01s", 0, 1, {"skipped": 1}),
    ],
)
def test_summary_lines_with_subtests(line, failed, passed, subtests):
    results = read_pytest_text(f"....\n{line}\n")
    assert results.complete and not results.no_tests_ran
    assert (results.count(Outcome.FAILED), results.count(Outcome.PASSED)) == (failed, passed)
    if subtests is None:  # a failed subtest fails the run, whatever the tests' counts
        assert results.subtests == {"failed": 2, "passed": 10} and not results.ok
    else:
        assert results.subtests == subtests and results.ok == (failed == 0)


def test_a_subtests_failure_is_its_tests_failure_in_pytest_8():
    report = parse_test_output(_text("pytest8-subtests-q.txt"))
    failures = {f.test_id: f for f in report.failures}
    sub = failures[f"{MIXED}::test_subtests"]
    assert sub.message == "[even] (i=1): AssertionError: assert (1 % 2) == 0"
    assert sub.path == MIXED and sub.line is not None
    assert failures[f"{MIXED}::TestCase::test_sub"].message == "(i=1): AssertionError: 1 != 0"


def test_pytest_9_subfailed_lines_and_the_failed_test_are_one_case():
    results = read_pytest_text(_text("pytest9.txt"))
    cases = results.by_id()
    assert cases[f"{MIXED}::test_subtests"].outcome is Outcome.FAILED
    # the subtest's own message, not "contains 1 failed subtest"
    assert cases[f"{MIXED}::test_subtests"].message.startswith("[even] (i=1): ")
    assert cases[f"{MIXED}::TestCase::test_sub"].outcome is Outcome.FAILED
    assert results.count(Outcome.FAILED) == 7 and results.count(Outcome.PASSED) == 3


@pytest.mark.parametrize("run", ["pytest9", "pytest8-subtests"])
def test_the_text_under_rA_gives_the_xmls_cases(run):
    text, xml = read_pytest_text(_text(f"{run}.txt")), read_junit(_text(f"{run}.xml"))
    from_xml = {case.id: case.outcome for case in xml.cases}
    del from_xml[f"{MIXED}::test_skipped"]  # -rA names a skip by its line, not its id
    from_xml[f"{MIXED}::test_xpassed"] = Outcome.XPASSED  # the text tells an xpass apart
    assert {case.id: case.outcome for case in text.cases} == from_xml
    assert text.source == "text" and xml.source == "junit"


def test_the_default_command_lists_failures_only():
    results = read_pytest_text(_text("pytest8-subtests-q.txt"))
    assert {case.outcome for case in results.cases} == {Outcome.FAILED, Outcome.ERROR}
    assert len(results.cases) == 8 and results.total == 15
    assert results.summary == (
        "6 failed, 2 errors, 4 passed, 1 skipped, 1 xfailed, 1 xpassed, 3 subtests passed"
    )


def test_an_interrupted_collection():
    results = read_pytest_text(_text("pytest9-interrupted.txt"))
    assert results.interrupted == "Interrupted: 1 error during collection"
    assert [case.id for case in results.failures] == ["tests/test_broken.py"]
    assert not results.ok and not results.no_tests_ran and results.complete


def test_a_run_cut_short_is_incomplete():
    text = _text("pytest9.txt")
    results = read_pytest_text(text[: text.index("short test summary info")])
    assert not results.complete and not results.ok and not results.no_tests_ran
    assert results.summary == "no results; the report stops before its end"


def test_nothing_collected_is_no_tests_ran():
    results = read_pytest_text("\nno tests ran in 0.01s\n")
    assert results.no_tests_ran and not results.ok and results.summary == "no tests ran"
