"""A worker's jobs from their claim until their outcome is recorded, shared by its threads.

A claimed job is admitted (counted, and handed to a slot through the ready line) or given back;
a slot takes the next ready job, runs it and hands back what happened (`Ended`); the worker's
feeder records those in its next round trip to the store and forgets them. Up to
`runs_at_once` crew-run jobs are in flight, never two of one run (one step of a run at a time).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection
from enum import Enum

from bot.runs.lifecycle import CREW_RUN_JOB
from bot.store.job_rounds import Ended
from bot.store.queue import ClaimedJob


class Admission(Enum):
    RUN = "run"
    WAIT_ITS_TURN = "wait its turn"  # a crew run whose run is in flight here, or one too many
    GIVE_BACK = "give back"  # the worker is stopping


class InFlight:
    """Thread-safe; the lock is never held over the store or a handler."""

    def __init__(self, *, concurrency: int, runs_at_once: int, skip_kinds: Collection[str]):
        self.concurrency = concurrency
        self.runs_at_once = runs_at_once
        self.skip_kinds = tuple(skip_kinds)
        self._lock = threading.Lock()
        self._readied = threading.Condition(self._lock)  # a job became ready, or closing
        self._jobs: dict[int, ClaimedJob] = {}  # admitted, outcome not yet recorded
        self._ready: deque[ClaimedJob] = deque()  # admitted, no slot yet
        self._ended: list[Ended] = []  # run, outcome not yet recorded
        self._closed = False

    def kinds(self) -> dict[int, str]:
        """The jobs in flight, by id, with their kinds."""
        with self._lock:
            return {job_id: job.kind for job_id, job in self._jobs.items()}

    def room(self, finishing: Collection[int] = ()) -> int:
        """How many more jobs may be claimed now (`finishing`: jobs whose places are free)."""
        with self._lock:
            return self.concurrency - len(self._jobs.keys() - set(finishing))

    def skipping(self, finishing: Collection[int] = ()) -> tuple[str, ...]:
        """The kinds not to claim now: the skipped ones, and crew runs once `runs_at_once` are
        in flight."""
        with self._lock:
            if len(self._runs(finishing)) < self.runs_at_once:
                return self.skip_kinds
            return (*self.skip_kinds, CREW_RUN_JOB)

    def admit(self, job: ClaimedJob, *, to_slot: bool = True) -> Admission:
        """Count the job in flight (and, `to_slot`, line it up for a slot) if it may run now."""
        with self._lock:
            if self._closed:
                return Admission.GIVE_BACK
            if job.kind == CREW_RUN_JOB:
                runs = self._runs()
                if _run_of(job) in runs or len(runs) >= self.runs_at_once:
                    return Admission.WAIT_ITS_TURN
            self._jobs[job.id] = job
            if to_slot:
                self._ready.append(job)
                self._readied.notify()
            return Admission.RUN

    def next_ready(self) -> ClaimedJob | None:
        """The next job for a slot, waiting for one; None once closed."""
        with self._lock:
            while not self._ready and not self._closed:
                self._readied.wait()
            return None if self._closed else self._ready.popleft()

    def ended(self, ended: Ended) -> None:
        with self._lock:
            self._ended.append(ended)

    def take_ended(self) -> list[Ended]:
        with self._lock:
            taken, self._ended = self._ended, []
            return taken

    def forget(self, job_ids: Collection[int]) -> None:
        """Their outcomes are recorded (or not ours to record): their places are free."""
        with self._lock:
            for job_id in job_ids:
                self._jobs.pop(job_id, None)

    def close(self) -> list[ClaimedJob]:
        """No job is admitted or handed to a slot from now on; returns (and forgets) the
        ready jobs no slot has taken, to be given back."""
        with self._lock:
            self._closed = True
            unstarted, self._ready = list(self._ready), deque()
            for job in unstarted:
                self._jobs.pop(job.id, None)
            self._readied.notify_all()
            return unstarted

    def _runs(self, finishing: Collection[int] = ()) -> list[object]:
        """The run ids of the crew-run jobs in flight. Called under the lock."""
        return [
            _run_of(job)
            for job_id, job in self._jobs.items()
            if job.kind == CREW_RUN_JOB and job_id not in finishing
        ]


def _run_of(job: ClaimedJob) -> object:
    """The run a crew-run job drives (its `run_id`)."""
    return job.args.get("run_id")
