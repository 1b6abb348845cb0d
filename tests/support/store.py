"""Read the store back in tests."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from bot.store.models import Delivery, Job


def count_rows(engine: Engine) -> tuple[int, int]:
    """(deliveries, jobs) in the store."""
    with engine.connect() as connection:
        deliveries = connection.execute(select(func.count()).select_from(Delivery)).scalar_one()
        jobs = connection.execute(select(func.count()).select_from(Job)).scalar_one()
    return deliveries, jobs
