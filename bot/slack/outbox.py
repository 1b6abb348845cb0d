"""The drainer: sends the Slack outbox in order per channel without ever sleeping on Slack.

Each post is sent once: it carries its outbox key (`post_marks`), its first attempt is
recorded before it goes out, and a post whose earlier attempt is in doubt is looked for on
Slack by that key before it is sent again.

Per channel it claims the sendable prefix of the queue and sends it oldest first. A 429 parks
that channel until Retry-After and the drainer moves on to the next channel; a flaky Slack
backs off the same way; a refusal fails that one message with Slack's reason and the rest
go on. A reply waits for its thread's parent; a parent that failed leaves it unthreaded.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.ports.slack import (
    Persona,
    Posted,
    Poster,
    PostError,
    PostMark,
    RateLimited,
    Rejected,
    Unavailable,
    personas_for,
)
from bot.roster.loader import load_crew
from bot.settings import Settings
from bot.store import slack_leases as leases
from bot.store import slack_outbox as store
from bot.store.engine import DatabaseError, Engine
from bot.store.models import utcnow
from bot.store.slack_leases import OutboxMessage

log = logging.getLogger(__name__)

SLACK_OUTBOX_JOB = "slack.outbox"
MAX_ATTEMPTS = 8  # transient failures before a message is failed for an operator to look at
BACKOFF_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
# How long to keep trying to record a post as sent while the store is away (seconds each).
RECORD_RETRY_SECONDS = (0.5, 1, 2, 4, 8)
# A post in doubt is looked for in the channel's history from its first attempt on, less this
# much for the difference between our clock and Slack's.
LOOKUP_MARGIN_SECONDS = 600.0
# Refusals of the token, not of the message: kept and sent again once the token works.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed"}
)


@dataclass
class DrainReport:
    """What one drain did, and when the next one has something to do (None: nothing queued)."""

    posted: int = 0
    edited: int = 0
    found: int = 0  # posts in doubt found on Slack already, recorded and not sent again
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, Slack's reason)
    deferred: dict[str, datetime] = field(default_factory=dict)  # channel → not before
    next_due: datetime | None = None


def drain(
    engine: Engine,
    poster: Poster,
    *,
    personas: Mapping[str, Persona] | None = None,
    now: Callable[[], datetime] = utcnow,
    max_messages: int = 100,
    worker_id: str | None = None,
    lease_seconds: float = 120.0,
    record_retry_seconds: Sequence[float] = RECORD_RETRY_SECONDS,
) -> DrainReport:
    """Send what is due, at most `max_messages` tries; safe to run from several workers."""
    drainer = _Drainer(engine, poster, personas or {}, now, worker_id, lease_seconds)
    drainer.record_retry_seconds = record_retry_seconds
    budget = max_messages
    for channel in store.channels_with_work(engine):
        if budget <= 0:
            break
        batch = leases.claim_due_messages(
            engine,
            channel=channel,
            worker_id=drainer.worker_id,
            now=now(),
            limit=budget,
            lease_seconds=lease_seconds,
        )
        budget -= drainer.send_channel(batch)
    drainer.report.next_due = store.next_due_at(engine, now=now())
    return drainer.report


def drain_job(engine: Engine, settings: Settings, *, poster: Poster | None) -> DrainReport:
    """The `slack.outbox` job: drain with the crew's personas; reschedule at `next_due`.

    `poster` is the process's one (so a token's missing `chat:write.customize` is learnt
    once); None while no bot token is set, and the outbox stays queued.
    """
    if poster is None:
        log.warning("no Slack bot token; the outbox stays queued")
        return DrainReport(next_due=store.next_due_at(engine, now=utcnow()))
    personas = personas_for(load_crew(settings.crew_file))
    _requeue_after_auth_fixed(engine, poster)
    return drain(engine, poster, personas=personas)


def _requeue_after_auth_fixed(engine: Engine, poster: Poster) -> None:
    """Messages refused for the token's sake (revoked, invalid) are kept; once the token
    works again (`auth.test`), they go out again, oldest first, ahead of newer ones."""
    auth_test = getattr(poster, "auth_test", None)
    if auth_test is None or not store.failed_with(engine, errors=AUTH_ERRORS):
        return
    try:
        auth_test()
    except PostError as error:
        log.info("the Slack token still fails (%s); failed posts stay kept", error.reason)
        return
    requeued = store.requeue_failed(engine, errors=AUTH_ERRORS)
    log.warning("the Slack token works again: %d kept posts queued again", requeued)


class _Drainer:
    def __init__(
        self,
        engine: Engine,
        poster: Poster,
        personas: Mapping[str, Persona],
        now: Callable[[], datetime],
        worker_id: str | None,
        lease_seconds: float,
    ) -> None:
        self.engine, self.poster, self.personas, self.now = engine, poster, personas, now
        self.worker_id = worker_id or f"slack-drain-{uuid.uuid4().hex[:12]}"
        self.lease_seconds = lease_seconds
        self.record_retry_seconds: Sequence[float] = RECORD_RETRY_SECONDS
        self.report = DrainReport()

    def send_channel(self, batch: list[OutboxMessage]) -> int:
        """Send a claimed batch in order; returns how many messages were tried."""
        # Stop well inside the lease so no other drainer takes the channel over mid-batch.
        deadline = self.now() + timedelta(seconds=self.lease_seconds / 2)
        thread_ts: dict[int, str | None] = {}  # parent id → its ts (None: it failed)
        for index, message in enumerate(batch):
            parent_ts = message.thread_ts
            if message.waits_for is not None:
                if message.waits_for not in thread_ts:
                    return self._release(batch, index)  # its parent is still unsent
                parent_ts = thread_ts[message.waits_for]
            if self.now() >= deadline:
                return self._release(batch, index)
            posted, go_on = self._send(message, parent_ts)
            thread_ts[message.id] = posted.ts if posted else None
            if not go_on:
                return self._release(batch, index + 1)
        return len(batch)

    def _release(self, batch: list[OutboxMessage], tried: int) -> int:
        rest = [message.id for message in batch[tried:]]
        leases.release(self.engine, message_ids=rest, worker_id=self.worker_id)
        return tried

    def _send(self, message: OutboxMessage, thread_ts: str | None) -> tuple[Posted | None, bool]:
        """Post or edit one message; (where it is, whether the channel may go on)."""
        persona = self.personas.get(message.role)
        try:
            if message.ts is None:
                if (posted := self._post_once(message, persona, thread_ts)) is None:
                    log.warning("lost the lease on Slack message %s before sending", message.key)
                    return None, False
            else:
                posted = Posted(message.channel_id or message.channel, message.ts)
                self._update(message, posted, persona)
        except RateLimited as limited:
            self._retry(message, limited.retry_after, limited.reason, attempted=False)
            return None, False
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
        kept = self._record_sent(message, posted)
        if not kept:
            log.warning("lost the lease on Slack message %s while sending it", message.key)
        return posted, True

    def _post_once(
        self, message: OutboxMessage, persona: Persona | None, thread_ts: str | None
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
        if not leases.mark_attempted(
            self.engine, message_id=message.id, worker_id=self.worker_id, now=self.now()
        ):
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

    def _record_sent(self, message: OutboxMessage, posted: Posted) -> bool:
        """Mark the message sent, riding out a brief store outage (else the next drain finds
        the post on Slack by its key, at the cost of a lookup)."""
        record = functools.partial(
            leases.mark_sent,
            self.engine,
            message=message,
            worker_id=self.worker_id,
            channel_id=posted.channel,
            ts=posted.ts,
        )
        for delay in self.record_retry_seconds:
            try:
                return record(now=self.now())
            except DatabaseError:
                log.warning("could not mark Slack message %s sent; trying again", message.key)
                time.sleep(delay)
        return record(now=self.now())  # the last try: its failure is the job's

    def _retry(self, message: OutboxMessage, delay: float, reason: str, *, attempted: bool):
        now = self.now()
        leases.mark_retry(
            self.engine,
            message_id=message.id,
            worker_id=self.worker_id,
            retry_after=delay,
            error=reason,
            now=now,
            attempted=attempted,
        )
        self.report.deferred[message.channel] = now + timedelta(seconds=delay)

    def _fail(self, message: OutboxMessage, reason: str) -> None:
        log.warning("Slack message %s to %s failed: %s", message.key, message.channel, reason)
        leases.mark_failed(
            self.engine,
            message_id=message.id,
            worker_id=self.worker_id,
            error=reason,
            now=self.now(),
        )
        self.report.failed.append((message.key, reason))
