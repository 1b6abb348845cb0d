"""Testing: the tester runs the repository's tests in the sandbox and reports a check run."""

from __future__ import annotations

import re
from typing import Any

from bot.environments.build import Environment
from bot.environments.setup_report import SetupFailed
from bot.ports.forge import Annotation
from bot.roster.models import Role
from bot.runs import comments as render
from bot.runs.memory import context_for
from bot.runs.publish import ensure_check
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_TEST_REPORT
from bot.runs.steps.baseline import baseline
from bot.runs.steps.bench import bench_for
from bot.runs.steps.common import (
    StepResult,
    ask,
    clone,
    environment_of,
    report_counts,
    report_line,
    run_tests,
    step_key,
    test_command,
    tests_not_run,
)
from bot.runs.steps.judging import Judgement, judge
from bot.runs.steps.workspace_tools import tools_for
from bot.security.untrusted import fence_untrusted
from bot.store.models import Run
from bot.workspace.git import GitWorkspace
from bot.workspace.gitcli import run_git

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
    git, files = clone(services, run, role, run.branch)
    head = git.head_sha()
    if (missing := tests_not_run(services)) is not None:
        return _not_run(services, role, key, head, missing)
    _check(services, role, head, status="in_progress", title="Running the tests in the sandbox")
    try:
        environment = environment_of(services, git)
        judgement = _judged_run(services, git, environment)
    except SetupFailed as failed:
        _report_setup_failure(services, role, head, failed)
        raise
    result = judgement.run.result
    output_tail = services.scanner.redact(without_timings(result.output[-OUTPUT_TAIL:]))
    base_branch = services.forge.clone_source().default_branch
    compared = judgement.summary(base_branch)
    answer = ask(
        services,
        run,
        role,
        key,
        kind="test",
        answer=SUBMIT_TEST_REPORT,
        context=context_for("test", run, outputs),
        tools=tools_for(role, bench_for(services, git, files, environment)),
        command=" ".join(test_command(services, git)),
        exit_code=result.exit_code,
        limit_hit=result.limit_hit or "",
        output=fence_untrusted(output_tail, source="test output"),
        compared=compared,
    )
    facts = _facts(judgement, sha=head, analysis=answer["analysis"], output=output_tail)
    if compared:
        facts["compared"] = compared
    _complete_check(services, role, facts, summary_line=report_line(judgement.run.results))
    if facts["passed"]:
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


def not_run_facts(reason: str, *, sha: str) -> dict[str, Any]:
    """The tester's report when no sandbox could hold the tests: not run, never a pass."""
    return {
        "passed": False,
        "not_run": f"no sandbox: {reason}",
        "exit_code": None,
        "limit_hit": None,
        "counts": {},
        "failures": [],
        "duration_seconds": 0.0,
        "sandbox": "no sandbox",
        "sha": sha,
        "analysis": f"Not run: no sandbox on this host ({reason}). The tests were not run, so "
        "nothing here says they pass.",
        "output": "",
    }


def _not_run(services: StepServices, role: Role, key: str, head: str, reason: str) -> StepResult:
    """No sandbox, and the crew goes on without one: a skipped check, then the votes."""
    facts = not_run_facts(reason, sha=head)
    _check(
        services,
        role,
        head,
        status="completed",
        conclusion="skipped",
        title="Tests not run: no sandbox",
        summary=facts["analysis"],
    )
    return StepResult(RunState.VOTING, key, role, facts)


def _report_setup_failure(
    services: StepServices, role: Role, head: str, failed: SetupFailed
) -> None:
    """The check run says why no test ran: the set-up's report."""
    _check(
        services,
        role,
        head,
        status="completed",
        conclusion="failure",
        title="The environment could not be set up",
        summary=services.scanner.redact(failed.report()),
    )


def _judged_run(services: StepServices, git: GitWorkspace, environment: Environment) -> Judgement:
    """The tests of the change, once more for what failed (flaky?), against the base's."""
    first = run_tests(services, git, environment)
    if first.passed or not first.results.failures:
        return judge(first, None, None)
    again = run_tests(services, git, environment)
    base = _base_sha(services, git)
    return judge(first, again, baseline(services, git, base) if base else None)


def _base_sha(services: StepServices, git: GitWorkspace) -> str:
    """Where the change started: where the branch leaves the base branch."""
    default = services.forge.clone_source().default_branch
    found = run_git(["merge-base", "HEAD", f"origin/{default}"], cwd=git.root, ok=(0, 1))
    return found.stdout.strip()


test.__test__ = False  # type: ignore[attr-defined]  # a step, not a pytest test


def _facts(judgement: Judgement, *, sha: str, analysis: str, output: str) -> dict[str, Any]:
    """What the sandbox and the tester found: the step's saved result and the check's body."""
    result, results = judgement.run.result, judgement.run.results
    return {
        "passed": judgement.passed,
        "exit_code": result.exit_code,
        "limit_hit": result.limit_hit,
        "counts": report_counts(results),
        "failures": [
            {"test": case.id, "path": case.path, "line": case.line, "message": case.message}
            for case in results.failures
        ],
        "duration_seconds": result.duration_seconds,
        "sandbox": "bubblewrap sandbox" if result.sandboxed else "NOT sandboxed",
        "sha": sha,
        "analysis": analysis,
        "output": output,
        **judgement.as_facts(),
    }


def check_title(passed: bool, summary_line: str, compared: str) -> str:
    """ "Tests passed (3 passed)"; with old or flaky failures, what they are."""
    title = ("Tests passed" if passed else "Tests failed") + f" ({summary_line})"
    return f"{title}: {compared}" if compared else title


def _complete_check(
    services: StepServices, role: Role, facts: dict[str, Any], *, summary_line: str
) -> None:
    """Finish the check run on the tested commit, with a failure annotated where it happened."""
    passed = facts["passed"]
    _check(
        services,
        role,
        facts["sha"],
        status="completed",
        conclusion="success" if passed else "failure",
        title=check_title(passed, summary_line, facts.get("compared", "")),
        summary=render.test_summary(facts),
        text=f"```\n{facts['output']}\n```",
        annotations=[
            Annotation(path=f["path"], line=f["line"], message=f["message"])
            for f in facts["failures"]
            if f["path"] and f["line"]
        ],
    )


def _check(services: StepServices, role: Role, sha: str, **fields: Any) -> None:
    ensure_check(
        services.forge, services.scanner, sha=sha, name=CHECK_NAME, role=role.key, **fields
    )
