"""The scheduler: enqueues timed work (housekeeping, the standup check, the
questions' daily reminder, the sprints' checks); it runs nothing itself."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runs.questions import REASK_JOB
from bot.sprints.control import SPRINT_CHECK_JOB
from bot.standups.run import STANDUP_CHECK_JOB
from bot.store import queue
from bot.store.engine import Engine
from bot.triggers.missed_merges import SPRINT_RECONCILE_JOB
from jobs.handlers import HOUSEKEEPING_JOB

log = logging.getLogger(__name__)


# (job kind, attempts, APScheduler trigger and its fields): what is queued when.
TIMED_JOBS: tuple[tuple[str, int, str, dict[str, object]], ...] = (
    (HOUSEKEEPING_JOB, 5, "interval", {"minutes": 15}),
    # Every minute on the minute; the worker decides which channels' standups are due. One
    # try: the next minute's check is the retry, and a standup is held once whoever checks.
    (STANDUP_CHECK_JOB, 1, "cron", {"minute": "*"}),
    # Hourly: questions still open from an earlier working day are asked again, once a day.
    (REASK_JOB, 1, "cron", {"minute": 7}),
    # Sprints look again every minute: a missed webhook or a slot another sprint freed.
    (SPRINT_CHECK_JOB, 1, "interval", {"minutes": 1}),
    # Every five minutes: GitHub is asked about the pull requests running sprints wait on, in
    # case a merge's webhook was lost (one call per such pull request).
    (SPRINT_RECONCILE_JOB, 1, "interval", {"minutes": 5}),
)


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    for kind, attempts, trigger, fields in TIMED_JOBS:
        scheduler.add_job(
            lambda kind=kind, attempts=attempts: queue.enqueue(
                engine, kind=kind, max_attempts=attempts
            ),
            trigger,
            id=kind,
            coalesce=True,
            max_instances=1,
            **fields,
        )
    return scheduler
