"""Reads outside a transaction (`reading`): on PostgreSQL one round trip each, and the statements
psycopg prepared stay prepared; the connection goes back to the pool transactional again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bot.store.engine import reading
from bot.store.models import Job, utcnow
from bot.store.run_queries import active_run


def test_reads_keep_their_prepared_statements_on_postgresql(engine):
    """psycopg prepares a statement run five times on a connection, and forgets them all at a
    ROLLBACK, which every read in a transaction ended with."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite prepares nothing on a server")
    for _ in range(12):  # five or more on each pooled connection in turn
        assert active_run(engine, "octo-org/r", ended=["done"], issue=1) is None
    prepared = []
    for _ in range(3):
        with reading(engine) as connection:
            prepared += connection.execute(
                text("SELECT statement FROM pg_prepared_statements")
            ).scalars()
    assert any("FROM run" in statement for statement in prepared), prepared


def _add_job(connection) -> None:
    now = utcnow()
    connection.execute(
        Job.__table__.insert().values(
            kind="k", args="{}", status="queued", attempts=0, max_attempts=5,
            run_after=now, created_at=now, updated_at=now,
        )
    )  # fmt: skip


def _jobs(connection) -> int:
    return connection.execute(select(func.count()).select_from(Job)).scalar_one()


def test_a_connection_read_from_is_transactional_again_for_the_next_writer(engine):
    with reading(engine) as connection:
        assert _jobs(connection) == 0
    with pytest.raises(RuntimeError):
        with engine.begin() as connection:  # the pool's next use, on the same connection
            _add_job(connection)
            raise RuntimeError("the writer fails half-way")
    with reading(engine) as connection:
        assert _jobs(connection) == 0


def test_a_snapshot_read_sees_the_store_as_its_first_read_did(engine):
    """A report adding up several tables reads them all as of one moment (a standup, the
    collaboration metrics, a sprint review); plain reads each see the latest commit."""
    latest = 0 if engine.dialect.name == "sqlite" else 1  # SQLite reads in a transaction
    with reading(engine, snapshot=True) as report, reading(engine) as plain:
        assert (_jobs(report), _jobs(plain)) == (0, 0)
        with engine.begin() as connection:  # SQLite's writer does not wait for the readers
            _add_job(connection)
        assert (_jobs(report), _jobs(plain)) == (0, latest)


def test_a_read_does_not_wait_for_a_writer_in_its_transaction(engine):
    """On SQLite a read begins deferred: it reads the last commit beside a writer holding the
    write lock (an IMMEDIATE read would queue for the lock, up to the busy timeout)."""
    with engine.begin() as writer:
        _add_job(writer)
        with reading(engine) as connection:
            assert _jobs(connection) == 0
    with reading(engine) as connection:
        assert _jobs(connection) == 1
