"""Merges whose webhook never came: a sprint task is delivered when a person merges its pull
request, and if GitHub's `pull_request.closed` delivery was lost the tasks after it would wait
until someone redelivered it.

A timed pass (`sprint.reconcile`) asks GitHub about every pull request a running sprint still
waits on and moves the sprint on as the webhook would (`pull_merged`, the same path): its moves
are conditional, so the pass and a late or redelivered webhook deliver a task once.
"""

from __future__ import annotations

import logging
from typing import Protocol, cast

from bot.ports.forge import PullMerge
from bot.runs.states import TERMINAL, RunState
from bot.services import Services
from bot.sprints.control import pull_merged
from bot.sprints.states import SprintState, TaskState
from bot.store.sprint_queries import task_pulls
from bot.triggers.starting import is_bot

log = logging.getLogger(__name__)

SPRINT_RECONCILE_JOB = "sprint.reconcile"
# A task delivered by the vote still waits for its merge (stacked tasks wait on it); a run that
# ended has nothing left to merge.
WAITING_TASKS = (TaskState.RUNNING, TaskState.DELIVERED)
OPEN_RUNS = [state.value for state in RunState if state not in TERMINAL]


class MergeLookup(Protocol):
    """What the pass needs of a repository (GitHub's `GitHubForge` has it)."""

    def pull_merge(self, number: int) -> PullMerge | None: ...


class ReconcileIncomplete(RuntimeError):
    """GitHub could not be asked about some pull requests; the others were looked at."""


def reconcile_merges(services: Services) -> list[tuple[str, int]]:
    """Deliver the sprint tasks whose pull requests a person merged; the (repo, number) of
    each merge found is returned (one the webhook already handled changes nothing).

    One repository GitHub will not answer for (access removed, an outage of its own) does not
    hold up the others: each is asked, and the pass then raises `ReconcileIncomplete` naming
    what it could not ask about, so the job is retried and the failure is on the Jobs page."""
    found = task_pulls(
        services.engine,
        sprint_states=[SprintState.RUNNING],
        task_states=WAITING_TASKS,
        run_states=OPEN_RUNS,
    )
    merged: list[tuple[str, int]] = []
    unasked: list[str] = []
    for repo, installation, number in found:
        try:
            gateway = cast(MergeLookup, services.repo_gateway(installation or 0, repo))
            merge = gateway.pull_merge(number)
        except Exception as error:  # named in the pass's error below
            log.warning("could not ask GitHub about %s#%s: %s", repo, number, error)
            unasked.append(f"{repo}#{number} ({type(error).__name__})")
            continue
        if merge is None or is_bot({"login": merge.login, "type": merge.user_type}):
            continue  # open, closed unmerged, or merged by a bot (which never delivers)
        pull_merged(services.engine, repo=repo, pr=number, by=merge.login)
        merged.append((repo, number))
    if unasked:
        if merged:
            log.info("sprint pull requests found merged: %s", merged)
        raise ReconcileIncomplete(f"GitHub did not answer about {', '.join(unasked)}")
    return merged
