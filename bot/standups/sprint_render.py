"""What the standup says about the running sprints: pure builders from `SprintFacts` to lines,
words from `words.SPRINT` (the goal and the day, each role's tasks, the dependency chain)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.roster.models import Crew
from bot.slack.blocks import clip, escape
from bot.sprints.graph import DELIVERED, WAITING
from bot.standups.facts import RunRef
from bot.standups.sprint_facts import SprintFacts, SprintRole, TaskRef
from bot.standups.words import SPRINT


def run_label(run: RunRef) -> str:
    """A run by its pull request when it has one (what people know it by), else its number."""
    return f"PR #{run.pr_number}" if run.pr_number is not None else f"run {run.id}"


def task_ref(task: TaskRef) -> str:
    return f"task {escape(task.key)} “{escape(task.title)}”"


def openings(sprints: Sequence[SprintFacts]) -> list[str]:
    """The lead's line per running sprint: its goal and which day of it this is."""
    lines = []
    for sprint in sprints:
        late = SPRINT["late"] if sprint.day > sprint.days else ""
        lines.append(
            SPRINT["goal"].format(
                repo=escape(sprint.repo),
                goal=escape(clip(sprint.goal, 500)),
                day=sprint.day,
                days=sprint.days,
                late=late,
            )
        )
    return lines


def role_lines(
    crew: Crew, sprints: Sequence[SprintFacts], role: str, runs: dict[int, RunRef]
) -> tuple[list[str], list[str], list[str]]:
    """One role's sprint lines for Today, Blockers and Needs."""
    today: list[str] = []
    blockers: list[str] = []
    needs: list[str] = []
    for sprint in sprints:
        mine = sprint.roles.get(role, SprintRole())
        tasks = sprint.tasks
        today += [SPRINT["starting"].format(task=task_ref(tasks[key])) for key in mine.starting]
        today += [_running(tasks[key], runs) for key in mine.running]
        for waiting in mine.waiting:
            needed = tasks[waiting.needed]
            blockers.append(
                SPRINT["waiting"].format(
                    task=task_ref(tasks[waiting.task]),
                    needed=task_ref(needed),
                    owner=_name(crew, needed.owner),
                )
            )
            needs.append(
                SPRINT["need"].format(
                    owner=_name(crew, needed.owner), needed=task_ref(needed), task=waiting.task
                )
            )
        for key in mine.ended:
            task = tasks[key]
            reason = escape(clip(task.reason, 200)) or "no reason given"
            blockers.append(SPRINT[task.state].format(task=task_ref(task), reason=reason))
    return today, blockers, needs


def chains(crew: Crew, sprints: Sequence[SprintFacts]) -> list[tuple[str, list[str]]]:
    """The lead's summary per sprint: a heading and the chain in order, what unblocks whom."""
    found = []
    for sprint in sprints:
        lines = []
        for key, unblocks in sprint.chain:
            task = sprint.tasks[key]
            after = ", ".join(f"task {escape(k)}" for k in unblocks)
            if not after:
                tail = SPRINT["chain_end"]
            elif task.state == DELIVERED:
                tail = SPRINT["unblocked"].format(tasks=after)
            else:
                tail = SPRINT["unblocks"].format(tasks=after)
            state = _state(sprint, task)
            lines.append(f"{task_ref(task)} ({_name(crew, task.owner)}): {state} → {tail}")
        heading = SPRINT["chain"].format(goal=escape(clip(sprint.goal, 200)))
        found.append((heading, lines))
    return found


def _state(sprint: SprintFacts, task: TaskRef) -> str:
    if task.state != WAITING:
        return task.state
    deps = [dep for dep, unblocks in sprint.chain if task.key in unblocks]
    unmet = [f"task {escape(dep)}" for dep in deps if sprint.tasks[dep].state != DELIVERED]
    return SPRINT["waits_for"].format(tasks=", ".join(unmet)) if unmet else SPRINT["ready"]


def _running(task: TaskRef, runs: dict[int, RunRef]) -> str:
    run = runs.get(task.run_id) if task.run_id is not None else None
    if run is None:  # its run ended before the window; the next sprint pass follows it up
        return SPRINT["running_alone"].format(task=task_ref(task))
    state = run.state.replace("_", " ")
    return SPRINT["running"].format(task=task_ref(task), run=run_label(run), state=state)


def _name(crew: Crew, role: str) -> str:
    return escape(crew.roles[role].name) if role in crew.roles else escape(role)
