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


def test_a_connection_read_from_is_transactional_again_for_the_next_writer(engine):
    with reading(engine) as connection:
        assert connection.execute(select(func.count()).select_from(Job)).scalar_one() == 0
    with pytest.raises(RuntimeError):
        with engine.begin() as connection:  # the pool's next use, on the same connection
            now = utcnow()
            connection.execute(
                Job.__table__.insert().values(
                    kind="k", args="{}", status="queued", attempts=0, max_attempts=5,
                    run_after=now, created_at=now, updated_at=now,
                )
            )  # fmt: skip
            raise RuntimeError("the writer fails half-way")
    with reading(engine) as connection:
        assert connection.execute(select(func.count()).select_from(Job)).scalar_one() == 0
