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
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine

from bot.store.engine import is_sqlite
from bot.store.models import DeliveryOutcome, JobStatus, utcnow
from bot.store.queue import WORKERS_LIMIT
from bot.store.wakeups import job_queued

log = logging.getLogger(__name__)

_DELIVERY_COLUMNS = (
    "source, delivery_id, event, action, installation_id, received_at, outcome, payload"
)
_JOB_COLUMNS = "kind, delivery_id, args, status, attempts, max_attempts, run_after, created_at,"
_JOB_COLUMNS += " updated_at"


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

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 512,
        checkpoint_seconds: float = 2.0,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._sqlite = is_sqlite(str(engine.url))
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._checkpoint_seconds = checkpoint_seconds
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
            self._thread.start()
            if self._sqlite:
                self._checkpointer = threading.Thread(
                    target=self._checkpoint_loop, name="wal-checkpoint", daemon=True
                )
                self._checkpointer.start()

    def stop(self) -> None:
        """Finish every delivery already handed over, then close the connection."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._checkpointer is not None:
            self._stopping.set()
            self._checkpointer.join()
            self._checkpointer = None

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
        """One transaction, two multi-row statements: few Python steps while holding the GIL."""
        now = utcnow()
        stamp: datetime | str = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else now
        mark = "?" if self._sqlite else "%s"
        # A batch may carry one delivery twice (a fast redelivery): the first one counts.
        unique: dict[tuple[str, str], IncomingDelivery] = {}
        for delivery in deliveries:
            unique.setdefault((delivery.source, delivery.delivery_id), delivery)

        delivery_params: list = []
        for delivery in unique.values():
            outcome = DeliveryOutcome.QUEUED if delivery.job_kind else DeliveryOutcome.IGNORED
            delivery_params += [delivery.source, delivery.delivery_id, delivery.event]
            delivery_params += [delivery.action, delivery.installation_id, stamp, outcome.value]
            delivery_params.append(delivery.payload)
        delivery_rows = ",".join([f"({','.join([mark] * 8)})"] * len(unique))

        connection = self._connect()
        cursor = connection.cursor()
        try:
            if self._sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(
                f"INSERT INTO delivery ({_DELIVERY_COLUMNS}) VALUES {delivery_rows}"
                " ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id, source, delivery_id",
                delivery_params,
            )
            stored = {(source, key): row_id for row_id, source, key in cursor.fetchall()}
            job_params: list = []
            for key, row_id in stored.items():
                if unique[key].job_kind:
                    # its attempts: the claiming worker's REPOCREW_JOB_MAX_ATTEMPTS
                    job_params += [unique[key].job_kind, row_id, WORKERS_LIMIT]
                    job_params += [stamp, stamp, stamp]
            if job_params:
                job_row = f"({mark}, {mark}, '{{}}', '{JobStatus.QUEUED.value}', 0, "
                job_row += ", ".join([mark] * 4) + ")"
                job_rows = ",".join([job_row] * (len(job_params) // 6))
                cursor.execute(f"INSERT INTO job ({_JOB_COLUMNS}) VALUES {job_rows}", job_params)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
        if job_params:
            job_queued(self._engine)  # this process's workers take them now, not at their poll

        receipts = []
        for delivery in deliveries:
            if stored.pop((delivery.source, delivery.delivery_id), None) is None:
                receipts.append(Receipt.DUPLICATE)
            else:
                receipts.append(Receipt.QUEUED if delivery.job_kind else Receipt.IGNORED)
        return receipts

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
            if self._sqlite:
                # Checkpoints happen in their own thread, not inside a commit a request awaits.
                self._connection.cursor().execute("PRAGMA wal_autocheckpoint=0")
        return self._connection

    def _checkpoint_loop(self) -> None:
        """Copy the WAL into the database in the background (PASSIVE: never blocks a writer)."""
        while not self._stopping.wait(self._checkpoint_seconds):
            try:
                connection = self._engine.raw_connection()
                try:
                    connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except Exception:  # noqa: BLE001 - the next round tries again; commits go on
                log.warning("WAL checkpoint failed", exc_info=True)

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
