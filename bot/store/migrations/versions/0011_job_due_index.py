"""job claim index in claim order: (status, run_after, id)

A claim takes the queued job due first (`ORDER BY run_after, id LIMIT 1`). With the index on
(status, run_after) alone, and the queued and the lease-expired jobs asked for in one OR, each
claim read and sorted every queued job: its cost grew with the backlog. In claim order, the
first entry is the job.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_job_due", "job", ["status", "run_after", "id"])
    op.drop_index("ix_job_claim", table_name="job")


def downgrade() -> None:
    op.create_index("ix_job_claim", "job", ["status", "run_after"])
    op.drop_index("ix_job_due", table_name="job")
