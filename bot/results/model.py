"""Test results as data: one case per test, and the run's results, whatever report they came from.

The readers (JUnit XML, TAP, pytest's text) all end here, so the check run, the tester's report
and the comparison with the base commit read one shape. A test's id is the one thing compared
across runs: each reader documents how it builds ids (see `bot/results/__init__.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Source = Literal["junit", "tap", "text"]
DETAILS_CHARS = 4000  # enough for a traceback's last frames; the check run has a size limit


class ResultsUnreadable(ValueError):
    """The report is not one we can read: fall back on the run's text output."""


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # broke outside the test's body: collection, set-up, a file that failed to load
    SKIPPED = "skipped"
    XFAILED = "xfailed"  # failed, as it was marked to (pytest's xfail, TAP's `not ok # TODO`)
    XPASSED = "xpassed"  # passed, though marked to fail (not strict: not a failure)


FAILING = frozenset({Outcome.FAILED, Outcome.ERROR})
# When one report names a test twice (a subtest's failure beside its test's pass, jest-junit's
# error and failure for one suite that failed to run), the worse outcome is the test's.
SEVERITY = {
    Outcome.SKIPPED: 0,
    Outcome.XFAILED: 1,
    Outcome.PASSED: 2,
    Outcome.XPASSED: 3,
    Outcome.FAILED: 4,
    Outcome.ERROR: 5,
}
# The order of the one-line summary: what needs reading first.
SUMMARY_ORDER = (
    Outcome.FAILED,
    Outcome.ERROR,
    Outcome.PASSED,
    Outcome.SKIPPED,
    Outcome.XFAILED,
    Outcome.XPASSED,
)


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest test class, though its name says Test

    id: str  # "tests/test_x.py::TestC::test_y[1]", "test/math.test.js > math > adds"
    outcome: Outcome
    message: str = ""  # one line: "AssertionError: assert 1 == 2"
    details: str = ""  # the traceback or the runner's failure text, cut to DETAILS_CHARS
    path: str | None = None  # relative to the repository: where to annotate
    line: int | None = None  # 1-based

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING


@dataclass(frozen=True)
class TestResults:
    """What one run of the tests said.

    `counts` are the runner's own when it printed them (pytest's summary line counts tests
    that its short summary does not list); otherwise they are counted from `cases`.
    `complete` is False when the report stops before its end (a run cut short): such a run
    neither passed nor "ran no tests".
    """

    __test__ = False

    cases: tuple[TestCase, ...]
    source: Source
    counts: Mapping[Outcome, int] = field(default_factory=dict)
    subtests: Mapping[str, int] = field(default_factory=dict)  # pytest: {"passed": 10}
    complete: bool = True
    interrupted: str | None = None  # "Interrupted: 1 error during collection", "Bail out! …"

    def count(self, outcome: Outcome) -> int:
        return self.counts.get(outcome, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failures(self) -> tuple[TestCase, ...]:
        return tuple(case for case in self.cases if case.failing)

    @property
    def no_tests_ran(self) -> bool:
        return self.complete and self.total == 0 and not any(self.subtests.values())

    @property
    def ok(self) -> bool:
        failed = self.count(Outcome.FAILED) + self.count(Outcome.ERROR)
        failed += self.subtests.get("failed", 0) + len(self.failures)
        return self.complete and self.total > 0 and failed == 0 and self.interrupted is None

    def by_id(self) -> dict[str, TestCase]:
        return {case.id: case for case in self.cases}

    @property
    def summary(self) -> str:
        """One line: "2 failed, 40 passed, 1 skipped, 3 subtests passed"."""
        parts = [_counted(self.count(o), o) for o in SUMMARY_ORDER if self.count(o)]
        parts += [f"{n} subtests {word}" for word, n in self.subtests.items() if n]
        if not self.complete:
            reason = self.interrupted or "the report stops before its end"
            return "; ".join([", ".join(parts) or "no results", reason])
        if self.interrupted:
            parts.append(self.interrupted)
        return ", ".join(parts) if parts else "no tests ran"


def _counted(number: int, outcome: Outcome) -> str:
    word = "errors" if outcome is Outcome.ERROR and number != 1 else outcome.value
    return f"{number} {word}"


def results_from(
    cases: Iterable[TestCase],
    *,
    source: Source,
    counts: Mapping[Outcome, int] | None = None,
    subtests: Mapping[str, int] | None = None,
    complete: bool = True,
    interrupted: str | None = None,
) -> TestResults:
    """The results of these cases, one per id (the worse outcome wins), counted unless given."""
    merged = merge_cases(cases)
    if counts is None:
        counted: dict[Outcome, int] = {}
        for case in merged:
            counted[case.outcome] = counted.get(case.outcome, 0) + 1
        counts = counted
    return TestResults(
        cases=merged,
        source=source,
        counts=dict(counts),
        subtests=dict(subtests or {}),
        complete=complete,
        interrupted=interrupted,
    )


def merge_cases(cases: Iterable[TestCase]) -> tuple[TestCase, ...]:
    """One case per id, in first-seen order: the worse of two, or on a tie the first (a
    subtest's failure says more than its test's later "contains 1 failed subtest")."""
    by_id: dict[str, TestCase] = {}
    for case in cases:
        seen = by_id.get(case.id)
        if seen is None or SEVERITY[case.outcome] > SEVERITY[seen.outcome]:
            by_id[case.id] = case
    return tuple(by_id.values())


def one_line(text: str) -> str:
    """The first line that says something; a line ending in ':' takes the next one along
    ("Expected values to be strictly equal: 2 !== 1")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


def cut(text: str) -> str:
    return text.strip()[:DETAILS_CHARS]
