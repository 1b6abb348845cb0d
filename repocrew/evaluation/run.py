"""One task of `repocrew eval`, end to end: the releases, the repository, the environment (cold
then warm), the baseline, the crew's whole run through the real webhook path against the
emulators, and the grade of the crew's branch."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.environments.build import Environment, Environments, default_environments
from bot.environments.detect import detect_environment
from bot.environments.setup_report import SetupFailed
from bot.environments.test_run import TestRun, run_tests
from bot.roster.loader import apply_repo_overrides, load_crew
from bot.roster.models import Crew
from bot.sandbox import SandboxLimits
from bot.settings import Settings
from bot.workspace.history import code_date
from emulators.anthropic.script import Script
from repocrew.evaluation.grade import copy_files, grade, passing_ids
from repocrew.evaluation.manifest import Task
from repocrew.evaluation.oracle import oracle_script
from repocrew.evaluation.releases import fetch, released_at, unpack
from repocrew.evaluation.tasks import REPO_CONFIG, repository_files, with_config
from repocrew.world import World, emulated_world

TEST_LIMITS = SandboxLimits(cpu_seconds=900, wall_seconds=900, memory_bytes=4 * 1024**3)


@dataclass
class TaskResult:
    name: str
    env_ok: bool = False
    baseline_ok: bool = False
    resolved: bool = False
    cold_setup_s: float | None = None
    warm_setup_s: float | None = None
    test_s: float | None = None
    run_state: str = ""
    reason: str = ""
    baseline: str = ""
    fail_to_pass: dict[str, bool] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)
    environment: str = ""

    def line(self) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        verdict = "resolved" if self.resolved else "unresolved"
        return (
            f"{self.name}: {verdict} env_ok={self.env_ok} baseline_ok={self.baseline_ok} "
            f"cold_setup_s={seconds(self.cold_setup_s)} warm_setup_s={seconds(self.warm_setup_s)} "
            f"test_s={seconds(self.test_s)} run={self.run_state or '-'}"
            + (f" ({self.reason})" if self.reason and not self.resolved else "")
        )


@dataclass(frozen=True)
class Options:
    cache: Path  # downloads, kept between evaluations
    root: Path  # this evaluation's folder
    oracle: bool = True
    detect: bool = False
    live_model: Settings | None = None
    timeout: float = 900.0
    say: Callable[[str], None] = lambda _line: None
    # Without the oracle and without a live model: what the emulated model answers (tests).
    script: Script | None = None
    # Called with the world before it closes (tests read what the emulators saw).
    inspect: Callable[[World], None] | None = None


def evaluate(task: Task, options: Options, trees: tuple[Path, Path] | None = None) -> TaskResult:
    """One task; `trees` (base, fixed) stand in for the releases (a project of one's own)."""
    result = TaskResult(task.name)
    root = options.root / task.name
    shutil.rmtree(root, ignore_errors=True)
    base, fixed = trees or _releases(task, options.cache, root)
    files = with_config(repository_files(base), task, detect=options.detect)
    fixed_text = {name: (fixed / name).read_text(encoding="utf-8") for name in task.fix_files}
    script = oracle_script(task.title, fixed_text) if options.oracle else options.script
    repo = f"octo-org/{task.name}"  # where the default App installation is
    with emulated_world(
        repo=repo,
        files=files,
        script=script or Script([]),
        root=root / "world",
        live_model=options.live_model,
        first_commit_date=None if trees else _released(task, options.cache),
    ) as world:
        environments = default_environments(
            world.settings.work_dir / "environments", allow=world.settings.registries
        )
        workspace = _clone(world, root / "workspace")
        crew = _crew(workspace)
        environment = _environment(workspace, crew, environments, result)
        if environment is None:
            return result
        keep = _baseline(task, workspace, environment, fixed, result)
        _crew_run(task, world, options, result)
        _grade(task, world, workspace, environments, crew, fixed, keep, result)
        if options.inspect is not None:
            options.inspect(world)
    return result


def _releases(task: Task, cache: Path, root: Path) -> tuple[Path, Path]:
    base = unpack(fetch(task, task.base_version, task.base_sha256, cache), root / "base")
    fixed = unpack(fetch(task, task.fixed_version, task.fixed_sha256, cache), root / "fixed")
    return base, fixed


def _released(task: Task, cache: Path) -> str | None:
    return released_at(task, task.base_version, task.base_sha256, cache)


def _clone(world: World, target: Path, branch: str | None = None) -> Path:
    source = world.hub.repos[world.repo.lower()].git.path
    command = ["git", "clone", "-q", *(["-b", branch] if branch else []), str(source), str(target)]
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return target


def _crew(workspace: Path) -> Crew:
    crew = load_crew(None)
    config = workspace / REPO_CONFIG
    if config.is_file():
        crew = apply_repo_overrides(crew, config.read_text(), source=REPO_CONFIG)
    return crew


def _environment(
    workspace: Path, crew: Crew, environments: Environments, result: TaskResult
) -> Environment | None:
    plan = detect_environment(
        workspace, tests=crew.tests, environment=crew.environment, code_date=code_date(workspace)
    )
    result.environment = plan.reason
    try:
        cold = environments.prepare(workspace, plan)
        warm = environments.prepare(workspace, plan)
    except SetupFailed as failed:
        result.reason = f"set-up: {failed.reason}; {failed.tail()[-300:]}"
        return None
    result.env_ok = True
    result.cold_setup_s, result.warm_setup_s = cold.seconds, warm.seconds
    return warm


def _baseline(
    task: Task, workspace: Path, environment: Environment, fixed: Path, result: TaskResult
) -> list[str]:
    """The base's own run (baseline_ok, test_s), then with the fixed test files: what passes
    there is PASS_TO_PASS when the manifest says `all_passing_at_base`."""
    started = time.monotonic()
    base_run = run_tests(workspace, environment, limits=TEST_LIMITS)
    result.test_s = time.monotonic() - started
    result.baseline = base_run.results.summary
    result.baseline_ok = base_run.results.complete and base_run.results.total > 0
    copy_files(task.test_files, fixed, workspace)
    with_tests = run_tests(workspace, environment, limits=TEST_LIMITS)
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=workspace, check=False)
    if task.pass_to_pass is not None:
        return list(task.pass_to_pass)
    return sorted(passing_ids(with_tests.results))


def _crew_run(task: Task, world: World, options: Options, result: TaskResult) -> None:
    human = world.human()
    try:
        number = human.open_issue(task.title, task.body)
        human.label(number, "crew")
        options.say(f"{task.name}: issue #{number} opened and labelled")
        run = world.wait_for_run(options.timeout, options.say)
    finally:
        human.close()
    result.run_state = run.state if run is not None else "not started"
    if run is not None and run.state not in ("awaiting_human", "done"):
        result.reason = f"the run ended {run.state}: {run.reason[:300]}"


def _grade(
    task: Task,
    world: World,
    workspace: Path,
    environments: Environments,
    crew: Crew,
    fixed: Path,
    keep: list[str],
    result: TaskResult,
) -> None:
    from bot.store.run_queries import latest_run

    run = latest_run(world.engine)
    if run is None or not run.branch:
        result.reason = result.reason or "the crew pushed no branch"
        return
    branch = _clone(world, workspace.parent / "graded", run.branch)
    copy_files(task.test_files, fixed, branch)
    plan = detect_environment(
        branch, tests=crew.tests, environment=crew.environment, code_date=code_date(branch)
    )
    graded: TestRun = run_tests(branch, environments.prepare(branch, plan), limits=TEST_LIMITS)
    scored = grade(graded.results, fail_to_pass=task.fail_to_pass, pass_to_pass=keep)
    result.fail_to_pass, result.broken = scored.fail_to_pass, list(scored.broken)
    result.resolved = scored.resolved


def summary_line(results: list[TaskResult]) -> str:
    def median(values: list[float | None]) -> str:
        known = sorted(v for v in values if v is not None)
        if not known:
            return "-"
        middle = len(known) // 2
        value = known[middle] if len(known) % 2 else (known[middle - 1] + known[middle]) / 2
        return f"{value:.1f}"

    return (
        f"eval: tasks={len(results)} env_ok={sum(r.env_ok for r in results)} "
        f"baseline_ok={sum(r.baseline_ok for r in results)} "
        f"resolved={sum(r.resolved for r in results)} "
        f"cold_setup_s={median([r.cold_setup_s for r in results])} "
        f"warm_setup_s={median([r.warm_setup_s for r in results])} "
        f"test_s={median([r.test_s for r in results])}"
    )


def as_json(result: TaskResult) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(result)
