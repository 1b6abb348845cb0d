"""The demo's terminal story: built from plain data, compared as text."""

from __future__ import annotations

from bot.runs.steps.testing import not_run_facts
from repocrew.demo_report import story_of, story_text
from repocrew.demo_serve import dashboard_lines, store_lines
from webhooks.dashboard.login_link import LoginLinks

OUTPUTS = {
    "plan-1": {
        "summary": "Validate parsed ages.",
        "steps": [{"title": "Check the range", "detail": "0 to 150"}],
        "unknowns": ["Spaces?"],
        "approach": "Raise ValueError.",
    },
    "review-1": {
        "event": "REQUEST_CHANGES",
        "summary": "One fix.",
        "comments": [{"path": "calc/ages.py", "line": 8, "severity": "medium", "body": "Strip."}],
        "checklist": [
            {"item": "Input validation", "status": "pass", "reason": "range checked"},
            {"item": "Injection", "status": "n/a", "reason": "no shell"},
            {"item": "Secrets", "status": "fail", "reason": "a key in a test"},
        ],
    },
    "test-1": {"passed": True, "counts": {"passed": 3, "failed": 0}, "sandbox": "bwrap"},
    "vote-1": {
        "votes": [
            {"role": "coder", "decision": "approve", "reason": "fine"},
            {"role": "tester", "decision": "request_changes", "reason": "flaky"},
        ]
    },
}
FILES = [{"filename": "calc/ages.py", "patch": "@@ -1 +1 @@\n-    return int(text)\n+    return 1"}]


def _lines(text: str) -> list[str]:
    return [line.strip("│ ").rstrip() for line in text.splitlines()]


def test_the_story_shows_plan_diff_review_checklist_tests_and_votes():
    lines = _lines(story_text(story_of(OUTPUTS, FILES), width=80))
    expected = [
        "Validate parsed ages.",
        "1. Check the range: 0 to 150",
        "Approach: Raise ValueError.",
        "Open question: Spaces?",
        "--- a/calc/ages.py",
        "+++ b/calc/ages.py",
        "-    return int(text)",
        "+    return 1",
        "REQUEST_CHANGES: One fix.",
        "calc/ages.py:8 [medium] Strip.",
        "✔  Input validation  range checked",
        "–  Injection         no shell",
        "✘  Secrets           a key in a test",
        "Tests passed (3 passed) in bwrap",
        "coder   approve          fine",
        "tester  request_changes  flaky",
    ]
    assert [line for line in lines if line in expected] == expected
    assert any("Votes (1 of 2 approve)" in line for line in lines)


def test_tests_not_run_never_read_as_a_pass():
    outputs = {"test-1": not_run_facts("bwrap not found: apt install bubblewrap", sha="abc")}
    text = story_text(story_of(outputs, []), width=120)
    assert "Not run: no sandbox: bwrap not found: apt install bubblewrap" in text
    assert "passed" not in text


def test_a_run_that_ended_early_says_the_tests_did_not_run():
    assert "Not run: the run ended before the tests." in story_text(story_of({}, []))


def test_the_store_and_dashboard_lines_say_how_to_explore(tmp_path):
    assert store_lines(tmp_path, 3)[1:] == [
        f"  REPOCREW_DATABASE_URL=sqlite:///{tmp_path}/repocrew.db repocrew metrics",
        f"  REPOCREW_DATABASE_URL=sqlite:///{tmp_path}/repocrew.db repocrew replay 3",
    ]
    assert dashboard_lines("http://127.0.0.1:8000", "c/o+de", 3)[:2] == [
        "Dashboard: http://127.0.0.1:8000/dashboard/runs/3",
        "Log in once with: http://127.0.0.1:8000/dashboard/login/link?code=c%2Fo%2Bde",
    ]


def test_a_login_link_works_once_and_only_as_issued():
    links = LoginLinks()
    code = links.issue()
    assert not links.redeem(code + "x")
    assert links.redeem(code)
    assert not links.redeem(code)
