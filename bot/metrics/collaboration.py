"""Collaboration metrics for a window [start, end): what the crew shipped, how often work went
back and forth, how long humans and agents waited, what it cost, and who handed work to whom.

Everything is counted from rows the crew writes anyway (runs, transitions, step outputs,
model calls, standups, the Slack outbox, questions), so the numbers cannot disagree with the runs.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from bot.runs.memory import kind_of
from bot.runs.states import TERMINAL, RunState
from bot.store.activity import RoleUsage, collaboration_activity
from bot.store.engine import Engine
from bot.store.models import RunTransition, StepOutput
from bot.store.question_models import HUMANS, Question
from bot.store.questions import questions_between

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


@dataclass(frozen=True)
class QuestionCounts:
    """Questions agents asked (in the window) and answers they got (in the window)."""

    asked: int = 0
    asked_humans: int = 0
    answered: int = 0
    answer_seconds: float | None = None  # median, over the answers in the window
    human_answer_seconds: float | None = None  # the same, of the questions to the humans
    asker_to_addressee: dict[str, dict[str, int]] = field(default_factory=dict)


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
    questions: QuestionCounts = field(default_factory=QuestionCounts)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["blockers_raised_total"] = sum(self.blockers_raised.values())
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=True, ensure_ascii=False)


def collaboration_metrics(engine: Engine, *, start: datetime, end: datetime) -> Metrics:
    """The crew's collaboration in [start, end)."""
    activity = collaboration_activity(engine, start=start, end=end)
    metrics = Metrics(start, end)
    metrics.standups_held = activity.standups_posted
    metrics.slack_messages_sent = activity.slack_messages_sent
    _pulls(activity.pulls, metrics)
    _reviews(activity.reviews, metrics)
    _blockers(activity.transitions, metrics)
    metrics.usage = {row.role: _usage(row) for row in activity.usage}
    _interactions(activity.outputs, metrics)
    metrics.questions = question_counts(questions_between(engine, start=start, end=end), start, end)
    return metrics


def question_counts(rows: list[Question], start: datetime, end: datetime) -> QuestionCounts:
    """Asked and answered in [start, end), the median wait for an answer, who asked whom."""
    asked = [q for q in rows if start <= q.asked_at < end]
    answered = [q for q in rows if q.answered_at is not None and start <= q.answered_at < end]
    waits = [(q.answered_at - q.asked_at, q.addressee == HUMANS) for q in answered if q.answered_at]
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for question in asked:
        matrix[question.asker][question.addressee] += 1
    return QuestionCounts(
        asked=len(asked),
        asked_humans=sum(1 for q in asked if q.addressee == HUMANS),
        answered=len(answered),
        answer_seconds=_median([wait for wait, _ in waits]),
        human_answer_seconds=_median([wait for wait, humans in waits if humans]),
        asker_to_addressee={
            asker: dict(sorted(addressees.items())) for asker, addressees in sorted(matrix.items())
        },
    )


def _pulls(pulls: list[tuple[datetime, datetime]], metrics: Metrics) -> None:
    """PRs opened: runs with a pull request whose first code step finished in the window."""
    metrics.prs_opened = len(pulls)
    metrics.task_to_pr_seconds = _median([(at - created) for created, at in pulls])


def _reviews(reviews: list[tuple[int, datetime]], metrics: Metrics) -> None:
    """Reviews in the window; rounds are each reviewed run's reviews up to the window's end."""
    in_window = [run_id for run_id, at in reviews if at >= metrics.start]
    metrics.reviews = len(in_window)
    reviewed = set(in_window)
    rounds = Counter(run_id for run_id, _ in reviews if run_id in reviewed)
    if rounds:
        metrics.review_rounds_average = sum(rounds.values()) / len(rounds)
        metrics.review_rounds_max = max(rounds.values())


def _blockers(rows: list[RunTransition], metrics: Metrics) -> None:
    """Blockers raised and resolved, outcomes, and how long a finished PR waited for a human."""
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


def _usage(row: RoleUsage) -> Usage:
    return Usage(
        row.calls,
        row.input_tokens,
        row.output_tokens,
        row.cache_creation_input_tokens,
        row.cache_read_input_tokens,
        round(row.cost_usd, 6),
    )


def _interactions(rows: list[StepOutput], metrics: Metrics) -> None:
    metrics.interactions = interaction_matrix(rows, since=metrics.start)


def interaction_matrix(rows: list[StepOutput], *, since: datetime) -> dict[str, dict[str, int]]:
    """Who handed work or feedback to whom (giver → taker → times), from each run's
    consecutive step outputs (`rows` by run, then in order), counting takers from `since`.

    The later output's role took what the earlier one's role gave; a vote that asked for
    changes counts from every voter who asked. Outputs a person made count as "human".
    """
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for before, after in zip(rows, rows[1:], strict=False):
        if before.run_id != after.run_id or after.created_at < since:
            continue
        if after.role == HUMAN:
            continue  # a person's review answers the run's state, not an agent's output
        for giver in _givers(before):
            if giver != after.role:
                matrix[giver][after.role] += 1
    return {giver: dict(sorted(takers.items())) for giver, takers in sorted(matrix.items())}


def _givers(output: StepOutput) -> list[str]:
    if kind_of(output.step) != "vote":
        return [output.role]
    votes = json.loads(output.content).get("votes", [])
    return [vote["role"] for vote in votes if vote.get("decision") == "request_changes"]


def _median(spans: list[timedelta]) -> float | None:
    return median(span.total_seconds() for span in spans) if spans else None
