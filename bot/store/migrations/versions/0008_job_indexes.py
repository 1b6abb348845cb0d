"""job indexes for the dashboard: jobs of a state newest first, and the job of a delivery

The Jobs page lists one state newest first (`status = ? ORDER BY id DESC`), and the deliveries
page looks up each delivery's job; without these both scan every job (the queue keeps up to a
week of finished ones, 100k and more on a busy installation).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_job_status_id", "job", ["status", "id"])
    op.create_index("ix_job_delivery", "job", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_job_delivery", table_name="job")
    op.drop_index("ix_job_status_id", table_name="job")
