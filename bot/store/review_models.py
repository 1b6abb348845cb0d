"""What is stored about reviews of people's pull requests (kept apart from `models` so each
table module stays small; the migrations' env registers both)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class PullReview(SQLModel, table=True):
    """The reviewer's memory of one pull request across reviews: the head it last reviewed, the
    newest head a webhook announced, who is reviewing now, and the findings it posted."""

    __tablename__ = "pull_review"
    __table_args__ = (UniqueConstraint("repo", "pr_number", name="uq_pull_review_repo_pr"),)

    id: int | None = Field(default=None, primary_key=True)
    repo: str = Field(max_length=255)
    pr_number: int
    reviewed_sha: str = Field(default="", max_length=64, description="Last head reviewed")
    wanted_sha: str = Field(default="", max_length=64, description="Newest head announced")
    busy_since: datetime | None = Field(default=None, description="A review run is on it")
    findings: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False, default="{}"),
        description="JSON: fingerprint → path, line, code, label, status (open or resolved)",
    )
    budget_note_day: str = Field(default="", max_length=10, description="Budget note posted")
    updated_at: datetime = Field(default_factory=utcnow)
