"""What is stored: installations, every received delivery (the audit log) and the job queue."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC timestamps; SQLModel stores them as UTC on SQLite and PostgreSQL."""
    return datetime.now(UTC)


class Installation(SQLModel, table=True):
    """A GitHub App installation, kept current from `installation*` events."""

    id: int = Field(primary_key=True, description="GitHub's installation id")
    account_login: str = Field(default="", max_length=255)
    account_type: str = Field(default="", max_length=32)
    app_id: int | None = None
    repository_selection: str = Field(default="", max_length=16)
    repositories: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, default=""),
        description="Newline-separated full names of the selected repositories",
    )
    suspended: bool = False
    deleted: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeliveryOutcome(StrEnum):
    QUEUED = "queued"
    IGNORED = "ignored"


class Delivery(SQLModel, table=True):
    """One received GitHub or Slack request, kept raw for the audit log and for the worker."""

    __table_args__ = (UniqueConstraint("source", "delivery_id", name="uq_delivery_source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16, description="github or slack")
    delivery_id: str = Field(max_length=128, description="X-GitHub-Delivery or Slack's id")
    event: str = Field(max_length=64, description="GitHub event name or Slack payload kind")
    action: str = Field(default="", max_length=64)
    installation_id: int | None = None
    # No index on time: ids grow with it, and every index costs the intake's write path.
    received_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(max_length=16)
    payload: str = Field(sa_column=Column(Text, nullable=False))


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(SQLModel, table=True):
    """A unit of durable work: claimed with a lease, retried with backoff, dead after N tries."""

    __table_args__ = (Index("ix_job_claim", "status", "run_after"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id")
    args: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    attempts: int = 0
    max_attempts: int = 5
    run_after: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
