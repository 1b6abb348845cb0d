"""What is stored about standups: each channel's schedule, each standup posted and the humans'
updates in its thread (kept apart from `models` so each table module stays small)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class StandupSchedule(SQLModel, table=True):
    """When a channel holds its standup (`/crew standup schedule`); crew.toml gives defaults."""

    __tablename__ = "standup_schedule"

    channel: str = Field(primary_key=True, max_length=255)
    cron: str = Field(max_length=64, description='e.g. "0 9 * * 1-5"')
    timezone: str = Field(max_length=64, description="IANA zone, e.g. Europe/Berlin")
    updated_at: datetime = Field(default_factory=utcnow)


class Standup(SQLModel, table=True):
    """One standup of one channel on one day: the unique key that makes it happen once."""

    __table_args__ = (UniqueConstraint("channel", "day", name="uq_standup_channel_day"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=255)
    day: str = Field(max_length=10, description="The channel's local date, YYYY-MM-DD")
    status: str = Field(default="posting", max_length=16, description="posting or posted")
    summary: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, default="{}"), description="JSON"
    )
    started_at: datetime = Field(default_factory=utcnow)
    posted_at: datetime | None = None


class HumanUpdate(SQLModel, table=True):
    """A person's own update posted in a standup thread; shown in the next summary."""

    __tablename__ = "human_update"
    __table_args__ = (UniqueConstraint("channel", "message_ts", name="uq_human_update_message"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=255)
    day: str = Field(max_length=10)
    slack_user_id: str = Field(max_length=32)
    message_ts: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
