"""sprints: a sprint on a tracking issue, its tasks with their dependencies, and the timeline

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sprint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repo", sa.String(length=255), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=True),
        sa.Column("tracking_issue", sa.Integer(), nullable=True),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sprint_state", "sprint", ["state"])
    op.create_index("ix_sprint_tracking", "sprint", ["repo", "tracking_issue"])
    op.create_table(
        "sprint_task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sprint_id", sa.Integer(), sa.ForeignKey("sprint.id"), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("acceptance", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("depends_on", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("run.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sprint_id", "key", name="uq_sprint_task_key"),
    )
    op.create_index("ix_sprint_task_run", "sprint_task", ["run_id"])
    op.create_table(
        "sprint_transition",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sprint_id", sa.Integer(), sa.ForeignKey("sprint.id"), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sprint_transition_sprint", "sprint_transition", ["sprint_id"])


def downgrade() -> None:
    op.drop_index("ix_sprint_transition_sprint", table_name="sprint_transition")
    op.drop_table("sprint_transition")
    op.drop_index("ix_sprint_task_run", table_name="sprint_task")
    op.drop_table("sprint_task")
    op.drop_index("ix_sprint_tracking", table_name="sprint")
    op.drop_index("ix_sprint_state", table_name="sprint")
    op.drop_table("sprint")
