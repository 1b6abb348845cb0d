"""Standups that follow the sprint: a seeded store on day 2 of a five-day sprint, its standup
compared in full with text written by hand.

The clock is frozen at Tuesday 17 November 2026, 09:00 UTC (the product-team roster's standup
time). Sprint 1, "Deliver the User Service with authentication" on octo-org/users, was
approved on Monday at 08:00 for five days, so Tuesday is day 2 of 5. Its tasks:

    A "Database schema"    architect  —      delivered (run 1, PR #11, done Monday 10:30)
    B "Auth flow"          developer  A      running (run 2: the developer asked the humans a
                                             question while coding, so it awaits an answer)
    C "Deploy to staging"  devops     B      pending: B is not delivered
    D "Release notes"      marketing  C      pending: C is not delivered
    E "API docs"           architect  A      pending and runnable: A is delivered

Monday's work (the window is Monday 00:00 to Tuesday 00:00 UTC): the architect planned and
researched run 2; run 1 ended done.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert

from bot.roster.loader import parse_crew, roster_text
from bot.roster.models import Crew
from bot.standups.facts import gather
from bot.standups.run import compose, hold_standup
from bot.standups.schedule import schedule_for, schedules
from bot.standups.sprint_facts import SprintRole, Waiting, gather_sprints, sprint_day
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Run, RunTransition, StepOutput
from bot.store.question_models import HUMANS
from bot.store.questions import record_question
from bot.store.sprints import insert_sprint, move_sprint, move_task, save_tasks

TUESDAY_9 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
GOAL = "Deliver the User Service with authentication"
QUESTION = "Should a session expire after 1 hour or 24 hours?"


def at(text: str) -> datetime:
    """A UTC time written as "11-16 08:00" (month-day hour:minute, 2026)."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def product_team() -> Crew:
    return parse_crew(roster_text("product-team"), source="crew.toml")


# (key, title, owner, depends on)
TASKS = [
    ("A", "Database schema", "architect", ()),
    ("B", "Auth flow", "developer", ("A",)),
    ("C", "Deploy to staging", "devops", ("B",)),
    ("D", "Release notes", "marketing", ("C",)),
    ("E", "API docs", "architect", ("A",)),
]
# (id, title, state, pr, created)
RUNS = [
    (1, "Database schema", "done", 11, "11-15 09:00"),
    (2, "Auth flow", "awaiting_answer", None, "11-16 11:00"),
]
# (run, step, role, content, when)
OUTPUTS = [
    (1, "code-1", "developer", {"summary": "schema", "pr": 11}, "11-15 10:00"),
    (2, "plan-1", "architect", {"summary": "tokens and sessions"}, "11-16 12:00"),
    (2, "research-1", "architect", {"notes": "the user table"}, "11-16 13:00"),
]
# (run, from, to, when)
RUN_MOVES = [
    (1, "awaiting_human", "done", "11-16 10:30"),
    (2, "coding", "awaiting_answer", "11-16 15:00"),
]


def seed(engine: Engine) -> int:
    """The store of the module docstring; the sprint's id."""
    with engine.begin() as connection:
        for run_id, title, state, pr, created in RUNS:
            connection.execute(
                insert(Run.__table__).values(
                    id=run_id,
                    repo="octo-org/users",
                    title=title,
                    task=title,
                    state=state,
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
        for run_id, source, target, when in RUN_MOVES:
            connection.execute(
                insert(RunTransition.__table__).values(
                    run_id=run_id, from_state=source, to_state=target, reason="", at=at(when)
                )
            )
    sprint_id = insert_sprint(engine, repo="octo-org/users", goal=GOAL, state="awaiting_approval")
    move_sprint(
        engine,
        sprint_id=sprint_id,
        expected="awaiting_approval",
        target="running",
        started_at=at("11-16 08:00"),
    )
    save_tasks(
        engine,
        sprint_id=sprint_id,
        tasks=[
            {"key": key, "title": title, "owner": owner, "depends_on": needs}
            for key, title, owner, needs in TASKS
        ],
    )
    for key, run_id, target in [("A", 1, "running"), ("A", 1, "delivered"), ("B", 2, "running")]:
        expected = "pending" if target == "running" else "running"
        move_task(
            engine, sprint_id=sprint_id, key=key, expected=expected, target=target, run_id=run_id
        )
    record_question(
        engine,
        key="run:2:code-1:q1",
        run_id=2,
        sprint_id=sprint_id,
        step="code-1",
        resume_state="coding",
        asker="developer",
        addressee=HUMANS,
        text=QUESTION,
    )
    return sprint_id


@pytest.fixture
def seeded(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'sprint-standup.db'}")
    upgrade(engine)
    seed(engine)
    return engine


def posts_of(engine: Engine) -> dict[str, str]:
    """Tuesday's standups: each post's text by its key's last part (the lead's two: `ceo` and
    `summary`), from every channel that holds one (each role reports in one; the lead's posts
    read the same in each)."""
    crew = product_team()
    found: dict[str, str] = {}
    for schedule in schedules(engine, crew):
        for post in compose(engine, crew, schedule, schedule.local_day(TUESDAY_9)):
            found[post.key.rsplit(":", 1)[-1]] = post.text
    return found


OPENING = """\
🗓️ *Standup · Tuesday 17 November*
What the crew did since Monday 16 November, what it does today, and what holds it up.
🏁 *Sprint goal* (octo-org/users): Deliver the User Service with authentication
Today is day 2 of 5."""

DEVELOPER = """\
✅ *Yesterday*: none
🎯 *Today*
• task B “Auth flow” (run 2): awaiting answer
⚠️ *Blockers*
• task B “Auth flow” (run 2) waits for a human's answer to: Should a session expire after \
1 hour or 24 hours?
🤝 *Needs*
• an answer from the humans to: Should a session expire after 1 hour or 24 hours?, for \
task B “Auth flow” (run 2)"""

ARCHITECT = """\
✅ *Yesterday*
• Wrote the plan for task B “Auth flow” (run 2)
• Researched task B “Auth flow” (run 2)
🎯 *Today*
• Starting task E “API docs”: every task it depends on is delivered
⚠️ *Blockers*: none
🤝 *Needs*: none"""

DEVOPS = """\
✅ *Yesterday*: none
🎯 *Today*: none
⚠️ *Blockers*
• task C “Deploy to staging” is waiting for task B “Auth flow” from the Developer
🤝 *Needs*
• Developer's task B “Auth flow” (for task C)"""

MARKETING = """\
✅ *Yesterday*: none
🎯 *Today*: none
⚠️ *Blockers*
• task D “Release notes” is waiting for task C “Deploy to staging” from the DevOps
🤝 *Needs*
• DevOps's task C “Deploy to staging” (for task D)"""

SUMMARY = """\
📋 *Summary* since Monday 16 November: 2 steps finished, 0 PRs opened, 0 reviews, 0 test runs, \
0 votes.
Runs ended: 1 done.
In progress: 1 awaiting answer.
🔗 *Dependency chain* of “Deliver the User Service with authentication”
• task A “Database schema” (Architect): delivered → unblocked task B, task E
• task B “Auth flow” (Developer): running → unblocks task C
• task E “API docs” (Architect): ready to start → the end of the chain
• task C “Deploy to staging” (DevOps): waiting for task B → unblocks task D
• task D “Release notes” (Marketing): waiting for task C → the end of the chain
*Who hands work to whom*
• task B “Auth flow” (run 2): the Developer hands it to a human for an answer
⚠️ 1 blocker(s): 1 awaiting answer."""


def test_the_lead_opens_with_the_sprint_goal_and_the_day(seeded):
    assert posts_of(seeded)["ceo"] == OPENING


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("developer", DEVELOPER),  # a running task whose run waits on the humans' answer
        ("architect", ARCHITECT),  # yesterday's steps, and a task that may start today
        ("devops", DEVOPS),  # an unmet dependency: another role's running task
        ("marketing", MARKETING),  # an unmet dependency further down the chain
    ],
)
def test_each_role_reports_its_sprint_tasks(seeded, role, expected):
    assert posts_of(seeded)[role] == expected


def test_the_leads_summary_names_the_chain_in_order_with_what_unblocks_whom(seeded):
    assert posts_of(seeded)["summary"] == SUMMARY


def test_the_facts_of_the_sprint(seeded):
    crew = product_team()
    schedule = schedule_for(seeded, crew, "#product")
    day = schedule.local_day(TUESDAY_9)
    facts = gather(seeded, crew, start=at("11-16 00:00"), end=at("11-17 00:00"))
    (sprint,) = gather_sprints(seeded, crew, facts, day=day, zone=schedule.zone)
    assert (sprint.goal, sprint.day, sprint.days) == (GOAL, 2, 5)
    assert sprint.chain == [("A", ["B", "E"]), ("B", ["C"]), ("E", []), ("C", ["D"]), ("D", [])]
    assert sprint.roles["architect"] == SprintRole(starting=["E"])
    assert sprint.roles["developer"] == SprintRole(running=["B"])
    assert sprint.roles["devops"] == SprintRole(waiting=[Waiting("C", "B")])
    assert sprint.roles["marketing"] == SprintRole(waiting=[Waiting("D", "C")])
    assert facts.runs[2].task == "B" and facts.runs[1].task == "A"


def test_the_day_counts_from_the_local_day_the_sprint_started():
    berlin = ZoneInfo("Europe/Berlin")
    late_monday_utc = at("11-16 23:30")  # already Tuesday in Berlin
    assert sprint_day(late_monday_utc, date(2026, 11, 17), berlin) == 1
    assert sprint_day(late_monday_utc, date(2026, 11, 17), ZoneInfo("UTC")) == 2
    assert sprint_day(late_monday_utc.replace(tzinfo=None), date(2026, 11, 21), berlin) == 5


def test_a_failed_task_and_the_tasks_it_blocks(seeded):
    """B's run ran out of budget on Monday: the run facts say so for the developer (once); the
    tasks it blocks say why for their owners; the chain shows them blocked."""
    sprint_id = 1
    with seeded.begin() as connection:
        connection.execute(
            Run.__table__.update().where(Run.__table__.c.id == 2).values(state="budget_exhausted")
        )
        connection.execute(
            insert(RunTransition.__table__).values(
                run_id=2,
                from_state="coding",
                to_state="budget_exhausted",
                reason="budget exhausted: the run would pass $5",
                at=at("11-16 16:00"),
            )
        )
    move_task(
        seeded,
        sprint_id=sprint_id,
        key="B",
        expected="running",
        target="failed",
        reason="its run ran out of budget",
    )
    for key, why in [("C", "B failed"), ("D", "C is blocked")]:
        move_task(
            seeded, sprint_id=sprint_id, key=key, expected="pending", target="blocked", reason=why
        )
    posts = posts_of(seeded)
    assert (
        posts["developer"]
        == """\
✅ *Yesterday*: none
🎯 *Today*: none
⚠️ *Blockers*
• task B “Auth flow” (run 2) stopped at its budget (the run would pass $5)
🤝 *Needs*: none"""
    )
    assert (
        posts["devops"]
        == """\
✅ *Yesterday*: none
🎯 *Today*: none
⚠️ *Blockers*
• task C “Deploy to staging” is blocked: B failed
🤝 *Needs*: none"""
    )
    assert "• task D “Release notes” is blocked: C is blocked" in posts["marketing"]
    assert "• task B “Auth flow” (Developer): failed → unblocks task C" in posts["summary"]
    assert "• task C “Deploy to staging” (DevOps): blocked → unblocks task D" in posts["summary"]


def test_a_sprint_standup_is_held_once_per_channel_and_day(seeded):
    crew = product_team()
    schedule = schedule_for(seeded, crew, "#product")
    posts = compose(seeded, crew, schedule, schedule.local_day(TUESDAY_9))
    first = hold_standup(seeded, crew, channel="#product", now=TUESDAY_9)
    again = hold_standup(seeded, crew, channel="#product", now=TUESDAY_9.replace(hour=10))
    assert len(posts) >= 3  # the lead's opening, at least one role, the lead's summary
    assert "Today is day 2 of 5." in posts[0].text and "Dependency chain" in posts[-1].text
    assert (first.outcome, first.messages) == ("posted", len(posts))
    assert (again.outcome, again.messages) == ("already_posted", 0)


def test_without_a_running_sprint_the_standup_says_nothing_of_sprints(seeded):
    move_sprint(seeded, sprint_id=1, expected="running", target="reviewing")
    posts = posts_of(seeded)
    assert "Sprint goal" not in posts["ceo"] and "Dependency chain" not in posts["summary"]
    assert posts["devops"].startswith("Nothing to report")
    assert posts["developer"].splitlines()[1] == "🎯 *Today*: none"


def test_a_task_its_owner_works_on_today_is_named_once(seeded):
    """Once the answer came and B's run codes again, the developer's run step names the task;
    the sprint adds no second line for it."""
    with seeded.begin() as connection:
        connection.execute(
            Run.__table__.update().where(Run.__table__.c.id == 2).values(state="coding")
        )
    developer = posts_of(seeded)["developer"]
    assert developer.splitlines()[1:3] == ["🎯 *Today*", "• Coding task B “Auth flow” (run 2)"]
    assert developer.count("task B") == 1
