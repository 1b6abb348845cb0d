"""A sprint's collaboration metrics, as pure functions of the rows its runs wrote in its window:
messages by channel, hand-offs and who handed to whom, questions and how long answers took,
review rounds per task, blockers raised and resolved, and what it cost.

The window is [approved, moved to reviewing): the same rows always give the same numbers, so a
review posted again after a crash states what the first attempt stated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.metrics.collaboration import QuestionCounts, interaction_matrix, question_counts
from bot.runs.memory import kind_of
from bot.runs.states import RunState
from bot.sprints.states import TaskState
from bot.store.models import SlackMessageStatus
from bot.store.sprint_activity import SprintActivity
from bot.store.sprint_models import SprintTask, SprintTransition

# What held a sprint's work up. A run waiting for a person to merge (awaiting_human) is not
# one: in a sprint that is how a task is delivered.
RUN_BLOCKERS = frozenset({RunState.AWAITING_ANSWER, RunState.FAILED, RunState.BUDGET_EXHAUSTED})
RUN_UNBLOCKED_FROM = frozenset({RunState.AWAITING_ANSWER})


@dataclass(frozen=True)
class SprintMetrics:
    messages_by_channel: dict[str, int] = field(default_factory=dict)
    handoffs: int = 0  # the matrix's sum: times one role took up another's output
    interactions: dict[str, dict[str, int]] = field(default_factory=dict)  # giver → taker
    questions: QuestionCounts = field(default_factory=QuestionCounts)
    review_rounds: dict[str, int] = field(default_factory=dict)  # task key → reviews of its run
    blockers_raised: int = 0
    blockers_resolved: int = 0
    cost_usd: float = 0.0
    cost_by_role: dict[str, float] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return sum(self.messages_by_channel.values())


def sprint_metrics(
    activity: SprintActivity,
    tasks: Sequence[SprintTask],
    timeline: Sequence[SprintTransition],
    *,
    start: datetime,
    end: datetime,
) -> SprintMetrics:
    """The sprint's metrics over [start, end) from its runs' rows and its own timeline."""
    interactions = interaction_matrix(activity.outputs, since=start)
    raised, resolved = _blockers(activity, timeline, start, end)
    cost: Counter[str] = Counter()
    for call in activity.calls:
        cost[call.role] += call.cost_usd
    return SprintMetrics(
        messages_by_channel=_messages(activity, start, end),
        handoffs=sum(n for takers in interactions.values() for n in takers.values()),
        interactions=interactions,
        questions=question_counts(activity.questions, start, end),
        review_rounds=_review_rounds(activity, tasks),
        blockers_raised=raised,
        blockers_resolved=resolved,
        cost_usd=round(sum(cost.values()), 6),
        cost_by_role={role: round(cost[role], 6) for role in sorted(cost)},
    )


def _messages(activity: SprintActivity, start: datetime, end: datetime) -> dict[str, int]:
    """Messages Slack shows (sent, or sent once and now being edited), by channel."""
    counted: Counter[str] = Counter()
    for message in activity.messages:
        shown = message.status == SlackMessageStatus.SENT or message.ts is not None
        if shown and start <= _aware(message.created_at) < end:
            counted[message.channel] += 1
    return dict(sorted(counted.items()))


def _review_rounds(activity: SprintActivity, tasks: Sequence[SprintTask]) -> dict[str, int]:
    reviews = Counter(row.run_id for row in activity.outputs if kind_of(row.step) == "review")
    return {
        task.key: reviews[task.run_id] for task in tasks if task.run_id and reviews[task.run_id]
    }


def _blockers(
    activity: SprintActivity,
    timeline: Sequence[SprintTransition],
    start: datetime,
    end: datetime,
) -> tuple[int, int]:
    """Raised: a run that waits on the humans' answer, fails or runs out of budget, and a task
    a dependency blocks. Resolved: the answer came (the run left awaiting_answer), or the
    blocked task may start again."""
    raised = resolved = 0
    for row in activity.transitions:
        if not start <= _aware(row.at) < end:
            continue
        raised += row.to_state in RUN_BLOCKERS
        resolved += row.from_state in RUN_UNBLOCKED_FROM
    for moved in timeline:
        if not moved.task or not start <= _aware(moved.at) < end:
            continue
        raised += moved.to_state == TaskState.BLOCKED
        resolved += moved.from_state == TaskState.BLOCKED
    return raised, resolved


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware: compare them alike."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
