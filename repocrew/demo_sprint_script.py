"""The sprint demo's scripted model: the lead (the CEO of the product-team roster) splits the
goal into four tasks (A and B first, C on both, D on C), and each task's run goes plan,
research, code, review, test and the three votes; at the end the CEO's retrospective.

Every turn is matched by what its request holds (the task's title in the system prompt, the
step and agent in the first user message, the turn's number), never by order, so runs in
parallel and steps resumed after a crash are answered alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulators.anthropic import Turn
from emulators.anthropic.script import Script
from repocrew.demo_session import CHECKLIST

HUMAN_QUESTION = "Is 13 the lowest age for signing up, or do we need 16 for the EU?"
HUMAN_ANSWER = "13 everywhere for now; the EU rule comes in a later sprint."
ROLE_QUESTION = "Must the parser accept two-digit years like '07'?"
ROLE_ANSWER = "No: four digits only; the form already asks for them."
GOAL = "Deliver age limits for the sign-up form this week: the rules, a parser, the check, docs"
VOTERS = ("architect", "developer", "devops")  # the product-team roster's voters


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    owner: str
    path: str
    content: str
    depends_on: tuple[str, ...] = ()


TASKS = (
    Task("A", "Write down the age limit rules", "architect", "docs/age_limits.md",
         "# Age limits\n\nSign-up needs an age from 13 to 150.\n"),
    Task("B", "Parse birth years from the form", "developer", "calc/years.py",
         '"""Birth years typed into the form."""\n\n\ndef parse_year(text):\n'
         '    return int(text.strip())\n'),
    Task("C", "Check sign-up ages against the limits", "developer", "calc/limits.py",
         '"""The sign-up age limits (docs/age_limits.md)."""\n\nLOWEST, HIGHEST = 13, 150\n\n\n'
         "def allowed(age):\n    return LOWEST <= age <= HIGHEST\n", ("A", "B")),
    Task("D", "Announce the age limits in the user guide", "marketing", "docs/sign_up.md",
         "# Signing up\n\nYou can sign up from the age of 13.\n", ("C",)),
)  # fmt: skip


def plan() -> dict:
    """The lead's answer: the sprint's tasks with owners and dependencies."""
    return {
        "summary": "Rules and parser first, side by side; the check needs both; docs last.",
        "tasks": [
            {
                "key": task.key,
                "title": task.title,
                "body": f"Add `{task.path}`.",
                "acceptance": [f"`{task.path}` exists", "the tests pass"],
                "owner": task.owner,
                "depends_on": list(task.depends_on),
            }
            for task in TASKS
        ],
    }


def _on(task: Task, step: str, number: int, turn: Turn) -> Turn:
    """A turn of `task`'s run: its title (in the system prompt) names the task, the step (with
    the voter, `vote-1.devops`) the agent."""
    match = {"system": task.title, "first_user": f"[step: {step}]", "turn": number}
    return Turn(content=turn.content, stop_reason=turn.stop_reason, match=match)


def _resumed(task: Task, number: int, turn: Turn) -> Turn:
    """A turn of a step started again with the humans' answer (listed before the step's first
    attempt: both requests name the step, only this one holds the answer)."""
    match = {"system": task.title, "first_user": "You asked humans:", "turn": number}
    return Turn(content=turn.content, stop_reason=turn.stop_reason, match=match)


def task_turns(task: Task) -> list[Turn]:
    """One short run: no fix round, one test run, every voter approves. A's developer asks the
    humans before coding (the run waits for a writer's answer, then codes again from the start
    with it); B's architect asks the developer while planning (answered within the step)."""
    review = {"summary": "Fine.", "verdict": "comment", "comments": [], "checklist": CHECKLIST}
    plan_ = {
        "summary": task.title,
        "steps": [{"title": task.title, "detail": f"in {task.path}"}],
        "approach": "One new file; nothing else changes.",
        "files": [task.path],
    }
    change = {
        "summary": task.title,
        "changes": [{"path": task.path, "what": task.title}],
        "testing": "pytest",
    }
    write = {"path": task.path, "content": task.content}
    if task.key == "A":
        ask = {"to": "humans", "question": HUMAN_QUESTION}
        code = [
            _resumed(task, 0, Turn.tool_use("write_file", write)),
            _resumed(task, 1, Turn.tool_use("submit_change", change)),
            _on(task, "code-1", 0, Turn.tool_use("ask", ask)),
        ]
    else:
        code = [
            _on(task, "code-1", 0, Turn.tool_use("write_file", write)),
            _on(task, "code-1", 1, Turn.tool_use("submit_change", change)),
        ]
    if task.key == "B":
        ask = {"to": "developer", "question": ROLE_QUESTION}
        planning = [
            _on(task, "plan-1", 0, Turn.tool_use("ask", ask)),
            _on(task, "plan-1.ask-1", 0, Turn.tool_use("submit_answer", {"answer": ROLE_ANSWER})),
            _on(task, "plan-1", 1, Turn.tool_use("submit_plan", plan_)),
        ]
    else:
        planning = [_on(task, "plan-1", 0, Turn.tool_use("submit_plan", plan_))]
    return [
        *planning,
        _on(task, "research-1", 0, Turn.tool_use("submit_research",
                                                 {"verdict": "confirmed", "notes": "A new file."})),
        *code,
        _on(task, "review-1", 0, Turn.tool_use("submit_review", review)),
        _on(task, "test-1", 0, Turn.tool_use("submit_test_report", {"analysis": "All pass."})),
        *[
            _on(task, f"vote-1.{voter}", 0,
                Turn.tool_use("submit_vote", {"decision": "approve", "reason": "fine"}))
            for voter in VOTERS
        ],
    ]  # fmt: skip


RETRO = {  # each point cites a fact by key; one citing none would be replaced by the template's
    "continue": [{"text": "Keep tasks small enough to run side by side.", "fact": "F1"}],
    "improve": [{"text": "Settle the age rules before the sprint starts.", "fact": "F1"}],
    "try": [{"text": "Ask the architect before asking the humans.", "fact": "F1"}],
}


def sprint_script() -> Script:
    lead = {"system": GOAL, "first_user": "[step: sprint-", "turn": 0}
    retro = {"first_user": "-retro] The sprint", "turn": 0}
    turns = [
        Turn.tool_use("submit_retrospective", RETRO, match=retro),
        Turn.tool_use("submit_sprint_plan", plan(), match=lead),
    ]
    for task in TASKS:
        turns += task_turns(task)
    return Script(turns, reuse=True)
