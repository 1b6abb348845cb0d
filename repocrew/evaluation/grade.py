"""Scoring a task as SWE-bench does: with the fixed release's test files copied over the
workspace, every FAIL_TO_PASS test must pass and every PASS_TO_PASS test must still pass.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.results import Outcome, TestResults

PASSING = frozenset({Outcome.PASSED, Outcome.XPASSED})


@dataclass(frozen=True)
class Grade:
    fail_to_pass: dict[str, bool]  # listed test → passes now
    broken: tuple[str, ...]  # PASS_TO_PASS tests that do not pass now

    @property
    def resolved(self) -> bool:
        return all(self.fail_to_pass.values()) and not self.broken


def copy_files(names: Iterable[str], source: Path, workspace: Path) -> None:
    """The fixed release's version of each file, over the workspace's."""
    for name in names:
        target = workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)


def matches(listed: str, case_id: str) -> bool:
    """A listed test is the case of that id, or the last part of one (an assertion listed by
    its message is `test name > message` in the results)."""
    return case_id == listed or case_id.endswith(f" > {listed}")


def passing(results: TestResults, listed: str) -> bool:
    found = [case for case in results.cases if matches(listed, case.id)]
    return bool(found) and all(case.outcome in PASSING for case in found)


def passing_ids(results: TestResults) -> set[str]:
    return {case.id for case in results.cases if case.outcome in PASSING}


def grade(
    results: TestResults, *, fail_to_pass: Iterable[str], pass_to_pass: Iterable[str]
) -> Grade:
    wanted = tuple(fail_to_pass)
    kept = [test for test in pass_to_pass if not any(matches(w, test) for w in wanted)]
    return Grade(
        fail_to_pass={test: passing(results, test) for test in wanted},
        broken=tuple(test for test in kept if not passing(results, test)),
    )
