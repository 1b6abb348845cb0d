"""The worker: claims jobs from the store, runs them, and keeps their leases alive meanwhile."""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Collection, Mapping

from bot.observability.ids import job_fields
from bot.observability.logs import log_context
from bot.security.secrets import scanner_for_settings
from bot.services import Services
from bot.store import queue
from bot.store.queue import ClaimedJob
from jobs.handlers import JOB_HANDLERS, JobHandler

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs one job at a time; SIGTERM (via `stop`) lets the current job finish or releases it."""

    def __init__(
        self,
        services: Services,
        handlers: Mapping[str, JobHandler] = JOB_HANDLERS,
        worker_id: str | None = None,
        skip_kinds: Collection[str] = (),
    ) -> None:
        self.services = services
        self.engine = services.engine
        self.settings = services.settings
        self.handlers = handlers
        self.worker_id = worker_id or new_worker_id()
        self.skip_kinds = tuple(skip_kinds)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the store is down or flaky: wait and try again
                log.exception("worker %s could not claim a job", self.worker_id)
                ran = False
            if not ran:
                self.stopping.wait(self.settings.worker_poll_seconds)
        log.info("worker %s stopped", self.worker_id)

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run jobs until none is ready; returns how many ran (tests and one-shot use)."""
        ran = 0
        while ran < max_jobs and self.run_once():
            ran += 1
        return ran

    def run_once(self) -> bool:
        job = queue.claim(
            self.engine,
            worker_id=self.worker_id,
            lease_seconds=self.settings.job_lease_seconds,
            skip_kinds=self.skip_kinds,
        )
        if job is None:
            return False
        with log_context(**job_fields(self.engine, job)):  # the job's ids on its log lines
            self._run_job(job)
        return True

    def _run_job(self, job: ClaimedJob) -> None:
        done = threading.Event()
        outcome: dict[str, BaseException | None] = {"error": None}

        def target() -> None:
            try:
                handler = self.handlers.get(job.kind)
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                handler(job, self.services)
            except BaseException as error:  # reported below, with the job's ids
                outcome["error"] = error
            finally:
                done.set()

        run_in_context = contextvars.copy_context().run  # the job's log ids go along
        thread = threading.Thread(
            target=run_in_context, args=(target,), name=f"job-{job.id}", daemon=True
        )
        thread.start()
        if not self._wait(job, done):
            return
        error = outcome["error"]
        if error is None:
            queue.complete(self.engine, job_id=job.id, worker_id=self.worker_id)
            log.info("job %s (%s) done", job.id, job.kind)
            return
        # Kept for the dashboard's Jobs page: a secret in an exception's message stays out.
        text = scanner_for_settings(self.settings).redact(
            "".join(traceback.format_exception(error))
        )
        status = queue.fail(
            self.engine,
            job=job,
            worker_id=self.worker_id,
            error=text,
            backoff_seconds=self.settings.job_backoff_seconds,
        )
        log.warning("job %s (%s) failed, now %s: %s", job.id, job.kind, status, error)

    def _wait(self, job: ClaimedJob, done: threading.Event) -> bool:
        """Renew the lease until the job ends; False if it was released or taken over."""
        lease = self.settings.job_lease_seconds
        release_at: float | None = None
        while True:
            wait = lease / 3
            if self.stopping.is_set():
                release_at = release_at or time.monotonic() + self.settings.shutdown_grace_seconds
                wait = min(wait, max(0.0, release_at - time.monotonic()))
            if done.wait(wait):
                return True
            if release_at is not None and time.monotonic() >= release_at:
                queue.release(self.engine, job_id=job.id, worker_id=self.worker_id)
                log.warning("job %s released unfinished at shutdown", job.id)
                return False
            try:
                renewed = queue.renew(
                    self.engine, job_id=job.id, worker_id=self.worker_id, lease_seconds=lease
                )
            except Exception:  # the store is briefly away: the job runs on, so keep its lease
                log.warning("job %s: could not renew its lease; trying again", job.id)
                continue
            if not renewed:
                log.error("job %s: lease lost to another worker; leaving it to them", job.id)
                return False
