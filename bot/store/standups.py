"""The standup rows: claim a channel's day once, take over a stalled one, record replies.

The (channel, day) unique key is the lock: whoever inserts the row posts the standup, and
the row keeps the posts it composed so that completing it later sends the very same words.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.engine import reading
from bot.store.models import SlackMessage, utcnow
from bot.store.standup_models import HumanUpdate, Standup

_standup = Standup.__table__  # type: ignore[attr-defined]
_update = HumanUpdate.__table__  # type: ignore[attr-defined]
_message = SlackMessage.__table__  # type: ignore[attr-defined]

POSTING, POSTED = "posting", "posted"
THREAD_PREFIX = "standup:"  # the outbox thread of a standup: standup:<channel>:<day>


@dataclass(frozen=True)
class StandupPost:
    """One outbox message of the standup."""

    key: str
    role: str
    text: str
    blocks: list[dict]
    context: str  # the small print under the post, kept when the words are polished
    parent: bool = False


@dataclass(frozen=True)
class StandupRow:
    id: int
    channel: str
    day: str
    status: str
    started_at: datetime
    posts: list[StandupPost]


def find_standup(engine: Engine, *, channel: str, day: str) -> StandupRow | None:
    with reading(engine) as connection:
        row = connection.execute(
            select(_standup).where(_standup.c.channel == channel, _standup.c.day == day)
        ).first()
    if row is None:
        return None
    posts = [StandupPost(**post) for post in json.loads(row.summary).get("posts", [])]
    return StandupRow(row.id, row.channel, row.day, row.status, row.started_at, posts)


def claim_standup(
    engine: Engine, *, channel: str, day: str, posts: list[StandupPost], now: datetime
) -> int | None:
    """Insert the (channel, day) row with the posts to send; None when another got there first."""
    summary = json.dumps({"posts": [asdict(post) for post in posts]}, ensure_ascii=False)
    try:
        with engine.begin() as connection:
            return connection.execute(
                insert(_standup)
                .values(channel=channel, day=day, status=POSTING, summary=summary, started_at=now)
                .returning(_standup.c.id)
            ).scalar_one()
    except IntegrityError:
        return None


def take_over(engine: Engine, *, standup_id: int, now: datetime, stale_after: timedelta) -> bool:
    """Claim a standup left half-posted for `stale_after`; of two takers only one wins."""
    c = _standup.c
    with engine.begin() as connection:
        return (
            connection.execute(
                update(_standup)
                .where(c.id == standup_id, c.status == POSTING, c.started_at <= now - stale_after)
                .values(started_at=now)
            ).rowcount
            == 1
        )


def mark_posted(engine: Engine, *, standup_id: int, now: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(_standup).where(_standup.c.id == standup_id).values(status=POSTED, posted_at=now)
        )


def previous_standup_day(engine: Engine, *, channel: str, before: str) -> str | None:
    """The day of the channel's last standup before `before` (its thread holds the replies)."""
    c = _standup.c
    with reading(engine) as connection:
        return connection.execute(
            select(func.max(c.day)).where(c.channel == channel, c.day < before)
        ).scalar()


def record_human_update(
    engine: Engine,
    *,
    channel: str,
    slack_user_id: str,
    message_ts: str,
    text: str,
    day: str | None = None,
    thread_ts: str | None = None,
) -> bool:
    """Keep a person's reply to a standup for the next one; False if kept before or if the
    thread is not a standup's.

    Name the standup by `day` (with `channel` as the standup names it), or by the `thread_ts`
    the reply is in (with `channel` as Slack's event gives it, an id). A redelivered event
    carries the same message ts and changes nothing.
    """
    if (day is None) == (thread_ts is None):
        raise TypeError("record_human_update needs day or thread_ts")
    if thread_ts is not None:
        found = standup_of_thread(engine, channel=channel, thread_ts=thread_ts)
        if found is None:
            return False
        channel, day = found
    values = {
        "channel": channel,
        "day": day,
        "slack_user_id": slack_user_id,
        "message_ts": message_ts,
        "text": text,
        "created_at": utcnow(),
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(_update).values(**values))
    except IntegrityError:
        return False
    return True


def standup_of_thread(engine: Engine, *, channel: str, thread_ts: str) -> tuple[str, str] | None:
    """(channel as the standup names it, day) of the standup whose opening is `thread_ts`."""
    c = _message.c
    with reading(engine) as connection:
        row = connection.execute(
            select(c.channel, c.thread_key).where(
                c.ts == thread_ts,
                c.parent.is_(True),
                c.thread_key.startswith(THREAD_PREFIX),
                or_(c.channel_id == channel, c.channel == channel),
            )
        ).first()
    if row is None:
        return None
    return row.channel, row.thread_key.rsplit(":", 1)[1]


def human_updates(engine: Engine, *, channel: str, day: str) -> list[tuple[str, str]]:
    """(Slack user id, text) of the replies to the channel's standup of `day`, in order."""
    c = _update.c
    with reading(engine) as connection:
        rows = connection.execute(
            select(c.slack_user_id, c.text)
            .where(c.channel == channel, c.day == day)
            .order_by(c.message_ts, c.id)
        ).all()
    return [(row.slack_user_id, row.text) for row in rows]
