"""Slack channels as the outbox knows them: the name the crew posted under, and Slack's id.

Slack commands and events carry a channel's id, crew.toml its name; the outbox learns which id
a name has on its first post there, so only the outbox's rows can tell one from the other.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from bot.store.engine import Engine, reading_session
from bot.store.models import SlackMessage


def channel_name_of(engine: Engine, *, channel_id: str) -> str | None:
    """The (least) name the outbox posted under to the channel Slack calls `channel_id`."""
    query = select(func.min(SlackMessage.channel)).where(
        col(SlackMessage.channel_id) == channel_id, col(SlackMessage.channel) != channel_id
    )
    with reading_session(engine) as session:
        return session.exec(query).one()
