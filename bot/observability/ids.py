"""Which ids the log lines of a job or of a run's step carry (see `logs.log_context`)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from bot.roster.models import Crew
from bot.runs.states import STATE_STEP
from bot.store.models import Delivery, Run
from bot.store.queue import ClaimedJob

log = logging.getLogger(__name__)

_delivery = Delivery.__table__  # type: ignore[attr-defined]


def job_fields(engine: Engine, job: ClaimedJob) -> dict[str, Any]:
    """The job's id and kind, its run, and the GitHub or Slack delivery it came from."""
    fields: dict[str, Any] = {"job_id": job.id, "job_kind": job.kind}
    run_id = job.args.get("run_id")
    if isinstance(run_id, int):
        fields["run_id"] = run_id
    if job.delivery_id is None:
        return fields
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(
                    _delivery.c.source, _delivery.c.delivery_id, _delivery.c.installation_id
                ).where(_delivery.c.id == job.delivery_id)
            ).first()
    except SQLAlchemyError as error:  # the job will meet the store's trouble itself
        log.warning("job %s: its delivery's ids are unreadable: %s", job.id, error)
        return fields
    if row is not None:
        fields |= {
            "source": row.source,
            "delivery_id": row.delivery_id,
            "installation_id": row.installation_id,
        }
    return fields


def run_fields(crew: Crew, run: Run) -> dict[str, Any]:
    """The run, its installation, and the step (and role) its current state is."""
    step = STATE_STEP.get(run.state)
    role = crew.role_for(step).key if step is not None else crew.lead
    return {
        "run_id": run.id,
        "installation_id": run.installation_id,
        "state": run.state,
        "role": role,
    }
