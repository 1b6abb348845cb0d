"""What a sprint's runs did in the sprint's window, as the store holds it: step outputs, run
transitions, model calls, Slack messages, questions, and the runs themselves.

The sprint review's metrics (`bot.sprints.metrics`) are pure functions of these rows, so the
review can only state what the crew wrote down. All the reads share one snapshot
(`reading(snapshot=True)`), so one review sees one store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlmodel import col, or_, select

from bot.store.engine import Engine, reading_session
from bot.store.models import ModelCall, Run, RunTransition, SlackMessage, StepOutput
from bot.store.question_models import Question


@dataclass(frozen=True)
class SprintActivity:
    """The rows of one sprint's runs (and the sprint's own posts and model calls)."""

    runs: dict[int, Run]  # by id
    outputs: list[StepOutput]  # of the runs, before the end, by run then id
    transitions: list[RunTransition]  # of the runs, before the end, by time
    calls: list[ModelCall]  # of the runs and the sprint's own steps (its plan), before the end
    messages: list[SlackMessage]  # of the runs' threads and the sprint's posts, in the window
    questions: list[Question]  # of the runs, asked or answered in the window


def sprint_activity(
    engine: Engine, *, sprint_id: int, run_ids: list[int], start: datetime, end: datetime
) -> SprintActivity:
    """The sprint's rows in [start, end); `run_ids` are its tasks' runs."""
    threads = [f"run:{run_id}" for run_id in run_ids]
    with reading_session(engine, snapshot=True) as session:
        runs = session.exec(select(Run).where(col(Run.id).in_(run_ids))).all()
        outputs = session.exec(
            select(StepOutput)
            .where(col(StepOutput.run_id).in_(run_ids), col(StepOutput.created_at) < end)
            .order_by(col(StepOutput.run_id), col(StepOutput.id))
        ).all()
        transitions = session.exec(
            select(RunTransition)
            .where(col(RunTransition.run_id).in_(run_ids), col(RunTransition.at) < end)
            .order_by(col(RunTransition.at), col(RunTransition.id))
        ).all()
        calls = session.exec(
            select(ModelCall)
            .where(
                or_(
                    col(ModelCall.run_id).in_(run_ids),
                    col(ModelCall.step).like(f"sprint-{sprint_id}-%"),
                ),
                col(ModelCall.created_at) < end,  # the lead planned before the window
            )
            .order_by(col(ModelCall.id))
        ).all()
        messages = session.exec(
            select(SlackMessage)
            .where(
                or_(
                    col(SlackMessage.thread_key).in_(threads),
                    col(SlackMessage.key).like(f"sprint:{sprint_id}:%"),
                ),
                col(SlackMessage.created_at) >= start,
                col(SlackMessage.created_at) < end,
            )
            .order_by(col(SlackMessage.id))
        ).all()
        asked = (col(Question.asked_at) >= start) & (col(Question.asked_at) < end)
        answered = (col(Question.answered_at) >= start) & (col(Question.answered_at) < end)
        questions = session.exec(
            select(Question)
            .where(col(Question.run_id).in_(run_ids), or_(asked, answered))
            .order_by(col(Question.id))
        ).all()
        found = [*runs, *outputs, *transitions, *calls, *messages, *questions]
        for row in found:
            session.expunge(row)
            _make_aware(row)
    return SprintActivity(
        runs={cast(int, run.id): run for run in runs},
        outputs=list(outputs),
        transitions=list(transitions),
        calls=list(calls),
        messages=list(messages),
        questions=list(questions),
    )


TIMES = ("created_at", "at", "asked_at", "answered_at", "sent_at")


def _make_aware(row: Any) -> None:
    """SQLite hands back naive UTC, PostgreSQL aware: the metrics compare them with aware
    bounds, so every timestamp leaves here aware (the rows are detached copies)."""
    for name in TIMES:
        moment = getattr(row, name, None)
        if isinstance(moment, datetime) and moment.tzinfo is None:
            setattr(row, name, moment.replace(tzinfo=UTC))
