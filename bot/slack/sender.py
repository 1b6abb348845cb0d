"""Sending one channel's claimed batch, oldest first, each post once.

A post carries its outbox key (`post_marks`), its first attempt is recorded before it goes
out, and a post whose earlier attempt is in doubt is looked for on Slack by that key before it
is sent again. A 429 either parks the channel in the store until Retry-After (the next drain
goes on) or, while the drain may wait that long, pauses the batch where it is: the lease is
kept, nothing is written, the refused post is known not to be on Slack, and from then on the
channel posts on the slots of `pacing` (Retry-After, then Slack's documented rate).
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ports.slack import (
    Persona,
    Posted,
    Poster,
    PostMark,
    RateLimited,
    Rejected,
    Unavailable,
)
from bot.slack.pacing import Pace
from bot.store import slack_leases as leases
from bot.store.engine import DatabaseError, Engine, Store
from bot.store.slack_leases import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # transient failures before a message is failed for an operator to look at
BACKOFF_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
# How long to keep trying to record a post as sent while the store is away (seconds each).
RECORD_RETRY_SECONDS = (0.5, 1, 2, 4, 8)
# A post in doubt is looked for in the channel's history from its first attempt on, less this
# much for the difference between our clock and Slack's.
LOOKUP_MARGIN_SECONDS = 600.0


@dataclass
class DrainReport:
    """What one drain did, and when the next one has something to do (None: nothing queued)."""

    posted: int = 0
    edited: int = 0
    found: int = 0  # posts in doubt found on Slack already, recorded and not sent again
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, Slack's reason)
    deferred: dict[str, datetime] = field(default_factory=dict)  # channel → not before
    next_due: datetime | None = None

    def add(self, other: DrainReport) -> None:
        self.posted += other.posted
        self.edited += other.edited
        self.found += other.found
        self.failed += other.failed
        self.deferred |= other.deferred


@dataclass
class Batch:
    """A channel's claimed messages and how far through them the sender is."""

    messages: list[OutboxMessage]
    deadline: datetime  # well inside the lease, so nobody takes the channel over mid-batch
    at: int = 0
    thread_ts: dict[int, str | None] = field(default_factory=dict)  # parent id → ts (None: failed)
    # Marked attempted in this drain, under this lease (with the post before, or 429'd since).
    marked: set[int] = field(default_factory=set)
    parked: bool = False  # stopped early: rate limited, backing off, or a parent unsent
    tried: int = 0  # once done: how many messages it tried (the rest were handed back)

    @property
    def done(self) -> bool:
        return self.at >= len(self.messages)


# Asked on a 429 whether to wait `seconds` in this drain (True) or park the channel (False).
Patience = Callable[[float, Batch], bool]
# Runs one store write (a `slack_leases` function taking the store) and returns its result: on
# the engine itself, or shared with other drainers' writes in one commit (`GroupCommit`).
Writer = Callable[[Callable[[Store], Any]], Any]


class ChannelSender:
    """Sends batches of one channel; `report` counts what it did."""

    def __init__(
        self,
        engine: Engine,
        poster: Poster,
        personas: Mapping[str, Persona],
        now: Callable[[], datetime],
        worker_id: str | None,
        lease_seconds: float,
        patience: Patience = lambda _seconds, _batch: False,
        write: Writer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.poster, self.personas, self.now = engine, poster, personas, now
        self.worker_id = worker_id or f"slack-drain-{uuid.uuid4().hex[:12]}"
        self.lease_seconds = lease_seconds
        self.patience = patience
        # Every store write goes through here: on SQLite (one writer, a disk flush per commit)
        # the drainers' writes share commits instead of queueing for one each.
        self.write: Writer = write or (lambda statements: statements(engine))
        self.clock, self.pace = clock, Pace()  # after a 429: when the next post may go
        self.record_retry_seconds: Sequence[float] = RECORD_RETRY_SECONDS
        self.report = DrainReport()

    def batch(self, messages: list[OutboxMessage]) -> Batch:
        return Batch(messages, self.now() + timedelta(seconds=self.lease_seconds / 2))

    def send(self, batch: Batch) -> float | None:
        """Go on through the batch; the seconds to pause before going on (0: after the first
        post, so other channels post their first too), or None when it is done (every message
        tried, or the rest handed back)."""
        while not batch.done:
            if (wait := self.pace.wait(at=self.clock())) > 0:
                return wait  # Slack refused a post to this channel: on its slots from then on
            message = batch.messages[batch.at]
            parent_ts = message.thread_ts
            if message.waits_for is not None:
                if message.waits_for not in batch.thread_ts:
                    return self._park(batch, batch.at)  # its parent is still unsent
                parent_ts = batch.thread_ts[message.waits_for]
            if self.now() >= batch.deadline:
                return self._park(batch, batch.at)
            try:
                posted, go_on = self._send(message, parent_ts, batch)
            except RateLimited as limited:
                if self.patience(limited.retry_after, batch):
                    batch.marked.add(message.id)  # Slack refused it: surely not posted
                    return self.pace.refused(at=self.clock(), retry_after=limited.retry_after)
                self._retry(message, limited.retry_after, limited.reason, attempted=False)
                return self._park(batch, batch.at + 1)
            batch.thread_ts[message.id] = posted.ts if posted else None
            batch.at += 1
            self.pace.posted(at=self.clock())
            if not go_on:
                return self._park(batch, batch.at)
            if batch.at == 1 and not batch.done:
                return 0.0  # every channel's first post before any channel's second
        batch.tried = len(batch.messages)
        return None

    def _park(self, batch: Batch, tried: int) -> None:
        rest = [message.id for message in batch.messages[tried:]]
        self.write(functools.partial(leases.release, message_ids=rest, worker_id=self.worker_id))
        batch.at, batch.parked, batch.tried = len(batch.messages), True, tried
        return None

    def _send(
        self, message: OutboxMessage, thread_ts: str | None, batch: Batch
    ) -> tuple[Posted | None, bool]:
        """Post or edit one message; (where it is, whether the channel may go on)."""
        persona = self.personas.get(message.role)
        try:
            if message.ts is None:
                if (posted := self._post_once(message, persona, thread_ts, batch)) is None:
                    log.warning("lost the lease on Slack message %s before sending", message.key)
                    return None, False
            else:
                posted = Posted(message.channel_id or message.channel, message.ts)
                self._update(message, posted, persona)
        except Unavailable as error:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                self._fail(message, f"gave up after {MAX_ATTEMPTS} attempts: {error.reason}")
            else:
                delay = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2**message.attempts)
                self._retry(message, delay, error.reason, attempted=True)
            return None, False
        except Rejected as error:
            self._fail(message, error.reason)
            return None, True
        kept = self._record_sent(message, posted, batch)
        if not kept:
            log.warning("lost the lease on Slack message %s while sending it", message.key)
        return posted, True

    def _post_once(
        self, message: OutboxMessage, persona: Persona | None, thread_ts: str | None, batch: Batch
    ) -> Posted | None:
        """Post the message, unless an earlier attempt already did (looked up by its key);
        None when the lease was lost before it could be sent."""
        if message.attempted_at is not None:
            found = self._find(message, persona, thread_ts)
            if found is not None:
                posted = Posted(found.channel, found.ts)
                if found.revision != message.revision:
                    self._update(message, posted, persona)
                self.report.found += 1
                log.info("Slack message %s was posted already; not sent again", message.key)
                return posted
        # From here on the post is in doubt until it is recorded: a retry looks for it first.
        if message.id not in batch.marked:
            marked = self.write(
                functools.partial(
                    leases.mark_attempted,
                    message_id=message.id,
                    worker_id=self.worker_id,
                    now=self.now(),
                )
            )
            if not marked:
                return None
        posted = self.poster.post(
            message.channel,
            message.text,
            message.blocks,
            persona,
            thread_ts,
            PostMark(message.key, message.revision),
        )
        self.report.posted += 1
        return posted

    def _find(self, message: OutboxMessage, persona: Persona | None, thread_ts: str | None):
        first = message.attempted_at or self.now()
        first = first if first.tzinfo else first.replace(tzinfo=UTC)  # SQLite's is naive UTC
        try:
            return self.poster.find_posted(
                message.channel,
                message.key,
                persona=persona,
                thread_ts=thread_ts,
                oldest=first.timestamp() - LOOKUP_MARGIN_SECONDS,
            )
        except Rejected as refused:
            if refused.code != "missing_scope":
                raise
            # Without the history scopes it cannot look: post, at the risk of a repeat (doctor).
            log.warning("cannot look for Slack message %s first: %s", message.key, refused)
            return None

    def _update(self, message: OutboxMessage, posted: Posted, persona: Persona | None) -> None:
        mark = PostMark(message.key, message.revision)
        self.poster.update(posted.channel, posted.ts, message.text, message.blocks, persona, mark)
        self.report.edited += 1

    def _record_sent(self, message: OutboxMessage, posted: Posted, batch: Batch) -> bool:
        """Mark the message sent (and the next new post attempted, in the same write), riding
        out a brief store outage (else the next drain finds the post on Slack by its key)."""
        after = batch.messages[batch.at + 1] if batch.at + 1 < len(batch.messages) else None
        record = functools.partial(
            leases.mark_sent,
            message=message,
            worker_id=self.worker_id,
            channel_id=posted.channel,
            ts=posted.ts,
            attempt_next=after.id if after is not None and after.ts is None else None,
        )
        for delay in self.record_retry_seconds:
            try:
                recorded = self.write(functools.partial(record, now=self.now()))
                break
            except DatabaseError:
                log.warning("could not mark Slack message %s sent; trying again", message.key)
                time.sleep(delay)
        else:
            recorded = self.write(functools.partial(record, now=self.now()))  # else the job fails
        sent, next_marked = recorded
        if next_marked and after is not None:
            batch.marked.add(after.id)
        return sent

    def _retry(self, message: OutboxMessage, delay: float, reason: str, *, attempted: bool):
        now = self.now()
        self.write(
            functools.partial(
                leases.mark_retry,
                message_id=message.id,
                worker_id=self.worker_id,
                retry_after=delay,
                error=reason,
                now=now,
                attempted=attempted,
            )
        )
        self.report.deferred[message.channel] = now + timedelta(seconds=delay)

    def _fail(self, message: OutboxMessage, reason: str) -> None:
        log.warning("Slack message %s to %s failed: %s", message.key, message.channel, reason)
        self.write(
            functools.partial(
                leases.mark_failed,
                message_id=message.id,
                worker_id=self.worker_id,
                error=reason,
                now=self.now(),
            )
        )
        self.report.failed.append((message.key, reason))
