"""job lease index: the running jobs by lease expiry, for the claim of lease-expired jobs

Every claim also asks for running jobs whose lease has expired. Through `ix_job_due` that
read every `running` entry, and on PostgreSQL an entry stays until vacuum after its job has
moved on: while a worker drained 4,000 jobs, each round read all the jobs claimed before it
(about 4,000 entries a round, most of the store's CPU per job). A partial index in expiry order
holds only running jobs and reads from the oldest lease: a live job's lease lies ahead, so the
read stops at once. Partial, so the intake's insert of a queued job does not pay for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_index(
        "ix_job_lease",
        "job",
        ["lease_expires_at", "id"],
        postgresql_where=RUNNING,
        sqlite_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("ix_job_lease", table_name="job")
