"""Reading received deliveries back: the worker's handlers and the log ids of their jobs.

(`intake_writer` stores them, a group of requests per transaction, at the HTTP edge.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from bot.store.engine import reading
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

    def ids(self) -> dict[str, Any]:
        """What a job's log lines carry about it (as `delivery_ids` reads them)."""
        return {
            "source": self.source,
            "delivery_id": self.delivery_id,
            "installation_id": self.installation_id,
        }


def get_delivery(engine: Engine, row_id: int) -> StoredDelivery:
    """The delivery stored as row `row_id` (LookupError when it is gone)."""
    with reading(engine) as connection:
        found = read_delivery(connection, row_id)
    if found is None:
        raise LookupError(f"delivery row {row_id} is gone")
    return found


def read_delivery(connection: Connection, row_id: int) -> StoredDelivery | None:
    """`get_delivery` within a transaction already open (the queue reads it with a claim, so
    the job's handler needs no connection of its own for it); None when the row is gone."""
    row = connection.execute(_READ, {"row_id": row_id}).first()
    return None if row is None else StoredDelivery(**row._asdict())


def read_deliveries(connection: Connection, row_ids: list[int]) -> dict[int, StoredDelivery]:
    """`read_delivery` of several rows in one statement (a claim of several jobs), by row id;
    a row that is gone is left out."""
    if not row_ids:
        return {}
    rows = connection.execute(_READ_MANY, {"row_ids": row_ids})
    found = {}
    for row in rows:
        fields = row._asdict()
        row_id = fields.pop("id")
        found[row_id] = StoredDelivery(**fields)
    return found


# Built once: every job with a delivery reads it (see `job_statements`).
_READ = select(
    _delivery.c.source,
    _delivery.c.delivery_id,
    _delivery.c.installation_id,
    _delivery.c.event,
    _delivery.c.action,
    _delivery.c.payload,
).where(_delivery.c.id == bindparam("row_id"))
_READ_MANY = select(_delivery.c.id, *_READ.selected_columns).where(
    _delivery.c.id.in_(bindparam("row_ids", expanding=True))
)


def delivery_ids(engine: Engine, row_id: int) -> dict[str, object] | None:
    """The source, GitHub's or Slack's delivery id and the installation of a stored delivery."""
    with reading(engine) as connection:
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
