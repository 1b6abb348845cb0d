"""Run a workspace's tests in its environment and read what they said: JUnit XML where the
runner can write it (asked for by runner), TAP from tape and friends, pytest's text last.

The report goes to a results folder bound outside the workspace; whatever the tests leave in
the workspace (coverage files, caches) is removed afterwards, so none of it is committed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.environments.build import Environment
from bot.environments.plan import EnvironmentPlan, shell_line
from bot.environments.selection import TestSelection, selected_command
from bot.environments.untracked import tracked, untracked
from bot.results import ResultsUnreadable, TestResults, read_junit, read_pytest_text, read_tap
from bot.sandbox import SandboxLimits, SandboxResult, run_sandboxed, sandbox_status
from bot.sandbox.layout import RESULTS, WORKSPACE, Layout

SCRIPT_RUNNERS = ("npm", "yarn", "pnpm", "bun")
GENERATED = re.compile(r"^-* ?generated xml file: .*\n", re.MULTILINE)
TAP = re.compile(r"^(TAP version \d+|(not )?ok \d+)", re.MULTILINE)


@dataclass(frozen=True)
class TestRun:
    __test__ = False

    result: SandboxResult
    results: TestResults

    @property
    def passed(self) -> bool:
        return self.result.passed


def run_tests(
    workspace: Path,
    environment: Environment,
    *,
    limits: SandboxLimits,
    env: Mapping[str, str] | None = None,
    allow_unsandboxed: bool = False,
    selection: TestSelection = TestSelection(),  # noqa: B008 - frozen
    readable_secrets: Sequence[str] = (),
    bwrap: str = "bwrap",
) -> TestRun:
    """The tests (only `selection`, when given), in the sandbox, with their results read."""
    plan = environment.plan
    command = selected_command(plan, selection, workspace)
    sandboxed = sandbox_status(bwrap).available
    before = set(untracked(workspace)) if (workspace / ".git").exists() else None
    folder = Path(tempfile.mkdtemp(prefix="repocrew-results-"))
    try:
        folder.chmod(0o777)  # the sandbox's user may not be ours
        junit = f"{RESULTS}/junit.xml" if sandboxed else str(folder / "junit.xml")
        args, extra_env = junit_request(plan, environment, junit)
        result = run_sandboxed(
            list(_with_args(command, args)),
            workspace=workspace,
            limits=limits,
            env={**environment.env(), **extra_env, **(env or {})},
            allow_unsandboxed=allow_unsandboxed,
            bwrap=bwrap,
            ro_paths=environment.ro_paths(),
            layout=_layout(environment, readable_secrets, folder) if sandboxed else Layout(),
        )
        # pytest's "generated xml file: …" line is about our report, not the repository's tests.
        result = replace(result, output=GENERATED.sub("", result.output))
        written = folder / "junit.xml"
        report = written.read_text(errors="replace") if written.is_file() else None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if before is not None:
        _remove_leftovers(workspace, before)
    root = str(WORKSPACE) if sandboxed and environment.isolated else str(workspace)
    files = tracked(workspace) if before is not None else ()
    return TestRun(result, read_results(report, result.output, plan, root=root, files=files))


def run_command(
    workspace: Path,
    environment: Environment,
    command: str,
    *,
    limits: SandboxLimits,
    env: Mapping[str, str] | None = None,
    allow_unsandboxed: bool = False,
    readable_secrets: Sequence[str] = (),
    bwrap: str = "bwrap",
) -> SandboxResult:
    """A shell command (`sh -c`) at the repository root, where and as the tests run: the
    environment's programs first on PATH, no network, the same limits. What it leaves in the
    workspace stays there (it is committed only if a file tool writes it)."""
    return run_sandboxed(
        ["sh", "-c", command],
        workspace=workspace,
        limits=limits,
        env={**environment.env(), **(env or {})},
        allow_unsandboxed=allow_unsandboxed,
        bwrap=bwrap,
        ro_paths=environment.ro_paths(),
        layout=_layout(environment, readable_secrets)
        if sandbox_status(bwrap).available
        else Layout(),
    )


def _layout(
    environment: Environment, readable: Sequence[str], results: Path | None = None
) -> Layout:
    """The environment's layout; the secret files it hides but those the operator opted in."""
    return replace(environment.layout(results), readable_secrets=tuple(readable))


def read_results(
    junit: str | None,
    output: str,
    plan: EnvironmentPlan,
    *,
    root: str = "",
    files: Collection[str] = (),
) -> TestResults:
    """The best report there is: the JUnit file, else TAP in the output, else pytest's text."""
    readers = []
    if junit:
        readers.append(lambda: read_junit(junit, root=root, files=files))
    if plan.test_runner in ("tape", "tap", "node-test") or TAP.search(output):
        readers.append(lambda: read_tap(output, root=root))
    for reader in readers:
        try:
            return reader()
        except ResultsUnreadable:
            continue
    return read_pytest_text(output)


def junit_request(
    plan: EnvironmentPlan, environment: Environment, junit: str
) -> tuple[tuple[str, ...], dict[str, str]]:
    """(arguments, variables) that make the runner also write JUnit XML to the results folder."""
    runner = plan.test_runner
    if runner == "pytest":
        # xunit2: no `file` attribute, which names where a test is defined (a mixin's module),
        # not the module it runs in; the repository's files settle the module instead.
        return ("--junitxml", junit, "-o", "junit_family=xunit2"), {}
    if runner == "node-test":
        options = "--test-reporter=spec --test-reporter-destination=stdout"
        options += f" --test-reporter=junit --test-reporter-destination={junit}"
        return (), {"NODE_OPTIONS": options}
    if runner == "vitest":
        return ("--reporter=default", "--reporter=junit", f"--outputFile.junit={junit}"), {}
    if runner == "mocha":
        return ("--reporter", "xunit", "--reporter-option", f"output={junit}"), {}
    if runner == "jest" and _has_package(environment, "jest-junit"):
        variables = {
            "JEST_JUNIT_OUTPUT_FILE": junit,
            "JEST_JUNIT_ADD_FILE_ATTRIBUTE": "true",
            "JEST_JUNIT_REPORT_TEST_SUITE_ERRORS": "true",
        }
        return ("--reporters=default", "--reporters=jest-junit"), variables
    return (), {}


def _with_args(command: tuple[str, ...], args: tuple[str, ...]) -> tuple[str, ...]:
    """The command with `args` for the runner: after `--` when a package script runs it."""
    if not args:
        return command
    line = shell_line(command)
    if line is not None:  # a shell line: the runner is its last program
        return (*command[:2], f"{line} {shlex.join(args)}")
    if command and command[0] in SCRIPT_RUNNERS and "--" not in command:
        return (*command, "--", *args)
    return (*command, *args)


def _has_package(environment: Environment, name: str) -> bool:
    return any(
        (source / name).is_dir() for source, path in environment.mounts if path == "node_modules"
    )


def _remove_leftovers(workspace: Path, before: set[str]) -> None:
    for path in set(untracked(workspace)) - before:
        target = workspace / path
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
