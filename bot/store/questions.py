"""Questions in the store: ask once per key, answer once, re-ask once a day, and the reads that
standups, the sprint review, the dashboard and the metrics make of them.

Every write is conditional on what it was decided from (an open question, a day not yet
re-asked), so a redelivered reply or a second scheduler changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from sqlmodel import select as select_models

from bot.store.engine import reading, reading_session
from bot.store.models import Run, utcnow
from bot.store.question_models import HUMANS, Question, QuestionStatus

_question = Question.__table__  # type: ignore[attr-defined]
OPEN, ANSWERED = QuestionStatus.OPEN, QuestionStatus.ANSWERED


def record_question(
    engine: Engine,
    *,
    key: str,
    run_id: int,
    step: str,
    resume_state: str,
    asker: str,
    addressee: str,
    text: str,
    sprint_id: int | None = None,
) -> Question:
    """The question stored under `key`: inserted now, or the one a crashed attempt stored."""
    found = question_by_key(engine, key=key)
    if found is not None:
        return found
    values = {
        "key": key,
        "run_id": run_id,
        "sprint_id": sprint_id,
        "step": step,
        "resume_state": resume_state,
        "asker": asker,
        "addressee": addressee,
        "text": text,
        "status": OPEN,
        "answered_by": "",
        "answered_via": "",
        "reasked_day": "",
        "told_readers": "",
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(_question).values(asked_at=utcnow(), **values))
    except IntegrityError:
        pass  # a concurrent attempt stored it first: theirs is the question
    found = question_by_key(engine, key=key)
    assert found is not None
    return found


def question_by_key(engine: Engine, *, key: str) -> Question | None:
    with reading_session(engine) as session:
        return _detached(session, session.exec(select_models(Question).where(Question.key == key)))


def get_question(engine: Engine, question_id: int) -> Question:
    with reading_session(engine) as session:
        found = session.get(Question, question_id)
        if found is None:
            raise LookupError(f"no question {question_id}")
        session.expunge(found)
        return found


def answer_question(
    engine: Engine,
    *,
    question_id: int,
    answer: str,
    answered_by: str,
    answered_via: str,
    at: datetime | None = None,
) -> bool:
    """Record the answer if the question is still open; False when it was answered already."""
    with engine.begin() as connection:
        done = connection.execute(
            update(_question)
            .where(_question.c.id == question_id, _question.c.status == OPEN)
            .values(
                status=ANSWERED,
                answer=answer,
                answered_by=answered_by[:255],
                answered_via=answered_via,
                answered_at=at or utcnow(),
            )
        )
    return done.rowcount == 1


def questions_of_run(engine: Engine, run_id: int) -> list[Question]:
    """Every question of a run, in the order they were asked (the dashboard's run page)."""
    query = select_models(Question).where(Question.run_id == run_id).order_by(col(Question.id))
    with reading_session(engine) as session:
        return _all_detached(session, session.exec(query))


def questions_of_step(engine: Engine, *, run_id: int, step: str) -> list[Question]:
    """A step's questions, in order (every attempt of it: `code-1` and `code-1.answered-1`)."""
    query = (
        select_models(Question)
        .where(Question.run_id == run_id, Question.step == step)
        .order_by(col(Question.id))
    )
    with reading_session(engine) as session:
        return _all_detached(session, session.exec(query))


def newest_human_question(engine: Engine, run_id: int) -> Question | None:
    """The run's newest question to the humans, answered or not: the one a waiting run waits on."""
    query = (
        select_models(Question)
        .where(Question.run_id == run_id, Question.addressee == HUMANS)
        .order_by(col(Question.id).desc())
    )
    with reading_session(engine) as session:
        return _detached(session, session.exec(query))


def open_questions(engine: Engine, *, ended: Collection[str]) -> list[Question]:
    """Unanswered questions of runs that have not ended (`ended`: the final states), oldest
    first: the standups' Blockers and Needs, and the daily re-ask."""
    query = (
        select_models(Question)
        .join(Run, col(Run.id) == col(Question.run_id))
        .where(Question.status == OPEN, col(Run.state).not_in(list(ended)))
        .order_by(col(Question.id))
    )
    with reading_session(engine) as session:
        return _all_detached(session, session.exec(query))


def mark_reasked(engine: Engine, *, question_id: int, day: str) -> bool:
    """Claim today's re-ask of an open question; False when it was claimed already today."""
    with engine.begin() as connection:
        done = connection.execute(
            update(_question)
            .where(
                _question.c.id == question_id,
                _question.c.status == OPEN,
                _question.c.reasked_day != day,
            )
            .values(reasked_day=day)
        )
    return done.rowcount == 1


def tell_reader_once(engine: Engine, *, question_id: int, who: str) -> bool:
    """True the first time `who` (a reader whose reply did not count) is to be told why."""
    for _ in range(3):
        told = get_question(engine, question_id).told_readers
        names = told.split("\n") if told else []
        if who in names:
            return False
        with engine.begin() as connection:
            done = connection.execute(
                update(_question)
                .where(_question.c.id == question_id, _question.c.told_readers == told)
                .values(told_readers="\n".join([*names, who]))
            )
        if done.rowcount == 1:
            return True
    return False


def questions_between(engine: Engine, *, start: datetime, end: datetime) -> list[Question]:
    """Questions asked or answered in [start, end), oldest first (the collaboration metrics)."""
    asked = and_(_question.c.asked_at >= start, _question.c.asked_at < end)
    answered = and_(_question.c.answered_at >= start, _question.c.answered_at < end)
    query = select_models(Question).where(or_(asked, answered)).order_by(col(Question.id))
    with reading_session(engine) as session:
        return _all_detached(session, session.exec(query))


def question_count(engine: Engine, *, run_id: int) -> int:
    with reading(engine) as connection:
        return connection.execute(
            select(func.count()).select_from(_question).where(_question.c.run_id == run_id)
        ).scalar_one()


def _detached(session: Session, result) -> Question | None:
    found = result.first()
    if found is not None:
        session.expunge(found)
    return found


def _all_detached(session: Session, result) -> list[Question]:
    rows = list(result.all())
    for row in rows:
        session.expunge(row)
    return rows
