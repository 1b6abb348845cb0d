"""job_queued: on PostgreSQL, a job inserted notifies the workers listening on repocrew_jobs

Workers in other processes than the one that queued a job (the web intake, another worker)
found it only at their next poll. A statement-level trigger notifies at commit, in every
process that writes jobs and at no extra round trip; SQLite has one process, whose workers are
rung in memory (`bot.store.wakeups`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION repocrew_job_queued() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('repocrew_jobs', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER job_queued AFTER INSERT ON job "
        "FOR EACH STATEMENT EXECUTE FUNCTION repocrew_job_queued()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS job_queued ON job")
    op.execute("DROP FUNCTION IF EXISTS repocrew_job_queued()")
