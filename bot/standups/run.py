"""Holding standups: which channels are due, and posting each one exactly once per day.

Exactly once: the (channel, day) row of the `standup` table is claimed by INSERT; only the
claimer posts. Every post goes through the Slack outbox under a key of its own
(`standup:{channel}:{day}:{role}`), so enqueueing a standup again changes nothing. A standup
whose poster died half-way (its row still `posting` after STALE_AFTER) is taken over by one
checker, which enqueues the stored posts again and marks it posted; a posted one is never
posted again. A forced standup (`/crew standup`) is held at once even on a day without one,
but still at most once per channel and day: if today's was held it says so and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from bot.roster.models import Crew
from bot.roster.routing import standup_roles
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.standups import render
from bot.standups.facts import gather
from bot.standups.schedule import Schedule, channel_name, schedule_for, schedules
from bot.standups.schedule import ScheduleError as ScheduleError  # for /crew standup schedule
from bot.standups.schedule import set_schedule as set_schedule  # for /crew standup schedule
from bot.standups.sprint_facts import gather_sprints
from bot.store import standups as store
from bot.store.engine import Engine
from bot.store.queue import enqueue
from bot.store.slack_outbox import enqueue_message
from bot.store.standups import record_human_update as record_human_update  # for thread replies

STANDUP_CHECK_JOB = "standup.check"
STALE_AFTER = timedelta(minutes=5)  # a `posting` row this old lost its poster
CATCH_UP = timedelta(hours=1)  # a check this late still holds the morning's standup
# The prompt a model-backed Polish would render (name, job, text); none ships yet.
POLISH_PROMPT = Path(__file__).with_name("prompts") / "polish.md.j2"

# Rewrites one post's text in its role's voice (role key, text) → text. The hook for a model:
# without one the standup posts the template words, which state only stored facts.
Polish = Callable[[str, str], str]

POSTED, COMPLETED = "posted", "completed"
ALREADY_POSTED, IN_PROGRESS, NOT_SCHEDULED = "already_posted", "in_progress", "not_scheduled"


@dataclass(frozen=True)
class StandupResult:
    channel: str
    day: str
    outcome: str  # posted, completed, already_posted, in_progress or not_scheduled
    messages: int = 0  # posts enqueued by this call


def hold_standup(
    engine: Engine,
    crew: Crew,
    *,
    channel: str,
    now: datetime,
    force: bool = False,
    stale_after: timedelta = STALE_AFTER,
    polish: Polish | None = None,
) -> StandupResult:
    """Hold today's standup in `channel` (today on the channel's clocks), once.

    Without `force` a day the schedule does not fire on is skipped. `channel` may be Slack's
    id of a channel the crew names otherwise (a command's); the standup is the same one.
    """
    channel = channel_name(engine, channel)
    schedule = schedule_for(engine, crew, channel)
    day = schedule.local_day(_aware(now))
    result = partial(StandupResult, channel, day.isoformat())
    if not force and not schedule.cron.fires_on(day):
        return result(NOT_SCHEDULED)
    row = store.find_standup(engine, channel=channel, day=day.isoformat())
    if row is None:
        posts = compose(engine, crew, schedule, day, polish=polish)
        claimed = store.claim_standup(
            engine, channel=channel, day=day.isoformat(), posts=posts, now=now
        )
        if claimed is not None:
            return result(POSTED, _post(engine, claimed, channel, day, posts, now))
        row = store.find_standup(engine, channel=channel, day=day.isoformat())
        if row is None:  # pragma: no cover - a unique violation means the row exists
            raise RuntimeError(f"standup {channel} {day} vanished while claiming it")
    if row.status == store.POSTED:
        return result(ALREADY_POSTED)
    if not store.take_over(engine, standup_id=row.id, now=now, stale_after=stale_after):
        return result(IN_PROGRESS)
    return result(COMPLETED, _post(engine, row.id, channel, day, row.posts, now))


def due_standups(
    engine: Engine, crew: Crew, now: datetime, *, stale_after: timedelta = STALE_AFTER
) -> list[str]:
    """Channels to hold a standup in now: the schedule fired today within CATCH_UP and the
    channel has no standup today, or today's was left half-posted for `stale_after`."""
    due = []
    now = _aware(now)
    for schedule in schedules(engine, crew):
        day = schedule.local_day(now)
        row = store.find_standup(engine, channel=schedule.channel, day=day.isoformat())
        if row is not None:
            if row.status == store.POSTING and row.started_at <= now - stale_after:
                due.append(schedule.channel)
            continue
        since = max(now - CATCH_UP, schedule.window(day)[1])  # not before today's midnight
        if schedule.cron.fired_between(since, now, schedule.zone):
            due.append(schedule.channel)
    return due


def check_standups(
    engine: Engine, crew: Crew, *, now: datetime, polish: Polish | None = None
) -> list[StandupResult]:
    """The `standup.check` job: hold every due standup (safe to run from several workers)."""
    return [
        hold_standup(engine, crew, channel=channel, now=now, polish=polish)
        for channel in due_standups(engine, crew, now)
    ]


def compose(
    engine: Engine, crew: Crew, schedule: Schedule, day: date, *, polish: Polish | None = None
) -> list[render.StandupPost]:
    """The standup's posts from the store: the facts of the window before `day`."""
    start, end = schedule.window(day)
    facts = gather(engine, crew, start=start, end=end)
    sprints = gather_sprints(engine, crew, facts, day=day, zone=schedule.zone)
    earlier = store.previous_standup_day(engine, channel=schedule.channel, before=day.isoformat())
    updates = store.human_updates(engine, channel=schedule.channel, day=earlier) if earlier else []
    posts = render.standup_posts(
        crew,
        facts,
        channel=schedule.channel,
        day=day,
        since=start.astimezone(schedule.zone).date(),
        updates=updates,
        updates_day=date.fromisoformat(earlier) if earlier else None,
        sprints=sprints,
        roles=standup_roles(crew, schedule.channel),
    )
    if polish is None:
        return posts
    return [render.with_text(post, polish(post.role, post.text)) for post in posts]


def _post(
    engine: Engine,
    standup_id: int,
    channel: str,
    day: date,
    posts: list[render.StandupPost],
    now: datetime,
) -> int:
    """Enqueue every post (again), wake the outbox, then mark the standup posted."""
    thread = render.thread_key(channel, day)
    for post in posts:
        enqueue_message(
            engine,
            channel=channel,
            key=post.key,
            text=post.text,
            blocks=post.blocks,
            role=post.role,
            thread_key=thread,
            parent=post.parent,
        )
    enqueue(engine, kind=SLACK_OUTBOX_JOB, args={"standup": thread})
    store.mark_posted(engine, standup_id=standup_id, now=now)
    return len(posts)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:  # the store's times are UTC; a naive time has no zone to convert
        raise ValueError("now must be timezone-aware, e.g. datetime.now(UTC)")
    return now
