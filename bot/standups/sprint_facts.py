"""What a standup says about the running sprints, read from the store: the goal and the day,
each role's runnable and running tasks, the dependencies it waits on, and the chain in order.

Kept apart from `facts` (the runs) because it reads sprints, not runs; it labels the sprint
runs the run facts already hold with their task, so a run shows as "task B" everywhere, and
adds what only the task graph knows: work that may start, work that waits for another role.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.roster.models import Crew
from bot.sprints.graph import DELIVERED, WAITING, chain, runnable
from bot.sprints.states import SprintState, TaskState
from bot.standups.facts import TeamFacts
from bot.store.engine import Engine
from bot.store.sprint_queries import graph_of, states_of
from bot.store.sprints import get_sprint, sprint_ids_in, tasks

_SHOWN = frozenset({SprintState.RUNNING})  # a sprint in review has its own post, not a standup


@dataclass(frozen=True)
class TaskRef:
    key: str
    title: str
    owner: str  # a role key
    state: str  # a TaskState
    run_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Waiting:
    """A role's task that cannot start yet: `task` waits for `needed` (another role's)."""

    task: str
    needed: str


@dataclass
class SprintRole:
    """What one role has in one sprint today."""

    starting: list[str] = field(default_factory=list)  # runnable: every dependency delivered
    running: list[str] = field(default_factory=list)  # running with no step of its own today
    waiting: list[Waiting] = field(default_factory=list)  # unmet dependencies
    ended: list[str] = field(default_factory=list)  # failed or blocked tasks (with their reason)

    @property
    def quiet(self) -> bool:
        return not (self.starting or self.running or self.waiting or self.ended)


@dataclass
class SprintFacts:
    id: int
    repo: str
    goal: str
    day: int  # 1 on the day it started
    days: int
    tasks: dict[str, TaskRef]  # plan order
    chain: list[tuple[str, list[str]]]  # each task in order with the tasks it unblocks
    roles: dict[str, SprintRole]


def gather_sprints(
    engine: Engine, crew: Crew, facts: TeamFacts, *, day: date, zone: ZoneInfo
) -> list[SprintFacts]:
    """The running sprints as of the standup of `day` (in `zone`); labels their runs in
    `facts` with their task keys."""
    found = []
    for sprint_id in sprint_ids_in(engine, states=list(_SHOWN)):
        sprint = get_sprint(engine, sprint_id)
        stored = tasks(engine, sprint_id)
        graph, states = graph_of(stored), states_of(stored)
        refs = {
            task.key: TaskRef(
                task.key, task.title, task.owner, task.state, task.run_id, task.reason
            )
            for task in stored
        }
        for ref in refs.values():
            if ref.run_id in facts.runs:
                facts.runs[ref.run_id] = replace(facts.runs[ref.run_id], task=ref.key)
        roles = {key: SprintRole() for key in crew.roles}
        for key in runnable(graph, states):
            _role(roles, refs[key]).starting.append(key)
        for ref in refs.values():
            _place(roles, facts, ref, graph[ref.key], states)
        started = sprint.started_at or sprint.created_at
        found.append(
            SprintFacts(
                sprint_id,
                sprint.repo,
                sprint.goal,
                sprint_day(started, day, zone),
                sprint.days,
                refs,
                chain(graph),
                roles,
            )
        )
    return found


def sprint_day(started: datetime, day: date, zone: ZoneInfo) -> int:
    """Which day of the sprint `day` is: 1 on the (local) day it started, counting every day."""
    return (day - _local_day(started, zone)).days + 1


def _place(
    roles: dict[str, SprintRole],
    facts: TeamFacts,
    ref: TaskRef,
    needs: tuple[str, ...],
    states: dict[str, str],
) -> None:
    role, owner = _role(roles, ref), facts.roles.get(ref.owner)
    if ref.state == TaskState.RUNNING:
        # The owner's own step today already names the task; otherwise the step is another
        # role's, or the run waits on a person, and the owner still has the task on its list.
        if owner is None or all(work.run_id != ref.run_id for work in owner.today):
            role.running.append(ref.key)
    elif ref.state == WAITING:
        role.waiting += [Waiting(ref.key, dep) for dep in needs if states.get(dep) != DELIVERED]
    elif ref.state in (TaskState.FAILED, TaskState.BLOCKED):
        # A run that failed in the window is a blocker of the run facts already: said once.
        if owner is None or all(block.run_id != ref.run_id for block in owner.blockers):
            role.ended.append(ref.key)


def _role(roles: dict[str, SprintRole], ref: TaskRef) -> SprintRole:
    # An owner the roster no longer has still shows up, under its own key.
    return roles.setdefault(ref.owner, SprintRole())


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC
    return aware.astimezone(zone).date()
