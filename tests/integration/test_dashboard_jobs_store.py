"""The store's reads for the Jobs page: states as shown (a queued job that failed before is
retrying), pages newest first by id, counts, and on SQLite the query plans: every filtered
page and each delivery's job go through an index, never a scan and sort of the whole queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from bot.store import queue
from bot.store.dashboard import recent_deliveries
from bot.store.dashboard_jobs import job_counts, job_row, job_rows
from bot.store.models import JobStatus


def _made(engine, count: int, *, kind: str = "housekeeping", **fields) -> list[int]:
    return [queue.enqueue(engine, kind=kind, **fields) for _ in range(count)]


def _fail(engine, *, max_attempts: int) -> int:
    job_id = queue.enqueue(engine, kind="github.event", max_attempts=max_attempts)
    job = queue.claim(engine, worker_id="w", lease_seconds=60, workers_limit=5)
    assert job is not None and job.id == job_id
    queue.fail(engine, job=job, worker_id="w", error="boom", backoff_seconds=3600)
    return job_id


def test_states_pages_and_counts(engine):
    dead = [_fail(engine, max_attempts=1) for _ in range(3)]
    retrying = _fail(engine, max_attempts=5)
    waiting = _made(engine, 4)
    assert [row.id for row in job_rows(engine, state="dead", limit=2)] == dead[:0:-1]
    older = job_rows(engine, state="dead", before=dead[1], limit=2)
    assert [row.id for row in older] == dead[:1]
    assert [row.id for row in job_rows(engine, state="retrying", limit=9)] == [retrying]
    assert [row.id for row in job_rows(engine, state="queued", limit=9)] == waiting[::-1]
    assert [row.id for row in job_rows(engine, limit=3)] == waiting[:0:-1]
    assert job_counts(engine) == {"queued": 4, "retrying": 1, "running": 0, "done": 0, "dead": 3}
    row = job_row(engine, retrying)
    assert row is not None and (row.state, row.error, row.attempts) == ("retrying", "boom", 1)
    assert job_row(engine, 10**9) is None


def test_a_jobs_run_is_read_from_its_arguments(engine):
    (run_job,) = _made(engine, 1, kind="crew.run", args={"run_id": 42})
    (odd,) = _made(engine, 1, kind="crew.run", args={"run_id": "42"})
    assert job_row(engine, run_job).run_id == 42
    assert job_row(engine, odd).run_id is None


@contextmanager
def _plans(engine) -> Iterator[list[str]]:
    """The query plan of every SELECT run meanwhile, one string each."""
    statements: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    plans: list[str] = []
    try:
        yield plans
    finally:
        event.remove(engine, "before_cursor_execute", keep)
        with engine.connect() as connection:
            for statement, parameters in statements:
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                plans.append(" | ".join(str(row[-1]) for row in rows))


def test_the_pages_query_through_indexes_on_sqlite(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans only: PostgreSQL picks plans by its statistics")
    _made(engine, 50)
    with _plans(engine) as plans:
        job_rows(engine, state=JobStatus.DEAD, limit=51)
        job_rows(engine, state="retrying", before=10, limit=51)
        job_counts(engine)
        recent_deliveries(engine, limit=51, payload_chars=100)
    for plan in plans[:2]:
        assert "USING INDEX ix_job_status_id" in plan and "TEMP B-TREE" not in plan, plan
    assert any("COVERING INDEX ix_job_status_id" in plan for plan in plans[2:4]), plans
    assert "USING COVERING INDEX ix_job_delivery" in plans[-1], plans[-1]
