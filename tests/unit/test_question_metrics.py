"""Questions in the store, the metrics and the standup, from a seeded store worked out by hand;
the daily reminder once per question and working day.

The window is [Tue 10 Nov 00:00, Tue 17 Nov 00:00) UTC, 2026 (as in the collaboration test).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select

from bot.local_forge import LocalForge
from bot.metrics.collaboration import QuestionCounts, collaboration_metrics
from bot.metrics.render import render_metrics
from bot.roster.loader import load_crew
from bot.runs.questions import REASK_JOB, reask_due
from bot.runs.states import TERMINAL
from bot.runs.step_services import StepServices
from bot.security.secrets import SecretScanner
from bot.standups.facts import Blocker, Handoff, Need, gather
from bot.standups.render import agent_update
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Job, Run
from bot.store.question_models import Question
from bot.store.questions import (
    answer_question,
    mark_reasked,
    open_questions,
    question_by_key,
    record_question,
    tell_reader_once,
)
from jobs.handlers import JOB_HANDLERS
from jobs.scheduler import build_scheduler

START, END = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
# (run, asker, addressee, asked, answered or None)
QUESTIONS = [
    (1, "planner", "humans", "11-10 09:00:00", "11-10 13:00:00"),  # 4 h
    (1, "coder", "reviewer", "11-10 10:00:00", "11-10 10:01:00"),  # 60 s
    (2, "coder", "humans", "11-09 20:00:00", "11-10 08:00:00"),  # asked before; 12 h
    (2, "reviewer", "coder", "11-12 12:00:00", "11-12 12:00:30"),  # 30 s
    (3, "tester", "humans", "11-16 18:00:00", None),  # still open
    (1, "coder", "reviewer", "11-17 01:00:00", "11-17 01:01:00"),  # after the window
    (3, "coder", "humans", "11-16 22:00:00", "11-17 09:00:00"),  # answered after it
]
EXPECTED = QuestionCounts(
    asked=5,
    asked_humans=3,
    answered=4,
    answer_seconds=7230.0,  # median of 30 s, 60 s, 4 h, 12 h: (60 + 14400) / 2
    human_answer_seconds=28800.0,  # median of 4 h and 12 h
    asker_to_addressee={
        "coder": {"humans": 1, "reviewer": 1},
        "planner": {"humans": 1},
        "reviewer": {"coder": 1},
        "tester": {"humans": 1},
    },
)


def at(text: str) -> datetime:
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def seeded(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        for run_id, state in ((1, "done"), (2, "coding"), (3, "awaiting_answer")):
            connection.execute(
                insert(Run.__table__).values(  # type: ignore[attr-defined]
                    id=run_id, repo="o/r", task="t", state=state, created_at=START, updated_at=START
                )
            )
        for n, (run_id, asker, addressee, asked, answered) in enumerate(QUESTIONS, 1):
            connection.execute(
                insert(Question.__table__).values(  # type: ignore[attr-defined]
                    key=f"q{n}",
                    run_id=run_id,
                    step="plan-1",
                    resume_state="planning",
                    asker=asker,
                    addressee=addressee,
                    text=f"question {n}?",
                    status="answered" if answered else "open",
                    answer="yes" if answered else None,
                    answered_by="octocat" if answered else "",
                    answered_via="github" if answered else "",
                    asked_at=at(asked),
                    answered_at=at(answered) if answered else None,
                    reasked_day="",
                    told_readers="",
                )
            )
    return engine


def test_question_metrics_equal_the_hand_computed_values(tmp_path):
    engine = seeded(tmp_path / "q.db")
    metrics = collaboration_metrics(engine, start=START, end=END)
    assert metrics.questions == EXPECTED
    assert metrics.as_dict()["questions"]["answer_seconds"] == 7230.0
    text, _blocks = render_metrics(metrics)
    assert text.endswith(
        "❓ *Questions*: 5 asked (3 to the humans), 4 answered; median answer 2 h 00 min "
        "(humans 8 h 00 min)\n"
        "• coder → humans 1, reviewer 1, planner → humans 1, reviewer → coder 1, "
        "tester → humans 1"
    )


def test_a_window_without_questions_shows_none(tmp_path):
    engine = seeded(tmp_path / "q.db")
    metrics = collaboration_metrics(engine, start=datetime(2027, 1, 1, tzinfo=UTC), end=END)
    assert metrics.questions == QuestionCounts()
    assert "Questions" not in render_metrics(metrics)[0]


def test_open_questions_are_those_of_runs_that_have_not_ended(tmp_path):
    engine = seeded(tmp_path / "q.db")
    ended = [state.value for state in TERMINAL]
    assert [q.key for q in open_questions(engine, ended=ended)] == ["q5"]


def test_a_question_is_stored_once_answered_once_and_a_reader_told_once(tmp_path):
    engine = seeded(tmp_path / "q.db")
    fields = {"run_id": 3, "step": "code-1", "resume_state": "coding", "asker": "coder"}
    first = record_question(engine, key="k", addressee="humans", text="A?", **fields)
    again = record_question(engine, key="k", addressee="humans", text="changed?", **fields)
    assert again.id == first.id and again.text == "A?"
    assert answer_question(
        engine, question_id=first.id, answer="a", answered_by="x", answered_via="slack"
    )
    assert not answer_question(
        engine, question_id=first.id, answer="b", answered_by="y", answered_via="github"
    )
    stored = question_by_key(engine, key="k")
    assert (stored.answer, stored.answered_by) == ("a", "x")
    assert tell_reader_once(engine, question_id=first.id, who="github:reader")
    assert not tell_reader_once(engine, question_id=first.id, who="github:reader")
    assert tell_reader_once(engine, question_id=first.id, who="slack:T1:U3")


def test_an_open_question_is_asked_again_once_per_working_day(tmp_path):
    engine = seeded(tmp_path / "q.db")
    crew = load_crew(None)
    forge = LocalForge(tmp_path / "forge.json", clone_url="/nowhere")
    services = StepServices(engine, crew, forge, None, SecretScanner(), tmp_path / "work")

    def remind(when: datetime) -> list[int]:
        return reask_due(engine, lambda _run_id: services, now=when)

    assert remind(datetime(2026, 11, 16, 20, tzinfo=UTC)) == []  # asked that day
    tuesday = datetime(2026, 11, 17, 9, tzinfo=UTC)
    assert remind(tuesday) == [5]
    assert remind(tuesday.replace(hour=10)) == []  # once a day, whoever checks
    assert remind(datetime(2026, 11, 21, 9, tzinfo=UTC)) == []  # Saturday
    assert remind(datetime(2026, 11, 23, 9, tzinfo=UTC)) == [5]  # Monday
    reminders = [c.body for c in forge.list_comments(0) if "Still waiting" in c.body]
    assert len(reminders) == 2 and "question 5?" in reminders[0]
    assert "2026-11-17" in reminders[0] and "2026-11-23" in reminders[1]
    # A post made before a crash is found by its marker: claiming the day again posts nothing.
    assert not mark_reasked(engine, question_id=5, day="2026-11-23")


def test_a_run_waiting_on_the_humans_blocks_the_role_that_asked_in_the_standup(tmp_path):
    engine = seeded(tmp_path / "q.db")
    crew = load_crew(None)
    facts = gather(engine, crew, start=START, end=END)
    tester = facts.roles["tester"]
    assert tester.blockers == [Blocker(3, "awaiting_answer", "question 5?")]
    assert tester.needs == [Need(3, "human", "answer", "question 5?")]
    assert Handoff(3, "tester", "human", "answer") in facts.chain
    assert not any(today.run_id == 3 for role in facts.roles.values() for today in role.today)
    since = START.date()
    lines = "\n".join(
        "\n".join(agent_update(crew, facts, role, since=since)) for role in facts.roles.values()
    )
    assert "waits for a human's answer to: question 5?" in lines
    assert "an answer from the humans to: question 5?, for" in lines


def test_the_scheduler_queues_the_reminder_check_hourly_for_the_worker(tmp_path):
    engine = seeded(tmp_path / "q.db")
    check = build_scheduler(engine).get_job(REASK_JOB)
    assert str(check.trigger) == "cron[minute='7']"
    check.func()
    check.func()  # a second scheduler: the reminders are keyed by question and day anyway
    with engine.connect() as connection:
        kinds = connection.execute(select(Job.kind).order_by(Job.id)).scalars().all()
    assert kinds == [REASK_JOB, REASK_JOB]
    assert REASK_JOB in JOB_HANDLERS
