"""The Slack outbox in the store: enqueue by idempotency key, claim a channel, record outcomes.

A drainer owns a channel while it holds leases on that channel's queued rows; claiming checks
that nobody else holds a live one, under row locks on PostgreSQL (`FOR UPDATE`) and the single
writer on SQLite, so two drainers never post to one channel at once and order holds.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel import select as select_model

from bot.store.models import SlackMessage, SlackMessageStatus, utcnow

_message = SlackMessage.__table__  # type: ignore[attr-defined]
QUEUED, SENT, FAILED = SlackMessageStatus.QUEUED, SlackMessageStatus.SENT, SlackMessageStatus.FAILED


@dataclass(frozen=True)
class OutboxMessage:
    """A claimed message, with its thread resolved as far as the store can."""

    id: int
    key: str
    channel: str
    role: str
    text: str
    blocks: list[dict] | None
    revision: int
    attempts: int
    channel_id: str | None  # Slack's id of the channel, once posted
    ts: str | None  # set: the message is on Slack already and this is an edit
    parent: bool
    thread_key: str | None
    thread_ts: str | None  # the thread parent's ts, when it is on Slack
    waits_for: int | None  # the thread parent's id, when it is queued ahead in this batch


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


def channels_with_work(engine: Engine) -> list[str]:
    """Channels with queued messages, the one waiting longest first."""
    c = _message.c
    query = select(c.channel).where(c.status == QUEUED).group_by(c.channel).order_by(func.min(c.id))
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def claim_due_messages(
    engine: Engine,
    *,
    channel: str,
    worker_id: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
) -> list[OutboxMessage]:
    """Lease the channel's sendable prefix: its oldest queued messages up to the first that
    must wait (Retry-After, backoff). Empty when another drainer holds the channel."""
    c = _message.c
    with engine.begin() as connection:
        queued = connection.execute(
            select(c.id, c.lease_owner, c.lease_expires_at, c.not_before)
            .where(c.channel == channel, c.status == QUEUED)
            .order_by(c.id)
            .with_for_update()
        ).all()
        if any(
            row.lease_owner not in (None, worker_id)
            and row.lease_expires_at is not None
            and row.lease_expires_at > now
            for row in queued
        ):
            return []
        ready = takewhile(lambda row: row.not_before is None or row.not_before <= now, queued)
        ids = [row.id for row in ready][:limit]
        if not ids:
            return []
        rows = connection.execute(select(_message).where(c.id.in_(ids)).order_by(c.id)).all()
        parents = _parents(connection, channel, {row.thread_key for row in rows})
        connection.execute(
            update(_message)
            .where(c.id.in_(ids))
            .values(lease_owner=worker_id, lease_expires_at=now + timedelta(seconds=lease_seconds))
        )
    return [_outbox_message(row, parents.get(row.thread_key)) for row in rows]


def _parents(connection: Connection, channel: str, thread_keys: set[str | None]) -> dict[str, Any]:
    keys = sorted(key for key in thread_keys if key)
    if not keys:
        return {}
    c = _message.c
    rows = connection.execute(
        select(c.id, c.thread_key, c.ts, c.status)
        .where(c.channel == channel, c.parent.is_(True), c.thread_key.in_(keys))
        .order_by(c.id.desc())
    ).all()
    return {row.thread_key: row for row in rows}  # the oldest parent of a key wins


def _outbox_message(row: Any, parent: Any) -> OutboxMessage:
    thread_ts = waits_for = None
    if parent is not None and not row.parent and row.ts is None:
        if parent.ts is not None:
            thread_ts = parent.ts
        elif parent.status == QUEUED and parent.id < row.id:
            waits_for = parent.id
        # A parent that failed, or is queued behind its reply, leaves the reply unthreaded:
        # Slack does the same with an unknown thread_ts, and a message is never held forever.
    return OutboxMessage(
        id=row.id,
        key=row.key,
        channel=row.channel,
        role=row.role,
        text=row.text,
        blocks=json.loads(row.blocks) if row.blocks is not None else None,
        revision=row.revision,
        attempts=row.attempts,
        channel_id=row.channel_id,
        ts=row.ts,
        parent=row.parent,
        thread_key=row.thread_key,
        thread_ts=thread_ts,
        waits_for=waits_for,
    )


def _finish(engine: Engine, message_id: int, worker_id: str, values: dict[str, Any]) -> bool:
    """Record an outcome, if this drainer still holds the message's lease."""
    c = _message.c
    values |= {"lease_owner": None, "lease_expires_at": None}
    owned = and_(c.id == message_id, c.status == QUEUED, c.lease_owner == worker_id)
    with engine.begin() as connection:
        return connection.execute(update(_message).where(owned).values(**values)).rowcount == 1


def mark_sent(
    engine: Engine,
    *,
    message: OutboxMessage,
    worker_id: str,
    channel_id: str,
    ts: str,
    now: datetime,
) -> bool:
    """Record the post or edit; an enqueue that changed the text meanwhile keeps it queued."""
    c = _message.c
    values = {
        "status": case((c.revision == message.revision, SENT), else_=QUEUED),
        "channel_id": channel_id,
        "ts": ts,
        "attempts": c.attempts + 1,
        "last_error": None,
        "not_before": None,
        "sent_at": func.coalesce(c.sent_at, now),
        "updated_at": now,
    }
    return _finish(engine, message.id, worker_id, values)


def mark_retry(
    engine: Engine,
    *,
    message_id: int,
    worker_id: str,
    retry_after: float,
    error: str,
    now: datetime,
    attempted: bool = True,
) -> bool:
    """Hold the message (and so its channel) until `retry_after` seconds from now.

    `attempted=False` for a rate limit: waiting our turn is not the message's fault.
    """
    values = {
        "not_before": now + timedelta(seconds=retry_after),
        "last_error": error[-2000:],
        "attempts": _message.c.attempts + (1 if attempted else 0),
        "updated_at": now,
    }
    return _finish(engine, message_id, worker_id, values)


def mark_failed(
    engine: Engine, *, message_id: int, worker_id: str, error: str, now: datetime
) -> bool:
    """Give up on the message, keeping it and the reason; `requeue_failed` brings it back."""
    values = {
        "status": FAILED,
        "last_error": error[-2000:],
        "attempts": _message.c.attempts + 1,
        "updated_at": now,
    }
    return _finish(engine, message_id, worker_id, values)


def release(engine: Engine, *, message_ids: list[int], worker_id: str) -> None:
    """Hand back leased messages this drainer did not get to."""
    if not message_ids:
        return
    c = _message.c
    with engine.begin() as connection:
        connection.execute(
            update(_message)
            .where(c.id.in_(message_ids), c.lease_owner == worker_id)
            .values(lease_owner=None, lease_expires_at=None)
        )


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


def failed_with(engine: Engine, *, errors: Collection[str]) -> int:
    """How many messages failed with one of `errors` (and are kept for a retry)."""
    c = _message.c
    query = select(func.count()).where(c.status == FAILED, c.last_error.in_(list(errors)))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def failed_in_thread(engine: Engine, *, thread_key: str) -> list[tuple[str, str]]:
    """(key, Slack's reason) of a thread's messages that failed, oldest first."""
    c = _message.c
    query = (
        select(c.key, c.last_error)
        .where(c.thread_key == thread_key, c.status == FAILED)
        .order_by(c.id)
    )
    with engine.connect() as connection:
        return [(key, error or "") for key, error in connection.execute(query).all()]


def next_due_at(engine: Engine, *, now: datetime) -> datetime | None:
    """When a drain could next send something: the earliest channel head's time, or None."""
    c = _message.c
    heads = select(func.min(c.id)).where(c.status == QUEUED).group_by(c.channel)
    with engine.connect() as connection:
        waits = connection.execute(select(c.not_before).where(c.id.in_(heads))).scalars().all()
    if not waits:
        return None
    return min(max(wait, now) if wait is not None else now for wait in waits)


def message_by_key(engine: Engine, *, key: str) -> SlackMessage | None:
    """The stored message for `key`: its status, ts and last error."""
    with Session(engine) as session:
        return session.exec(select_model(SlackMessage).where(SlackMessage.key == key)).first()


def parent_thread_key(engine: Engine, *, channel_id: str, ts: str) -> str | None:
    """The thread key of the parent message Slack knows as (`channel_id`, `ts`), if it is ours."""
    query = select(_message.c.thread_key).where(
        _message.c.channel_id == channel_id, _message.c.ts == ts, _message.c.parent.is_(True)
    )
    with engine.connect() as connection:
        return connection.execute(query).scalars().first()
