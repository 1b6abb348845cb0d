"""Migrations and models agree, and upgrading twice is harmless."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.store.migrate import current_revision, head_revision, is_current, upgrade


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_upgrade_is_idempotent(engine):
    upgrade(engine)
    assert is_current(engine)
    assert current_revision(engine) == head_revision()
