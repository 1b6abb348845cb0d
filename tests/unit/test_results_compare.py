"""The head's results against the base's: broken, fixed, pre-existing and flaky, and the
sentence that says so."""

from __future__ import annotations

from pathlib import Path

from bot.results import (
    Outcome,
    TestCase,
    TestResults,
    compare,
    comparison_summary,
    read_junit,
    read_pytest_text,
)
from bot.results.model import results_from

FIXTURES = Path(__file__).parents[1] / "fixtures" / "results"
P, F, E = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR


def _results(*cases: tuple[str, Outcome], complete: bool = True) -> TestResults:
    return results_from(
        [TestCase(id=i, outcome=o) for i, o in cases], source="junit", complete=complete
    )


def _ids(cases: tuple[TestCase, ...]) -> list[str]:
    return [case.id for case in cases]


BASE = _results(("t.py::a", P), ("t.py::b", F), ("t.py::c", F), ("t.py::d", P), ("t.py::e", F))
HEAD = _results(
    ("t.py::a", F),  # passed on the base: broken
    ("t.py::b", F),  # failed on the base too
    ("t.py::c", P),  # fixed
    ("t.py::d", E),  # an error is a failure too: broken
    ("t.py::new", F),  # not on the base: broken
    ("t.py::e", F),
)


def test_each_failure_is_sorted_by_what_the_base_did():
    comparison = compare(BASE, HEAD)
    assert _ids(comparison.broken) == ["t.py::a", "t.py::d", "t.py::new"]
    assert _ids(comparison.pre_existing) == ["t.py::b", "t.py::e"]
    assert _ids(comparison.fixed) == ["t.py::c"]
    assert comparison.flaky == () and not comparison.ok
    assert comparison_summary(comparison) == (
        "3 new failures; 2 failures already on main, not caused by this PR; 1 fixed"
    )


def test_a_failure_that_passes_when_run_again_is_flaky():
    rerun = _results(("t.py::a", P), ("t.py::b", F), ("t.py::new", F), ("t.py::e", P))
    comparison = compare(BASE, HEAD, rerun)
    assert _ids(comparison.flaky) == ["t.py::a", "t.py::e"]
    assert _ids(comparison.broken) == ["t.py::d", "t.py::new"]
    assert _ids(comparison.pre_existing) == ["t.py::b"]
    assert comparison_summary(comparison, base="develop") == (
        "2 new failures; 1 failure already on develop, not caused by this PR; "
        "2 flaky (failed, then passed when run again); 1 fixed"
    )


def test_nothing_new_is_ok():
    comparison = compare(BASE, _results(("t.py::a", P), ("t.py::b", F)))
    assert comparison.ok and _ids(comparison.pre_existing) == ["t.py::b"]
    assert comparison_summary(compare(BASE, BASE)) == (
        "3 failures already on main, not caused by this PR"
    )
    assert comparison_summary(compare(BASE, _results(("t.py::a", P)))) == "no new failures"


def test_a_file_that_failed_to_load_on_the_base_covers_its_tests():
    base = _results(("tests/test_x.py", E), ("test/a.test.js", F), ("tests/test_y.py::t", P))
    head = _results(
        ("tests/test_x.py::test_one", F),
        ("tests/test_x.py::TestC::test_two", F),
        ("test/a.test.js > suite > test", F),
        ("tests/test_xy.py::t", F),  # another file that only starts the same
        ("tests/test_y.py::t", F),
    )
    comparison = compare(base, head)
    assert _ids(comparison.pre_existing) == [
        "tests/test_x.py::test_one",
        "tests/test_x.py::TestC::test_two",
        "test/a.test.js > suite > test",
    ]
    assert _ids(comparison.broken) == ["tests/test_xy.py::t", "tests/test_y.py::t"]


def test_a_base_run_cut_short_is_said():
    comparison = compare(_results(("t.py::a", P), complete=False), _results(("t.py::b", F)))
    assert not comparison.baseline_complete
    assert comparison_summary(comparison) == (
        "1 new failure; the run on main stopped early, so some failures may be older"
    )


def test_a_junit_baseline_and_a_text_head_compare_by_node_id():
    """The base read from pytest's XML, the head from its text: the ids are the same."""
    base = read_junit((FIXTURES / "pytest9.xml").read_text())
    head = read_pytest_text((FIXTURES / "pytest8-subtests-q.txt").read_text())
    comparison = compare(base, head)
    assert comparison.broken == () and len(comparison.pre_existing) == 8
    assert comparison.fixed == ()  # -rfE lists no passes: nothing can be called fixed


def test_a_grading_list_of_node_ids_finds_its_tests_in_junit():
    results = read_junit((FIXTURES / "pytest9.xml").read_text()).by_id()
    expected = {
        "tests/test_mixed.py::test_param[a b]": Outcome.FAILED,
        "tests/test_mixed.py::TestThing::test_method": Outcome.FAILED,
        "tests/test_mixed.py::test_param[1]": Outcome.PASSED,
    }
    assert {i: results[i].outcome for i in expected} == expected
