"""Housekeeping: old finished jobs go, runs left without a job get one back, ended runs'
workspaces go."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from bot.roster.loader import load_crew
from bot.runs.lifecycle import CREW_RUN_JOB, crew_snapshot, queue_run
from bot.runs.progress import create_run, fail_run
from bot.runs.workspaces import workspaces_root
from bot.store import queue
from bot.store.models import Job, JobStatus, Run, utcnow
from bot.store.run_locks import driving
from bot.wiring import build_services
from jobs.handlers import HOUSEKEEPING_JOB, JOB_HANDLERS
from tests.conftest import make_settings


def _start(engine, task: str, forge: str = "github") -> int:
    config = crew_snapshot(load_crew(None))
    return create_run(engine, repo="octo-org/ages", task=task, forge=forge, config=config)


def _age(engine, run_id: int, minutes: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(updated_at=utcnow() - timedelta(minutes=minutes))
        )


def _crew_jobs(engine) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(select(Job.args).where(Job.kind == CREW_RUN_JOB)).scalars()
        return sorted(json.loads(args)["run_id"] for args in rows)


def _housekeep(engine, database_url) -> None:
    job = queue.claim(
        engine, worker_id="w", lease_seconds=30, workers_limit=5, skip_kinds=(CREW_RUN_JOB,)
    )
    assert job is not None and job.kind == HOUSEKEEPING_JOB
    JOB_HANDLERS[HOUSEKEEPING_JOB](job, build_services(make_settings(database_url), engine))


def test_a_run_left_without_its_job_gets_one_back_once(engine, database_url):
    orphan = _start(engine, "a run whose starter died before queueing it")
    driven = _start(engine, "a run with its job")
    queue_run(engine, driven)
    ended = _start(engine, "a run that ended")
    fail_run(engine, ended, reason="gone")
    fresh = _start(engine, "a run being started right now")
    foreground = _start(engine, "`repocrew run` drives this one itself", forge="local")
    for run_id in (orphan, driven, ended, foreground):
        _age(engine, run_id, minutes=30)

    queue.enqueue(engine, kind=HOUSEKEEPING_JOB)
    _housekeep(engine, database_url)
    assert _crew_jobs(engine) == sorted([driven, orphan])
    assert fresh not in _crew_jobs(engine)

    queue.enqueue(engine, kind=HOUSEKEEPING_JOB)
    _housekeep(engine, database_url)  # its job is queued now: not queued twice
    assert _crew_jobs(engine) == sorted([driven, orphan])
    with engine.connect() as connection:
        statuses = connection.execute(select(Job.status).where(Job.kind == CREW_RUN_JOB))
        assert set(statuses.scalars()) == {JobStatus.QUEUED}


def test_the_workspaces_of_ended_runs_are_removed_and_the_others_kept(
    engine, database_url, tmp_path
):
    settings = make_settings(database_url, work_dir=tmp_path / "work")
    root = workspaces_root(settings.work_dir)
    working = _start(engine, "a run not ended")
    ended = _start(engine, "a run that ended")
    fail_run(engine, ended, reason="gone")
    held = _start(engine, "a run that ended, its folder still in someone's hands")
    fail_run(engine, held, reason="gone")
    unknown = 999  # a folder the store knows no run of
    for run_id in (working, ended, held, unknown):
        (root / f"run-{run_id}" / ".git").mkdir(parents=True)
        (root / f"run-{run_id}" / "app.py").write_text("print('hi')\n")
    (root / "notes").mkdir()  # not a run's: left alone

    queue.enqueue(engine, kind=HOUSEKEEPING_JOB)
    job = queue.claim(
        engine, worker_id="w", lease_seconds=30, workers_limit=5, skip_kinds=(CREW_RUN_JOB,)
    )
    with driving(engine, held, lock_dir=root) as holding:
        assert holding
        JOB_HANDLERS[HOUSEKEEPING_JOB](job, build_services(settings, engine))

    left = sorted(path.name for path in root.iterdir() if path.is_dir())
    assert left == sorted(["notes", f"run-{working}", f"run-{held}"])
    assert (root / f"run-{working}" / "app.py").read_text() == "print('hi')\n"
