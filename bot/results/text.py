"""pytest's text output as `TestResults`: the fallback when a run left no JUnit XML.

The counts are pytest's own (its summary line); the cases are the tests its short summary
lists: the failures and errors always (`-rfE`), the passes, xfails and xpasses only under
`-rA`, so a comparison can call a test fixed only when the run listed its pass.
"""

from __future__ import annotations

from bot.results.model import Outcome, TestCase, TestResults, results_from
from bot.results.pytest_text import TestReport, parse_test_output


def read_pytest_text(output: str) -> TestResults:
    """The results in pytest's output; incomplete when pytest never printed its summary."""
    return results_of(parse_test_output(output))


def results_of(report: TestReport) -> TestResults:
    failures = [
        TestCase(
            id=failure.test_id,
            outcome=Outcome.FAILED if failure.kind == "failed" else Outcome.ERROR,
            message=failure.message,
            details=failure.details,
            path=failure.path,
            line=failure.line,
        )
        for failure in report.failures
    ]
    listed = [
        TestCase(id=test_id, outcome=Outcome(outcome), message=message, path=_file(test_id))
        for test_id, outcome, message in report.listed
    ]
    counts = {
        Outcome.PASSED: report.passed,
        Outcome.FAILED: report.failed,
        Outcome.ERROR: report.errors,
        Outcome.SKIPPED: report.skipped,
        Outcome.XFAILED: report.xfailed,
        Outcome.XPASSED: report.xpassed,
    }
    return results_from(
        [*failures, *listed],
        source="text",
        counts={outcome: n for outcome, n in counts.items() if n},
        subtests={word: n for word, n in report.subtests.items() if n},
        complete=report.summary is not None,
        interrupted=report.interrupted,
    )


def _file(test_id: str) -> str | None:
    path = test_id.split("::", 1)[0]
    return path if path.endswith(".py") else None
