"""sprint.review_job: the `sprint.review` job that holds the right to post the review

Two review jobs of one sprint (two deliveries, a close racing the last task's end) may run at
once; the one that sets this column, while no other running job holds it, posts and closes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sprint") as batch:
        batch.add_column(sa.Column("review_job", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sprint") as batch:
        batch.drop_column("review_job")
