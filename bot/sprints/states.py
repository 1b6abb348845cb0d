"""The sprint's states and its tasks' states, with the moves allowed between them (drawn in
the README, and kept in step with it by the docs test)."""

from __future__ import annotations

from enum import StrEnum


class SprintState(StrEnum):
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    REVIEWING = "reviewing"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class TaskState(StrEnum):
    PENDING = "pending"  # waiting for its dependencies (or for a free slot)
    RUNNING = "running"  # its run is working or waits for a human
    DELIVERED = "delivered"  # counts as done for its dependents (its PR merged by a human)
    FAILED = "failed"  # its run failed, was stopped or ran out of budget
    BLOCKED = "blocked"  # a dependency failed or is blocked: it can never start
    CANCELLED = "cancelled"


SPRINT_TRANSITIONS: dict[SprintState, frozenset[SprintState]] = {
    # The lead's plan is posted for approval; a plan that cannot be approved (a cycle, an
    # unknown role) or a model that cannot plan ends it.
    SprintState.PLANNING: frozenset(
        {SprintState.AWAITING_APPROVAL, SprintState.FAILED, SprintState.CANCELLED}
    ),
    SprintState.AWAITING_APPROVAL: frozenset({SprintState.RUNNING, SprintState.CANCELLED}),
    # Every task ended (or the last day passed): the review and retrospective follow.
    SprintState.RUNNING: frozenset({SprintState.REVIEWING, SprintState.CANCELLED}),
    SprintState.REVIEWING: frozenset({SprintState.CLOSED}),
    SprintState.CLOSED: frozenset(),
    SprintState.CANCELLED: frozenset(),
    SprintState.FAILED: frozenset(),
}

SPRINT_ENDED = frozenset({SprintState.CLOSED, SprintState.CANCELLED, SprintState.FAILED})

TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.PENDING: frozenset({TaskState.RUNNING, TaskState.BLOCKED, TaskState.CANCELLED}),
    TaskState.RUNNING: frozenset({TaskState.DELIVERED, TaskState.FAILED, TaskState.CANCELLED}),
    # A blocked task starts again once its dependency is retried and delivered.
    TaskState.BLOCKED: frozenset({TaskState.PENDING, TaskState.CANCELLED}),
    TaskState.DELIVERED: frozenset(),
    TaskState.FAILED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}

TASK_ENDED = frozenset({TaskState.DELIVERED, TaskState.FAILED, TaskState.CANCELLED})


def may_move(current: str, target: str) -> bool:
    """Whether a task may go from `current` to `target`."""
    return TaskState(target) in TASK_TRANSITIONS[TaskState(current)]


def mermaid() -> str:
    """The sprint's machine as a Mermaid state diagram (the README's copy is tested against it)."""
    lines = ["stateDiagram-v2", "    [*] --> planning"]
    for source, targets in SPRINT_TRANSITIONS.items():
        lines += [f"    {source} --> {target}" for target in sorted(targets)]
    lines.append("    closed --> [*]")
    return "\n".join(lines)
