"""The scheduler: enqueues timed work (housekeeping now, standups later); it runs nothing itself."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.store import queue
from jobs.handlers import HOUSEKEEPING_JOB

log = logging.getLogger(__name__)


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        lambda: queue.enqueue(engine, kind=HOUSEKEEPING_JOB),
        "interval",
        hours=6,
        id=HOUSEKEEPING_JOB,
        coalesce=True,
        max_instances=1,
    )
    return scheduler
