"""A seeded sprint for the review's tests, worked out by hand in them.

Sprint 1 was approved Tue 10 Nov 09:00 UTC, 2026 and moved to reviewing Thu 12 Nov 18:00: its
window. Tasks A (run 1), B (run 2), C (run 3, depends on A), D (depends on B and C). Run 9 is
another sprint's: nothing of it counts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert

from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import ModelCall, Run, RunTransition, SlackMessage, StepOutput
from bot.store.question_models import Question
from bot.store.sprint_models import Sprint, SprintTask, SprintTransition

REQUEST, COMMENT, PASSED = {"event": "REQUEST_CHANGES"}, {"event": "COMMENT"}, {"passed": True}
SPLIT_VOTE = {
    "votes": [
        {"role": "planner", "decision": "approve"},
        {"role": "reviewer", "decision": "request_changes"},
        {"role": "tester", "decision": "request_changes"},
    ]
}
# (run, step, role, content, when)
OUTPUTS = [
    (1, "plan-1", "planner", {}, "11-10 09:10"),
    (1, "code-1", "coder", {}, "11-10 10:00"),
    (1, "review-1", "reviewer", REQUEST, "11-10 11:00"),
    (1, "fix-1", "coder", {}, "11-10 12:00"),
    (1, "review-2", "reviewer", COMMENT, "11-10 13:00"),
    (1, "test-1", "tester", PASSED, "11-10 14:00"),
    (2, "plan-1", "planner", {}, "11-10 09:20"),
    (2, "code-1", "coder", {}, "11-10 10:30"),
    (2, "review-1", "reviewer", COMMENT, "11-10 11:30"),
    (2, "vote-1", "lead", SPLIT_VOTE, "11-10 12:30"),
    (2, "fix-1", "coder", {}, "11-10 13:30"),
    (3, "code-1", "coder", {}, "11-11 10:00"),
    (3, "review-1", "reviewer", REQUEST, "11-11 11:00"),
    (3, "human-5", "human", {"body": "rename it"}, "11-11 12:00"),
    (3, "fix-1", "coder", {}, "11-11 13:00"),
    (3, "review-2", "reviewer", REQUEST, "11-11 14:00"),
    (3, "review-3", "reviewer", COMMENT, "11-11 14:30"),
    (3, "review-4", "reviewer", COMMENT, "11-12 19:00"),  # after the window
    (9, "plan-1", "planner", {}, "11-10 09:00"),  # another sprint's
    (9, "code-1", "coder", {}, "11-10 10:00"),
]
# (run, from, to, when)
RUN_MOVES = [
    (1, "testing", "awaiting_human", "11-10 14:00"),  # waits for the merge: not a blocker
    (1, "awaiting_human", "done", "11-10 16:00"),
    (2, "coding", "awaiting_answer", "11-10 10:40"),  # raised
    (2, "awaiting_answer", "coding", "11-10 11:10"),  # resolved
    (2, "fixing", "failed", "11-10 14:00"),  # raised
    (3, "coding", "awaiting_answer", "11-11 10:30"),  # raised
    (3, "awaiting_answer", "coding", "11-11 10:50"),  # resolved
    (3, "reviewing", "budget_exhausted", "11-12 19:30"),  # after the window
    (9, "coding", "failed", "11-10 12:00"),  # another sprint's
]
# (task, from, to, when): the sprint's own moves and its tasks'
SPRINT_MOVES = [
    ("", "planning", "awaiting_approval", "11-10 08:40"),
    ("", "awaiting_approval", "running", "11-10 09:00"),
    ("A", "pending", "running", "11-10 09:01"),
    ("B", "pending", "running", "11-10 09:01"),
    ("B", "running", "failed", "11-10 14:00"),
    ("C", "pending", "blocked", "11-10 14:05"),  # raised (A's first run had failed)
    ("C", "blocked", "pending", "11-11 09:00"),  # resolved
    ("C", "pending", "running", "11-11 09:30"),
    ("A", "running", "delivered", "11-10 16:00"),
    ("C", "running", "delivered", "11-12 12:00"),
    ("D", "pending", "blocked", "11-12 17:00"),  # raised
    ("", "running", "reviewing", "11-12 18:00"),
]
# (run, asker, addressee, asked, answered)
QUESTIONS = [
    (2, "coder", "humans", "11-10 10:40", "11-10 11:10"),  # 30 min
    (1, "coder", "reviewer", "11-10 10:05", "11-10 10:06"),  # 1 min
    (3, "coder", "architect", "11-11 10:30", "11-11 10:50"),  # 20 min
    (3, "tester", "humans", "11-12 16:00", None),  # open
    (1, "planner", "humans", "11-10 08:00", "11-10 09:30"),  # asked before; 90 min
    (9, "coder", "humans", "11-10 10:00", "11-10 11:00"),  # another sprint's
]
# (run, step, role, cost, when)
CALLS = [
    (None, "sprint-1-plan", "lead", 0.10, "11-10 08:30"),  # the plan, before the approval
    (1, "code-1", "coder", 0.50, "11-10 10:00"),
    (2, "review-1", "reviewer", 0.25, "11-10 11:30"),
    (3, "fix-1", "coder", 0.40, "11-11 13:00"),
    (3, "review-4", "reviewer", 0.30, "11-12 19:00"),  # after the window
    (9, "code-1", "coder", 5.00, "11-10 10:00"),  # another sprint's
    (None, "sprint-12-plan", "lead", 1.00, "11-10 08:30"),  # another sprint's plan
]
# (key, channel, thread, status, ts, when)
MESSAGES = [
    ("run:1:open", "#development", "run:1", "sent", "1.1", "11-10 09:15"),
    ("run:1:step:plan-1", "#development", "run:1", "sent", "1.2", "11-10 09:20"),
    ("run:2:open", "#devops", "run:2", "sent", "2.1", "11-10 09:25"),
    ("run:2:question", "#devops", "run:2", "queued", None, "11-10 10:41"),  # never shown
    ("run:3:open", "#development", "run:3", "failed", None, "11-11 09:31"),  # refused
    ("run:3:step:fix-1", "#development", "run:3", "queued", "3.2", "11-11 13:05"),  # an edit
    ("sprint:1:plan", "#general", None, "sent", "0.1", "11-10 08:45"),  # before the window
    ("sprint:1:standup", "#general", None, "sent", "0.2", "11-11 09:00"),
    ("run:9:open", "#development", "run:9", "sent", "9.1", "11-10 09:00"),  # another sprint's
]
# (key, title, owner, depends on, state, run, issue, reason)
TASKS = [
    ("A", "Schema", "architect", [], "delivered", 1, 2, "pull request #11 merged by octocat"),
    ("B", "Deploy", "devops", [], "failed", 2, 3, "its run 2 failed: tests broke"),
    ("C", "Auth flow", "developer", ["A"], "delivered", 3, 4, "pull request #13 merged"),
    ("D", "Docs", "docs", ["B", "C"], "blocked", None, 5, "dependency B failed"),
]
PULLS = {1: 11, 2: 12, 3: 13, 9: 19}


def at(text: str) -> datetime:
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _table(model):
    return model.__table__


def seeded_sprint(path: Path) -> Engine:
    """Sprint 1 and its runs' rows, as the module's docstring tells."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as c:
        for run_id, pr in PULLS.items():
            c.execute(
                insert(_table(Run)).values(
                    id=run_id,
                    repo="o/r",
                    task="t",
                    state="done",
                    pr_number=pr,
                    created_at=at("11-10 09:00"),
                    updated_at=at("11-10 09:00"),
                )  # fmt: skip
            )
        c.execute(
            insert(_table(Sprint)).values(
                id=1,
                repo="o/r",
                tracking_issue=1,
                goal="User service",
                days=5,
                state="reviewing",
                config="{}",
                reason="",
                created_at=at("11-10 08:00"),
                updated_at=at("11-12 18:00"),
                started_at=at("11-10 09:00"),
            )  # fmt: skip
        )
        for n, (key, title, owner, needs, state, run, issue, reason) in enumerate(TASKS):
            c.execute(
                insert(_table(SprintTask)).values(
                    sprint_id=1,
                    key=key,
                    position=n,
                    title=title,
                    body="",
                    acceptance="[]",
                    owner=owner,
                    depends_on=json.dumps(needs),
                    state=state,
                    run_id=run,
                    issue_number=issue,
                    reason=reason,
                )  # fmt: skip
            )
        for task, old, new, when in SPRINT_MOVES:
            c.execute(
                insert(_table(SprintTransition)).values(
                    sprint_id=1, task=task, from_state=old, to_state=new, reason="", at=at(when)
                )
            )
        for run, step, role, content, when in OUTPUTS:
            c.execute(
                insert(_table(StepOutput)).values(
                    run_id=run,
                    step=step,
                    role=role,
                    content=json.dumps(content),
                    created_at=at(when),
                )  # fmt: skip
            )
        for run, old, new, when in RUN_MOVES:
            c.execute(
                insert(_table(RunTransition)).values(
                    run_id=run, from_state=old, to_state=new, reason="", at=at(when)
                )
            )
        for n, (run, asker, addressee, asked, answered) in enumerate(QUESTIONS, 1):
            c.execute(
                insert(_table(Question)).values(
                    key=f"q{n}",
                    run_id=run,
                    step="code-1",
                    resume_state="coding",
                    asker=asker,
                    addressee=addressee,
                    text="?",
                    status="answered" if answered else "open",
                    answered_by="",
                    answered_via="",
                    reasked_day="",
                    told_readers="",
                    asked_at=at(asked),
                    answered_at=at(answered) if answered else None,
                )  # fmt: skip
            )
        for n, (run, step, role, cost, when) in enumerate(CALLS):
            c.execute(
                insert(_table(ModelCall)).values(
                    run_id=run,
                    step=step,
                    role=role,
                    seq=n,
                    request_key="k",
                    model="m",
                    request="{}",
                    response="{}",
                    cost_usd=cost,
                    created_at=at(when),
                    day="2026-" + when[:5],
                )  # fmt: skip
            )
        for key, channel, thread, status, ts, when in MESSAGES:
            c.execute(
                insert(_table(SlackMessage)).values(
                    key=key,
                    channel=channel,
                    thread_key=thread,
                    status=status,
                    ts=ts,
                    text="x",
                    role="lead",
                    created_at=at(when),
                    updated_at=at(when),
                )  # fmt: skip
            )
    return engine
