"""questions: what agents asked each other and the humans during a step, and the answers

A question to a role is answered within the step; a question to the humans waits for the
first reply of someone with write access (the run waits in `awaiting_answer`) and is asked
again once a working day. Standups, the sprint review and the metrics read them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("run.id"), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("resume_state", sa.String(length=32), nullable=False),
        sa.Column("asker", sa.String(length=64), nullable=False),
        sa.Column("addressee", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=255), nullable=False),
        sa.Column("answered_via", sa.String(length=16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reasked_day", sa.String(length=10), nullable=False),
        sa.Column("told_readers", sa.Text(), nullable=False),
        sa.UniqueConstraint("key", name="uq_question_key"),
    )
    op.create_index("ix_question_run", "question", ["run_id"])
    op.create_index("ix_question_status", "question", ["status"])


def downgrade() -> None:
    op.drop_index("ix_question_status", table_name="question")
    op.drop_index("ix_question_run", table_name="question")
    op.drop_table("question")
