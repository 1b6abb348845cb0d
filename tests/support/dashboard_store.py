"""A store seeded for the dashboard tests, through the crew's own store functions.

Run 1 went the whole way on GitHub (plan, research, code with a PR, a review asking for
changes, a fix, an approving re-review, passing tests, a 2-of-3 vote, a human's merge); run 2
failed while coding; run 3 is still queued. Model calls carry tokens and cost; a standup with a
person's reply; GitHub and Slack deliveries, and the queue's jobs: the GitHub delivery's went
dead (its traceback in the store), the Slack one's waits to retry, run 1's finished, and one
waits its first try. Secrets are planted where a leak would land (a
step result, a model reply, a tool result, a standup reply, delivery payloads, a job's
error), raw as if
redaction had missed them, so the dashboard must catch them itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine, insert

from bot.llm.client import ModelReply, ModelUsage
from bot.llm.ledger import Ledger, request_key
from bot.runs.progress import create_run, finish_step, transition
from bot.runs.states import RunState as S
from bot.store.models import Delivery, utcnow
from bot.store.runs import record_votes
from bot.store.standups import StandupPost, claim_standup, mark_posted, record_human_update
from tests.support.dashboard_jobs import INSTALLATION_TOKEN, SeededJobs, seed_jobs

DASHBOARD_TOKEN = "dashboard-token-for-tests-0123456789"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK_TOKEN = "xoxb-" + "1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
ANTHROPIC_KEY = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa-_ZyXwVuTsRqPoNmLkJiHg"
SLACK_VERIFICATION = "verificationTokenOfTheSlackApp42"
PLANTED = (GITHUB_TOKEN, SLACK_TOKEN, ANTHROPIC_KEY, SLACK_VERIFICATION, DASHBOARD_TOKEN)
PLANTED += (INSTALLATION_TOKEN,)

# Run 1's steps: (state before, state after, step, role, result)
RUN_1_STEPS = [
    (S.PLANNING, S.RESEARCHING, "plan-1", "planner", {"summary": "Add a --version flag to cli.py"}),
    (S.RESEARCHING, S.CODING, "research-1", "researcher", {"verdict": "The plan fits cli.py"}),
    (
        S.CODING,
        S.REVIEWING,
        "code-1",
        "coder",
        {"summary": f"Added --version; debug token was {GITHUB_TOKEN}", "commits": ["a1b2c3d"]},
    ),
    (
        S.REVIEWING,
        S.FIXING,
        "review-1",
        "reviewer",
        {"event": "REQUEST_CHANGES", "body": "Test it"},
    ),
    (S.FIXING, S.REVIEWING, "fix-1", "coder", {"summary": "Added a test for --version"}),
    (S.REVIEWING, S.TESTING, "review-2", "reviewer", {"event": "APPROVE", "body": "Looks good"}),
    (S.TESTING, S.VOTING, "test-1", "tester", {"passed": True, "summary": "12 passed"}),
]
VOTES = [
    ("planner", "approve", "matches the plan"),
    ("reviewer", "approve", "review findings fixed"),
    ("tester", "request_changes", "would like a changelog entry"),
]
# (run, step, role, input tokens, output tokens, cost, what it said, tool it called)
CALLS = [
    (1, "plan-1", "planner", 1200, 300, 0.0081, "Here is the plan.", None),
    (1, "research-1", "researcher", 2400, 200, 0.0102, "I read cli.py.", "read_file"),
    (1, "code-1", "coder", 5200, 1400, 0.0366, f"Using key {ANTHROPIC_KEY} now.", "write_file"),
    (1, "code-1", "coder", 6100, 500, 0.0258, "Committed the change.", None),
    (1, "review-1", "reviewer", 3000, 600, 0.018, "Please add a test.", None),
    (1, "fix-1", "coder", 4000, 700, 0.0225, "Added the test.", "write_file"),
    (1, "review-2", "reviewer", 3100, 200, 0.0123, "Approved.", None),
    (1, "test-1", "tester", 900, 100, 0.0042, "All tests pass.", None),
    # Each voter asks under its own key, as `bot/runs/steps/voting.py` does.
    (1, "vote-1.planner", "planner", 700, 50, 0.0029, "approve", None),
    (1, "vote-1.reviewer", "reviewer", 800, 60, 0.0031, "approve", None),
    (1, "vote-1.tester", "tester", 750, 55, 0.0030, "request changes", None),
    (2, "plan-1", "planner", 1000, 250, 0.0068, "Plan for widgets.", None),
    (2, "research-1", "researcher", 1500, 150, 0.0068, "Checked.", None),
    (2, "code-1", "coder", 7000, 900, 0.0345, "Editing .github/workflows.", "write_file"),
]
# Who handed work to whom, worked out by hand from the steps above (run 2 adds one
# planner → researcher; its code step never finished).
MATRIX = {
    ("planner", "researcher"): 2,
    ("researcher", "coder"): 1,
    ("coder", "reviewer"): 2,
    ("reviewer", "coder"): 1,
    ("reviewer", "tester"): 1,
    ("tester", "lead"): 1,
}
FAIL_REASON = "the coder's change touched a protected path: .github/workflows/ci.yml"


@dataclass(frozen=True)
class Seeded:
    done: int
    failed: int
    queued: int
    day: str
    jobs: SeededJobs
    deliveries: dict[str, int]  # delivery id → row id


def seed(engine: Engine) -> Seeded:
    done = _finished_run(engine)
    failed = _failed_run(engine)
    queued = create_run(engine, repo="octo-org/hello", task="Tidy the README", title="Tidy")
    made: dict[tuple[int, str], int] = {}
    for run, step, *rest in CALLS:
        seq = made[run, step] = made.get((run, step), -1) + 1
        _call(engine, {1: done, 2: failed}[run], step, *rest, seq=seq)
    day = _standup(engine)
    deliveries = _deliveries(engine)
    jobs = seed_jobs(engine, deliveries, run_id=done)
    return Seeded(done, failed, queued, day, jobs, deliveries)


def _finished_run(engine: Engine) -> int:
    run_id = create_run(
        engine,
        repo="octo-org/hello",
        task="Please add a --version flag.",
        title="Add a --version flag",
        forge="github",
        installation_id=1,
        issue_number=7,
        requested_by="octocat",
        branch="crew/7-add-a-version-flag",
    )
    transition(engine, run_id=run_id, expected=S.QUEUED, target=S.PLANNING)
    for before, after, step, role, content in RUN_1_STEPS:
        fields = {"pr_number": 12} if step == "code-1" else {}
        finish_step(
            engine,
            run_id=run_id,
            expected=before,
            target=after,
            step=step,
            role=role,
            content=content,
            **fields,
        )
    ballots = [{"role": r, "decision": d, "reason": why} for r, d, why in VOTES]
    finish_step(
        engine,
        run_id=run_id,
        expected=S.VOTING,
        target=S.AWAITING_HUMAN,
        step="vote-1",
        role="lead",
        content={"votes": ballots, "passed": True},
    )
    record_votes(engine, run_id=run_id, round=1, votes=VOTES)
    transition(
        engine,
        run_id=run_id,
        expected=S.AWAITING_HUMAN,
        target=S.DONE,
        reason="pull request #12 merged by octocat",
    )
    return run_id


def _failed_run(engine: Engine) -> int:
    run_id = create_run(
        engine, repo="octo-org/widgets", task="Speed up CI", title="Speed up CI", issue_number=9
    )
    transition(engine, run_id=run_id, expected=S.QUEUED, target=S.PLANNING)
    steps = [
        (S.PLANNING, S.RESEARCHING, "plan-1", "planner", {"summary": "Cache pip in CI"}),
        (S.RESEARCHING, S.CODING, "research-1", "researcher", {"verdict": "CI is in workflows"}),
    ]
    for before, after, step, role, content in steps:
        finish_step(
            engine,
            run_id=run_id,
            expected=before,
            target=after,
            step=step,
            role=role,
            content=content,
        )
    transition(engine, run_id=run_id, expected=S.CODING, target=S.FAILED, reason=FAIL_REASON)
    return run_id


def _call(engine, run_id, step, role, tokens_in, tokens_out, cost, said, tool, *, seq) -> None:
    ledger = Ledger(engine, run_id=run_id, step=step, role=role, cost=lambda _m, _u: cost)
    request = {"messages": [{"role": "user", "content": f"Do the {step} step of run {run_id}."}]}
    content = [{"type": "text", "text": said}]
    if tool:
        content.append(
            {"type": "tool_use", "id": f"tu-{step}", "name": tool, "input": {"path": "cli.py"}}
        )
    reply = ModelReply(
        id=f"msg-{run_id}-{step}-{tokens_in}",
        model="claude-sonnet-4-6",
        content=content,
        stop_reason="tool_use" if tool else "end_turn",
        usage=ModelUsage(tokens_in, tokens_out),
        request_id=None,
    )
    ledger.record(seq, request_key(request), request, reply)
    if tool:
        result = {"type": "tool_result", "tool_use_id": f"tu-{step}", "content": f"wrote {tool}"}
        if tool == "read_file":
            result["content"] = f"GITHUB_TOKEN={GITHUB_TOKEN}\nprint('hello')"
        ledger.record_tool_results(seq, [result])


def _standup(engine: Engine) -> str:
    day = datetime.now(UTC).date().isoformat()
    posts = [
        StandupPost(f"standup:#crew:{day}:lead", "lead", "🗓️ Standup: 1 PR merged", [], "", True),
        StandupPost(f"standup:#crew:{day}:coder", "coder", "✅ Yesterday: #12 --version", [], ""),
    ]
    standup_id = claim_standup(engine, channel="#crew", day=day, posts=posts, now=utcnow())
    assert standup_id is not None
    mark_posted(engine, standup_id=standup_id, now=utcnow())
    record_human_update(
        engine,
        channel="#crew",
        day=day,
        slack_user_id="U0HUMAN",
        message_ts="1700000000.000100",
        text=f"I'll merge today. (pasted by mistake: {SLACK_TOKEN} {DASHBOARD_TOKEN})",
    )
    return day


def _deliveries(engine: Engine) -> dict[str, int]:
    issue = {
        "action": "labeled",
        "issue": {"number": 7, "body": f"my token is {GITHUB_TOKEN}"},
        "installation": {"id": 1},
    }
    command = urlencode(
        {
            "token": SLACK_VERIFICATION,
            "command": "/crew",
            "text": f"task octo-org/hello use {SLACK_TOKEN}",
            "response_url": "https://hooks.slack.com/commands/T0001/1/abc",
        }
    )
    rows = [
        ("github", "d-1", "issues", "labeled", 1, "queued", json.dumps(issue)),
        ("github", "d-2", "ping", "", None, "ignored", json.dumps({"zen": "Keep it simple."})),
        ("slack", "s-1", "command", "", None, "queued", command),
    ]
    made = {}
    with engine.begin() as connection:
        for source, delivery_id, event, action, installation, outcome, payload in rows:
            made[delivery_id] = connection.execute(
                insert(Delivery.__table__).values(  # type: ignore[attr-defined]
                    source=source,
                    delivery_id=delivery_id,
                    event=event,
                    action=action,
                    installation_id=installation,
                    outcome=outcome,
                    payload=payload,
                    received_at=utcnow(),
                )
            ).inserted_primary_key[0]
    return made
