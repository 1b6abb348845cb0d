"""Questions to the humans: posted where the run lives (its issue and its Slack thread), the run
waiting in `awaiting_answer`, resumed by a writer's answer, and reminded once a working day.

Posts are keyed (a hidden marker on GitHub, an outbox key in Slack), so a step done again after
a crash, a second scheduler or a redelivered reply never says anything twice. The step that
asked runs again from its start with the answer in its prompt (`bot/runs/steps/common.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.roster.models import Role
from bot.runs.lifecycle import queue_run
from bot.runs.links import run_link
from bot.runs.progress import StaleRun, transition
from bot.runs.publish import upsert_comment
from bot.runs.question_posts import question_comment, question_message
from bot.runs.states import TERMINAL, RunState
from bot.runs.step_services import StepServices
from bot.slack.outbox import SLACK_OUTBOX_JOB
from bot.store import questions as stored
from bot.store.engine import Engine
from bot.store.models import Run
from bot.store.question_models import HUMANS, Question, QuestionStatus
from bot.store.queue import enqueue
from bot.store.runs import get_run
from bot.store.slack_outbox import enqueue_message

log = logging.getLogger(__name__)

REASK_JOB = "questions.reask"
WORKDAYS = range(5)  # Monday to Friday: nobody is reminded at the weekend


class AwaitingAnswer(Exception):
    """A step asked the humans: the run waits in awaiting_answer (this is not a failure)."""

    def __init__(self, question: Question) -> None:
        super().__init__(f"waiting for an answer to question {question.id}")
        self.question = question


def post_question(
    services: StepServices, run: Run, asker: Role, question: Question, *, reminder_day: str = ""
) -> None:
    """The question on the run's issue (or pull request) and in its Slack thread, once each
    (once a day for a reminder)."""
    suffix = f"-{reminder_day}" if reminder_day else ""
    upsert_comment(
        services.forge,
        services.scanner,
        thread=run.issue_number or run.pr_number or 0,
        run_id=run.id or 0,
        step=f"question-{question.id}{suffix}",
        body=question_comment(asker, question.text, reminder_day=reminder_day),
        role=asker.key,
    )
    channel = services.crew.channel
    if not channel:
        return
    link = run_link(run, services.web_url)
    text, blocks = question_message(
        asker, services.scanner.redact(question.text), link, reminder_day=reminder_day
    )
    enqueue_message(
        services.engine,
        channel=channel,
        key=f"run:{run.id}:question:{question.id}{suffix}",
        text=text,
        blocks=blocks,
        role=asker.key,
        thread_key=f"run:{run.id}",
    )
    enqueue(services.engine, kind=SLACK_OUTBOX_JOB, args={"run_id": run.id})


def wait_for_answer(services: StepServices, run: Run, question: Question) -> RunState:
    """Move the asking run to awaiting_answer; straight back if the answer came meanwhile."""
    state = RunState(run.state)
    try:
        transition(
            services.engine,
            run_id=run.id or 0,
            expected=state,
            target=RunState.AWAITING_ANSWER,
            reason=f"{question.asker} asked the humans: {services.scanner.redact(question.text)}",
        )
    except StaleRun:  # a human stopped the run meanwhile: their word stands
        return RunState(get_run(services.engine, run.id or 0).state)
    log.info("run %s waits for an answer to question %s", run.id, question.id)
    resume_if_answered(services.engine, run.id or 0, queue=False)
    return RunState(get_run(services.engine, run.id or 0).state)


def answer_from_human(engine: Engine, run_id: int, *, answer: str, by: str, via: str) -> bool:
    """A writer's reply answers the run's open question and resumes the run; False when there
    was nothing to answer or resume (a redelivery, a run no longer waiting)."""
    question = stored.newest_human_question(engine, run_id)
    if question is None:
        return False
    if question.status == QuestionStatus.OPEN:
        stored.answer_question(
            engine, question_id=question.id or 0, answer=answer, answered_by=by, answered_via=via
        )
    return resume_if_answered(engine, run_id)


def resume_if_answered(engine: Engine, run_id: int, *, queue: bool = True) -> bool:
    """A run waiting on an answered question goes back to the state that asked (queued for a
    worker unless the caller drives it); conditional, so it happens once."""
    run = get_run(engine, run_id)
    question = stored.newest_human_question(engine, run_id)
    if run.state != RunState.AWAITING_ANSWER or question is None:
        return False
    if question.status != QuestionStatus.ANSWERED:
        return False
    try:
        transition(
            engine,
            run_id=run_id,
            expected=RunState.AWAITING_ANSWER,
            target=RunState(question.resume_state),
            reason=f"{question.answered_by} answered question {question.id}",
        )
    except StaleRun:
        return False
    if queue:
        queue_run(engine, run_id)
    return True


def waiting_question(engine: Engine, run: Run) -> Question | None:
    """The open question a run in awaiting_answer waits on."""
    if run.state != RunState.AWAITING_ANSWER:
        return None
    question = stored.newest_human_question(engine, run.id or 0)
    return question if question and question.status == QuestionStatus.OPEN else None


def reask_due(
    engine: Engine, services_for: Callable[[int], StepServices], *, now: datetime
) -> list[int]:
    """Remind the humans of each question still open from an earlier day, once per question
    and working day (the post is keyed by the day, then the day is marked)."""
    if now.weekday() not in WORKDAYS:
        return []
    day = now.date().isoformat()
    reminded = []
    for question in stored.open_questions(engine, ended=[state.value for state in TERMINAL]):
        if question.addressee != HUMANS or question.reasked_day == day:
            continue
        if question.asked_at.date().isoformat() >= day:
            continue  # asked today: it is fresh in everyone's mind
        services = services_for(question.run_id)
        asker = services.crew.roles.get(question.asker)
        if asker is None:
            continue
        run = get_run(engine, question.run_id)
        post_question(services, run, asker, question, reminder_day=day)
        if stored.mark_reasked(engine, question_id=question.id or 0, day=day):
            reminded.append(question.id or 0)
    return reminded
