"""The sprint's store on SQLite and PostgreSQL: conditional moves logged with their time, a plan
saved twice kept once, the reads later parts build on (by state, state at a day's end, the
per-repository count), and each task's issue opened once when a worker dies after opening it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.ports.forge import Comment
from bot.sprints.issues import ensure_task_issues
from bot.store import sprints as stored
from bot.store.models import utcnow
from bot.store.sprint_queries import graph_of, states_at, tasks_in, tasks_working

PLAN = [
    {"key": "A", "title": "alpha", "owner": "coder"},
    {"key": "B", "title": "beta", "owner": "coder"},
    {"key": "C", "title": "gamma", "owner": "coder", "depends_on": ["A", "B"]},
    {"key": "D", "title": "delta", "owner": "coder", "depends_on": ["C"]},
]


def _sprint(engine, repo: str = "octo-org/ages") -> int:
    sprint_id = stored.insert_sprint(
        engine, repo=repo, goal="greetings", state="planning", tracking_issue=1, requested_by="o"
    )
    stored.save_tasks(engine, sprint_id=sprint_id, tasks=PLAN)
    return sprint_id


def test_moves_are_conditional_and_logged(engine):
    sprint_id = _sprint(engine)
    assert stored.move_sprint(
        engine, sprint_id=sprint_id, expected="planning", target="awaiting_approval"
    )
    assert not stored.move_sprint(engine, sprint_id=sprint_id, expected="planning", target="failed")
    assert stored.move_task(
        engine, sprint_id=sprint_id, key="A", expected="pending", target="running"
    )
    assert not stored.move_task(
        engine, sprint_id=sprint_id, key="A", expected="pending", target="running"
    )
    moves = [(m.task, m.from_state, m.to_state) for m in stored.transitions(engine, sprint_id)]
    assert moves == [
        ("", "", "planning"),
        ("", "planning", "awaiting_approval"),
        ("A", "pending", "running"),
    ]
    assert stored.get_sprint(engine, sprint_id).state == "awaiting_approval"


def test_a_plan_saved_again_is_kept_once_in_the_plans_order(engine):
    sprint_id = _sprint(engine)
    stored.save_tasks(engine, sprint_id=sprint_id, tasks=PLAN)
    tasks = stored.tasks(engine, sprint_id)
    assert [t.key for t in tasks] == ["A", "B", "C", "D"]
    assert graph_of(tasks) == {"A": (), "B": (), "C": ("A", "B"), "D": ("C",)}


def test_the_reads_by_state_by_day_and_by_repository(engine):
    sprint_id = _sprint(engine)
    _sprint(engine, repo="octo-org/other")
    for key, target in (("A", "running"), ("B", "running")):
        stored.move_task(engine, sprint_id=sprint_id, key=key, expected="pending", target=target)
    before = utcnow()
    stored.move_task(engine, sprint_id=sprint_id, key="A", expected="running", target="delivered")
    stored.move_task(engine, sprint_id=sprint_id, key="C", expected="pending", target="blocked")
    assert [t.key for t in tasks_in(engine, sprint_id, states=["delivered"])] == ["A"]
    assert [t.key for t in tasks_in(engine, sprint_id, states=["blocked", "failed"])] == ["C"]
    assert states_at(engine, sprint_id, until=before) == {"A": "running", "B": "running"}
    later = utcnow() + timedelta(seconds=1)
    assert states_at(engine, sprint_id, until=later) == {
        "A": "delivered",
        "B": "running",
        "C": "blocked",
    }
    assert tasks_working(engine, repo="octo-org/ages", states=["running"]) == 1
    assert tasks_working(engine, repo="octo-org/other", states=["running"]) == 0


@dataclass
class DyingGateway:
    """A forge that opens issues, and dies once right after GitHub answered the N-th open."""

    die_after: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)

    def is_own(self, author: str) -> bool:
        return author == "repocrew[bot]"

    def list_comments(self, thread: int) -> list[Comment]:
        return []

    def create_comment(self, thread: int, body: str, *, role: str) -> Comment:
        raise AssertionError("no comments here")

    def update_comment(self, comment_id: int, body: str, *, role: str) -> Comment:
        raise AssertionError("no comments here")

    def create_issue(self, title: str, body: str = "", **options: Any) -> Any:
        self.issues.append({"number": len(self.issues) + 2, "title": title, "body": body})
        if len(self.issues) == self.die_after:
            raise KeyboardInterrupt("the worker is killed")
        return type("Issue", (), {"number": self.issues[-1]["number"]})

    def find_own_issue(self, marker: str) -> int | None:
        found = [i["number"] for i in self.issues if marker in i["body"]]
        return found[-1] if found else None


def test_a_worker_killed_after_opening_an_issue_opens_no_second(engine):
    sprint_id = _sprint(engine)
    sprint = stored.get_sprint(engine, sprint_id)
    gateway = DyingGateway(die_after=3)
    with pytest.raises(KeyboardInterrupt):
        ensure_task_issues(engine, gateway, sprint, stored.tasks(engine, sprint_id), role="lead")
    numbers = ensure_task_issues(
        engine, gateway, sprint, stored.tasks(engine, sprint_id), role="lead"
    )
    assert [i["title"] for i in gateway.issues] == [
        "[A] alpha",
        "[B] beta",
        "[C] gamma",
        "[D] delta",
    ]
    assert numbers == {"A": 2, "B": 3, "C": 4, "D": 5}
    assert "**Depends on:** #2 (A), #3 (B)" in gateway.issues[2]["body"]
    assert {t.key: t.issue_number for t in stored.tasks(engine, sprint_id)} == numbers
