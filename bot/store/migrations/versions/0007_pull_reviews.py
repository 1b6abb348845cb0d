"""pull reviews: the reviewer's memory of each pull request (last reviewed head, findings)

Automatic and incremental reviews need, per pull request, the head last reviewed, the newest
head a webhook announced, whether a review is under way, and the findings posted so far.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repo", sa.String(length=255), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("reviewed_sha", sa.String(length=64), nullable=False),
        sa.Column("wanted_sha", sa.String(length=64), nullable=False),
        sa.Column("busy_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("budget_note_day", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("repo", "pr_number", name="uq_pull_review_repo_pr"),
    )


def downgrade() -> None:
    op.drop_table("pull_review")
