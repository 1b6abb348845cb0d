"""Starting runs: a local run, the job that drives a run, and runs a killed process orphaned.

The crew configuration is copied into the run when it starts, so a resumed run behaves as it
began even if `crew.toml` changed meanwhile.
"""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

from bot.roster.loader import REPO_CONFIG, apply_repo_overrides
from bot.roster.models import Crew
from bot.runs.progress import create_run
from bot.runs.states import TERMINAL, WAITING, RunState
from bot.store import queue, run_queries
from bot.store.engine import Engine
from bot.store.models import utcnow

CREW_RUN_JOB = "crew.run"
ORPHAN_AFTER = timedelta(minutes=5)


class RepositoryNotFound(ValueError):
    """`repocrew run` was given a path that is not a git repository."""


def crew_snapshot(crew: Crew) -> dict:
    return crew.model_dump(mode="json", by_alias=True)


def start_local_run(
    engine: Engine, *, crew: Crew, repo: Path | str, task: str, title: str = "", by: str = ""
) -> int:
    """A run on a local git repository (a path or URL); posts go to a local forge file.

    As on GitHub, the repository's own `.repocrew.toml` on its default branch tunes the crew.
    """
    location = str(Path(repo).resolve()) if Path(str(repo)).exists() else str(repo)
    if (overrides := _default_branch_file(location, REPO_CONFIG)) is not None:
        crew = apply_repo_overrides(crew, overrides, source=REPO_CONFIG)
    return create_run(
        engine,
        repo=location,
        clone_url=location,
        title=title or task.splitlines()[0][:120],
        task=task,
        requested_by=by,
        forge="local",
        config=crew_snapshot(crew),
    )


def check_local_repository(repo: str) -> None:
    """Refuse a path that is not a git repository before a run exists that could only fail
    (a URL is left to the clone)."""
    if _is_url(repo):
        return
    path = Path(repo).resolve()
    if not path.is_dir():
        raise RepositoryNotFound(f"{repo}: no such directory; give a git repository's path or URL")
    found = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--git-dir"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    if found.returncode != 0:
        raise RepositoryNotFound(f"{repo} is not a git repository (`git init` makes one)")


def _is_url(repo: str) -> bool:
    """`https://…`, `file://…`, `ssh://…` or git's `user@host:path`."""
    return "://" in repo or re.match(r"^[\w.-]+@[\w.-]+:", repo) is not None


def queue_run(engine: Engine, run_id: int) -> int:
    """Queue the job that drives a run; one job carries it until it waits or ends. Its
    attempts (killed ones count too) are the claiming worker's REPOCREW_JOB_MAX_ATTEMPTS."""
    return queue.enqueue(engine, kind=CREW_RUN_JOB, args={"run_id": run_id})


def requeue_orphaned_runs(engine: Engine, *, idle_for: timedelta = ORPHAN_AFTER) -> list[int]:
    """Queue a job for each working run that has none (returns their ids).

    A run is created and its job queued in two steps; a process killed between them leaves a
    run no worker will ever pick up, and a redelivered trigger sees it as already running.
    `idle_for` keeps a run that is being started right now out of it. Only GitHub runs: local
    ones are driven in the foreground by `repocrew run`, which has no job to lose.
    """
    working = [state.value for state in RunState if state not in TERMINAL | WAITING]
    candidates = run_queries.idle_run_ids(
        engine, states=working, forge="github", idle_since=utcnow() - idle_for
    )
    if not candidates:
        return []
    driven = {args.get("run_id") for args in queue.pending_args(engine, kind=CREW_RUN_JOB)}
    orphans = sorted(candidates - driven)
    for run_id in orphans:
        queue_run(engine, run_id)
    return orphans


def _default_branch_file(url: str, path: str) -> str | None:
    """A file of a local repository's HEAD commit, or None (no such file, or not local)."""
    try:
        found = subprocess.run(
            ["git", "-C", url, "show", f"HEAD:{path}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return found.stdout if found.returncode == 0 else None


def default_branch(url: str) -> str:
    """The branch HEAD points at in a local repository (main when it cannot tell)."""
    try:
        found = subprocess.run(
            ["git", "-C", url, "symbolic-ref", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "main"
    return found.stdout.strip() or "main"
