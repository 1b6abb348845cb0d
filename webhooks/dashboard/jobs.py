"""The Jobs page: the queue's work by state (queued, retrying, running, done, dead), newest
first, each with its last error and the delivery or run it belongs to; one job with its error
in full. Errors are tracebacks stored as raised: they are redacted here, before any clipping."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.dashboard_jobs import JOB_STATES, JobRow, job_counts, job_row, job_rows
from bot.store.engine import Engine
from webhooks.dashboard.text import Redact, mask_text, masked, pretty, shown

PAGE = 50
SUMMARY_CHARS = 240
ERROR_CHARS = 10_000  # more than the queue keeps (its last 8,000), so a detail is never cut


@dataclass(frozen=True)
class JobView:
    job: JobRow
    summary: str  # the error's last line: what was raised
    error: str  # the whole error, redacted
    args: str


@dataclass(frozen=True)
class JobsPage:
    jobs: list[JobView]
    counts: dict[str, int]
    state: str | None
    older: int | None  # the `before` of the next page, if there is one


def error_summary(error: str) -> str:
    """The last non-blank line of an error: a traceback's exception and its message."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _view(row: JobRow, redact: Redact) -> JobView:
    error = redact(mask_text(row.error))
    return JobView(
        job=row,
        summary=shown(error_summary(error), redact, SUMMARY_CHARS),
        error=shown(error, redact, ERROR_CHARS),
        args=pretty(masked(row.args), redact, 2000),
    )


def jobs_page(
    engine: Engine, *, redact: Redact, state: str | None = None, before: int | None = None
) -> JobsPage:
    if state is not None and state not in JOB_STATES:
        raise ValueError(f"not a job state: {state!r}")
    rows = job_rows(engine, state=state, before=before, limit=PAGE + 1)
    older = rows[PAGE - 1].id if len(rows) > PAGE else None
    views = [_view(row, redact) for row in rows[:PAGE]]
    return JobsPage(views, job_counts(engine), state, older)


def job_page(engine: Engine, job_id: int, *, redact: Redact) -> JobView | None:
    row = job_row(engine, job_id)
    return None if row is None else _view(row, redact)
