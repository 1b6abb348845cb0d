"""The leases of a worker's jobs in flight, renewed by one thread for all of them.

A job that ends within a third of its lease (most do: a webhook, a Slack answer) never costs a
renewal; one that runs longer is renewed every third of the lease until it ends, so its lease
never expires under it while the store is reachable.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from bot.store import queue
from bot.store.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class _Held:
    job_id: int
    renew_at: float  # monotonic time of the next renewal


class LeaseKeeper:
    """Holds the leases of one worker's jobs; the renewing thread runs while it holds any."""

    def __init__(self, engine: Engine, *, worker_id: str, lease_seconds: float) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self._held: dict[int, _Held] = {}
        self._lost: set[int] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def hold(self, job_id: int) -> None:
        """Keep `job_id`'s lease from now on (it was just claimed)."""
        with self._changed:
            # Later than every earlier renewal: the thread's current wait stays right.
            self._held[job_id] = _Held(job_id, time.monotonic() + self.lease_seconds / 3)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._renew_loop, name=f"leases-{self.worker_id}", daemon=True
                )
                self._thread.start()

    def drop(self, job_id: int) -> bool:
        """Stop renewing; False when the job is no longer ours (taken over, or released)."""
        with self._changed:
            held = self._held.pop(job_id, None)
            lost = job_id in self._lost
            self._lost.discard(job_id)
        return held is not None and not lost

    def release_all(self) -> list[int]:
        """Give back every job still held, unfinished (shutdown); returns their ids."""
        with self._changed:
            held, self._held = list(self._held), {}
        for job_id in held:
            queue.release(self.engine, job_id=job_id, worker_id=self.worker_id)
        return held

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5)

    def _renew_loop(self) -> None:
        while True:
            with self._changed:
                if self._closed:
                    return
                if not self._held:  # nothing to keep: the next `hold` starts a new thread
                    self._thread = None
                    return
                now = time.monotonic()
                due = [h for h in self._held.values() if h.renew_at <= now]
                if not due:
                    soonest = min(h.renew_at for h in self._held.values())
                    self._changed.wait(max(soonest - now, 0.001))
                    continue
            for held in due:
                self._renew(held)

    def _renew(self, held: _Held) -> None:
        held.renew_at = time.monotonic() + self.lease_seconds / 3
        try:
            renewed = queue.renew(
                self.engine,
                job_id=held.job_id,
                worker_id=self.worker_id,
                lease_seconds=self.lease_seconds,
            )
        except Exception:  # the store is briefly away: the job runs on, so keep its lease
            log.warning("job %s: could not renew its lease; trying again", held.job_id)
            return
        if renewed:
            return
        with self._changed:
            if self._held.pop(held.job_id, None) is None:
                return  # it ended meanwhile: nothing was lost
            self._lost.add(held.job_id)
        log.error("job %s: lease lost to another worker; leaving it to them", held.job_id)
