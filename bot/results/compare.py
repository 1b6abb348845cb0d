"""The head's test results against the base commit's: what the change broke, what it fixed,
what was failing before it, and what failed once and passed when run again.

Pure: three `TestResults` in, one `Comparison` out, and the sentence the check run, the tester's
report and the votes show. Tests are matched by id, so both runs must come from the same kind
of report (ids are per reader: see `bot/results/__init__.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.results.model import Outcome, TestCase, TestResults

# A failure of a whole file or class on the base (a collection error, a suite that failed to
# load) covers the tests inside it: their ids go on with one of these.
INSIDE = ("::", " > ")


@dataclass(frozen=True)
class Comparison:
    broken: tuple[TestCase, ...]  # fail on the head; passed on the base, or were not there
    fixed: tuple[TestCase, ...]  # failed on the base; pass on the head
    pre_existing: tuple[TestCase, ...]  # fail on the head as they did on the base
    flaky: tuple[TestCase, ...]  # failed on the head, passed when run again
    baseline_complete: bool = True  # False: the base's run stopped early, "broken" may be old

    @property
    def ok(self) -> bool:
        """Nothing the change broke (old failures and flaky tests are not the change's)."""
        return not self.broken


def compare(
    baseline: TestResults, head: TestResults, rerun: TestResults | None = None
) -> Comparison:
    """Sort the head's failures, and the base's failures the head fixed.

    A test the head's run lists only as a failure is flaky when `rerun` (the failures run once
    more) lists it as passed. A test is fixed only when the head lists its pass: pytest's text
    without `-rA` lists failures alone, and a deleted test is not a fixed one.
    """
    base = baseline.by_id()
    failing_on_base = [case.id for case in baseline.failures]
    again = rerun.by_id() if rerun is not None else {}
    broken, pre_existing, flaky = [], [], []
    for case in head.failures:
        retried = again.get(case.id)
        if retried is not None and retried.outcome is Outcome.PASSED:
            flaky.append(case)
        elif _failed_on_base(case.id, base, failing_on_base):
            pre_existing.append(case)
        else:
            broken.append(case)
    fixed = [
        case
        for case in head.cases
        if case.outcome is Outcome.PASSED and case.id in base and base[case.id].failing
    ]
    return Comparison(
        broken=tuple(broken),
        fixed=tuple(fixed),
        pre_existing=tuple(pre_existing),
        flaky=tuple(flaky),
        baseline_complete=baseline.complete and baseline.interrupted is None,
    )


def _failed_on_base(test_id: str, base: dict[str, TestCase], failing: list[str]) -> bool:
    seen = base.get(test_id)
    if seen is not None:
        return seen.failing
    return any(test_id.startswith(around + mark) for around in failing for mark in INSIDE)


def comparison_summary(comparison: Comparison, *, base: str = "main") -> str:
    """One line: "2 new failures; 3 failures already on main, not caused by this PR; 1 flaky"."""
    c = comparison
    parts = []
    if c.broken:
        parts.append(_plural(len(c.broken), "new failure"))
    if c.pre_existing:
        already = _plural(len(c.pre_existing), "failure")
        parts.append(f"{already} already on {base}, not caused by this PR")
    if c.flaky:
        parts.append(f"{len(c.flaky)} flaky (failed, then passed when run again)")
    if c.fixed:
        parts.append(f"{len(c.fixed)} fixed")
    if not parts:
        parts.append("no new failures")
    if not c.baseline_complete:
        parts.append(f"the run on {base} stopped early, so some failures may be older")
    return "; ".join(parts)


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
