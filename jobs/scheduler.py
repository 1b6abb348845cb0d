"""The scheduler: enqueues timed work (housekeeping, the standup check, the
questions' daily reminder); it runs nothing itself."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runs.questions import REASK_JOB
from bot.sprints.control import SPRINT_CHECK_JOB
from bot.standups.run import STANDUP_CHECK_JOB
from bot.store import queue
from bot.store.engine import Engine
from jobs.handlers import HOUSEKEEPING_JOB

log = logging.getLogger(__name__)


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        lambda: queue.enqueue(engine, kind=HOUSEKEEPING_JOB),
        "interval",
        minutes=15,
        id=HOUSEKEEPING_JOB,
        coalesce=True,
        max_instances=1,
    )
    # Every minute on the minute; the worker decides which channels' standups are due. One
    # try: the next minute's check is the retry, and a standup is held once whoever checks.
    scheduler.add_job(
        lambda: queue.enqueue(engine, kind=STANDUP_CHECK_JOB, max_attempts=1),
        "cron",
        minute="*",
        id=STANDUP_CHECK_JOB,
        coalesce=True,
        max_instances=1,
    )
    # Hourly: questions still open from an earlier working day are asked again, once a day.
    scheduler.add_job(
        lambda: queue.enqueue(engine, kind=REASK_JOB, max_attempts=1),
        "cron",
        minute=7,
        id=REASK_JOB,
        coalesce=True,
        max_instances=1,
    )
    # Sprints look again every minute: a missed webhook or a slot another sprint freed.
    scheduler.add_job(
        lambda: queue.enqueue(engine, kind=SPRINT_CHECK_JOB, max_attempts=1),
        "interval",
        minutes=1,
        id=SPRINT_CHECK_JOB,
        coalesce=True,
        max_instances=1,
    )
    return scheduler
