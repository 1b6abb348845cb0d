"""A drainer's hold on a Slack channel in the store: lease its due messages, record outcomes.

A drainer owns a channel while it holds leases on that channel's queued rows; claiming checks
that nobody else holds a live one, under row locks on PostgreSQL (`FOR UPDATE`) and the single
writer on SQLite, so two drainers never post to one channel at once and order holds.

Each write takes an engine (its own transaction) or a connection (a share of a group commit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, select, update

from bot.store.engine import Store, transaction
from bot.store.models import SlackMessage, SlackMessageStatus

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
    attempted_at: datetime | None = None  # set: an earlier post may have reached Slack


def claim_due_messages(
    store: Store,
    *,
    channel: str,
    worker_id: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    attempt_first: bool = False,
) -> list[OutboxMessage]:
    """Lease the channel's sendable prefix: its oldest queued messages up to the first that
    must wait (Retry-After, backoff). Empty when another drainer holds the channel.

    `attempt_first`: mark the first one attempted (`mark_attempted`) in the same commit, for a
    drainer about to post it; the messages returned say whether it was attempted before."""
    c = _message.c
    with transaction(store) as connection:
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
        if attempt_first:
            first = {"attempted_at": func.coalesce(c.attempted_at, now), "updated_at": now}
            connection.execute(update(_message).where(c.id == ids[0]).values(**first))
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
        attempted_at=row.attempted_at,
    )


def _finish(store: Store, message_id: int, worker_id: str, values: dict[str, Any]) -> bool:
    """Record an outcome, if this drainer still holds the message's lease."""
    c = _message.c
    values |= {"lease_owner": None, "lease_expires_at": None}
    owned = and_(c.id == message_id, c.status == QUEUED, c.lease_owner == worker_id)
    with transaction(store) as connection:
        return connection.execute(update(_message).where(owned).values(**values)).rowcount == 1


def mark_attempted(store: Store, *, message_id: int, worker_id: str, now: datetime) -> bool:
    """Before a post goes out: from now on an earlier attempt is in doubt (it may have reached
    Slack and not been recorded), so the next try looks for it first. False: the lease is lost
    and the post must not go out."""
    c = _message.c
    owned = and_(c.id == message_id, c.status == QUEUED, c.lease_owner == worker_id)
    values = {"attempted_at": func.coalesce(c.attempted_at, now), "updated_at": now}
    with transaction(store) as connection:
        return connection.execute(update(_message).where(owned).values(**values)).rowcount == 1


def _param(name: str, column: Any) -> Any:
    """A parameter typed as `column` (named apart from it: UPDATE keeps column names)."""
    return bindparam(f"p_{name}", type_=column.type)


# A drainer records every post: these are built once, as building them cost more than running
# them (SQLAlchemy's expressions and cache keys).
_c = _message.c
_OWNED = and_(
    _c.id == _param("message_id", _c.id),
    _c.status == QUEUED,
    _c.lease_owner == _param("worker_id", _c.lease_owner),
)
_NOW = _param("now", _c.updated_at)
_RECORD_SENT = (
    update(_message)
    .where(_OWNED)
    .values(
        status=case((_c.revision == _param("revision", _c.revision), SENT), else_=QUEUED),
        channel_id=_param("channel_id", _c.channel_id),
        ts=_param("ts", _c.ts),
        attempts=_c.attempts + 1,
        last_error=None,
        not_before=None,
        sent_at=func.coalesce(_c.sent_at, _NOW),
        updated_at=_NOW,
        lease_owner=None,
        lease_expires_at=None,
    )
)
_MARK_ATTEMPTED = (
    update(_message)
    .where(_OWNED)
    .values(attempted_at=func.coalesce(_c.attempted_at, _NOW), updated_at=_NOW)
)


def mark_sent(
    store: Store,
    *,
    message: OutboxMessage,
    worker_id: str,
    channel_id: str,
    ts: str,
    now: datetime,
    attempt_next: int | None = None,
) -> tuple[bool, bool]:
    """Record the post or edit; an enqueue that changed the text meanwhile keeps it queued.

    `attempt_next`: the channel's next message, marked attempted (`mark_attempted`) in the
    same commit, one write instead of two per post. (recorded, next marked), each only while
    this drainer holds the lease.
    """
    params = {"p_message_id": message.id, "p_worker_id": worker_id, "p_now": now}
    recorded = params | {"p_revision": message.revision, "p_channel_id": channel_id, "p_ts": ts}
    with transaction(store) as connection:
        sent = connection.execute(_RECORD_SENT, recorded).rowcount
        if attempt_next is None:
            return sent == 1, False
        marked = connection.execute(_MARK_ATTEMPTED, params | {"p_message_id": attempt_next})
    return sent == 1, marked.rowcount == 1


def mark_retry(
    store: Store,
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
    return _finish(store, message_id, worker_id, values)


def mark_failed(
    store: Store, *, message_id: int, worker_id: str, error: str, now: datetime
) -> bool:
    """Give up on the message, keeping it and the reason; `requeue_failed` brings it back."""
    values = {
        "status": FAILED,
        "last_error": error[-2000:],
        "attempts": _message.c.attempts + 1,
        "updated_at": now,
    }
    return _finish(store, message_id, worker_id, values)


def release(store: Store, *, message_ids: list[int], worker_id: str) -> None:
    """Hand back leased messages this drainer did not get to."""
    if not message_ids:
        return
    c = _message.c
    with transaction(store) as connection:
        connection.execute(
            update(_message)
            .where(c.id.in_(message_ids), c.lease_owner == worker_id)
            .values(lease_owner=None, lease_expires_at=None)
        )
