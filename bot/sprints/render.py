"""What the crew says about a sprint, as pure builders: the plan for approval, a refused plan,
each task's issue, the tracking issue's task list, and why a task is blocked.

Every post carries a hidden marker naming the sprint and the part (`<!-- repocrew:sprint=3
part=plan -->`), so the crew finds its own post and edits it instead of posting twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.sprints.graph import TaskSpec


@dataclass(frozen=True)
class TaskLine:
    """One task as the tracking issue and the dashboard list it."""

    key: str
    title: str
    owner: str
    depends_on: tuple[str, ...]
    state: str
    issue: int | None = None
    reason: str = ""


def marker(sprint_id: int, part: str) -> str:
    return f"<!-- repocrew:sprint={sprint_id} part={part} -->"


def with_marker(body: str, sprint_id: int, part: str) -> str:
    return f"{body.rstrip()}\n\n{marker(sprint_id, part)}\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def plan_comment(
    lead: str, *, goal: str, days: int, summary: str, tasks: Sequence[TaskSpec]
) -> str:
    rows = "\n".join(
        f"| {t.key} | {_cell(t.title)} | {t.owner} | {', '.join(t.depends_on) or '—'} |"
        for t in tasks
    )
    details = "\n\n".join(_task_details(t) for t in tasks)
    return (
        f"{lead}\n\n### Sprint plan: {_cell(goal)}\n\n{summary.strip()}\n\n"
        f"{len(tasks)} tasks over {days} days.\n\n"
        f"| task | title | owner | depends on |\n|---|---|---|---|\n{rows}\n\n{details}\n\n"
        "Nothing starts until a person with write access approves: comment `/crew go` here. "
        "Each task then gets its own issue, and a task's run starts once every task it "
        "depends on is delivered (its pull request merged)."
    )


def _task_details(task: TaskSpec) -> str:
    criteria = "\n".join(f"- {c}" for c in task.acceptance) or "- (none given)"
    summary = f"<summary>{task.key}: {_cell(task.title)}</summary>"
    return f"<details>{summary}\n\n{task.body.strip()}\n\n**Acceptance**\n{criteria}\n</details>"


def refused_comment(lead: str, *, goal: str, problems: Sequence[str]) -> str:
    listed = "\n".join(f"- {problem}" for problem in problems)
    return (
        f"{lead}\n\n### Sprint plan refused: {_cell(goal)}\n\n"
        f"The plan cannot be approved, so nothing was started:\n\n{listed}\n\n"
        "Start the sprint again (`/crew sprint`) once the goal is clearer."
    )


def task_issue_title(task: TaskSpec) -> str:
    return f"[{task.key}] {task.title}"[:255]


def task_issue_body(
    task: TaskSpec, *, tracking: int, goal: str, issues: Mapping[str, int | None]
) -> str:
    """The task's issue: what to do, how it is accepted, and what it waits for."""
    needs = ", ".join(_ref(key, issues) for key in task.depends_on) or "nothing"
    criteria = "\n".join(f"- [ ] {c}" for c in task.acceptance) or "- [ ] (none given)"
    return (
        f"{task.body.strip()}\n\n**Acceptance criteria**\n{criteria}\n\n"
        f"**Owner:** {task.owner}\n**Depends on:** {needs}\n"
        f"**Sprint:** #{tracking} ({_cell(goal)})"
    )


def _ref(key: str, issues: Mapping[str, int | None]) -> str:
    number = issues.get(key)
    return f"#{number} ({key})" if number else key


def task_list(goal: str, lines: Sequence[TaskLine]) -> str:
    """The tracking issue's task list: each task's issue, owner, dependencies and state."""
    issues = {line.key: line.issue for line in lines}
    items = []
    for line in lines:
        box = "x" if line.state == "delivered" else " "
        ref = f"#{line.issue}" if line.issue else line.key
        needs = ", ".join(_ref(k, issues) for k in line.depends_on)
        waits = f" — depends on {needs}" if needs else ""
        why = (
            f": {_cell(line.reason)}" if line.state in ("blocked", "failed") and line.reason else ""
        )
        items.append(f"- [{box}] {ref} {line.key} ({line.owner}){waits} — `{line.state}`{why}")
    return f"### Sprint tasks: {_cell(goal)}\n\n" + "\n".join(items)


def blocked_comment(lead: str, *, task: str, reason: str) -> str:
    return (
        f"{lead}\n\nTask {task} is **blocked**: {reason}. "
        "It will not start unless that is resolved."
    )


def blocked_reason(dependency: str, state: str, reason: str) -> str:
    """The one line that says why a task is blocked, everywhere it shows."""
    said = f": {reason}" if reason else ""
    verb = "is blocked" if state == "blocked" else f"{state}"
    return f"dependency {dependency} {verb}{said}"
