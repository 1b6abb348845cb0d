"""A scripted sprint for the end-to-end tests: the lead's plan (four tasks, A→C, B→C, C→D) and
short runs for each task, every turn matched by the task it is for and the step it answers
(never by order), so parallel runs and resumed steps are answered alike.

Each task adds its own module (`calc/<name>.py`), so the tasks' pull requests merge one after
another without conflicts. The runs are short: no fix round, one test run, five votes.
"""

from __future__ import annotations

from emulators.anthropic import Turn
from emulators.anthropic.script import Script
from repocrew.demo_session import CHECKLIST, VOTERS

GOAL = "Deliver the greetings package: four small modules, each built on the one before"
CYCLIC_GOAL = "Deliver a package whose parts wait for each other"
BLOCKED_GOAL = "Deliver a package whose first part the model refuses"
NAMES = {"A": "alpha", "B": "beta", "C": "gamma", "D": "delta"}
EDGES = {"A": [], "B": [], "C": ["A", "B"], "D": ["C"]}


def title(key: str) -> str:
    return f"Add the {NAMES[key]} greeting module"


def plan_of(edges: dict[str, list[str]], *, owner: str = "coder") -> dict:
    return {
        "summary": "Four modules; gamma needs alpha and beta, delta needs gamma.",
        "tasks": [
            {
                "key": key,
                "title": title(key),
                "body": f"Add `calc/{NAMES[key]}.py` with a `greet()` function.",
                "acceptance": [f"`calc/{NAMES[key]}.py` exists", "the tests pass"],
                "owner": owner,
                "depends_on": needs,
            }
            for key, needs in edges.items()
        ],
    }


def _lead(goal: str, plan: dict) -> Turn:
    match = {"system": goal, "first_user": "[step: sprint-", "turn": 0}
    return Turn.tool_use("submit_sprint_plan", plan, match=match)


def _on(key: str, step: str, number: int, turn: Turn) -> Turn:
    """A turn of task `key`'s run: its title (in the system prompt's task block) names the
    task, its step the agent (`vote-1.coder` names the voter)."""
    match = {"system": title(key), "first_user": f"[step: {step}]", "turn": number}
    return Turn(content=turn.content, stop_reason=turn.stop_reason, match=match)


def task_turns(key: str) -> list[Turn]:
    name = NAMES[key]
    module = f'"""The {name} greeting."""\n\n\ndef greet():\n    return "{name}"\n'
    plan = {
        "summary": f"Add calc/{name}.py.",
        "steps": [{"title": "Add the module", "detail": "one function"}],
        "approach": "A new module; nothing else changes.",
        "files": [f"calc/{name}.py"],
    }
    research = {"verdict": "confirmed", "notes": "A new file; nothing depends on it yet."}
    change = {
        "summary": f"Add calc/{name}.py.",
        "changes": [{"path": f"calc/{name}.py", "what": "the greet function"}],
        "testing": "pytest",
    }
    review = {"summary": "Fine.", "verdict": "comment", "comments": [], "checklist": CHECKLIST}
    return [
        _on(key, "plan-1", 0, Turn.tool_use("submit_plan", plan)),
        _on(key, "research-1", 0, Turn.tool_use("submit_research", research)),
        _on(
            key,
            "code-1",
            0,
            Turn.tool_use("write_file", {"path": f"calc/{name}.py", "content": module}),
        ),
        _on(key, "code-1", 1, Turn.tool_use("submit_change", change)),
        _on(key, "review-1", 0, Turn.tool_use("submit_review", review)),
        _on(
            key,
            "test-1",
            0,
            Turn.tool_use("submit_test_report", {"analysis": "All pass."}),
        ),
        *[
            _on(
                key,
                f"vote-1.{agent.lower()}",
                0,
                Turn.tool_use("submit_vote", {"decision": "approve", "reason": "fine"}),
            )
            for agent in VOTERS
        ],
    ]


def refused(key: str) -> Turn:
    """The planner of task `key` declines: its run stops (and its dependents are blocked)."""
    return _on(
        key,
        "plan-1",
        0,
        Turn(content=({"type": "text", "text": "No."},), stop_reason="refusal"),
    )


def sprint_script(*, refuse: str = "") -> Script:
    """The lead's plans (one per goal) and every task's run; `refuse`: that task's planner
    declines, so its run stops."""
    cyclic = {"A": ["C"], "B": [], "C": ["A", "B"], "D": ["C"]}
    turns = [
        _lead(GOAL, plan_of(EDGES)),
        _lead(CYCLIC_GOAL, plan_of(cyclic)),
        _lead(BLOCKED_GOAL, plan_of(EDGES)),
    ]
    if refuse:
        turns.append(refused(refuse))
    for key in NAMES:
        turns += task_turns(key)
    return Script(turns, reuse=True)
