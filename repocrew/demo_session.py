"""The demo's recorded model session: the task, and a whole run of the default crew on it.

Used by `repocrew demo`, by `bench/tokens.py` and by the tests of the crew engine. The sample
project it works on is `demo_project`; its names stay reachable here for those callers.

The script answers each agent's turn by what the request says (the agent's name in the system
prompt, its step in the first user message, how many turns it has had), never by order, so a
worker that crashes and asks again is answered exactly as before.
"""

from __future__ import annotations

from emulators.anthropic import Turn
from emulators.anthropic.script import Script

# `name as name`: re-exported, for the callers that build the sample project through here
from repocrew.demo_project import AGES_BEFORE as AGES_BEFORE
from repocrew.demo_project import TESTS_BEFORE
from repocrew.demo_project import git as git
from repocrew.demo_project import make_sample_repository as make_sample_repository
from repocrew.demo_project import sample_files as sample_files

TASK_TITLE = "Add input validation to parse_age"
TASK_BODY = (
    "`calc.ages.parse_age` accepts anything `int()` accepts, including negative ages and "
    "ages over 150. It should reject those with a ValueError that says what is wrong."
)

AGES_CODED = '''"""Reading ages from user input."""

MAX_AGE = 150


def parse_age(text):
    """The age in `text`, or ValueError when it is not a whole number from 0 to MAX_AGE."""
    age = int(text)
    if age < 0 or age > MAX_AGE:
        raise ValueError(f"age must be between 0 and {MAX_AGE}, got {age}")
    return age
'''

STRIP_OLD = "    age = int(text)\n"
STRIP_NEW = "    age = int(str(text).strip())\n"

TESTS_CODED = (
    TESTS_BEFORE
    + """

def test_negative_ages_are_refused():
    import pytest

    with pytest.raises(ValueError, match="between 0 and 150"):
        parse_age("-1")


def test_ages_over_the_maximum_are_refused():
    import pytest

    with pytest.raises(ValueError):
        parse_age("151")
"""
)

VOTERS = ("Planner", "Researcher", "Coder", "Reviewer", "Tester")


def _turn(agent: str, step: str, number: int, turn: Turn) -> Turn:
    match = {"system": f"You are {agent} on", "first_user": f"[step: {step}]", "turn": number}
    return Turn(content=turn.content, stop_reason=turn.stop_reason, match=match)


def plan_turns(step: str = "plan-1") -> list[Turn]:
    return [
        _turn("Planner", step, 0, Turn.tool_use("list_files", {})),
        _turn(
            "Planner",
            step,
            1,
            Turn.tool_use(
                "submit_plan",
                {
                    "summary": "Validate the range of parsed ages in calc/ages.py.",
                    "steps": [
                        {"title": "Check the range", "detail": "0 to 150 in parse_age"},
                        {"title": "Test it", "detail": "negative and too-large ages"},
                    ],
                    "unknowns": ["Should whitespace be accepted?"],
                    "approach": "Raise ValueError with a clear message; keep int() parsing.",
                    "files": ["calc/ages.py", "tests/test_ages.py"],
                },
            ),
        ),
    ]


def research_turns(step: str = "research-1", verdict: str = "confirmed") -> list[Turn]:
    return [
        _turn("Researcher", step, 0, Turn.tool_use("read_file", {"path": "calc/ages.py"})),
        _turn(
            "Researcher",
            step,
            1,
            Turn.tool_use(
                "submit_research",
                {
                    "verdict": verdict,
                    "notes": "parse_age is a one-line int() call; the plan fits.",
                    "risks": ["Callers may rely on negative ages today."],
                    "suggestions": ["Name the bound as a constant."],
                },
            ),
        ),
    ]


def _write(path: str, content: str) -> Turn:
    return Turn.tool_use("write_file", {"path": path, "content": content})


def code_turns(step: str = "code-1") -> list[Turn]:
    return [
        _turn("Coder", step, 0, _write("calc/ages.py", AGES_CODED)),
        _turn("Coder", step, 1, _write("tests/test_ages.py", TESTS_CODED)),
        _turn("Coder", step, 2, Turn.tool_use("run_tests", {})),
        _turn(
            "Coder",
            step,
            3,
            Turn.tool_use(
                "submit_change",
                {
                    "summary": "Validate parsed ages: 0 to 150, else ValueError.",
                    "changes": [
                        {"path": "calc/ages.py", "what": "range check with MAX_AGE"},
                        {"path": "tests/test_ages.py", "what": "tests for both bounds"},
                    ],
                    "testing": "pytest: 3 passed",
                    "risks": ["Callers passing negative ages now get ValueError."],
                },
            ),
        ),
    ]


REVIEW_COMMENT = {
    "path": "calc/ages.py",
    "line": 8,
    "body": "Input from users often carries spaces; strip it before int().",
    "severity": "medium",
    "rule": "input-normalisation",
    "suggestion": STRIP_NEW.rstrip("\n"),
}

CHECKLIST = [
    {"item": "Input validation", "status": "pass", "reason": "range checked"},
    {"item": "Injection", "status": "n/a", "reason": "no queries or shell"},
    {"item": "Secrets handling", "status": "pass", "reason": "no secrets touched"},
]


def review_turns(step: str, *, request_changes: bool) -> list[Turn]:
    answer = {
        "summary": "The range check is right." if not request_changes else "Close; one fix.",
        "verdict": "request_changes" if request_changes else "comment",
        "comments": [REVIEW_COMMENT] if request_changes else [],
        "checklist": CHECKLIST,
    }
    return [_turn("Reviewer", step, 0, Turn.tool_use("submit_review", answer))]


def fix_turns(step: str = "fix-1") -> list[Turn]:
    return [
        _turn(
            "Coder",
            step,
            0,
            Turn.tool_use(
                "edit_file",
                {"path": "calc/ages.py", "old_text": STRIP_OLD, "new_text": STRIP_NEW},
            ),
        ),
        _turn("Coder", step, 1, Turn.tool_use("run_tests", {})),
        _turn(
            "Coder",
            step,
            2,
            Turn.tool_use(
                "submit_change",
                {
                    "summary": "Strip whitespace before parsing, as the review asked.",
                    "changes": [{"path": "calc/ages.py", "what": "strip() before int()"}],
                    "testing": "pytest: 3 passed",
                },
            ),
        ),
    ]


def tester_turns(step: str = "test-1") -> list[Turn]:
    answer = {"analysis": "All tests pass, including the new range checks."}
    return [_turn("Tester", step, 0, Turn.tool_use("submit_test_report", answer))]


def vote_turns(step: str = "vote-1", decision: str = "approve") -> list[Turn]:
    return [
        _turn(
            agent,
            f"{step}.{agent.lower()}",
            0,
            Turn.tool_use("submit_vote", {"decision": decision, "reason": f"{agent}: looks right"}),
        )
        for agent in VOTERS
    ]


def whole_run() -> list[Turn]:
    """plan → research → code → review (changes) → fix → re-review → test → vote."""
    return [
        *plan_turns(),
        *research_turns(),
        *code_turns(),
        *review_turns("review-1", request_changes=True),
        *fix_turns(),
        *review_turns("review-2", request_changes=False),
        *tester_turns(),
        *vote_turns(),
    ]


def whole_run_script() -> Script:
    """The whole run, then a human's review round (its turns answer only when asked)."""
    return Script([*whole_run(), *human_round(), *thread_turns()], reuse=True)


THREAD_QUESTION = "Why strip it? int() already ignores surrounding whitespace, doesn't it?"
THREAD_ANSWER = (
    "It does for spaces and tabs, but input from forms often carries other separators too; "
    "stripping first makes the intent explicit and keeps the error message about the number."
)
THREAD_FIX_REQUEST = "Fair enough. Please fix it, and accept a leading plus sign like +42 too."


def thread_turns() -> list[Turn]:
    """The reviewer's answer to a human's reply in one of its review threads (any thread: the
    step is `thread-<reply id>`). A change asked there is the human round's fix."""
    match = {"system": "You are Reviewer on", "first_user": "[step: thread-", "turn": 0}
    answer = Turn.tool_use("submit_thread_reply", {"reply": THREAD_ANSWER})
    return [Turn(content=answer.content, match=match)]


HUMAN_FEEDBACK = "Please also accept ages written with a plus sign, like +42."
PLUS_OLD = "    age = int(str(text).strip())\n"
PLUS_NEW = "    age = int(str(text).strip().removeprefix('+'))\n"


def human_round() -> list[Turn]:
    """A human's changes-requested review: fix, re-review, test and vote again."""
    fix_step = "fix-2"
    return [
        _turn(
            "Coder",
            fix_step,
            0,
            Turn.tool_use(
                "edit_file", {"path": "calc/ages.py", "old_text": PLUS_OLD, "new_text": PLUS_NEW}
            ),
        ),
        _turn(
            "Coder",
            fix_step,
            1,
            Turn.tool_use(
                "submit_change",
                {
                    "summary": "Accept a leading plus sign, as the human reviewer asked.",
                    "changes": [{"path": "calc/ages.py", "what": "strip a leading +"}],
                    "testing": "pytest: 3 passed",
                },
            ),
        ),
        *review_turns("review-3", request_changes=False),
        *tester_turns("test-2"),
        *vote_turns("vote-2"),
    ]
