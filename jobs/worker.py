"""The worker: claims jobs from the store and runs up to `concurrency` of them at once.

Most jobs wait on GitHub or Slack, so a worker runs several side by side, each in one of its
slot threads, and claims the next job as soon as a slot is free (a job queued in this process
rings it at once; otherwise it polls). Jobs of a kind in `one_at_a_time` (crew runs: one step
of a run at a time) never run beside another of their kind in the same worker. A job's lease is
renewed only if it outlives a third of it (see `LeaseKeeper`).
"""

from __future__ import annotations

import logging
import os
import queue as local_queue
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Collection, Mapping

from bot.observability.ids import job_fields
from bot.observability.logs import log_context
from bot.runs.lifecycle import CREW_RUN_JOB
from bot.services import Services
from bot.store import queue
from bot.store.queue import ClaimedJob
from bot.store.wakeups import Doorbell, on_job_queued
from jobs.handlers import JOB_HANDLERS, JobHandler
from jobs.leases import LeaseKeeper

log = logging.getLogger(__name__)

_STOP = None  # a slot thread's signal to end


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """`run` until `stop` (SIGTERM): jobs in flight may finish within the grace period; the
    rest are released for another worker."""

    def __init__(
        self,
        services: Services,
        handlers: Mapping[str, JobHandler] = JOB_HANDLERS,
        worker_id: str | None = None,
        skip_kinds: Collection[str] = (),
        *,
        concurrency: int | None = None,
        one_at_a_time: Collection[str] = (CREW_RUN_JOB,),
    ) -> None:
        self.services = services
        self.engine = services.engine
        self.settings = services.settings
        self.handlers = handlers
        self.worker_id = worker_id or new_worker_id()
        self.skip_kinds = tuple(skip_kinds)
        self.concurrency = concurrency or self.settings.worker_concurrency
        self.one_at_a_time = frozenset(one_at_a_time)
        self.stopping = threading.Event()
        self.leases = LeaseKeeper(
            self.engine, worker_id=self.worker_id, lease_seconds=self.settings.job_lease_seconds
        )
        self._bell = Doorbell()  # a job queued here, a slot freed, or stop
        self._slots: local_queue.SimpleQueue[ClaimedJob | None] = local_queue.SimpleQueue()
        self._in_flight: dict[int, str] = {}  # job id → kind
        self._lock = threading.Lock()

    def stop(self) -> None:
        self.stopping.set()
        self._bell.ring()

    def run(self) -> None:
        log.info("worker %s started (%d at once)", self.worker_id, self.concurrency)
        unsubscribe = on_job_queued(self.engine, self._bell.ring)
        slots = [
            threading.Thread(target=self._slot, name=f"job-slot-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for slot in slots:
            slot.start()
        try:
            while not self.stopping.is_set():
                seen = self._bell.count
                try:
                    job = self._claim_if_free()
                except Exception:  # the store is down or flaky: wait and try again
                    log.exception("worker %s could not claim a job", self.worker_id)
                    self.stopping.wait(self.settings.worker_poll_seconds)
                    continue
                if job is None:
                    self._bell.wait(seen, self.settings.worker_poll_seconds)
                else:
                    self._slots.put(job)
        finally:
            unsubscribe()
            self._let_go()
            for _ in slots:
                self._slots.put(_STOP)
            self.leases.close()
        log.info("worker %s stopped", self.worker_id)

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run jobs one by one until none is ready; returns how many ran (tests, one-shot use)."""
        ran = 0
        while ran < max_jobs and self.run_once():
            ran += 1
        return ran

    def run_once(self) -> bool:
        """Claim one job and run it in this thread; False when none was ready."""
        job = self._claim(self.skip_kinds)
        if job is None:
            return False
        self._run_logged(job)
        return True

    def in_flight(self) -> dict[int, str]:
        """The jobs running now, by id, with their kinds."""
        with self._lock:
            return dict(self._in_flight)

    def _claim_if_free(self) -> ClaimedJob | None:
        with self._lock:
            if len(self._in_flight) >= self.concurrency:
                return None
            busy = self.one_at_a_time & set(self._in_flight.values())
            job = self._claim((*self.skip_kinds, *sorted(busy)))
            if job is not None:
                self._in_flight[job.id] = job.kind
            return job

    def _claim(self, skip_kinds: tuple[str, ...]) -> ClaimedJob | None:
        job = queue.claim(
            self.engine,
            worker_id=self.worker_id,
            lease_seconds=self.settings.job_lease_seconds,
            skip_kinds=skip_kinds,
        )
        if job is not None:
            self.leases.hold(job.id)
        return job

    def _slot(self) -> None:
        while (job := self._slots.get()) is not _STOP:
            try:
                self._run_logged(job)
            except Exception:  # the store failed while recording the outcome: the lease expires
                log.exception("job %s: its outcome could not be recorded", job.id)
            finally:
                with self._lock:
                    self._in_flight.pop(job.id, None)
                self._bell.ring()

    def _run_logged(self, job: ClaimedJob) -> None:
        with log_context(**job_fields(self.engine, job)):  # the job's ids on its log lines
            self._run_job(job)

    def _run_job(self, job: ClaimedJob) -> None:
        error: BaseException | None = None
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job, self.services)
        except BaseException as failure:  # recorded on the job below, with its ids
            error = failure
        if not self.leases.drop(job.id):
            return  # taken over, or released at shutdown: its outcome is not ours to record
        if error is None:
            queue.complete(self.engine, job_id=job.id, worker_id=self.worker_id)
            log.info("job %s (%s) done", job.id, job.kind)
            return
        status = queue.fail(
            self.engine,
            job=job,
            worker_id=self.worker_id,
            error="".join(traceback.format_exception(error)),
            backoff_seconds=self.settings.job_backoff_seconds,
        )
        log.warning("job %s (%s) failed, now %s: %s", job.id, job.kind, status, error)

    def _let_go(self) -> None:
        """Wait out the grace period for the jobs in flight, then release what still runs."""
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        while True:
            seen = self._bell.count
            left = deadline - time.monotonic()
            if not self.in_flight() or left <= 0:
                break
            self._bell.wait(seen, left)
        for job_id in self.leases.release_all():
            log.warning("job %s released unfinished at shutdown", job_id)
