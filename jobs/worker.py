"""The worker: claims jobs from the store and runs up to `concurrency` of them at once.

Most jobs wait on GitHub or Slack, so a worker runs several side by side, one in each of its
slot threads. A slot records a job's outcome and claims its next job in one transaction; an
idle slot waits for a job queued in this process (which rings it) or its next poll. Up to
`runs_at_once` crew-run jobs run side by side, never two of one run (one step of a run at a
time). A job's lease is renewed only if it outlives a third of it (see `LeaseKeeper`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Collection, Mapping
from functools import partial

from bot.observability.ids import job_fields
from bot.observability.logs import log_context
from bot.runs.lifecycle import CREW_RUN_JOB
from bot.security.secrets import scanner_for_settings
from bot.services import Services
from bot.store import queue
from bot.store.job_notices import JobNotices
from bot.store.models import JobStatus
from bot.store.queue import ClaimedJob
from bot.store.wakeups import Doorbell, on_job_queued
from jobs.handlers import JOB_HANDLERS, JobHandler
from jobs.leases import LeaseKeeper

log = logging.getLogger(__name__)

SLOTS_END_SECONDS = 5.0  # how long a stopping worker waits for its idle slots to end
# A crew-run job claimed while its run is in flight here (a duplicate) waits this long before it
# is offered again: long enough not to spin on it, short enough to follow its run soon.
RUN_TURN_SECONDS = 1.0


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
        runs_at_once: int | None = None,
    ) -> None:
        self.services = services
        self.engine = services.engine
        self.settings = services.settings
        self.handlers = handlers
        self.worker_id = worker_id or new_worker_id()
        self.skip_kinds = tuple(skip_kinds)
        self.concurrency = concurrency or self.settings.worker_concurrency
        self.runs_at_once = runs_at_once or self.settings.worker_runs_at_once
        self.stopping = threading.Event()
        self.leases = LeaseKeeper(
            self.engine, worker_id=self.worker_id, lease_seconds=self.settings.job_lease_seconds
        )
        self._bell = Doorbell()  # a job queued in this process, or stop: idle slots look
        self._freed = Doorbell()  # a job ended: shutdown waits on it
        self._in_flight: dict[int, ClaimedJob] = {}  # by job id
        self._lock = threading.Lock()  # guards the in-flight table (never held over the store)

    def stop(self) -> None:
        self.stopping.set()
        self._bell.ring()

    def run(self) -> None:
        log.info("worker %s (%d jobs at once) started", self.worker_id, self.concurrency)
        unsubscribe = on_job_queued(self.engine, self._bell.ring)
        notices = JobNotices(self.engine, self._bell.ring_one).start()  # other processes'
        slots = [
            threading.Thread(target=self._slot, name=f"job-slot-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for slot in slots:
            slot.start()
        try:
            self.stopping.wait()
        finally:
            unsubscribe()
            notices.stop()
            self._let_go()
            # Slots between jobs end at once (a claim in progress is given back); one still in
            # a released job's handler is left to it.
            deadline = time.monotonic() + SLOTS_END_SECONDS
            for slot in slots:
                slot.join(max(0.0, deadline - time.monotonic()))
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
        with self._lock:
            skip = self._skipping()
        job = self._admit(queue.claim(self.engine, **self._claim_args(skip)))
        if job is None:
            return False
        self._run(job, claim_next=False)
        return True

    def in_flight(self) -> dict[int, str]:
        """The jobs running now, by id, with their kinds."""
        with self._lock:
            return {job_id: job.kind for job_id, job in self._in_flight.items()}

    def _slot(self) -> None:
        job: ClaimedJob | None = None  # one claimed before a stop still runs (or is released)
        while job is not None or not self.stopping.is_set():
            if job is None:
                seen = self._bell.count
                try:
                    job = self._claimed(
                        lambda skip: queue.claim(self.engine, **self._claim_args(skip))
                    )
                except Exception:  # the store is down or flaky: wait and try again
                    log.exception("worker %s could not claim a job", self.worker_id)
                    self.stopping.wait(self.settings.worker_poll_seconds)
                    continue
                if job is None:
                    self._bell.wait(seen, self.settings.worker_poll_seconds)
                    continue
                # Work found by looking (a poll, or a job queued in another process): more
                # may be due, so wake one more idle slot, which does the same in turn.
                self._bell.ring_one()
            try:
                job = self._run(job, claim_next=True)
            except Exception:  # the store failed while recording: the lease will expire
                log.exception("worker %s could not record a job's outcome", self.worker_id)
                job = None

    def _claim_args(self, skip: tuple[str, ...]) -> dict:
        lease = self.settings.job_lease_seconds
        return {"worker_id": self.worker_id, "lease_seconds": lease, "skip_kinds": skip}

    def _claimed(self, claim) -> ClaimedJob | None:
        """Claim with `claim(skip_kinds)` unless stopping, and hold the job's lease."""
        with self._lock:
            if self.stopping.is_set():
                return None  # shutdown releases what is held: claim nothing after it
            skip = self._skipping()
        return self._admit(claim(skip))  # the store is asked outside the lock

    def _skipping(self, finishing: int | None = None) -> tuple[str, ...]:
        """The kinds not to claim now: the skipped ones, and crew runs once `runs_at_once` are
        in flight (`finishing`: a job ending now, whose place is free). Called under the lock."""
        if len(self._runs_in_flight(finishing)) < self.runs_at_once:
            return self.skip_kinds
        return (*self.skip_kinds, CREW_RUN_JOB)

    def _runs_in_flight(self, finishing: int | None = None) -> list[object]:
        """The run ids of the crew-run jobs in flight here. Called under the lock."""
        return [
            _run_of(job)
            for job_id, job in self._in_flight.items()
            if job.kind == CREW_RUN_JOB and job_id != finishing
        ]

    def _admit(self, job: ClaimedJob | None) -> ClaimedJob | None:
        """Count a claimed job in flight and hold its lease. Give it back unrun if the worker
        is stopping; defer it a moment if it is a crew run whose run is in flight here, or
        one too many (slots claim side by side): it runs later, its attempt uncounted."""
        if job is None:
            return None
        with self._lock:
            if self.stopping.is_set():
                give_back = queue.release
            elif job.kind == CREW_RUN_JOB and self._waits_its_turn(job):
                give_back = partial(queue.defer, seconds=RUN_TURN_SECONDS)
            else:
                self._in_flight[job.id] = job
                self.leases.hold(job.id)
                return job
        give_back(self.engine, job_id=job.id, worker_id=self.worker_id)  # outside the lock
        return None

    def _waits_its_turn(self, job: ClaimedJob) -> bool:
        """A crew run may not start here now. Called under the lock."""
        runs = self._runs_in_flight()
        return _run_of(job) in runs or len(runs) >= self.runs_at_once

    def _run(self, job: ClaimedJob, *, claim_next: bool) -> ClaimedJob | None:
        """Run the job and record how it went; with `claim_next`, return the next job, claimed
        in the same transaction."""
        with log_context(**job_fields(self.engine, job)):  # the job's ids on its log lines
            error = self._handle(job)
            try:
                return self._record(job, error, claim_next=claim_next)
            finally:
                with self._lock:
                    self._in_flight.pop(job.id, None)
                self._freed.ring()

    def _handle(self, job: ClaimedJob) -> BaseException | None:
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job, self.services)
        except BaseException as failure:  # recorded on the job, with its ids
            return failure
        return None

    def _record(
        self, job: ClaimedJob, error: BaseException | None, *, claim_next: bool
    ) -> ClaimedJob | None:
        """Record the outcome; with `claim_next` (and not stopping), claim the next job in the
        same transaction. The job counts as in flight until its outcome is committed."""
        if not self.leases.drop(job.id):
            return None  # taken over, or released at shutdown: its outcome is not ours
        # Kept for the dashboard's Jobs page: a secret in an exception's message stays out.
        text = None if error is None else self._redact("".join(traceback.format_exception(error)))
        backoff = self.settings.job_backoff_seconds
        with self._lock:
            go_on = claim_next and not self.stopping.is_set()
            skip = self._skipping(finishing=job.id)
        following = None
        if go_on:
            status, following = queue.finish_and_claim(
                self.engine, job=job, error=text, backoff_seconds=backoff,
                **self._claim_args(skip),
            )  # fmt: skip
        elif text is None:
            owned = queue.complete(self.engine, job_id=job.id, worker_id=self.worker_id)
            status = JobStatus.DONE if owned else None
        else:
            status = queue.fail(
                self.engine, job=job, worker_id=self.worker_id, error=text,
                backoff_seconds=backoff,
            )  # fmt: skip
        with self._lock:
            self._in_flight.pop(job.id, None)  # before the next is admitted: its kind may match
        following = self._admit(following)
        if status == JobStatus.DONE:
            log.info("job %s (%s) done", job.id, job.kind)
        elif status is not None:
            log.warning("job %s (%s) failed, now %s: %s", job.id, job.kind, status, error)
        return following

    def _redact(self, text: str) -> str:
        return scanner_for_settings(self.settings).redact(text)

    def _let_go(self) -> None:
        """Wait out the grace period for the jobs in flight, then release what still runs."""
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        while True:
            seen = self._freed.count
            left = deadline - time.monotonic()
            if not self.in_flight() or left <= 0:
                break
            self._freed.wait(seen, left)
        for job_id in self.leases.release_all():
            log.warning("job %s released unfinished at shutdown", job_id)


def _run_of(job: ClaimedJob) -> object:
    """The run a crew-run job drives (its `run_id`)."""
    return job.args.get("run_id")
