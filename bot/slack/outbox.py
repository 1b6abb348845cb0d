"""The drainer: sends the Slack outbox in order per channel, channels in parallel.

Each post is sent once (`sender`): it carries its outbox key, its first attempt is recorded
before it goes out, and a post whose earlier attempt is in doubt is looked for on Slack first.

Per channel it claims the sendable prefix of the queue and sends it oldest first; a pool of
drainers (`drainers`) serves the channels side by side, so a rate-limited channel never holds
up another. A 429 parks that channel until Retry-After, or, within the drain's `patience`,
pauses it in place while the pool serves the others and paces it from then on (`pacing`); a
flaky Slack backs off; a refusal fails that one message with Slack's reason and the rest go
on. A reply waits for its thread's parent; a parent that failed leaves it unthreaded. On
SQLite the drainers' writes share commits (`GroupCommit`): one writer, and a disk flush each.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.ports.slack import Persona, Poster, PostError, personas_for
from bot.roster.loader import load_crew
from bot.settings import Settings
from bot.slack.drainers import DrainerPool
from bot.slack.sender import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_SECONDS,
    LOOKUP_MARGIN_SECONDS,
    MAX_ATTEMPTS,
    RECORD_RETRY_SECONDS,
    Batch,
    ChannelSender,
    DrainReport,
)
from bot.store import slack_leases as leases
from bot.store import slack_outbox as store
from bot.store.engine import Engine
from bot.store.group_commit import GroupCommit
from bot.store.models import utcnow

__all__ = [
    "AUTH_ERRORS",
    "BACKOFF_CAP_SECONDS",
    "BACKOFF_SECONDS",
    "DRAINERS",
    "JOB_MAX_MESSAGES",
    "JOB_PATIENCE",
    "LOOKUP_MARGIN_SECONDS",
    "MAX_ATTEMPTS",
    "SLACK_OUTBOX_JOB",
    "DrainReport",
    "drain",
    "drain_job",
]

log = logging.getLogger(__name__)

SLACK_OUTBOX_JOB = "slack.outbox"
# Channels sent to at once. Slack allows about a post per second per channel, so a few
# threads keep dozens of channels at their limit.
DRAINERS = 8
# How long the outbox job waits out Retry-Afters in place, serving other channels meanwhile,
# before it parks what is left and comes back at `next_due` as a new job.
JOB_PATIENCE = 20.0
JOB_MAX_MESSAGES = 1000  # tries per job: the standups of a hundred channels
# Refusals of the token, not of the message: kept and sent again once the token works.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed"}
)


@dataclass
class _Channel:
    sender: ChannelSender
    name: str
    batch: Batch | None = None


class _Budget:
    """About `left` messages tried per drain, shared by the drainers: each claim takes what it
    leased, and a claim sees what is left (claims at the same moment may go a batch over)."""

    def __init__(self, left: int) -> None:
        self.left, self._lock = left, threading.Lock()

    def claimed(self, count: int) -> None:
        with self._lock:
            self.left -= count

    def give_back(self, count: int) -> None:
        with self._lock:
            self.left += count


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
    drainers: int = DRAINERS,
    patience: float = 0.0,
) -> DrainReport:
    """Send what is due, at most `max_messages` tries; safe to run from several workers.

    `patience`: seconds (of real time) this drain may wait out Retry-Afters in place; 0 parks
    a rate-limited channel at once, and the drain never sleeps on Slack.
    """
    until = time.monotonic() + patience

    def wait_it_out(seconds: float, batch: Batch) -> bool:
        ends = time.monotonic() + seconds
        return ends <= until and (batch.deadline - now()).total_seconds() > seconds

    def sender() -> ChannelSender:
        made = ChannelSender(
            engine, poster, personas or {}, now, worker_id, lease_seconds, wait_it_out, write
        )
        made.record_retry_seconds = record_retry_seconds
        return made

    worker_id = worker_id or f"slack-drain-{uuid.uuid4().hex[:12]}"
    budget = _Budget(max_messages)
    write = GroupCommit(engine) if engine.dialect.name == "sqlite" else None
    channels = [_Channel(sender(), name) for name in store.channels_with_work(engine)]

    # Each claim may take a share of the budget, so one channel cannot starve the others.
    share = max(1, max_messages // max(1, min(drainers, len(channels))))

    def turn(channel: _Channel) -> tuple[float, _Channel] | None:
        batch = channel.batch
        if batch is None or batch.done:
            batch = _claim(channel, min(budget.left, share), now(), lease_seconds)
            if batch is None:
                return None
            budget.claimed(len(batch.messages))
        pause = channel.sender.send(batch)
        if pause is not None:
            return pause, channel
        budget.give_back(len(batch.messages) - batch.tried)
        # A whole batch sent: more may have been queued meanwhile, if the drain may wait.
        return (0.0, channel) if patience > 0 and not batch.parked else None

    DrainerPool(turn, size=drainers).run(channels)
    report = DrainReport()
    for channel in channels:
        report.add(channel.sender.report)
    report.next_due = store.next_due_at(engine, now=now())
    return report


def _claim(channel: _Channel, limit: int, now: datetime, lease: float) -> Batch | None:
    """Lease the channel's next batch, at most `limit` messages; None when there is none."""
    channel.batch = None
    if limit <= 0:
        return None
    sender = channel.sender
    messages = sender.write(
        functools.partial(
            leases.claim_due_messages,
            channel=channel.name,
            worker_id=sender.worker_id,
            now=now,
            limit=limit,
            lease_seconds=lease,
            attempt_first=True,
        )
    )
    if messages:
        channel.batch = sender.batch(messages)
        channel.batch.marked.add(messages[0].id)
    return channel.batch


def drain_job(engine: Engine, settings: Settings, *, poster: Poster | None) -> DrainReport:
    """The `slack.outbox` job: drain with the crew's personas, waiting out short rate limits
    in place for up to JOB_PATIENCE seconds; reschedule at `next_due`.

    `poster` is the process's one (so a token's missing `chat:write.customize` is learnt
    once); None while no bot token is set, and the outbox stays queued.
    """
    if poster is None:
        log.warning("no Slack bot token; the outbox stays queued")
        return DrainReport(next_due=store.next_due_at(engine, now=utcnow()))
    personas = personas_for(load_crew(settings.crew_file))
    _requeue_after_auth_fixed(engine, poster)
    return drain(
        engine, poster, personas=personas, max_messages=JOB_MAX_MESSAGES, patience=JOB_PATIENCE
    )


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
