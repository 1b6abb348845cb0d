"""The oracle crew: a scripted model whose coder writes the fixed release's version of each
fix file through its file tools, and whose other roles answer minimally. It proves the
environments, the tools, the test runner and the scoring on real repositories, offline; it
says nothing of a model's skill. Turns are matched by agent and step, never by order.
"""

from __future__ import annotations

from collections.abc import Mapping

from emulators.anthropic import Turn
from emulators.anthropic.script import Script

VOTERS = ("Planner", "Researcher", "Coder", "Reviewer", "Tester")
CHECKLIST = [
    {"item": "Input validation", "status": "n/a", "reason": "the fix changes no input handling"},
    {"item": "Secrets handling", "status": "pass", "reason": "no secrets touched"},
]


def _turn(agent: str, step: str, number: int, turn: Turn) -> Turn:
    match = {"system": f"You are {agent} on", "first_user": f"[step: {step}]", "turn": number}
    return Turn(content=turn.content, stop_reason=turn.stop_reason, match=match)


def oracle_script(title: str, fixed_files: Mapping[str, str]) -> Script:
    """plan → research → code (the fixed files) → review → test → vote, each in one turn."""
    paths = sorted(fixed_files)
    writes = [
        _turn(
            "Coder",
            "code-1",
            n,
            Turn.tool_use("write_file", {"path": p, "content": fixed_files[p]}),
        )
        for n, p in enumerate(paths)
    ]
    change = {
        "summary": f"Fix: {title}",
        "changes": [{"path": path, "what": "the fix"} for path in paths],
        "testing": "the repository's tests",
    }
    turns = [
        _submit("Planner", "plan-1", "submit_plan", _plan(title, paths)),
        _submit("Researcher", "research-1", "submit_research", _research()),
        *writes,
        _turn("Coder", "code-1", len(writes), Turn.tool_use("submit_change", change)),
        _submit("Reviewer", "review-1", "submit_review", _review()),
        _submit("Tester", "test-1", "submit_test_report", {"analysis": "See the check run."}),
        *[
            _submit(agent, f"vote-1.{agent.lower()}", "submit_vote", _vote(agent))
            for agent in VOTERS
        ],
    ]
    return Script(turns, reuse=True)


def _submit(agent: str, step: str, tool: str, answer: dict) -> Turn:
    return _turn(agent, step, 0, Turn.tool_use(tool, answer))


def _plan(title: str, paths: list[str]) -> dict:
    return {
        "summary": title,
        "steps": [{"title": "Fix it", "detail": "in " + ", ".join(paths)}],
        "unknowns": [],
        "approach": "The smallest change that fixes the report.",
        "files": paths,
    }


def _research() -> dict:
    return {"verdict": "confirmed", "notes": "The plan fits.", "risks": [], "suggestions": []}


def _review() -> dict:
    return {"summary": "Looks right.", "verdict": "comment", "comments": [], "checklist": CHECKLIST}


def _vote(agent: str) -> dict:
    return {"decision": "approve", "reason": f"{agent}: the fix is in"}
