"""Testing: the tester runs the repository's tests in the sandbox and reports a check run."""

from __future__ import annotations

import re
from typing import Any

from bot.ports.forge import Annotation
from bot.roster.models import Role
from bot.runs import comments as render
from bot.runs.memory import context_for
from bot.runs.publish import ensure_check
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_TEST_REPORT
from bot.runs.steps.common import (
    StepResult,
    ask,
    clone,
    report_counts,
    report_line,
    run_tests,
    step_key,
    test_command,
)
from bot.sandbox import SandboxResult
from bot.sandbox.test_report import TestReport, parse_test_output
from bot.security.untrusted import fence_untrusted
from bot.store.models import Run

CHECK_NAME = "repocrew / tests"
# pytest's "in 0.12s": noise to the tester, and it would make every replay of a run differ.
_TIMING = re.compile(r" in \d+(?:\.\d+)?s(?: \(\d+:\d+:\d+\))?")


def without_timings(output: str) -> str:
    return _TIMING.sub("", output)


OUTPUT_TAIL = 12_000


def test(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    crew = services.crew
    role = crew.role_for("test")
    key = step_key("test", outputs)
    git, _files = clone(services, run, role, run.branch)
    head = git.head_sha()
    ensure_check(
        services.forge,
        services.scanner,
        sha=head,
        name=CHECK_NAME,
        role=role.key,
        status="in_progress",
        title="Running the tests in the sandbox",
    )
    result = run_tests(services, git)
    report = parse_test_output(result.output)
    output_tail = services.scanner.redact(without_timings(result.output[-OUTPUT_TAIL:]))
    answer = ask(
        services,
        run,
        role,
        key,
        kind="test",
        answer=SUBMIT_TEST_REPORT,
        context=context_for("test", run, outputs),
        command=" ".join(test_command(services, git)),
        exit_code=result.exit_code,
        limit_hit=result.limit_hit or "",
        output=fence_untrusted(output_tail, source="test output"),
    )
    facts = _facts(result, report, sha=head, analysis=answer["analysis"], output=output_tail)
    _complete_check(services, role, facts, summary_line=report_line(report))
    if result.passed:
        return StepResult(RunState.VOTING, key, role, facts)
    if run.fix_rounds < crew.max_fix_rounds:
        return StepResult(RunState.FIXING, key, role, facts)
    return StepResult(
        RunState.FAILED,
        key,
        role,
        facts,
        reason=f"the tests still fail after {run.fix_rounds} fix rounds",
    )


test.__test__ = False  # type: ignore[attr-defined]  # a step, not a pytest test


def _facts(
    result: SandboxResult, report: TestReport, *, sha: str, analysis: str, output: str
) -> dict[str, Any]:
    """What the sandbox and the tester found: the step's saved result and the check's body."""
    return {
        "passed": result.passed,
        "exit_code": result.exit_code,
        "limit_hit": result.limit_hit,
        "counts": report_counts(report),
        "failures": [
            {"test": f.test_id, "path": f.path, "line": f.line, "message": f.message}
            for f in report.failures
        ],
        "duration_seconds": result.duration_seconds,
        "sandbox": "bubblewrap sandbox" if result.sandboxed else "NOT sandboxed",
        "sha": sha,
        "analysis": analysis,
        "output": output,
    }


def _complete_check(
    services: StepServices, role: Role, facts: dict[str, Any], *, summary_line: str
) -> None:
    """Finish the check run on the tested commit, with a failure annotated where it happened."""
    passed = facts["passed"]
    ensure_check(
        services.forge,
        services.scanner,
        sha=facts["sha"],
        name=CHECK_NAME,
        role=role.key,
        status="completed",
        conclusion="success" if passed else "failure",
        title=("Tests passed" if passed else "Tests failed") + f" ({summary_line})",
        summary=render.test_summary(facts),
        text=f"```\n{facts['output']}\n```",
        annotations=[
            Annotation(path=f["path"], line=f["line"], message=f["message"])
            for f in facts["failures"]
            if f["path"] and f["line"]
        ],
    )
