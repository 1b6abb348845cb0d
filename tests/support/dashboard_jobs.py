"""The queue's jobs for the dashboard tests' store (`dashboard_store`): the GitHub delivery's
job went dead with a traceback, the Slack delivery's waits to retry, a run's finished, and one
waits its first try. Made through the queue's own calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.store import queue
from bot.store.models import utcnow

# An installation token in an exception's message: planted, as the store keeps errors raw.
INSTALLATION_TOKEN = "ghs_" + "Q9w8E7r6T5y4U3i2O1p0A9s8D7f6G5h4J3k2"
# The dead job's error: a traceback as the worker stores it, a secret in its message.
DEAD_ERROR = (
    "Traceback (most recent call last):\n"
    '  File "jobs/handlers.py", line 40, in github_event\n'
    "    handle(delivery)\n"
    f"RuntimeError: GitHub refused the installation token {INSTALLATION_TOKEN} <script>x</script>\n"
)
RETRY_ERROR = "TimeoutError: Slack did not answer in 10 s\n"


@dataclass(frozen=True)
class SeededJobs:
    dead: int  # the GitHub delivery's, out of attempts
    retrying: int  # the Slack delivery's, failed once
    done: int  # run 1's crew run
    queued: int  # not tried yet


def seed_jobs(engine: Engine, deliveries: dict[str, int], *, run_id: int) -> SeededJobs:
    """Each job through the queue's own calls, claimed as soon as it is queued."""

    def tried(kind: str, error: str | None, **fields) -> int:
        job_id = queue.enqueue(engine, kind=kind, **fields)
        job = queue.claim(engine, worker_id="w-1", lease_seconds=60, workers_limit=5)
        assert job is not None and job.id == job_id
        if error is None:
            queue.complete(engine, job_id=job_id, worker_id="w-1")
        else:
            queue.fail(engine, job=job, worker_id="w-1", error=error, backoff_seconds=3600)
        return job_id

    dead = tried("github.event", DEAD_ERROR, delivery_id=deliveries["d-1"], max_attempts=1)
    retrying = tried("slack.request", RETRY_ERROR, delivery_id=deliveries["s-1"])
    done = tried("crew.run", None, args={"run_id": run_id})
    later = utcnow() + timedelta(hours=1)
    queued = queue.enqueue(engine, kind="slack.outbox", run_after=later)
    return SeededJobs(dead, retrying, done, queued)
