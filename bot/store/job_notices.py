"""Jobs queued by other processes, heard at once on PostgreSQL.

Migration 0013's trigger notifies `repocrew_jobs` when an insert into `job` commits, whichever
process made it (the web intake, another worker, the scheduler); a worker listening here wakes
a slot at once instead of finding the job at its next poll. The poll stays the fallback: a
lost connection is made again, and a job queued meanwhile is found by the poll. SQLite has one
process, whose workers are rung in memory (`wakeups`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHANNEL = "repocrew_jobs"
RECONNECT_SECONDS = 1.0
STOP_CHECK_SECONDS = 0.5  # how long a wait for a notice lasts before `stop` is looked at


class JobNotices:
    """`heard()` is called for each notice (and once on each new connection, for what was
    queued while nothing listened); on SQLite this does nothing."""

    def __init__(self, engine: Engine, heard: Callable[[], None]) -> None:
        self.engine = engine
        self.heard = heard
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> JobNotices:
        if self.engine.dialect.name == "postgresql":
            self._thread = threading.Thread(target=self._listen, name="job-notices", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(STOP_CHECK_SECONDS + RECONNECT_SECONDS + 1)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen_on_one_connection()
            except Exception as error:  # the server went away: listen again, poll meanwhile
                if self._stopping.is_set():
                    return
                log.warning("not hearing queued jobs (%s); trying again", error)
                self._stopping.wait(RECONNECT_SECONDS)

    def _listen_on_one_connection(self) -> None:
        pooled = self.engine.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()  # held for good: out of the pool and its count
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self.heard()
            while not self._stopping.is_set():
                for _notice in connection.notifies(timeout=STOP_CHECK_SECONDS, stop_after=1):
                    self.heard()
        finally:
            pooled.close()
