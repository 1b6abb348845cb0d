"""A step's bench: its workspace, and the change's diff, commands and tests bound to the run's
services, for the tools the roster grants (`tools_for`).

The environment is prepared on the first command or test run that needs it (the coder's is
prepared before it starts). Everything a command or the tests print passes the secret scanner
before the model sees it, as the test step's output does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from bot.environments.build import Environment
from bot.environments.selection import TestSelection, selected_command
from bot.environments.test_run import run_command
from bot.runs.step_services import StepServices
from bot.runs.steps.command_tools import RUN_OUTPUT_CHARS
from bot.runs.steps.common import environment_of, report_line, run_tests, sandbox_limits
from bot.runs.steps.workspace_tools import Bench
from bot.sandbox import SandboxResult
from bot.workspace.diffs import change_diff
from bot.workspace.files import Workspace
from bot.workspace.git import GitWorkspace
from bot.workspace.text import head_and_tail

TESTS_OUTPUT_CHARS = 8_000


def bench_for(
    services: StepServices,
    git: GitWorkspace,
    files: Workspace,
    environment: Environment | None = None,
) -> Bench:
    """The step's bench on the clone `git` (whose files are `files`)."""

    @cache
    def prepared() -> Environment:
        return environment or environment_of(services, git)

    def diff(path: str | None) -> str:
        base = f"origin/{services.forge.clone_source().default_branch}"
        return services.scanner.redact(change_diff(git.root, base, path))

    return Bench(
        files,
        diff=diff,
        run=lambda a: _run(services, git, prepared(), a),
        tests=lambda a: _tests(services, git, prepared(), a),
    )


def _run(
    services: StepServices, git: GitWorkspace, environment: Environment, a: dict[str, Any]
) -> str:
    limits = sandbox_limits(services)
    wall = min(float(a.get("timeout_seconds") or limits.wall_seconds), limits.wall_seconds)
    tests = services.crew.tests
    result = run_command(
        git.root,
        environment,
        a["command"],
        limits=replace(limits, wall_seconds=wall),
        env=tests.env,
        allow_unsandboxed=tests.allow_unsandboxed,
        readable_secrets=services.crew.readable_secrets,
        bwrap=services.bwrap,
    )
    return command_report(a["command"], result, services.scanner.redact)


def command_report(
    command: str,
    result: SandboxResult,
    redact: Callable[[str], str] = lambda text: text,
    *,
    limit: int = RUN_OUTPUT_CHARS,
) -> str:
    """`$ command`, how it ended (exit code, seconds, a limit hit) and its output, secrets
    redacted, then capped to its start and end."""
    took = f"{result.duration_seconds:.1f} s"
    if result.exit_code is None:
        ended = f"stopped after {took}: the {result.limit_hit or 'wall_time'} limit"
    else:
        ended = f"exit code {result.exit_code} after {took}"
        ended += f" (the {result.limit_hit} limit)" if result.limit_hit else ""
    if not result.sandboxed:
        ended += " (NOT sandboxed)"
    output = head_and_tail(redact(result.output), limit) or "(no output)"
    return f"$ {redact(command)}\n{ended}\n{output}"


def _tests(
    services: StepServices, git: GitWorkspace, environment: Environment, a: dict[str, Any]
) -> str:
    """The tests (a selection, or all): the command, the verdict and counts, the output's end."""
    selection = TestSelection(tuple(a.get("tests") or ()), a.get("keyword") or "")
    command = selected_command(environment.plan, selection, git.root)
    done = run_tests(services, git, environment, selection=selection)
    result = done.result
    head = f"exit code {result.exit_code}" + (
        f", {result.limit_hit} limit" if result.limit_hit else ""
    )
    output = services.scanner.redact(result.output)[-TESTS_OUTPUT_CHARS:]
    shown = " ".join(command)
    return f"$ {shown}\n{head}; {report_line(done.results)}\n{output}"
