"""Collaboration metrics for a window [start, end): what the crew shipped, how often work went
back and forth, how long humans and agents waited, what it cost, and who handed work to whom.

Everything is counted from rows the crew writes anyway (runs, transitions, step outputs,
model calls, standups, the Slack outbox), so the numbers cannot disagree with the runs.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from bot.runs.memory import kind_of
from bot.runs.states import TERMINAL, RunState
from bot.store.models import (
    ModelCall,
    Run,
    RunTransition,
    SlackMessage,
    SlackMessageStatus,
    Standup,
    StepOutput,
)

_run = Run.__table__  # type: ignore[attr-defined]
_output = StepOutput.__table__  # type: ignore[attr-defined]
_transition = RunTransition.__table__  # type: ignore[attr-defined]
_call = ModelCall.__table__  # type: ignore[attr-defined]
_message = SlackMessage.__table__  # type: ignore[attr-defined]
_standup = Standup.__table__  # type: ignore[attr-defined]

BLOCKING = (RunState.AWAITING_HUMAN, RunState.FAILED, RunState.BUDGET_EXHAUSTED)
# A human's answer to a finished pull request: approve, ask for changes, or stop.
DECISIONS = (RunState.DONE, RunState.FIXING, RunState.STOPPED)
HUMAN = "human"


@dataclass(frozen=True)
class Usage:
    """One role's model calls: how many, their tokens, and what they cost."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class Metrics:
    start: datetime
    end: datetime
    standups_held: int = 0
    slack_messages_sent: int = 0
    prs_opened: int = 0
    reviews: int = 0
    review_rounds_average: float | None = None  # over the runs reviewed in the window
    review_rounds_max: int = 0
    blockers_raised: dict[str, int] = field(default_factory=dict)  # by the state entered
    blockers_resolved: int = 0  # runs that left awaiting_human
    outcomes: dict[str, int] = field(default_factory=dict)  # runs ended, by final state
    task_to_pr_seconds: float | None = None  # median
    pr_to_decision_seconds: float | None = None  # median
    usage: dict[str, Usage] = field(default_factory=dict)  # by role
    interactions: dict[str, dict[str, int]] = field(default_factory=dict)  # giver → taker

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["blockers_raised_total"] = sum(self.blockers_raised.values())
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=True, ensure_ascii=False)


def collaboration_metrics(engine: Engine, *, start: datetime, end: datetime) -> Metrics:
    """The crew's collaboration in [start, end)."""
    metrics = Metrics(start, end)
    with engine.connect() as connection:
        metrics.standups_held = _count(connection, _standup, _standup.c.posted_at, start, end)
        sent = _message.c.status == SlackMessageStatus.SENT
        metrics.slack_messages_sent = _count(
            connection, _message, _message.c.sent_at, start, end, sent
        )
        _pulls(connection, metrics)
        _reviews(connection, metrics)
        _blockers(connection, metrics)
        _usage(connection, metrics)
        _interactions(connection, metrics)
    return metrics


def _within(column: Any, start: datetime, end: datetime) -> Any:
    return (column >= start) & (column < end)


def _count(connection: Connection, table: Any, column: Any, start, end, *where: Any) -> int:
    query = select(func.count()).select_from(table).where(_within(column, start, end), *where)
    return connection.execute(query).scalar_one()


def _pulls(connection: Connection, metrics: Metrics) -> None:
    """PRs opened: runs with a pull request whose first code step finished in the window."""
    first_code = (
        select(_output.c.run_id, func.min(_output.c.created_at).label("at"))
        .where(_output.c.step.like("code-%"))
        .group_by(_output.c.run_id)
        .subquery()
    )
    rows = connection.execute(
        select(_run.c.created_at, first_code.c.at)
        .join(first_code, first_code.c.run_id == _run.c.id)
        .where(_run.c.pr_number.is_not(None), _within(first_code.c.at, metrics.start, metrics.end))
    ).all()
    metrics.prs_opened = len(rows)
    metrics.task_to_pr_seconds = _median([(row.at - row.created_at) for row in rows])


def _reviews(connection: Connection, metrics: Metrics) -> None:
    """Reviews in the window; rounds are each reviewed run's reviews up to the window's end."""
    o = _output.c
    reviews = connection.execute(
        select(o.run_id, o.created_at).where(o.step.like("review-%"), o.created_at < metrics.end)
    ).all()
    in_window = [row for row in reviews if row.created_at >= metrics.start]
    metrics.reviews = len(in_window)
    reviewed = {row.run_id for row in in_window}
    rounds = Counter(row.run_id for row in reviews if row.run_id in reviewed)
    if rounds:
        metrics.review_rounds_average = sum(rounds.values()) / len(rounds)
        metrics.review_rounds_max = max(rounds.values())


def _blockers(connection: Connection, metrics: Metrics) -> None:
    """Blockers raised and resolved, outcomes, and how long a finished PR waited for a human."""
    t = _transition.c
    rows = connection.execute(
        select(t.run_id, t.from_state, t.to_state, t.at)
        .where(t.at < metrics.end)
        .order_by(t.at, t.id)
    ).all()
    waiting_since: dict[int, datetime] = {}
    raised: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    waits = []
    for row in rows:
        counted = row.at >= metrics.start
        if row.to_state == RunState.AWAITING_HUMAN:
            waiting_since[row.run_id] = row.at
        if counted and row.to_state in BLOCKING:
            raised[row.to_state] += 1
        if counted and row.to_state in TERMINAL:
            outcomes[row.to_state] += 1
        if row.from_state == RunState.AWAITING_HUMAN and counted:
            metrics.blockers_resolved += 1
            if row.to_state in DECISIONS and row.run_id in waiting_since:
                waits.append(row.at - waiting_since[row.run_id])
    metrics.blockers_raised = dict(sorted(raised.items()))
    metrics.outcomes = dict(sorted(outcomes.items()))
    metrics.pr_to_decision_seconds = _median(waits)


def _usage(connection: Connection, metrics: Metrics) -> None:
    c = _call.c
    tokens = ("input_tokens", "output_tokens")
    tokens += ("cache_creation_input_tokens", "cache_read_input_tokens")
    rows = connection.execute(
        select(
            c.role,
            func.count().label("calls"),
            *[func.coalesce(func.sum(c[name]), 0).label(name) for name in tokens],
            func.coalesce(func.sum(c.cost_usd), 0.0).label("cost_usd"),
        )
        .where(_within(c.created_at, metrics.start, metrics.end))
        .group_by(c.role)
        .order_by(c.role)
    ).all()
    metrics.usage = {
        row.role: Usage(
            row.calls, *[int(getattr(row, name)) for name in tokens], round(row.cost_usd, 6)
        )
        for row in rows
    }


def _interactions(connection: Connection, metrics: Metrics) -> None:
    """Who handed work or feedback to whom, from each run's consecutive step outputs.

    The later output's role took what the earlier one's role gave; a vote that asked for
    changes counts from every voter who asked. Outputs a person made count as "human".
    """
    o = _output.c
    touched = select(o.run_id).where(_within(o.created_at, metrics.start, metrics.end))
    rows = connection.execute(
        select(o.run_id, o.step, o.role, o.content, o.created_at)
        .where(o.run_id.in_(touched), o.created_at < metrics.end)
        .order_by(o.run_id, o.id)
    ).all()
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for before, after in zip(rows, rows[1:], strict=False):
        if before.run_id != after.run_id or after.created_at < metrics.start:
            continue
        if after.role == HUMAN:
            continue  # a person's review answers the run's state, not an agent's output
        for giver in _givers(before):
            if giver != after.role:
                matrix[giver][after.role] += 1
    metrics.interactions = {
        giver: dict(sorted(takers.items())) for giver, takers in sorted(matrix.items())
    }


def _givers(output: Any) -> list[str]:
    if kind_of(output.step) != "vote":
        return [output.role]
    votes = json.loads(output.content).get("votes", [])
    return [vote["role"] for vote in votes if vote.get("decision") == "request_changes"]


def _median(spans: list[Any]) -> float | None:
    return median(span.total_seconds() for span in spans) if spans else None
