"""Starting runs and assembling a run's services from the settings and the run's own row.

The crew configuration is copied into the run when it starts, so a resumed run behaves as it
began even if `crew.toml` changed meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from bot.llm.client import ModelClient
from bot.llm.loop import ModelPort
from bot.local_forge import LocalForge
from bot.ports.forge import Forge
from bot.roster.loader import REPO_CONFIG, apply_repo_overrides
from bot.roster.models import Crew
from bot.runs.states import TERMINAL, WAITING, RunState
from bot.runs.step_services import StepServices
from bot.security.secrets import scanner_for_settings
from bot.settings import Settings
from bot.store.models import Job, JobStatus, Run, utcnow
from bot.store.queue import enqueue
from bot.store.runs import create_run, get_run

CREW_RUN_JOB = "crew.run"
ORPHAN_AFTER = timedelta(minutes=5)

ForgeFactory = Callable[[Run, Settings], Forge]


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


def queue_run(engine: Engine, run_id: int, *, max_attempts: int = 5) -> int:
    """Queue the job that drives a run; one job carries it until it waits or ends.

    `max_attempts`: REPOCREW_JOB_MAX_ATTEMPTS where the caller has the settings.
    """
    return enqueue(engine, kind=CREW_RUN_JOB, args={"run_id": run_id}, max_attempts=max_attempts)


def requeue_orphaned_runs(
    engine: Engine, *, idle_for: timedelta = ORPHAN_AFTER, max_attempts: int = 5
) -> list[int]:
    """Queue a job for each working run that has none (returns their ids).

    A run is created and its job queued in two steps; a process killed between them leaves a
    run no worker will ever pick up, and a redelivered trigger sees it as already running.
    `idle_for` keeps a run that is being started right now out of it. Only GitHub runs: local
    ones are driven in the foreground by `repocrew run`, which has no job to lose.
    """
    working = [state.value for state in RunState if state not in TERMINAL | WAITING]
    runs, jobs = Run.__table__, Job.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        candidates = connection.execute(
            select(runs.c.id).where(
                runs.c.state.in_(working),
                runs.c.forge == "github",
                runs.c.updated_at < utcnow() - idle_for,
            )
        ).scalars()
        candidates = set(candidates)
        if not candidates:
            return []
        pending = connection.execute(
            select(jobs.c.args).where(
                jobs.c.kind == CREW_RUN_JOB,
                jobs.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
            )
        ).scalars()
        driven = {json.loads(args or "{}").get("run_id") for args in pending}
    orphans = sorted(candidates - driven)
    for run_id in orphans:
        queue_run(engine, run_id, max_attempts=max_attempts)
    return orphans


def local_forge_for(run: Run, settings: Settings) -> LocalForge:
    slug = hashlib.sha1(run.repo.encode()).hexdigest()[:12]
    return LocalForge(
        settings.work_dir / "local-forge" / f"{slug}.json",
        clone_url=run.clone_url,
        default_branch=default_branch(run.clone_url),
    )


def github_forge_for(run: Run, settings: Settings) -> Forge:
    from bot.github.gateway import forge_for

    crew = Crew.model_validate(json.loads(run.config))
    if run.installation_id is None:
        raise LookupError(f"run {run.id} on GitHub has no installation")
    return forge_for(settings, run.installation_id, run.repo, crew.roles.values())


FORGES: dict[str, ForgeFactory] = {"local": local_forge_for, "github": github_forge_for}


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


def model_for(settings: Settings) -> ModelPort | None:
    if settings.anthropic_api_key is None:
        return None
    return ModelClient(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
    )


def services_for(
    engine: Engine,
    settings: Settings,
    run_id: int,
    *,
    model: ModelPort | None = None,
    forge: Forge | None = None,
) -> StepServices:
    run = get_run(engine, run_id)
    crew = Crew.model_validate(json.loads(run.config))
    if forge is None:
        factory = FORGES.get(run.forge)
        if factory is None:
            raise LookupError(f"run {run_id} is on forge {run.forge!r}, which is not set up here")
        forge = factory(run, settings)
    return StepServices(
        engine=engine,
        crew=crew,
        forge=forge,
        model=model if model is not None else model_for(settings),
        scanner=scanner_for_settings(settings),
        work_root=settings.work_dir / "workspaces",
    )
