"""Which ids the log lines of a job carry (see `logs.log_context`); a run's step adds its own
(`bot.runs.driver.run_fields`)."""

from __future__ import annotations

import logging
from typing import Any

from bot.store.deliveries import delivery_ids
from bot.store.engine import Engine, StoreError
from bot.store.queue import ClaimedJob

log = logging.getLogger(__name__)


def job_fields(engine: Engine, job: ClaimedJob) -> dict[str, Any]:
    """The job's id and kind, its run, and the GitHub or Slack delivery it came from."""
    fields: dict[str, Any] = {"job_id": job.id, "job_kind": job.kind}
    run_id = job.args.get("run_id")
    if isinstance(run_id, int):
        fields["run_id"] = run_id
    if job.delivery_id is None:
        return fields
    if job.origin is not None:  # read with the claim
        return fields | job.origin
    try:
        found = delivery_ids(engine, job.delivery_id)
    except StoreError as error:  # the job will meet the store's trouble itself
        log.warning("job %s: its delivery's ids are unreadable: %s", job.id, error)
        return fields
    if found is not None:
        fields |= found
    return fields
