"""TAP from real runs of node's test runner (TAP 14 subtests) and tape (TAP 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.results import Outcome, ResultsUnreadable, read_junit, read_tap

FIXTURES = Path(__file__).parents[1] / "fixtures" / "results"
WORK = "/tmp/repocrew-results"


def _read(name: str, project: str):
    return read_tap((FIXTURES / name).read_text(), root=f"{WORK}/{project}")


def test_node_tap_nests_subtests_and_gives_the_junit_ids():
    results = _read("node-test.tap", "node")
    from_junit = read_junit((FIXTURES / "node-test.xml").read_text(), root=f"{WORK}/node")
    assert {c.id: c.outcome for c in results.cases} == {c.id: c.outcome for c in from_junit.cases}
    assert results.source == "tap" and results.complete
    assert (results.count(Outcome.FAILED), results.count(Outcome.PASSED)) == (4, 4)
    assert results.count(Outcome.SKIPPED) == 2  # it.skip() and it.todo()
    # Suites and tests with subtests are groups: "math" and "hooks" failed through children.
    assert "math" not in results.by_id() and "hooks" not in results.by_id()


def test_node_tap_failures_have_message_and_place():
    cases = _read("node-test.tap", "node").by_id()
    wrong = cases["math > subtracts wrong"]
    assert wrong.message == "Expected values to be strictly equal: 2 !== 1"
    assert (wrong.path, wrong.line) == ("test/math.test.js", 9)
    assert "operator: 'strictEqual'" in wrong.details
    assert cases["top level with subtests > sub fails"].message == "boom"
    assert cases["top level with subtests > sub fails"].line == 32
    broken = cases["test/broken.test.js"]
    assert (broken.outcome, broken.message) == (Outcome.FAILED, "test failed")


def test_tape_groups_assertions_under_their_test():
    results = _read("tape.tap", "tape")
    assert {c.id: c.outcome.value for c in results.cases} == {
        "math > adds": "passed",
        "math > subtracts wrong": "failed",
        "nested > multiplies": "passed",
        "todo test > not done yet": "xfailed",
        "assertions > divides": "skipped",
        "assertions > should be truthy": "passed",
        "assertions > should be truthy [2]": "passed",
        "skipped test": "skipped",
    }
    wrong = results.by_id()["math > subtracts wrong"]
    assert wrong.message == "equal: expected 1, actual 2"
    assert (wrong.path, wrong.line) == ("test/math.test.js", 5)
    assert not results.ok and results.complete


def test_a_parent_that_failed_without_a_failing_child_is_a_failure():
    text = """TAP version 14
# Subtest: suite
    # Subtest: inner
    ok 1 - inner
    1..1
not ok 1 - suite
  ---
  error: 'after() hook failed'
  ...
1..1
"""
    results = read_tap(text)
    assert {c.id: c.outcome for c in results.cases} == {
        "suite > inner": Outcome.PASSED,
        "suite": Outcome.FAILED,
    }
    assert results.by_id()["suite"].message == "after() hook failed"


def test_a_stream_without_its_plan_or_bailed_out_is_incomplete():
    cut = read_tap("TAP version 13\nok 1 - a\n")
    assert not cut.complete and not cut.ok and not cut.no_tests_ran
    bailed = read_tap("TAP version 13\nok 1 - a\nBail out! database down\n1..3\n")
    assert not bailed.complete and bailed.interrupted == "Bail out! database down"
    assert "Bail out! database down" in bailed.summary


def test_a_plan_of_nothing_ran_no_tests():
    results = read_tap("TAP version 13\n1..0\n")
    assert results.no_tests_ran and not results.ok


@pytest.mark.parametrize("text", ["", "hello\nworld\n", "# only a comment\n"])
def test_what_is_not_tap_is_unreadable(text):
    with pytest.raises(ResultsUnreadable):
        read_tap(text)
