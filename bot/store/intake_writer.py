"""Group commit for the intake: many waiting deliveries (and their jobs) in one durable transaction.

One ORM commit per request caps SQLite at a few hundred requests a second, because every commit
is an fsync and SQLite has one writer. Here a single writer thread takes every delivery that is
waiting, inserts them with lean driver-level statements in one transaction, commits once, and
only then answers each request. A request is never acknowledged before its rows are on disk.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine

from bot.store.engine import is_sqlite
from bot.store.models import DeliveryOutcome, JobStatus, utcnow

log = logging.getLogger(__name__)

_INSERT_DELIVERY = (
    "INSERT INTO delivery (source, delivery_id, event, action, installation_id, received_at,"
    " outcome, payload) VALUES (:source, :delivery_id, :event, :action, :installation_id,"
    " :received_at, :outcome, :payload)"
    " ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id"
)
_INSERT_JOB = (
    "INSERT INTO job (kind, delivery_id, args, status, attempts, max_attempts, run_after,"
    " created_at, updated_at) VALUES (:kind, :delivery_row, '{}', :status, 0, :max_attempts,"
    " :now, :now, :now)"
)


class Receipt(StrEnum):
    """What the store did with a delivery."""

    QUEUED = "queued"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class IncomingDelivery:
    """A verified request to keep; `job_kind` None means stored for the audit log only."""

    source: str
    delivery_id: str
    event: str
    payload: str
    action: str = ""
    installation_id: int | None = None
    job_kind: str | None = None


class StoreUnavailable(RuntimeError):
    """The store could not take the delivery; the sender should retry later."""


_STOP = object()


class IntakeWriter:
    """Owns one store connection and commits deliveries in batches from a background thread."""

    def __init__(self, engine: Engine, *, max_attempts: int, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_attempts = max_attempts
        self._max_batch = max_batch
        self._sqlite = is_sqlite(str(engine.url))
        self._sql_delivery = self._driver_sql(_INSERT_DELIVERY)
        self._sql_job = self._driver_sql(_INSERT_JOB)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    def _driver_sql(self, sql: str) -> str:
        # sqlite3 takes :name natively; psycopg wants %(name)s.
        return sql if self._sqlite else re.sub(r":(\w+)", r"%(\1)s", sql)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish every delivery already handed over, then close the connection."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    async def record(self, delivery: IncomingDelivery) -> Receipt:
        """Store the delivery (and its job) durably; returns once the commit is on disk."""
        if self._thread is None:
            raise StoreUnavailable("intake writer is not running")
        future = asyncio.get_running_loop().create_future()
        self._queue.put((delivery, future))
        return await future

    # The writer thread.

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            stopping = item is _STOP
            batch = [] if stopping else [item]
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                else:
                    batch.append(more)
            if batch:
                self._settle(batch, self._commit_batch([d for d, _ in batch]))
            if stopping:
                self._close()
                return

    def _commit_batch(self, deliveries: list[IncomingDelivery]) -> list[Receipt | Exception]:
        try:
            return list(self._commit(deliveries))
        except Exception as error:  # noqa: BLE001 - one bad row must not sink the others
            self._close()
            if len(deliveries) == 1:
                log.warning("intake commit failed: %s", error)
                return [StoreUnavailable(str(error))]
            # Commit them one by one so a single poisoned row fails alone.
            return [self._commit_batch([delivery])[0] for delivery in deliveries]

    def _commit(self, deliveries: list[IncomingDelivery]) -> list[Receipt]:
        connection = self._connect()
        now = utcnow()
        stamp: datetime | str = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else now
        receipts = []
        cursor = connection.cursor()
        try:
            if self._sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            for delivery in deliveries:
                outcome = DeliveryOutcome.QUEUED if delivery.job_kind else DeliveryOutcome.IGNORED
                cursor.execute(
                    self._sql_delivery,
                    {
                        "source": delivery.source,
                        "delivery_id": delivery.delivery_id,
                        "event": delivery.event,
                        "action": delivery.action,
                        "installation_id": delivery.installation_id,
                        "received_at": stamp,
                        "outcome": outcome.value,
                        "payload": delivery.payload,
                    },
                )
                row = cursor.fetchone()
                if row is None:
                    receipts.append(Receipt.DUPLICATE)
                    continue
                if delivery.job_kind:
                    cursor.execute(
                        self._sql_job,
                        {
                            "kind": delivery.job_kind,
                            "delivery_row": row[0],
                            "status": JobStatus.QUEUED.value,
                            "max_attempts": self._max_attempts,
                            "now": stamp,
                        },
                    )
                    receipts.append(Receipt.QUEUED)
                else:
                    receipts.append(Receipt.IGNORED)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
        return receipts

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
            except Exception:  # noqa: BLE001 - already broken; a new one comes next time
                log.debug("closing a broken intake connection failed", exc_info=True)
            self._connection = None

    @staticmethod
    def _settle(batch: list[tuple[IncomingDelivery, asyncio.Future]], results: list) -> None:
        # One wake-up per event loop per batch, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list] = defaultdict(list)
        for (_, future), result in zip(batch, results, strict=True):
            by_loop[future.get_loop()].append((future, result))
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, pairs)
            except RuntimeError:  # the loop closed while we were writing
                log.warning("event loop closed before %d deliveries were answered", len(pairs))


def _resolve(pairs: list[tuple[asyncio.Future, Receipt | Exception]]) -> None:
    for future, result in pairs:
        if future.done():
            continue
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)
