"""What a test run means for the change: its failures sorted against the base commit's
(broken by the change, already failing, flaky when run again), and the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.environments.test_run import TestRun
from bot.results import Comparison, TestResults, compare, comparison_summary


@dataclass(frozen=True)
class Judgement:
    run: TestRun
    rerun: TestRun | None
    baseline: TestResults | None
    comparison: Comparison | None

    @property
    def passed(self) -> bool:
        """Nothing the change broke: a clean run, or every failure old or flaky."""
        result, results = self.run.result, self.run.results
        if result.passed:
            return True
        if result.timed_out or result.limit_hit or not results.complete:
            return False
        return bool(results.failures) and self.comparison is not None and self.comparison.ok

    def summary(self, base_branch: str) -> str:
        if self.comparison is None:
            return ""
        return comparison_summary(self.comparison, base=base_branch)

    def as_facts(self) -> dict[str, Any]:
        if self.comparison is None:
            return {}
        ids = {
            name: [case.id for case in getattr(self.comparison, name)]
            for name in ("broken", "fixed", "pre_existing", "flaky")
        }
        return {"comparison": ids, "baseline": self.baseline.summary if self.baseline else ""}


def judge(run: TestRun, rerun: TestRun | None, baseline: TestResults | None) -> Judgement:
    comparison = None
    if baseline is not None and run.results.failures:
        comparison = compare(baseline, run.results, rerun.results if rerun else None)
    return Judgement(run, rerun, baseline, comparison)
