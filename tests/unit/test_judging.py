"""How the tester judges a run: failures old on the base or flaky do not fail the change;
what it broke does; what the check run and the coder's next step are told."""

from __future__ import annotations

from bot.environments.test_run import TestRun
from bot.results import Outcome, TestCase
from bot.results.model import results_from
from bot.runs.steps.coding import feedback_text
from bot.runs.steps.judging import judge
from bot.runs.steps.testing import check_title
from bot.sandbox import SandboxResult


def _run(outcomes: dict[str, Outcome], *, exit_code: int | None = None) -> TestRun:
    cases = [
        TestCase(test, outcome, message=f"{test} said no") for test, outcome in outcomes.items()
    ]
    failing = any(case.failing for case in cases)
    code = exit_code if exit_code is not None else (1 if failing else 0)
    result = SandboxResult(("pytest",), code, "output", False, None, 1.0, True)
    return TestRun(result, results_from(cases, source="junit"))


P, F = Outcome.PASSED, Outcome.FAILED


def test_old_failures_and_flaky_ones_do_not_fail_the_change():
    base = _run({"t::old": F, "t::a": P, "t::b": P}).results
    head = _run({"t::old": F, "t::a": F, "t::b": P})
    again = _run({"t::old": F, "t::a": P, "t::b": P})
    judged = judge(head, again, base)
    assert judged.passed
    assert judged.summary("main") == (
        "1 failure already on main, not caused by this PR; "
        "1 flaky (failed, then passed when run again)"
    )
    assert judged.as_facts()["comparison"] == {
        "broken": [],
        "fixed": [],
        "pre_existing": ["t::old"],
        "flaky": ["t::a"],
    }


def test_what_the_change_broke_fails_it():
    base = _run({"t::a": P, "t::b": P}).results
    head = _run({"t::a": F, "t::b": P})
    judged = judge(head, _run({"t::a": F, "t::b": P}), base)
    assert not judged.passed and judged.as_facts()["comparison"]["broken"] == ["t::a"]
    assert judged.summary("trunk") == "1 new failure"


def test_a_failed_run_with_no_failure_read_is_not_passed():
    crashed = _run({}, exit_code=2)
    assert not judge(crashed, None, _run({"t::a": P}).results).passed


def test_the_check_title_names_old_failures():
    assert check_title(True, "3 passed", "") == "Tests passed (3 passed)"
    assert check_title(
        True, "1 failed, 2 passed", "1 failure already on main, not caused by this PR"
    ) == ("Tests passed (1 failed, 2 passed): 1 failure already on main, not caused by this PR")


def test_the_coder_gets_the_testers_analysis_and_the_failures_it_caused():
    content = {
        "analysis": "parse_age rejects 0.",
        "output": "E assert ...",
        "failures": [
            {"test": "t::new", "message": "AssertionError: 0"},
            {"test": "t::old", "message": "old trouble"},
        ],
        "comparison": {"broken": ["t::new"], "pre_existing": ["t::old"], "fixed": [], "flaky": []},
        "compared": "1 new failure; 1 failure already on main, not caused by this PR",
    }
    text = feedback_text("test-1", content)
    assert "parse_age rejects 0." in text and "`t::new`: AssertionError: 0" in text
    assert "old trouble" not in text and "1 new failure" in text
