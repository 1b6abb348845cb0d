"""What brings a sprint to its review besides its last task ending: the every-minute check
moves a sprint whose last day has passed to reviewing and queues its review, leaves one still
within its days to the scheduler, and queues a review lost to a crash again only after a while
(sooner, it could race the first one still asking the model)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from bot.sprints.control import REVIEW_RETRY, check_sprints
from bot.sprints.review import SPRINT_REVIEW_JOB
from bot.sprints.schedule import SPRINT_SCHEDULE_JOB
from bot.store import sprints as stored
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Job
from bot.store.sprint_models import Sprint

APPROVED = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _running(engine: Engine, *, days: int) -> int:
    sprint_id = stored.insert_sprint(engine, repo="o/r", goal="g", state="awaiting_approval")
    with engine.begin() as connection:
        table = Sprint.__table__  # type: ignore[attr-defined]
        connection.execute(update(table).where(table.c.id == sprint_id).values(days=days))
    stored.move_sprint(
        engine,
        sprint_id=sprint_id,
        expected="awaiting_approval",
        target="running",
        started_at=APPROVED,
    )
    return sprint_id


def _jobs(engine: Engine) -> list[tuple[str, int]]:
    table = Job.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.kind, table.c.args).order_by(table.c.id)).all()
    return [(kind, json.loads(args)["sprint_id"]) for kind, args in rows]


def test_the_last_day_passing_moves_the_sprint_to_its_review(tmp_path):
    engine = _engine(tmp_path / "checks.db")
    short, long = _running(engine, days=2), _running(engine, days=5)
    assert check_sprints(engine, now=APPROVED + timedelta(days=2, seconds=-1)) == [short, long]
    assert _jobs(engine) == [(SPRINT_SCHEDULE_JOB, short), (SPRINT_SCHEDULE_JOB, long)]

    check_sprints(engine, now=APPROVED + timedelta(days=2))
    assert stored.get_sprint(engine, short).state == "reviewing"
    assert stored.get_sprint(engine, long).state == "running"
    reason = stored.transitions(engine, short)[-1].reason
    assert reason == "the last day passed"
    assert _jobs(engine)[2:] == [(SPRINT_REVIEW_JOB, short), (SPRINT_SCHEDULE_JOB, long)]


def test_a_review_lost_to_a_crash_is_queued_again_only_after_a_while(tmp_path):
    engine = _engine(tmp_path / "lost.db")
    sprint_id = _running(engine, days=1)
    stored.move_sprint(engine, sprint_id=sprint_id, expected="running", target="reviewing")
    moved = stored.get_sprint(engine, sprint_id).updated_at.replace(tzinfo=UTC)
    check_sprints(engine, now=moved + REVIEW_RETRY - timedelta(seconds=1))
    assert _jobs(engine) == []
    check_sprints(engine, now=moved + REVIEW_RETRY)
    assert _jobs(engine) == [(SPRINT_REVIEW_JOB, sprint_id)]
