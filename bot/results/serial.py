"""Test results as JSON, to keep a baseline between steps and runs (plain dicts, no pickles)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.results.model import Outcome, TestCase, TestResults


def results_to_json(results: TestResults) -> dict[str, Any]:
    return {
        "cases": [{**asdict(case), "outcome": case.outcome.value} for case in results.cases],
        "source": results.source,
        "counts": {outcome.value: n for outcome, n in results.counts.items()},
        "subtests": dict(results.subtests),
        "complete": results.complete,
        "interrupted": results.interrupted,
    }


def results_from_json(data: dict[str, Any]) -> TestResults:
    return TestResults(
        cases=tuple(
            TestCase(**{**case, "outcome": Outcome(case["outcome"])}) for case in data["cases"]
        ),
        source=data["source"],
        counts={Outcome(outcome): n for outcome, n in data["counts"].items()},
        subtests=dict(data.get("subtests") or {}),
        complete=bool(data.get("complete", True)),
        interrupted=data.get("interrupted"),
    )
