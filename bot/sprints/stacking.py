"""Delivery by the vote (`[sprint] delivered = "approved"`): a task counts as delivered once its
run's vote approves, and a task waiting on exactly one such task branches from that task's
branch and opens its pull request against it (stacked), so it builds on work not merged yet.

A task waiting on several tasks cannot sit on one branch: it starts only once every one of them
is merged, as with the default delivery.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bot.ports.forge import CloneSource
from bot.runs.states import RunState
from bot.sprints.planning import crew_of
from bot.store import sprints as stored
from bot.store.engine import Engine
from bot.store.models import Run
from bot.store.runs import get_run, outputs
from bot.store.sprint_models import SprintTask

BY_VOTE = "approved"


def vote_passed(engine: Engine, run: Run) -> bool:
    """The run waits for a person after a vote that passed (its latest vote)."""
    if run.state != RunState.AWAITING_HUMAN:
        return False
    votes = [content for step, content in outputs(engine, run.id or 0).items() if "vote" in step]
    return bool(votes) and votes[-1].get("passed") is True


def dependencies_merged(engine: Engine, tasks: list[SprintTask], task: SprintTask) -> bool:
    """Every task `task` waits on has its pull request merged (its run done)."""
    by_key = {other.key: other for other in tasks}
    needs = [by_key[key] for key in json.loads(task.depends_on) if key in by_key]
    return all(n.run_id and get_run(engine, n.run_id).state == RunState.DONE for n in needs)


def stacked_base(engine: Engine, run_id: int) -> str | None:
    """The branch run `run_id` builds on: its task's one dependency's branch, when the sprint
    delivers by the vote (None: the repository's default branch)."""
    task = stored.task_of_run(engine, run_id)
    if task is None:
        return None
    needs = json.loads(task.depends_on)
    if (
        len(needs) != 1
        or crew_of(stored.get_sprint(engine, task.sprint_id)).sprint.delivered != BY_VOTE
    ):
        return None
    dependency = next((t for t in stored.tasks(engine, task.sprint_id) if t.key == needs[0]), None)
    if dependency is None or dependency.run_id is None:
        return None
    return get_run(engine, dependency.run_id).branch or None


class StackedForge:
    """A run's forge whose base branch is another run's branch: the workspace clones it, the
    change is compared with it and the pull request is opened against it."""

    def __init__(self, forge: Any, base: str) -> None:
        self.inner = forge
        self.base = base

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def clone_source(self, *, push: bool = False) -> CloneSource:
        return replace(self.inner.clone_source(push=push), default_branch=self.base)
