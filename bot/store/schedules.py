"""Standup schedules in the store: a channel's own time (`/crew standup schedule`), one row each.

The store only keeps the text the command validated; `bot.standups.schedule` parses it and
falls back to crew.toml for a channel without a row.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store.engine import Engine, reading_session
from bot.store.models import utcnow
from bot.store.standup_models import StandupSchedule


def save_schedule(engine: Engine, *, channel: str, cron: str, timezone: str) -> None:
    """Insert or replace `channel`'s schedule; losing an insert race to another command updates."""
    row = StandupSchedule(channel=channel, cron=cron, timezone=timezone, updated_at=utcnow())
    for _ in range(2):
        try:
            with Session(engine) as session:
                session.merge(row)
                session.commit()
            return
        except IntegrityError:  # another command inserted the channel first: update it
            continue
    raise RuntimeError(f"could not set the standup schedule of {channel}")


def saved_schedules(engine: Engine) -> list[StandupSchedule]:
    """Every channel's own schedule row, detached."""
    with reading_session(engine) as session:
        return list(session.exec(select(StandupSchedule)).all())
