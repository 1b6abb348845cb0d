"""job failures: how many attempts failed, apart from those a dying worker lost

A retry waited `base × 2^(attempts − 1)`, and `attempts` counts the attempts of workers that
died holding the job too. After a few killed workers, one real failure waited minutes (with
a base of 2 s, over four minutes after seven kills). The backoff now doubles with each failure
only; the attempts still end a crash-looping job.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "job", sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )


def downgrade() -> None:
    op.drop_column("job", "failures")  # SQLite drops a column itself since 3.35
