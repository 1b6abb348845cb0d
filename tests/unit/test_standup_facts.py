"""Standup facts from a seeded store, and which span of time "yesterday" is.

The store is seeded around Monday 16 November 2026, 09:00 in Europe/Berlin (UTC+1): the
standup reports from Friday 00:00 Berlin (Thursday 23:00 UTC) to Monday 00:00 Berlin
(Sunday 23:00 UTC). Every expectation below is worked out by hand from `seed`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from bot.roster.cron import CronError, parse_cron
from bot.roster.loader import parse_crew, roster_text
from bot.roster.models import Crew
from bot.standups.facts import (
    Blocker,
    Handoff,
    Need,
    PullOpened,
    ReviewDone,
    RoleFacts,
    StepDone,
    TestDone,
    VoteCast,
    gather,
)
from bot.standups.schedule import ScheduleError, make_schedule, schedule_for, set_schedule
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Run, RunTransition, StepOutput, Vote

BERLIN_CREW = roster_text("default").replace('timezone = "UTC"', 'timezone = "Europe/Berlin"')
MONDAY_9_BERLIN = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    """A UTC time written as "11-13 08:00" (month-day hour:minute, 2026)."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def berlin_crew() -> Crew:
    return parse_crew(BERLIN_CREW, source="crew.toml")


def make_store(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'standup.db'}")
    upgrade(engine)
    return engine


# (id, title, state, mode, pr_number, created)
RUNS = [
    (1, "Add login", "awaiting_human", "full", 12, "11-11 09:00"),
    (2, "Fix crash", "fixing", "full", 14, "11-12 20:00"),
    (3, "Docs update", "researching", "full", None, "11-12 22:00"),
    (4, "Big refactor", "failed", "full", None, "11-10 09:00"),
    (5, "Budget run", "budget_exhausted", "full", None, "11-14 08:00"),
    (6, "New run", "queued", "full", None, "11-15 12:00"),
    (7, "Late plan", "researching", "full", None, "11-15 23:00"),
]
# (run, step, role, content, when) in the order they happened (ids follow it).
OUTPUTS = [
    (4, "plan-1", "planner", {"summary": "refactor"}, "11-10 10:00"),
    (4, "research-1", "researcher", {"notes": "big"}, "11-10 11:00"),
    (1, "plan-1", "planner", {"summary": "login"}, "11-12 09:00"),
    (1, "research-1", "researcher", {"notes": "auth"}, "11-12 10:00"),
    (1, "code-1", "coder", {"summary": "login page", "pr": 12}, "11-12 11:00"),
    (3, "plan-1", "planner", {"summary": "docs"}, "11-12 22:30"),  # Thursday in Berlin
    (2, "plan-1", "planner", {"summary": "crash"}, "11-12 23:30"),  # Friday in Berlin
    (1, "review-1", "reviewer", {"event": "REQUEST_CHANGES", "inline_comments": 3}, "11-13 08:00"),
    (2, "research-1", "researcher", {"notes": "trace"}, "11-13 09:00"),
    (1, "fix-1", "coder", {"summary": "fixed", "pr": 12}, "11-13 10:00"),
    (1, "review-2", "reviewer", {"event": "COMMENT", "inline_comments": 0}, "11-13 11:00"),
    (1, "test-1", "tester", {"passed": True, "counts": {"passed": 12, "failed": 0}}, "11-13 12:00"),
    (1, "vote-1", "lead", {"approvals": 5, "needed": 5, "passed": True}, "11-13 12:30"),
    (2, "code-1", "coder", {"summary": "guard", "pr": 14}, "11-13 14:00"),
    (2, "review-1", "reviewer", {"event": "COMMENT", "inline_comments": 1}, "11-14 10:00"),
    (
        2,
        "test-1",
        "tester",
        {"passed": False, "counts": {"passed": 3, "failed": 1, "errors": 1}},
        "11-14 11:00",
    ),
    (7, "plan-1", "planner", {"summary": "late"}, "11-15 23:30"),  # Monday in Berlin
]
VOTERS = ("planner", "researcher", "coder", "reviewer", "tester")
# (run, from, to, reason, when)
TRANSITIONS = [
    (1, "voting", "awaiting_human", "", "11-13 12:30"),
    (4, "coding", "failed", "the sandbox is unavailable", "11-13 15:00"),
    (2, "testing", "fixing", "", "11-14 11:00"),
    (5, "planning", "budget_exhausted", "budget exhausted: the run would pass $5", "11-14 09:00"),
]


def seed(engine: Engine) -> None:
    """The store of the module docstring (also used by the render and integration tests)."""
    with engine.begin() as connection:
        for run_id, title, state, mode, pr, created in RUNS:
            connection.execute(
                insert(Run.__table__).values(
                    id=run_id,
                    repo="octo-org/hello",
                    title=title,
                    task=title,
                    state=state,
                    mode=mode,
                    pr_number=pr,
                    created_at=at(created),
                    updated_at=at(created),
                )
            )
        for run_id, step, role, content, when in OUTPUTS:
            connection.execute(
                insert(StepOutput.__table__).values(
                    run_id=run_id,
                    step=step,
                    role=role,
                    content=json.dumps(content),
                    created_at=at(when),
                )
            )
        for role in VOTERS:
            connection.execute(
                insert(Vote.__table__).values(
                    run_id=1,
                    round=1,
                    role=role,
                    decision="approve",
                    reason="",
                    created_at=at("11-13 12:30"),
                )
            )
        for run_id, source, target, reason, when in TRANSITIONS:
            connection.execute(
                insert(RunTransition.__table__).values(
                    run_id=run_id, from_state=source, to_state=target, reason=reason, at=at(when)
                )
            )


@pytest.fixture
def seeded(tmp_path: Path) -> Engine:
    engine = make_store(tmp_path)
    seed(engine)
    return engine


def monday_window(engine: Engine) -> tuple[datetime, datetime]:
    schedule = schedule_for(engine, berlin_crew(), "#crew")
    return schedule.window(schedule.local_day(MONDAY_9_BERLIN))


def test_yesterday_on_a_monday_is_friday_in_berlin_across_the_utc_day_boundary(tmp_path):
    engine = make_store(tmp_path)
    schedule = schedule_for(engine, berlin_crew(), "#crew")
    assert schedule.local_day(MONDAY_9_BERLIN) == date(2026, 11, 16)
    assert schedule.local_day(at("11-15 23:30")) == date(2026, 11, 16)  # 00:30 in Berlin
    assert schedule.cron.previous_day(date(2026, 11, 16)) == date(2026, 11, 13)
    assert monday_window(engine) == (at("11-12 23:00"), at("11-15 23:00"))
    # Summer time: Friday 00:00 CEST is Thursday 22:00 UTC.
    assert schedule.window(date(2026, 6, 15)) == (
        datetime(2026, 6, 11, 22, tzinfo=UTC),
        datetime(2026, 6, 14, 22, tzinfo=UTC),
    )
    # The window that spans the change to summer time starts at +1 and ends at +2.
    assert schedule.window(date(2026, 3, 30)) == (
        datetime(2026, 3, 26, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    assert schedule.window(date(2026, 11, 17)) == (at("11-15 23:00"), at("11-16 23:00"))


def test_the_previous_day_follows_the_schedule():
    three_days = parse_cron("30 8 * * mon,wed,fri")
    assert three_days.previous_day(date(2026, 11, 18)) == date(2026, 11, 16)
    assert three_days.previous_day(date(2026, 11, 16)) == date(2026, 11, 13)
    assert not three_days.fires_on(date(2026, 11, 17))
    # Day of month and day of week both restricted: cron fires when either matches.
    either = parse_cron("0 9 1 * 1")
    assert either.fires_on(date(2026, 11, 16)) and either.fires_on(date(2026, 11, 1))
    assert not either.fires_on(date(2026, 11, 17))
    assert parse_cron("0 9 * * 7").fires_on(date(2026, 11, 15))  # 7 is Sunday too
    assert parse_cron("*/20 9-10 * * *").minutes == {0, 20, 40}


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 * *", "it needs five fields"),
        ("0 9 * * 1-8", "day of week 8 is out of range 0-7"),
        ("0 25 * * *", "hour 25 is out of range 0-23"),
        ("0 9 * * fri-mon", "day of week range 'fri-mon' runs backwards"),
        ("0 9 * * x", "'x' is not a valid day of week"),
        ("*/0 9 * * *", "a minute step must be at least 1"),
    ],
)
def test_a_bad_cron_says_what_is_wrong(cron, message):
    with pytest.raises(CronError, match=message):
        parse_cron(cron)


def test_set_schedule_validates_and_overrides_crew_toml_per_channel(tmp_path):
    engine = make_store(tmp_path)
    crew = berlin_crew()
    with pytest.raises(ScheduleError, match="'Mars/Base' is not a time zone"):
        set_schedule(engine, channel="#crew", cron="0 9 * * 1-5", timezone="Mars/Base")
    with pytest.raises(ScheduleError, match="minute 61 is out of range"):
        set_schedule(engine, channel="#crew", cron="61 9 * * 1-5", timezone="UTC")
    assert schedule_for(engine, crew, "#crew").timezone == "Europe/Berlin"
    set_schedule(engine, channel="#crew", cron="30  10 * * 1-4", timezone="America/New_York")
    set_schedule(engine, channel="#crew", cron="30 10 * * 1-4", timezone="Asia/Tokyo")
    own = schedule_for(engine, crew, "#crew")
    assert (own.cron.text, own.timezone) == ("30 10 * * 1-4", "Asia/Tokyo")
    assert schedule_for(engine, crew, "#other") == make_schedule(
        "#other", "0 9 * * 1-5", "Europe/Berlin"
    )


def test_facts_per_role_from_the_seeded_store(seeded):
    start, end = monday_window(seeded)
    facts = gather(seeded, berlin_crew(), start=start, end=end)
    assert facts.roles["planner"] == RoleFacts(
        "planner",
        steps=[StepDone(2, "plan-1")],  # run 3's plan was Thursday, run 7's is Monday
        votes=[VoteCast(1, 1, "approve")],
        runs_by_state={"awaiting_human": 1, "fixing": 1},
        today=[StepDone(6, "plan")],
        blockers=[Blocker(5, "budget_exhausted", "budget exhausted: the run would pass $5")],
        needs=[Need(3, "researcher", "research"), Need(7, "researcher", "research")],
    )
    assert facts.roles["researcher"] == RoleFacts(
        "researcher",
        steps=[StepDone(2, "research-1")],
        votes=[VoteCast(1, 1, "approve")],
        runs_by_state={"awaiting_human": 1, "fixing": 1},
        today=[StepDone(3, "research"), StepDone(7, "research")],
    )
    assert facts.roles["coder"] == RoleFacts(
        "coder",
        steps=[StepDone(1, "fix-1"), StepDone(2, "code-1")],
        prs_opened=[PullOpened(2, 14)],
        votes=[VoteCast(1, 1, "approve")],
        runs_by_state={"awaiting_human": 1, "fixing": 1},
        today=[StepDone(2, "fix")],
        blockers=[Blocker(4, "failed", "the sandbox is unavailable"), Blocker(1, "awaiting_human")],
        needs=[Need(1, "human", "decision")],
    )
    assert facts.roles["reviewer"] == RoleFacts(
        "reviewer",
        steps=[StepDone(1, "review-1"), StepDone(1, "review-2"), StepDone(2, "review-1")],
        reviews=[
            ReviewDone(1, "review-1", "REQUEST_CHANGES", 3),
            ReviewDone(1, "review-2", "COMMENT", 0),
            ReviewDone(2, "review-1", "COMMENT", 1),
        ],
        votes=[VoteCast(1, 1, "approve")],
        runs_by_state={"awaiting_human": 1, "fixing": 1},
    )
    assert facts.roles["tester"] == RoleFacts(
        "tester",
        steps=[StepDone(1, "test-1"), StepDone(2, "test-1")],
        tests=[TestDone(1, "test-1", True, 12, 0), TestDone(2, "test-1", False, 3, 2)],
        votes=[VoteCast(1, 1, "approve")],
        runs_by_state={"awaiting_human": 1, "fixing": 1},
        blockers=[Blocker(2, "tests_failing", "test-1 failed")],
        needs=[Need(2, "coder", "fix")],
    )
    assert facts.roles["lead"] == RoleFacts(
        "lead", steps=[StepDone(1, "vote-1")], runs_by_state={"awaiting_human": 1}
    )


def test_team_facts_name_the_chain_and_the_runs_by_state(seeded):
    start, end = monday_window(seeded)
    facts = gather(seeded, berlin_crew(), start=start, end=end)
    assert facts.chain == [
        Handoff(1, "lead", "human", "decision"),
        Handoff(2, "tester", "coder", "fix"),
        Handoff(3, "planner", "researcher", "research"),
        Handoff(6, None, "planner", "plan"),
        Handoff(7, "planner", "researcher", "research"),
    ]
    assert facts.active == {"awaiting_human": 1, "fixing": 1, "queued": 1, "researching": 2}
    assert facts.ended == {"budget_exhausted": 1, "failed": 1}
    assert sorted(facts.runs) == [1, 2, 3, 4, 5, 6, 7]


def test_a_store_without_activity_has_quiet_roles(tmp_path):
    engine = make_store(tmp_path)
    start, end = monday_window(engine)
    facts = gather(engine, berlin_crew(), start=start, end=end)
    assert all(role.quiet for role in facts.roles.values())
    assert (facts.chain, facts.active, facts.ended) == ([], {}, {})


def test_a_plan_only_run_waits_for_a_go_and_a_vote_is_every_voters_work(seeded):
    """Also: a person's approval output does not make the human the giver of run 1."""
    with seeded.begin() as connection:
        run = Run.__table__
        connection.execute(
            run.update().where(run.c.id == 3).values(state="awaiting_human", mode="plan")
        )
        connection.execute(run.update().where(run.c.id == 2).values(state="voting"))
        connection.execute(  # a person pressed Approve on run 1; it still waits for a merge
            insert(StepOutput.__table__).values(
                run_id=1,
                step="human-approve-1",
                role="human",
                content="{}",
                created_at=at("11-16 07:00"),
            )
        )
    start, end = monday_window(seeded)
    facts = gather(seeded, berlin_crew(), start=start, end=end)
    assert Need(3, "human", "go") in facts.roles["coder"].needs
    assert Handoff(3, "planner", "human", "go") in facts.chain
    assert Handoff(2, "tester", "lead", "vote") in facts.chain
    assert Handoff(1, "lead", "human", "decision") in facts.chain
    assert all(StepDone(2, "vote") in facts.roles[key].today for key in VOTERS)
