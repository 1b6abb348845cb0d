"""Pull reviews in the store: per pull request, the head last reviewed, the newest head
announced, whether a review run holds it, and the findings posted; and what reviews cost.

Two writers race on a row: the webhook that announces a new head and the review run that ends.
Each move is one conditional UPDATE, so whichever comes second sees the other's write: a push
during a review is never lost (the ending run finds the newer head and starts the next review),
and two reviews of one pull request never run at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.engine import reading
from bot.store.models import ModelCall, Run, utcnow
from bot.store.review_models import PullReview

_row = PullReview.__table__  # type: ignore[attr-defined]
_run = Run.__table__  # type: ignore[attr-defined]
_call = ModelCall.__table__  # type: ignore[attr-defined]

# A review run that holds a pull request longer than this is taken as dead (a killed worker).
STALE_AFTER = timedelta(minutes=30)
REVIEW_MODES = ("auto", "review")  # automatic reviews, and `/crew review`


@dataclass(frozen=True)
class PullReviewState:
    reviewed_sha: str = ""
    wanted_sha: str = ""
    busy: bool = False
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)


def _where(repo: str, pr: int):
    return (_row.c.repo == repo, _row.c.pr_number == pr)


def _ensure(engine: Engine, repo: str, pr: int) -> None:
    with engine.begin() as connection:
        if connection.execute(select(_row.c.id).where(*_where(repo, pr))).first() is not None:
            return
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(_row).values(
                        repo=repo, pr_number=pr, reviewed_sha="", wanted_sha="", findings="{}",
                        budget_note_day="", updated_at=utcnow(),
                    )
                )  # fmt: skip
        except IntegrityError:
            pass  # another writer made it first


def state_of(engine: Engine, *, repo: str, pr: int) -> PullReviewState:
    with reading(engine) as connection:
        row = connection.execute(select(_row).where(*_where(repo, pr))).mappings().first()
    if row is None:
        return PullReviewState()
    return PullReviewState(
        reviewed_sha=row["reviewed_sha"],
        wanted_sha=row["wanted_sha"],
        busy=row["busy_since"] is not None,
        findings=json.loads(row["findings"] or "{}"),
    )


def announce_head(engine: Engine, *, repo: str, pr: int, sha: str) -> None:
    """A webhook saw `sha` as the pull request's head: the next review must cover it."""
    _ensure(engine, repo, pr)
    with engine.begin() as connection:
        connection.execute(
            update(_row).where(*_where(repo, pr)).values(wanted_sha=sha, updated_at=utcnow())
        )


def claim(engine: Engine, *, repo: str, pr: int, now: datetime | None = None) -> bool:
    """Take the pull request for one review run; False while another run holds it."""
    now = now or utcnow()
    _ensure(engine, repo, pr)
    with engine.begin() as connection:
        taken = connection.execute(
            update(_row)
            .where(
                *_where(repo, pr),
                or_(_row.c.busy_since.is_(None), _row.c.busy_since < now - STALE_AFTER),
            )
            .values(busy_since=now, updated_at=now)
        )
    return taken.rowcount == 1


def release(
    engine: Engine,
    *,
    repo: str,
    pr: int,
    reviewed_sha: str,
    findings: dict[str, Any],
    holds: bool = True,
) -> str:
    """Record a finished review and (`holds`: the run had claimed it) let go of the pull
    request; returns the newest head announced meanwhile (`reviewed_sha` if none moved)."""
    _ensure(engine, repo, pr)
    values: dict[str, Any] = {
        "reviewed_sha": reviewed_sha,
        "findings": json.dumps(findings, sort_keys=True),
        "updated_at": utcnow(),
    }
    if holds:
        values["busy_since"] = None
    with engine.begin() as connection:
        connection.execute(update(_row).where(*_where(repo, pr)).values(**values))
        wanted = connection.execute(select(_row.c.wanted_sha).where(*_where(repo, pr))).scalar()
    return wanted or reviewed_sha


def let_go(engine: Engine, *, repo: str, pr: int) -> None:
    """Free the pull request without recording a review (nothing was reviewed)."""
    with engine.begin() as connection:
        connection.execute(update(_row).where(*_where(repo, pr)).values(busy_since=None))


def forget_reviewed_head(engine: Engine, *, repo: str, pr: int) -> None:
    """The next review covers the whole pull request (`/crew review full`); findings stay."""
    _ensure(engine, repo, pr)
    with engine.begin() as connection:
        connection.execute(update(_row).where(*_where(repo, pr)).values(reviewed_sha=""))


def note_budget_once(engine: Engine, *, repo: str, pr: int, day: str) -> bool:
    """True the first time this pull request is told, on `day`, that the budget is spent."""
    _ensure(engine, repo, pr)
    with engine.begin() as connection:
        noted = connection.execute(
            update(_row)
            .where(*_where(repo, pr), _row.c.budget_note_day != day)
            .values(budget_note_day=day)
        )
    return noted.rowcount == 1


def auto_review_spend(engine: Engine, *, repo: str, day: str) -> float:
    """USD spent on `day` (UTC) by a repository's automatic reviews, from the model ledger."""
    query = (
        select(func.coalesce(func.sum(_call.c.cost_usd), 0.0))
        .select_from(_call.join(_run, _run.c.id == _call.c.run_id))
        .where(_run.c.repo == repo, _run.c.mode == "auto", _call.c.day == day)
    )
    with reading(engine) as connection:
        return float(connection.execute(query).scalar_one())


def review_runs(engine: Engine, *, repo: str | None = None, pr: int | None = None) -> list[Any]:
    """Every review-only run (automatic or asked for), oldest first, with its cost: what the
    demo and the metrics read (`id, repo, pr_number, mode, state, cost_usd, created_at`)."""
    cost = (
        select(func.coalesce(func.sum(_call.c.cost_usd), 0.0))
        .where(_call.c.run_id == _run.c.id)
        .scalar_subquery()
    )
    query = select(
        _run.c.id, _run.c.repo, _run.c.pr_number, _run.c.mode, _run.c.state,
        cost.label("cost_usd"), _run.c.created_at,
    ).where(_run.c.mode.in_(REVIEW_MODES))  # fmt: skip
    if repo is not None:
        query = query.where(_run.c.repo == repo)
    if pr is not None:
        query = query.where(_run.c.pr_number == pr)
    with reading(engine) as connection:
        return list(connection.execute(query.order_by(_run.c.id)).all())


def crew_made(engine: Engine, *, repo: str, pr: int) -> bool:
    """Whether a crew run opened this pull request (a run that is not review-only)."""
    query = select(_run.c.id).where(
        _run.c.repo == repo, _run.c.pr_number == pr, _run.c.mode.notin_(REVIEW_MODES)
    )
    with reading(engine) as connection:
        return connection.execute(query.limit(1)).first() is not None
