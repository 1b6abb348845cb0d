"""The Slack outbox in the store: enqueue by idempotency key, requeue failures, read the queue.

A drainer's side (leasing a channel's due messages, recording each outcome) is `slack_leases`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as select_model

from bot.store.engine import reading, reading_session
from bot.store.models import SlackMessage, SlackMessageStatus, utcnow

_message = SlackMessage.__table__  # type: ignore[attr-defined]
QUEUED, FAILED = SlackMessageStatus.QUEUED, SlackMessageStatus.FAILED


def enqueue_message(
    engine: Engine,
    *,
    channel: str,
    key: str,
    text: str,
    role: str,
    blocks: list[dict] | None = None,
    thread_key: str | None = None,
    parent: bool = False,
) -> int:
    """Queue a message, or change the one queued under `key` (an edit if it was sent).

    A key's channel and thread are fixed by its first enqueue. Enqueuing the same content
    again changes nothing, so a job that runs twice does not edit twice.
    """
    if not text.strip():
        raise ValueError("a Slack message needs fallback text (notifications and screen readers)")
    if parent and not thread_key:
        raise ValueError("a thread's parent needs the thread_key its replies name")
    encoded = json.dumps(blocks, ensure_ascii=False) if blocks is not None else None
    for _ in range(3):
        try:
            with engine.begin() as connection:
                return _upsert(connection, channel, key, text, role, encoded, thread_key, parent)
        except IntegrityError:
            continue  # a concurrent enqueue inserted the key first; update it instead
    raise RuntimeError(f"could not enqueue Slack message {key!r}")


def _upsert(
    connection: Connection,
    channel: str,
    key: str,
    text: str,
    role: str,
    blocks: str | None,
    thread_key: str | None,
    parent: bool,
) -> int:
    now = utcnow()
    c = _message.c
    row = connection.execute(
        select(c.id, c.status, c.text, c.blocks, c.role).where(c.key == key).with_for_update()
    ).first()
    if row is None:
        return connection.execute(
            insert(_message)
            .values(
                key=key,
                channel=channel,
                thread_key=thread_key,
                parent=parent,
                role=role,
                text=text,
                blocks=blocks,
                revision=1,
                status=QUEUED,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .returning(c.id)
        ).scalar_one()
    if (row.text, row.blocks, row.role) == (text, blocks, role) and row.status != FAILED:
        return row.id
    values: dict[str, Any] = {
        "text": text,
        "blocks": blocks,
        "role": role,
        "revision": c.revision + 1,
        "updated_at": now,
    }
    if row.status != QUEUED:
        values |= {"status": QUEUED, "attempts": 0, "not_before": None}
    connection.execute(update(_message).where(c.id == row.id).values(**values))
    return row.id


def requeue_failed(
    engine: Engine,
    *,
    channel: str | None = None,
    key: str | None = None,
    errors: Collection[str] | None = None,
) -> int:
    """Queue failed messages again (after fixing a token or a channel); returns how many.

    `errors`: only those that failed with one of these reasons (Slack's error codes).
    """
    c = _message.c
    where = [c.status == FAILED]
    if channel is not None:
        where.append(c.channel == channel)
    if key is not None:
        where.append(c.key == key)
    if errors is not None:
        where.append(c.last_error.in_(list(errors)))
    values = {"status": QUEUED, "attempts": 0, "not_before": None, "updated_at": utcnow()}
    with engine.begin() as connection:
        return connection.execute(update(_message).where(*where).values(**values)).rowcount


def channels_with_work(engine: Engine) -> list[str]:
    """Channels with queued messages, the one waiting longest first."""
    c = _message.c
    query = select(c.channel).where(c.status == QUEUED).group_by(c.channel).order_by(func.min(c.id))
    with reading(engine) as connection:
        return list(connection.execute(query).scalars())


def failed_with(engine: Engine, *, errors: Collection[str]) -> int:
    """How many messages failed with one of `errors` (and are kept for a retry)."""
    c = _message.c
    query = select(func.count()).where(c.status == FAILED, c.last_error.in_(list(errors)))
    with reading(engine) as connection:
        return int(connection.execute(query).scalar_one())


def failed_in_thread(engine: Engine, *, thread_key: str) -> list[tuple[str, str]]:
    """(key, Slack's reason) of a thread's messages that failed, oldest first."""
    c = _message.c
    query = (
        select(c.key, c.last_error)
        .where(c.thread_key == thread_key, c.status == FAILED)
        .order_by(c.id)
    )
    with reading(engine) as connection:
        return [(key, error or "") for key, error in connection.execute(query).all()]


def next_due_at(engine: Engine, *, now: datetime) -> datetime | None:
    """When a drain could next send something: the earliest channel head's time, or None."""
    c = _message.c
    heads = select(func.min(c.id)).where(c.status == QUEUED).group_by(c.channel)
    with reading(engine) as connection:
        waits = connection.execute(select(c.not_before).where(c.id.in_(heads))).scalars().all()
    if not waits:
        return None
    return min(max(wait, now) if wait is not None else now for wait in waits)


def message_by_key(engine: Engine, *, key: str) -> SlackMessage | None:
    """The stored message for `key`: its status, ts and last error."""
    with reading_session(engine) as session:
        return session.exec(select_model(SlackMessage).where(SlackMessage.key == key)).first()


def parent_thread_key(engine: Engine, *, channel_id: str, ts: str) -> str | None:
    """The thread key of the parent message Slack knows as (`channel_id`, `ts`), if it is ours."""
    query = select(_message.c.thread_key).where(
        _message.c.channel_id == channel_id, _message.c.ts == ts, _message.c.parent.is_(True)
    )
    with reading(engine) as connection:
        return connection.execute(query).scalars().first()


def thread_channel(engine: Engine, *, thread_key: str) -> str | None:
    """The channel an outbox thread lives in (its parent's), or None before it is queued."""
    c = _message.c
    query = select(c.channel).where(c.thread_key == thread_key, c.parent.is_(True)).order_by(c.id)
    with reading(engine) as connection:
        return connection.execute(query).scalars().first()
