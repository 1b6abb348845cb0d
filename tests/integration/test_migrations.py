"""Migrations and models agree, and upgrading twice is harmless."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.store.engine import make_engine
from bot.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_current,
    upgrade,
)


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_upgrade_is_idempotent(engine):
    upgrade(engine)
    assert is_current(engine)
    assert current_revision(engine) == head_revision()


@pytest.mark.postgres
def test_processes_starting_together_take_turns_migrating_postgres(postgres_url):
    """Web, worker and scheduler each migrate on start; on one fresh database none may fail."""
    engines = [make_engine(postgres_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            for outcome in [pool.submit(upgrade, engine) for engine in engines]:
                outcome.result(timeout=60)
        assert is_current(engines[0])
    finally:
        for engine in engines:
            engine.dispose()


def test_the_job_indexes_come_and_go_with_their_migration(engine):
    def job_indexes() -> set[str]:
        return {index["name"] for index in inspect(engine).get_indexes("job")}

    assert {"ix_job_status_id", "ix_job_delivery"} <= job_indexes()
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert job_indexes() == {"ix_job_claim"}
    upgrade(engine)
    assert {"ix_job_status_id", "ix_job_delivery"} <= job_indexes()
