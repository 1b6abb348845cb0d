"""The sprint's task graph, pure: checking a plan, the order of its tasks, what may start now,
and what a failed dependency blocks.

Edges point from a task to the tasks it depends on (`C.depends_on = ("A", "B")`). The order
comes from the standard library's `graphlib`, which also names a cycle when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter

# Task states (kept with the sprint's states in `bot.sprints.states`; repeated here as the
# plain strings the graph reasons about, so the graph stays free of the machine).
DELIVERED = "delivered"
WAITING = "pending"
ENDED_BADLY = frozenset({"failed", "blocked", "cancelled"})


@dataclass(frozen=True)
class TaskSpec:
    """One task of a plan, as the lead wrote it (validated by `check_plan`)."""

    key: str
    title: str
    body: str = ""
    acceptance: tuple[str, ...] = ()
    owner: str = ""
    depends_on: tuple[str, ...] = field(default_factory=tuple)


def dependencies(tasks: Sequence[TaskSpec]) -> dict[str, tuple[str, ...]]:
    return {task.key: task.depends_on for task in tasks}


def cycle_in(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as a closed path (`["A", "C", "A"]`), or None when the graph has none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        found = list(error.args[1])
        return list(reversed(found))  # graphlib lists it against the edges' direction
    return None


def check_plan(tasks: Sequence[TaskSpec], *, roles: Sequence[str]) -> list[str]:
    """What is wrong with a plan, one readable sentence each; empty when it can be approved."""
    problems: list[str] = []
    keys = [task.key for task in tasks]
    if not tasks:
        problems.append("the plan has no tasks")
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"task {key} is named twice")
    known = set(keys)
    for task in tasks:
        if task.owner not in roles:
            problems.append(
                f"task {task.key} is owned by {task.owner!r}, which is not a role of the crew "
                f"(roles: {', '.join(roles)})"
            )
        for needed in task.depends_on:
            if needed == task.key:
                problems.append(f"task {task.key} depends on itself")
            elif needed not in known:
                problems.append(f"task {task.key} depends on {needed}, which is not in the plan")
    if problems:
        return problems
    cycle = cycle_in(dependencies(tasks))
    if cycle:
        problems.append(
            "the dependencies go round in a cycle: "
            f"{' → '.join(cycle)} (each waits for the next, so none could ever start)"
        )
    return problems


def order(graph: Mapping[str, Sequence[str]], *, plan_order: Sequence[str] = ()) -> list[str]:
    """Every task after the tasks it depends on; ties keep the plan's order."""
    rank = {key: index for index, key in enumerate(plan_order or list(graph))}
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda key: (rank.get(key, len(rank)), key))
        ordered += ready
        sorter.done(*ready)
    return ordered


def runnable(graph: Mapping[str, Sequence[str]], states: Mapping[str, str]) -> list[str]:
    """Tasks still waiting whose every dependency is delivered, in the graph's order."""
    return [
        key
        for key in order(graph)
        if states.get(key) == WAITING
        and all(states.get(needed) == DELIVERED for needed in graph[key])
    ]


def blocked(graph: Mapping[str, Sequence[str]], states: Mapping[str, str]) -> dict[str, str]:
    """Waiting tasks that can never start, each with the dependency that stops it and why:
    a dependency that failed, was cancelled or is itself blocked (so the block propagates)."""
    found: dict[str, str] = {}
    for key in order(graph):
        if states.get(key) != WAITING:
            continue
        for needed in graph[key]:
            state = "blocked" if needed in found else states.get(needed, "")
            if state in ENDED_BADLY:
                found[key] = needed
                break
    return found


def chain(graph: Mapping[str, Sequence[str]]) -> list[tuple[str, list[str]]]:
    """The dependency chain in order: each task with the tasks it unblocks (standups, reviews)."""
    unblocks: dict[str, list[str]] = {key: [] for key in graph}
    for key, needs in graph.items():
        for needed in needs:
            unblocks[needed].append(key)
    ordered = order(graph)
    return [(key, sorted(unblocks[key], key=ordered.index)) for key in ordered]
