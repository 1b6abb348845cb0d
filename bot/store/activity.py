"""The crew's activity in a window [start, end), as the store holds it: runs, transitions, step
outputs, votes, model calls, standups and sent Slack messages.

The collaboration metrics and the standups are both built from these rows, so a report can
only state what the crew wrote down. The reads of one report share one snapshot
(`reading(snapshot=True)`), so one report sees one store. States are plain strings here; the
caller names the ones that finish a run.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.store.engine import Engine, reading_session
from bot.store.models import (
    ModelCall,
    Run,
    RunTransition,
    SlackMessage,
    SlackMessageStatus,
    StepOutput,
    Vote,
)
from bot.store.standup_models import Standup

TOKENS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclass(frozen=True)
class RoleUsage:
    """One role's model calls in the window, summed."""

    role: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class CollaborationActivity:
    """The rows the collaboration metrics count, read in one session."""

    standups_posted: int
    slack_messages_sent: int
    pulls: list[tuple[datetime, datetime]]  # (run created, its first code output) in the window
    reviews: list[tuple[int, datetime]]  # (run id, when) of every review output before the end
    transitions: list[RunTransition]  # every transition before the end, by time
    usage: list[RoleUsage]  # model calls in the window, by role
    outputs: list[StepOutput]  # of runs with an output in the window, before the end, by run


@dataclass(frozen=True)
class StandupActivity:
    """The rows a standup states, read in one session."""

    outputs: list[StepOutput]  # made in the window, by id
    votes: list[Vote]  # cast in the window, by id
    ended: list[RunTransition]  # into a finishing state in the window, by id
    active_ids: list[int]  # runs not finished now, by id
    history: list[StepOutput]  # every output of the active runs, by id
    runs: dict[int, Run]  # every run of the rows above


def collaboration_activity(
    engine: Engine, *, start: datetime, end: datetime
) -> CollaborationActivity:
    """What the crew did in [start, end), as the collaboration metrics count it."""
    with reading_session(engine, snapshot=True) as session:
        return CollaborationActivity(
            standups_posted=_standups_posted(session, start, end),
            slack_messages_sent=_slack_messages_sent(session, start, end),
            pulls=_pulls_opened(session, start, end),
            reviews=_reviews_before(session, end),
            transitions=_transitions_before(session, end),
            usage=_usage_by_role(session, start, end),
            outputs=_outputs_of_touched_runs(session, start, end),
        )


def standup_activity(
    engine: Engine, *, start: datetime, end: datetime, finished: Collection[str]
) -> StandupActivity:
    """What each run had done in [start, end) and where the unfinished runs stand now."""
    with reading_session(engine, snapshot=True) as session:
        outputs = _in_window(session, StepOutput, StepOutput.created_at, start, end)
        votes = _in_window(session, Vote, Vote.created_at, start, end)
        ended = [
            row
            for row in _in_window(session, RunTransition, RunTransition.at, start, end)
            if row.to_state in finished
        ]
        active = select(Run.id).where(col(Run.state).notin_(list(finished)))
        active_ids = cast(list[int], list(session.exec(active.order_by(col(Run.id))).all()))
        history = list(
            session.exec(
                select(StepOutput)
                .where(col(StepOutput.run_id).in_(active_ids))
                .order_by(col(StepOutput.id))
            ).all()
        )
        ids = {row.run_id for row in [*outputs, *votes, *ended]} | set(active_ids)
        runs = session.exec(select(Run).where(col(Run.id).in_(sorted(ids)))).all()
    by_id = {cast(int, run.id): run for run in runs}
    return StandupActivity(outputs, votes, ended, active_ids, history, by_id)


def _within(column: Any, start: datetime, end: datetime) -> Any:
    return (col(column) >= start) & (col(column) < end)


def _in_window(
    session: Session, entity: Any, column: Any, start: datetime, end: datetime
) -> list[Any]:
    query = select(entity).where(col(column) >= start, col(column) < end)
    return list(session.exec(query.order_by(col(entity.id))).all())


def _standups_posted(session: Session, start: datetime, end: datetime) -> int:
    query = select(func.count()).select_from(Standup)
    return session.exec(query.where(_within(Standup.posted_at, start, end))).one()


def _slack_messages_sent(session: Session, start: datetime, end: datetime) -> int:
    query = select(func.count()).select_from(SlackMessage)
    sent = col(SlackMessage.status) == SlackMessageStatus.SENT
    return session.exec(query.where(_within(SlackMessage.sent_at, start, end), sent)).one()


def _pulls_opened(session: Session, start: datetime, end: datetime) -> list[tuple[Any, Any]]:
    """Runs with a pull request whose first code step finished in the window."""
    first_code = (
        select(StepOutput.run_id, func.min(StepOutput.created_at).label("at"))
        .where(col(StepOutput.step).like("code-%"))
        .group_by(col(StepOutput.run_id))
        .subquery()
    )
    rows = session.exec(
        select(Run.created_at, first_code.c.at)
        .join(first_code, first_code.c.run_id == Run.id)
        .where(col(Run.pr_number).is_not(None), _within(first_code.c.at, start, end))
    ).all()
    return [(created, at) for created, at in rows]


def _reviews_before(session: Session, end: datetime) -> list[tuple[int, datetime]]:
    """Review outputs before the end, not only in the window: a run's rounds count them all."""
    reviews = select(StepOutput.run_id, StepOutput.created_at).where(
        col(StepOutput.step).like("review-%"), col(StepOutput.created_at) < end
    )
    return [(run_id, at) for run_id, at in session.exec(reviews).all()]


def _transitions_before(session: Session, end: datetime) -> list[RunTransition]:
    query = select(RunTransition).where(col(RunTransition.at) < end)
    return list(session.exec(query.order_by(col(RunTransition.at), col(RunTransition.id))).all())


def _usage_by_role(session: Session, start: datetime, end: datetime) -> list[RoleUsage]:
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types selects of up to four columns
            ModelCall.role,
            func.count().label("calls"),
            *[func.coalesce(func.sum(getattr(ModelCall, name)), 0).label(name) for name in TOKENS],
            func.coalesce(func.sum(ModelCall.cost_usd), 0.0).label("cost_usd"),
        )
        .where(_within(ModelCall.created_at, start, end))
        .group_by(col(ModelCall.role))
        .order_by(col(ModelCall.role))
    ).all()
    return [
        RoleUsage(role, calls, int(inputs), int(outputs), int(creation), int(read), cost)
        for role, calls, inputs, outputs, creation, read, cost in rows
    ]


def _outputs_of_touched_runs(session: Session, start: datetime, end: datetime) -> list[StepOutput]:
    """Every output before the end of each run that has an output in the window, in order."""
    touched = select(StepOutput.run_id).where(_within(StepOutput.created_at, start, end))
    query = select(StepOutput).where(
        col(StepOutput.run_id).in_(touched), col(StepOutput.created_at) < end
    )
    return list(session.exec(query.order_by(col(StepOutput.run_id), col(StepOutput.id))).all())
