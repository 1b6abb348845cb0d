"""The base commit's test results, so a change is judged by what it broke or fixed, not by
failures that were there before it. Run once per base commit and test configuration (kept
beside the environments), in the step's own clone with the base checked out for the while.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from bot.results import TestResults
from bot.results.serial import results_from_json, results_to_json
from bot.runs.step_services import StepServices
from bot.runs.steps.common import run_tests
from bot.workspace.git import GitWorkspace
from bot.workspace.gitcli import run_git

log = logging.getLogger(__name__)


def baseline(services: StepServices, git: GitWorkspace, sha: str) -> TestResults:
    """The tests' results at `sha` (the base), cached; the clone is left where it was."""
    path = _cache_file(services, sha)
    try:
        return results_from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError):
        pass
    here = run_git(["rev-parse", "--abbrev-ref", "HEAD"], cwd=git.root).stdout.strip()
    if here == "HEAD":
        here = git.head_sha()
    moved = git.head_sha() != sha
    if moved:
        run_git(["checkout", "-q", "--detach", sha], cwd=git.root)
    try:
        results = run_tests(services, git).results
    finally:
        if moved:
            run_git(["checkout", "-q", here], cwd=git.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results_to_json(results)))
    log.info("baseline at %s: %s", sha[:12], results.summary)
    return results


def _cache_file(services: StepServices, sha: str) -> Path:
    crew = services.crew
    config = json.dumps(
        [crew.tests.model_dump(mode="json"), crew.environment.model_dump(mode="json")],
        sort_keys=True,
    )
    digest = hashlib.sha256(config.encode()).hexdigest()[:16]
    return services.work_root.parent / "baselines" / f"{sha}-{digest}.json"
