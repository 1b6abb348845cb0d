"""What is stored: installations, deliveries (the audit log), the job queue and the team runs."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
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


_RUNNING = text("status = 'running'")
_RUNNING_ONLY = {"postgresql_where": _RUNNING, "sqlite_where": _RUNNING}


class Job(SQLModel, table=True):
    """A unit of durable work: claimed with a lease, retried with backoff, dead after N tries."""

    __table_args__ = (
        Index("ix_job_due", "status", "run_after", "id"),  # claims: the job due first
        Index("ix_job_status_id", "status", "id"),  # the dashboard: one state, newest first
        Index("ix_job_delivery", "delivery_id"),
        # Lease-expired claims: only running jobs, the oldest lease first (migration 0014).
        Index("ix_job_lease", "lease_expires_at", "id", **_RUNNING_ONLY),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id")
    args: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    attempts: int = 0
    # The attempts that failed (a worker dying holding the job is no failure): the backoff's.
    failures: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    max_attempts: int = 0  # 0: the worker's REPOCREW_JOB_MAX_ATTEMPTS decides (queue.WORKERS_LIMIT)
    run_after: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Run(SQLModel, table=True):
    """A team run: one task moving through the crew's steps. The row is the truth of its state."""

    __table_args__ = (Index("ix_run_state", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    forge: str = Field(default="local", max_length=16, description="local or github")
    repo: str = Field(max_length=255, description="owner/name, or a local repository's path")
    clone_url: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    installation_id: int | None = None
    issue_number: int | None = None
    title: str = Field(default="", max_length=255)
    task: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    requested_by: str = Field(default="", max_length=255)
    state: str = Field(default="queued", max_length=32)
    mode: str = Field(
        default="full", max_length=16, description="full, plan (stop after research) or review"
    )
    branch: str = Field(default="", max_length=255)
    pr_number: int | None = None
    fix_rounds: int = 0
    config: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False, default="{}"),
        description="The crew configuration the run started with (JSON), so a resume is stable",
    )
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class RunTransition(SQLModel, table=True):
    """Every state change of a run, with when and why (the run's timeline)."""

    __table_args__ = (Index("ix_run_transition_run", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    from_state: str = Field(max_length=32)
    to_state: str = Field(max_length=32)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = Field(default_factory=utcnow)


class StepOutput(SQLModel, table=True):
    """What a finished step produced (plan, review, test report, ...): the team's shared memory."""

    __table_args__ = (UniqueConstraint("run_id", "step", name="uq_step_output_run_step"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    step: str = Field(max_length=64, description="e.g. plan, code, review-1, fix-1, test-2")
    role: str = Field(max_length=64)
    content: str = Field(sa_column=Column(Text, nullable=False), description="JSON")
    created_at: datetime = Field(default_factory=utcnow)


class ModelCall(SQLModel, table=True):
    """One model request and reply (redacted), with its tokens and cost: transcript and ledger."""

    __table_args__ = (
        UniqueConstraint("run_id", "step", "seq", name="uq_model_call_run_step_seq"),
        Index("ix_model_call_day", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    step: str = Field(max_length=64)
    role: str = Field(max_length=64)
    seq: int
    request_key: str = Field(max_length=64, description="hash the replay cache matches on")
    model: str = Field(max_length=128)
    request: str = Field(sa_column=Column(Text, nullable=False), description="JSON, redacted")
    response: str = Field(sa_column=Column(Text, nullable=False), description="JSON, redacted")
    tool_results: str = Field(
        default="[]",
        sa_column=Column(Text, nullable=False, default="[]"),
        description="JSON: the tool results this reply led to, as the model was shown them",
    )
    stop_reason: str = Field(default="", max_length=32)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0
    day: str = Field(max_length=10, description="UTC date, for the daily budget")
    created_at: datetime = Field(default_factory=utcnow)


class Vote(SQLModel, table=True):
    """One role's vote on a run's result."""

    __table_args__ = (UniqueConstraint("run_id", "round", "role", name="uq_vote_run_round_role"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    round: int = 1
    role: str = Field(max_length=64)
    decision: str = Field(max_length=32, description="approve or request_changes")
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class SystemFlag(SQLModel, table=True):
    """Process-wide switches kept in the store, e.g. new runs paused after a model spend limit."""

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    set_at: datetime = Field(default_factory=utcnow)


class SlackMessageStatus(StrEnum):
    QUEUED = "queued"  # Slack does not show this text yet: to post (no ts) or to update (ts)
    SENT = "sent"
    FAILED = "failed"  # Slack refused it; kept with the reason until someone requeues it


class SlackMessage(SQLModel, table=True):
    """One message of the Slack outbox: queued by the crew, sent in order per channel."""

    __tablename__ = "slack_message"
    __table_args__ = (
        UniqueConstraint("key", name="uq_slack_message_key"),
        Index("ix_slack_message_due", "status", "channel", "id"),
        Index("ix_slack_message_thread", "channel", "thread_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, description="Idempotency key, e.g. run:12:step:plan-1")
    channel: str = Field(max_length=255, description="As the caller named it: id or #name")
    channel_id: str | None = Field(default=None, max_length=32, description="Slack's, once sent")
    thread_key: str | None = Field(default=None, max_length=255, description="e.g. run:12")
    parent: bool = Field(default=False, description="Opens the thread of thread_key")
    role: str = Field(default="", max_length=64, description="Persona key in the crew")
    text: str = Field(sa_column=Column(Text, nullable=False))
    blocks: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    revision: int = Field(default=1, description="Bumped by every enqueue of the same key")
    status: str = Field(default=SlackMessageStatus.QUEUED, max_length=16)
    ts: str | None = Field(default=None, max_length=32)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    not_before: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    attempted_at: datetime | None = Field(default=None, description="First send; set: in doubt")


class SlackLink(SQLModel, table=True):
    """Who a Slack user is on GitHub, proven with GitHub's device flow (`/crew link`).

    `github_user_id` is GitHub's id of the account that approved the link; `github_login` is
    its login at that moment. A GitHub account links to one Slack user per team.
    """

    __tablename__ = "slack_link"
    __table_args__ = (
        UniqueConstraint("team_id", "github_user_id", name="uq_slack_link_github_user"),
    )

    team_id: str = Field(primary_key=True, max_length=32)
    slack_user_id: str = Field(primary_key=True, max_length=32)
    github_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    github_login: str = Field(max_length=64)
    linked_at: datetime = Field(default_factory=utcnow)
