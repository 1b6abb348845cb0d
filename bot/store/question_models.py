"""What is stored about agents' questions (kept apart from `models` so each table module stays
small; the migrations' env registers it)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow

HUMANS = "humans"  # the addressee of a question to the people on the issue and in Slack


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class Question(SQLModel, table=True):
    """One question an agent asked during a step, to another role or to the humans, and its
    answer. `key` names it within its run and step attempt, so a step done again after a crash
    finds its question instead of asking twice."""

    __table_args__ = (
        UniqueConstraint("key", name="uq_question_key"),
        Index("ix_question_run", "run_id"),
        Index("ix_question_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, description="run:<id>:<ledger step>:q<n>")
    run_id: int = Field(foreign_key="run.id")
    # The sprint the run is a task of, when it is (filled by the sprints layer; no sprint: None).
    sprint_id: int | None = None
    step: str = Field(max_length=64, description="The step that asked, e.g. code-1")
    resume_state: str = Field(max_length=32, description="The run's state when it asked")
    asker: str = Field(max_length=64, description="The asking role's key")
    addressee: str = Field(max_length=64, description="A role's key, or humans")
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=QuestionStatus.OPEN, max_length=16)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str = Field(default="", max_length=255, description="Role key or person")
    answered_via: str = Field(default="", max_length=16, description="model, github or slack")
    asked_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None
    reasked_day: str = Field(default="", max_length=10, description="Last re-asked, UTC date")
    told_readers: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, default=""),
        description="Newline-separated people told once why their reply did not count",
    )
