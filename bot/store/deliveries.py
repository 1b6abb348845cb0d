"""Reading received deliveries back: the worker's handlers and the log ids of their jobs.

(`intake_writer` stores them, a group of requests per transaction, at the HTTP edge.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from bot.store.models import Delivery

_delivery = Delivery.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredDelivery:
    source: str
    delivery_id: str
    installation_id: int | None
    event: str
    action: str
    payload: str


def get_delivery(engine: Engine, row_id: int) -> StoredDelivery:
    """The delivery stored as row `row_id` (LookupError when it is gone)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(
                _delivery.c.source,
                _delivery.c.delivery_id,
                _delivery.c.installation_id,
                _delivery.c.event,
                _delivery.c.action,
                _delivery.c.payload,
            ).where(_delivery.c.id == row_id)
        ).first()
    if row is None:
        raise LookupError(f"delivery row {row_id} is gone")
    return StoredDelivery(**row._asdict())


def delivery_ids(engine: Engine, row_id: int) -> dict[str, object] | None:
    """The source, GitHub's or Slack's delivery id and the installation of a stored delivery."""
    with engine.connect() as connection:
        return origin_of(connection, row_id)


def origin_of(connection: Connection, row_id: int | None) -> dict[str, Any] | None:
    """`delivery_ids` within a transaction already open (the queue reads it with a claim)."""
    if row_id is None:
        return None
    row = connection.execute(
        select(_delivery.c.source, _delivery.c.delivery_id, _delivery.c.installation_id).where(
            _delivery.c.id == row_id
        )
    ).first()
    return dict(row._asdict()) if row is not None else None
