"""What is stored about sprints: the sprint, its tasks (the graph) and every state change of
either, with when and why (kept apart from `models` so each table module stays small)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class Sprint(SQLModel, table=True):
    """A sprint: a goal on a tracking issue, planned into tasks. The row is the truth of its
    state (`bot.sprints.states`)."""

    __table_args__ = (
        Index("ix_sprint_state", "state"),
        Index("ix_sprint_tracking", "repo", "tracking_issue"),
    )

    id: int | None = Field(default=None, primary_key=True)
    repo: str = Field(max_length=255, description="owner/name")
    installation_id: int | None = None
    tracking_issue: int | None = Field(default=None, description="The issue the sprint lives on")
    goal: str = Field(sa_column=Column(Text, nullable=False))
    days: int = 5
    state: str = Field(default="planning", max_length=32)
    requested_by: str = Field(default="", max_length=255)
    config: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False, default="{}"),
        description="The crew configuration the sprint started with (JSON), for its runs",
    )
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = Field(default=None, description="Approved: tasks may start")
    finished_at: datetime | None = None
    review_job: int | None = Field(
        default=None, description="The `sprint.review` job that holds the right to post it"
    )


class SprintTask(SQLModel, table=True):
    """One task of a sprint: what the lead planned, the role that owns it, the tasks it waits
    for, and (once made) its GitHub issue and its run."""

    __tablename__ = "sprint_task"
    __table_args__ = (
        UniqueConstraint("sprint_id", "key", name="uq_sprint_task_key"),
        Index("ix_sprint_task_run", "run_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sprint_id: int = Field(foreign_key="sprint.id")
    key: str = Field(max_length=32, description="The plan's name for it, e.g. A")
    position: int = Field(default=0, description="Its place in the plan")
    title: str = Field(max_length=255)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    acceptance: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, default="[]"), description="JSON"
    )
    owner: str = Field(max_length=64, description="The role that codes it")
    depends_on: str = Field(
        default="[]",
        sa_column=Column(Text, nullable=False, default="[]"),
        description="JSON list of the keys of the tasks it waits for",
    )
    state: str = Field(default="pending", max_length=32)
    issue_number: int | None = None
    run_id: int | None = Field(default=None, foreign_key="run.id")
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SprintTransition(SQLModel, table=True):
    """Every state change of a sprint (`task` empty) or of one of its tasks: the timeline the
    standups, the review and the dashboard's state-by-day read."""

    __tablename__ = "sprint_transition"
    __table_args__ = (Index("ix_sprint_transition_sprint", "sprint_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sprint_id: int = Field(foreign_key="sprint.id")
    task: str = Field(default="", max_length=32, description="A task's key; empty: the sprint")
    from_state: str = Field(max_length=32)
    to_state: str = Field(max_length=32)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = Field(default_factory=utcnow)
