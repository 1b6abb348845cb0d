"""The worker: claims jobs from the store and runs up to `concurrency` of them at once.

Most jobs wait on GitHub or Slack, so a worker runs several side by side, one in each of its
slot threads. Slots never go to the queue themselves: the worker's feeder (the thread in `run`)
does, in rounds: one transaction records the outcomes of the jobs the slots ended and claims as
many jobs as there are free slots (see `bot.store.job_rounds`). The feeder waits for a job
queued in this process or another's notice (which ring it), a slot's job ending, or its next
poll. A job's lease is renewed only if it outlives a third of it (see `LeaseKeeper`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Collection, Mapping, Sequence

from bot.observability.ids import job_fields
from bot.observability.logs import log_context
from bot.security.secrets import scanner_for_settings
from bot.services import Services
from bot.store import queue
from bot.store.job_notices import JobNotices
from bot.store.job_rounds import Ended, Rounds
from bot.store.models import JobStatus
from bot.store.queue import ClaimedJob
from bot.store.wakeups import Doorbell, on_job_queued
from jobs.handlers import JOB_HANDLERS, JobHandler
from jobs.in_flight import Admission, InFlight
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
        self.jobs = InFlight(
            concurrency=self.concurrency,
            runs_at_once=runs_at_once or self.settings.worker_runs_at_once,
            skip_kinds=self.skip_kinds,
        )
        self.stopping = threading.Event()
        self.leases = LeaseKeeper(
            self.engine, worker_id=self.worker_id, lease_seconds=self.settings.job_lease_seconds
        )
        self.rounds = Rounds(
            self.engine,
            worker_id=self.worker_id,
            lease_seconds=self.settings.job_lease_seconds,
            workers_limit=self.settings.job_max_attempts,
        )
        # The feeder's: a job queued (here or, on PostgreSQL, anywhere), a job ended, or stop.
        self._bell = Doorbell()

    def stop(self) -> None:
        self.stopping.set()
        self._bell.ring()

    def run(self) -> None:
        log.info("worker %s (%d jobs at once) started", self.worker_id, self.concurrency)
        unsubscribe = on_job_queued(self.engine, self._bell.ring)
        notices = JobNotices(self.engine, self._bell.ring).start()  # other processes'
        slots = [
            threading.Thread(target=self._slot, name=f"job-slot-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for slot in slots:
            slot.start()
        try:
            self._feed()
        finally:
            unsubscribe()
            notices.stop()
            self._let_go()
            # Idle slots end at once; one still in a released job's handler is left to it.
            deadline = time.monotonic() + SLOTS_END_SECONDS
            for slot in slots:
                slot.join(max(0.0, deadline - time.monotonic()))
            self.rounds.close()
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
        claimed = queue.claim(
            self.engine,
            worker_id=self.worker_id,
            lease_seconds=self.settings.job_lease_seconds,
            workers_limit=self.settings.job_max_attempts,
            skip_kinds=self.jobs.skipping(),
        )
        if claimed is None or not self._admit([claimed], to_slot=False):
            return False
        try:
            self._round([self._run(claimed)], want=0)
        finally:
            self.rounds.close()  # its connection back to the pool: no feeder holds it
        return True

    def in_flight(self) -> dict[int, str]:
        """The jobs in flight now (claimed, outcome not yet recorded), by id, with their kinds."""
        return self.jobs.kinds()

    # The feeder: every trip to the queue.

    def _feed(self) -> None:
        """Rounds until stopped: record what ended and fill the free slots. It looks for work
        when rung, at each poll, and straight after a round that filled every free slot."""
        poll = self.settings.worker_poll_seconds
        look = True  # whether jobs may be due that no round has claimed yet
        while not self.stopping.is_set():
            seen = self._bell.count
            ended = self.jobs.take_ended()
            want = self.jobs.room(finishing=[one.job.id for one in ended]) if look or ended else 0
            if ended or want > 0:
                try:
                    claimed = self._round(ended, want)
                except Exception:  # the store is down or flaky: their leases will expire
                    log.exception("worker %s could not reach the queue", self.worker_id)
                    self.stopping.wait(poll)
                    continue
                look = want > 0 and claimed == want
                if ended or look:
                    continue
            self._bell.wait(seen, poll)
            look = True

    def _round(self, ended: Sequence[Ended], want: int) -> int:
        """Record `ended` and claim up to `want` jobs for the slots; how many were claimed."""
        ours = [one for one in ended if self.leases.drop(one.job.id)]  # else taken over
        finishing = [one.job.id for one in ended]
        try:
            done = self.rounds(
                ended=ours,
                want=want,
                backoff_seconds=self.settings.job_backoff_seconds,
                skip_kinds=self.jobs.skipping(finishing) if want else (),
            )
        finally:
            self.jobs.forget(finishing)  # before the claimed are admitted: a kind may match
        for one in ours:
            with log_context(**job_fields(self.engine, one.job)):  # as the job's own lines
                _log_outcome(one, done.statuses.get(one.job.id))
        self._admit(done.claimed)
        return len(done.claimed)

    def _admit(self, claimed: list[ClaimedJob], *, to_slot: bool = True) -> bool:
        """Hand the claimed jobs to the slots, holding their leases; give back, unrun and
        uncounted, those that may not run now. False if the last was given back."""
        admitted = False
        for job in claimed:
            self.leases.hold(job.id)  # before a slot may end it
            admission = self.jobs.admit(job, to_slot=to_slot)
            admitted = admission is Admission.RUN
            if admitted:
                continue
            self.leases.drop(job.id)
            if admission is Admission.WAIT_ITS_TURN:
                queue.defer(self.engine, job_id=job.id, worker_id=self.worker_id,
                            seconds=RUN_TURN_SECONDS)  # fmt: skip
            else:
                queue.release(self.engine, job_id=job.id, worker_id=self.worker_id)
        return admitted

    def _let_go(self) -> None:
        """Give back the jobs no slot has started; record the outcomes of those that end
        within the grace period; release what still runs."""
        for job in self.jobs.close():
            if self.leases.drop(job.id):
                queue.release(self.engine, job_id=job.id, worker_id=self.worker_id)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        while True:
            seen = self._bell.count
            ended = self.jobs.take_ended()
            if ended:
                try:
                    self._round(ended, want=0)
                except Exception:
                    log.exception("worker %s could not record outcomes", self.worker_id)
            left = deadline - time.monotonic()
            if not self.jobs.kinds() or left <= 0:
                break
            self._bell.wait(seen, left)
        for job_id in self.leases.release_all():
            log.warning("job %s released unfinished at shutdown", job_id)

    # The slots: run handlers, nothing else.

    def _slot(self) -> None:
        while (job := self.jobs.next_ready()) is not None:
            self.jobs.ended(self._run(job))
            self._bell.ring()

    def _run(self, job: ClaimedJob) -> Ended:
        with log_context(**job_fields(self.engine, job)):  # the job's ids on its log lines
            try:
                handler = self.handlers.get(job.kind)
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                handler(job, self.services)
            except BaseException as failure:  # recorded on the job, with its ids
                # Kept for the dashboard's Jobs page: a secret in its message stays out.
                text = "".join(traceback.format_exception(failure))
                return Ended(job, scanner_for_settings(self.settings).redact(text))
        return Ended(job, None)


def _log_outcome(ended: Ended, status: JobStatus | None) -> None:
    job = ended.job
    if status == JobStatus.DONE:
        log.info("job %s (%s) done", job.id, job.kind)
    elif status is not None:
        last = (ended.error or "").strip().splitlines()[-1:] or [""]
        log.warning("job %s (%s) failed, now %s: %s", job.id, job.kind, status, last[0])
