"""Collaboration metrics from a seeded store, worked out by hand; and `repocrew metrics --json`.

The window is the week [Tue 10 Nov 00:00, Tue 17 Nov 00:00) UTC, 2026. Run 1 goes the whole
way with two fix rounds from review, tests and the vote, a human's changes and a merge; run 2
was coded before the window and fails after its review; run 3 waits for a go after research;
run 4 opens a PR and hits its budget; run 5 starts after the window.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from bot.metrics.collaboration import Metrics, Usage, collaboration_metrics
from bot.metrics.render import render_metrics
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import ModelCall, Run, RunTransition, SlackMessage, StepOutput, utcnow
from bot.store.standup_models import Standup
from repocrew.cli import app

START, END = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)
REQUEST = {"event": "REQUEST_CHANGES"}
COMMENT = {"event": "COMMENT"}
FAILED, PASSED = {"passed": False}, {"passed": True}


def votes(**decisions: str) -> dict:
    return {"votes": [{"role": role, "decision": d} for role, d in decisions.items()]}


SPLIT_VOTE = votes(planner="approve", reviewer="request_changes", tester="request_changes")
# (id, pr, created)
RUNS = [(1, 21, "11-10 08:00"), (2, 22, "11-05 08:00"), (3, None, "11-15 09:00")]
RUNS += [(4, 23, "11-16 08:00"), (5, None, "11-17 00:30")]
# (run, step, role, content, when), in the order they happened.
OUTPUTS = [
    (2, "plan-1", "planner", {}, "11-05 09:00"),
    (2, "research-1", "researcher", {}, "11-05 10:00"),
    (2, "code-1", "coder", {}, "11-05 12:00"),
    (1, "plan-1", "planner", {}, "11-10 09:00"),
    (2, "review-1", "reviewer", REQUEST, "11-10 09:30"),
    (1, "research-1", "researcher", {}, "11-10 10:00"),
    (1, "code-1", "coder", {}, "11-10 12:00"),
    (1, "review-1", "reviewer", REQUEST, "11-10 13:00"),
    (1, "fix-1", "coder", {}, "11-10 14:00"),
    (1, "review-2", "reviewer", COMMENT, "11-10 15:00"),
    (1, "test-1", "tester", FAILED, "11-10 16:00"),
    (1, "fix-2", "coder", {}, "11-10 17:00"),
    (1, "test-2", "tester", PASSED, "11-10 18:00"),
    (1, "vote-1", "lead", SPLIT_VOTE, "11-10 19:00"),
    (1, "fix-3", "coder", {}, "11-10 20:00"),
    (1, "test-3", "tester", PASSED, "11-10 21:00"),
    (1, "vote-2", "lead", votes(planner="approve", reviewer="approve"), "11-10 22:00"),
    (1, "human-99", "human", {"body": "rename it"}, "11-11 10:00"),
    (1, "fix-4", "coder", {}, "11-11 11:00"),
    (1, "review-3", "reviewer", COMMENT, "11-11 12:00"),
    (3, "plan-1", "planner", {}, "11-15 10:00"),
    (3, "research-1", "researcher", {}, "11-15 11:00"),
    (4, "plan-1", "planner", {}, "11-16 09:00"),
    (4, "code-1", "coder", {}, "11-16 09:30"),
    (5, "plan-1", "planner", {}, "11-17 01:00"),
]
# (run, from, to, when)
TRANSITIONS = [
    (2, "reviewing", "fixing", "11-10 09:30"),
    (2, "fixing", "failed", "11-10 10:00"),
    (1, "voting", "awaiting_human", "11-10 22:00"),
    (1, "awaiting_human", "fixing", "11-11 10:00"),
    (1, "voting", "awaiting_human", "11-11 14:00"),
    (1, "awaiting_human", "done", "11-12 14:00"),
    (3, "researching", "awaiting_human", "11-15 11:00"),
    (4, "reviewing", "budget_exhausted", "11-16 10:00"),
    (3, "awaiting_human", "coding", "11-17 02:00"),  # after the window
]
# (role, run, input, output, cache read, cost, when)
CALLS = [
    ("coder", 1, 1000, 500, 5000, 0.5, "11-10 11:30"),
    ("coder", 1, 2000, 700, 0, 0.75, "11-10 13:30"),
    ("reviewer", 1, 800, 200, 0, 0.2, "11-10 12:30"),
    ("coder", 2, 9000, 9000, 0, 9.0, "11-09 12:00"),
    ("lead", None, 100, 50, 0, 0.01, "11-16 08:00"),
]
# (day, status, started, posted): one held in the window, one before, one never finished.
STANDUPS = [
    ("2026-11-16", "posted", "11-16 08:00", "11-16 08:01"),
    ("2026-11-09", "posted", "11-09 08:00", "11-09 08:01"),
    ("2026-11-13", "posting", "11-13 08:00", None),
]
# (key, status, sent)
MESSAGES = [
    ("a", "sent", "11-12 08:00"),
    ("b", "sent", "11-13 08:00"),
    ("c", "sent", "11-16 23:59"),
]
MESSAGES += [("d", "sent", "11-09 08:00"), ("e", "queued", None)]


def at(text: str, shift: timedelta = timedelta(0)) -> datetime:
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC) + shift


def seed(engine: Engine, shift: timedelta = timedelta(0)) -> None:
    """The store of the module docstring, every time moved by `shift`."""
    with engine.begin() as connection:

        def add(table, **values) -> None:
            connection.execute(insert(table.__table__).values(**values))

        for run_id, pr, created in RUNS:
            when = at(created, shift)
            add(
                Run, id=run_id, repo="o/r", task="t", pr_number=pr, created_at=when, updated_at=when
            )
        for run_id, step, role, content, when in OUTPUTS:
            content = json.dumps(content)
            add(
                StepOutput,
                run_id=run_id,
                step=step,
                role=role,
                content=content,
                created_at=at(when, shift),
            )
        for run_id, source, target, when in TRANSITIONS:
            add(
                RunTransition, run_id=run_id, from_state=source, to_state=target, at=at(when, shift)
            )
        for seq, (role, run_id, tokens_in, tokens_out, cached, cost, when) in enumerate(CALLS):
            add(
                ModelCall,
                run_id=run_id,
                step="s",
                role=role,
                seq=seq,
                request_key="k",
                model="claude-sonnet-4-6",
                request="{}",
                response="{}",
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cache_read_input_tokens=cached,
                cost_usd=cost,
                day=when[:5],
                created_at=at(when, shift),
            )
        for day, status, started, posted in STANDUPS:
            add(
                Standup,
                channel="#crew",
                day=day,
                status=status,
                started_at=at(started, shift),
                posted_at=at(posted, shift) if posted else None,
            )
        for key, status, sent in MESSAGES:
            created = at("11-09 07:00", shift)
            add(
                SlackMessage,
                key=key,
                channel="#crew",
                text=key,
                status=status,
                sent_at=at(sent, shift) if sent else None,
                created_at=created,
                updated_at=created,
            )


EXPECTED = Metrics(
    START,
    END,
    standups_held=1,
    slack_messages_sent=3,
    prs_opened=2,  # runs 1 and 4; run 2's code was before the window
    reviews=4,  # run 1: three, run 2: one
    review_rounds_average=2.0,  # (3 + 1) / 2
    review_rounds_max=3,
    blockers_raised={"awaiting_human": 3, "budget_exhausted": 1, "failed": 1},
    blockers_resolved=2,  # run 3's go came after the window
    outcomes={"budget_exhausted": 1, "done": 1, "failed": 1},
    task_to_pr_seconds=9900.0,  # median of 4 h (run 1) and 1 h 30 min (run 4)
    pr_to_decision_seconds=64800.0,  # median of 12 h (changes) and 24 h (merged)
    usage={
        "coder": Usage(2, 3000, 1200, 0, 5000, 1.25),
        "lead": Usage(1, 100, 50, 0, 0, 0.01),
        "reviewer": Usage(1, 800, 200, 0, 0, 0.2),
    },
    interactions={
        "coder": {"reviewer": 4, "tester": 2},
        "human": {"coder": 1},
        "planner": {"coder": 1, "researcher": 2},
        "researcher": {"coder": 1},
        "reviewer": {"coder": 2, "tester": 1},
        "tester": {"coder": 2, "lead": 2},
    },
)


def make_store(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def test_metrics_equal_the_hand_computed_values(tmp_path):
    engine = make_store(tmp_path / "metrics.db")
    seed(engine)
    assert collaboration_metrics(engine, start=START, end=END) == EXPECTED


def test_an_empty_window_has_no_medians_and_no_hand_offs(tmp_path):
    engine = make_store(tmp_path / "metrics.db")
    seed(engine)
    empty = collaboration_metrics(
        engine, start=END + timedelta(days=30), end=END + timedelta(days=31)
    )
    assert empty == Metrics(END + timedelta(days=30), END + timedelta(days=31))
    text, blocks = render_metrics(empty)
    assert "task to PR n/a" in text and "🤝 *Hand-offs*: none" in text and len(blocks) == 4


def test_the_metrics_in_words(tmp_path):
    text, blocks = render_metrics(EXPECTED)
    assert text == (
        "📈 *Crew metrics* 2026-11-10 00:00 – 2026-11-17 00:00 UTC\n"
        "• 2 PRs opened, 4 reviews, 2.0 review rounds per run (max 3)\n"
        "• Runs ended: 1 budget exhausted, 1 done, 1 failed\n"
        "• Blockers raised: 3 awaiting human, 1 budget exhausted, 1 failed; resolved: 2\n"
        "• 1 standup held, 3 Slack messages sent\n\n"
        "⏱️ *Median waits*: task to PR 2 h 45 min, PR to a human's decision 18 h 00 min\n\n"
        "💰 *Model use* ($1.46 in all)\n"
        "• coder: 2 calls, 4,200 tokens (3,000 in, 1,200 out), $1.25\n"
        "• lead: 1 call, 150 tokens (100 in, 50 out), $0.01\n"
        "• reviewer: 1 call, 1,000 tokens (800 in, 200 out), $0.20\n\n"
        "🤝 *Hand-offs* (who gave work or feedback to whom)\n"
        "• coder → reviewer 4, tester 2\n"
        "• human → coder 1\n"
        "• planner → coder 1, researcher 2\n"
        "• researcher → coder 1\n"
        "• reviewer → coder 2, tester 1\n"
        "• tester → coder 2, lead 2"
    )
    assert [block["type"] for block in blocks] == ["section"] * 4


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    return tmp_path


def test_repocrew_metrics_json_prints_the_same_numbers(workdir, monkeypatch):
    path = workdir / "cli.db"
    seed(make_store(path), shift=utcnow() - END)  # the seeded week is the last seven days
    monkeypatch.setenv("REPOCREW_DATABASE_URL", f"sqlite:///{path}")
    result = CliRunner().invoke(app, ["metrics", "--days", "7", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    expected = EXPECTED.as_dict()
    for moving in ("start", "end"):
        assert abs(datetime.fromisoformat(printed.pop(moving)) - utcnow()) < timedelta(days=8)
        expected.pop(moving)
    assert printed == expected
    assert printed["blockers_raised_total"] == 5
    words = CliRunner().invoke(app, ["metrics"])
    assert words.exit_code == 0 and "• tester → coder 2, lead 2" in words.stdout
