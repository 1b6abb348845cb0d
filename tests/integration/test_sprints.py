"""Sprints end to end, through signed webhooks, the worker, PyGithub and the anthropic SDK
against the emulators: `/crew sprint` on a tracking issue, the lead's plan posted for approval,
a writer's `/crew go` opening one issue per task, and runs started as their dependencies are
merged by a person (A and B together, C after both, D after C)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import github
import pytest
from sqlalchemy import select

from bot.roster.loader import roster_text
from bot.sandbox import sandbox_status
from bot.store.models import Run, RunTransition
from bot.store.sprint_models import Sprint, SprintTask, SprintTransition
from tests.support import sprint_script as scripted
from tests.support.identity import signed_in
from tests.support.world import REPO, World, emulated_world

pytestmark = [
    pytest.mark.skipif(
        not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
TIMEOUT = 60


@pytest.fixture
def world(request, database_url, tmp_path) -> Iterator[World]:
    refuse = getattr(request, "param", "")
    with emulated_world(database_url, tmp_path / "work") as world:
        world.model.script = scripted.sprint_script(refuse=refuse)
        yield world


def _rows(world: World, model: Any) -> list[Any]:
    with world.engine.connect() as connection:
        return list(connection.execute(select(model.__table__).order_by(model.id)).all())


def _until(world: World, what: str, check, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.hub.webhooks.wait_idle(5)
        found = check()
        if found:
            return found
        time.sleep(0.2)
    runs = [(r.id, r.issue_number, r.state, r.reason) for r in _rows(world, Run)]
    tasks = [(t.key, t.state, t.run_id, t.reason) for t in _rows(world, SprintTask)]
    raise AssertionError(
        f"waited for {what}: sprints {_rows(world, Sprint)} tasks {tasks} runs {runs}"
    )


def _tasks(world: World) -> dict[str, Any]:
    return {task.key: task for task in _rows(world, SprintTask)}


def _runs_of(world: World) -> dict[str, Any]:
    tasks = _tasks(world)  # before the runs: a run made between the reads is then listed
    runs = {run.id: run for run in _rows(world, Run)}
    return {key: runs[t.run_id] for key, t in tasks.items() if t.run_id}


def _worked(world: World, key: str) -> tuple[datetime, datetime]:
    """When the crew began a task's run (its first step) and ended its work (the run then
    waits for a person to merge), from the run's logged transitions."""
    run_id = _tasks(world)[key].run_id
    moves = [t for t in _rows(world, RunTransition) if t.run_id == run_id]
    began = next(t.at for t in moves if t.from_state == "queued")
    ended = next(t.at for t in moves if t.to_state == "awaiting_human")
    return began, ended


def _delivered_at(world: World, key: str) -> datetime:
    moves = _rows(world, SprintTransition)
    return next(t.at for t in moves if t.task == key and t.to_state == "delivered")


def _sprint(world: World) -> Any:
    (sprint,) = _rows(world, Sprint)
    return sprint


def _state(world: World) -> str:
    sprints = _rows(world, Sprint)
    return sprints[0].state if sprints else ""


def _start(world: World, goal: str):
    repo = world.human.get_repo(REPO)
    tracking = repo.create_issue("Sprint: greetings", body=goal)
    tracking.create_comment("/crew sprint")
    return repo, tracking


def _merge(world: World, repo, key: str) -> None:
    run = _until(world, f"{key} waits for a person", lambda: _waiting(world, key))
    repo.get_pull(run.pr_number).merge()
    _until(world, f"{key} delivered", lambda: _tasks(world)[key].state == "delivered")


def _waiting(world: World, key: str) -> Any:
    run = _runs_of(world).get(key)
    if run is not None and run.state in ("failed", "stopped", "budget_exhausted"):
        raise AssertionError(f"task {key}'s run {run.id} {run.state}: {run.reason}")
    return run if run is not None and run.state == "awaiting_human" else None


def test_a_sprint_runs_its_tasks_as_their_dependencies_are_merged(world):
    repo, tracking = _start(world, scripted.GOAL)
    _until(world, "the plan", lambda: _state(world) == "awaiting_approval")
    plan = [c.body for c in tracking.get_comments() if "Sprint plan" in c.body]
    assert len(plan) == 1 and "| C | Add the gamma greeting module | coder | A, B |" in plan[0]

    # A reader's go does nothing; a writer's opens the tasks' issues and starts A and B.
    reader = github.Github(base_url=world.hub_url, auth=github.Auth.Token("ghp_reader"))
    reader.get_repo(REPO).get_issue(tracking.number).create_comment("/crew go")
    world.hub.webhooks.wait_idle(10)
    time.sleep(0.5)
    assert _sprint(world).state == "awaiting_approval" and _rows(world, Run) == []
    tracking.create_comment("/crew go")
    _until(world, "A and B started", lambda: {"A", "B"} <= set(_runs_of(world)))

    tasks = _tasks(world)
    issues = {key: repo.get_issue(task.issue_number) for key, task in tasks.items()}
    assert issues["C"].title == "[C] Add the gamma greeting module"
    assert (
        f"**Depends on:** #{issues['A'].number} (A), #{issues['B'].number} (B)" in issues["C"].body
    )
    assert f"**Depends on:** #{issues['C'].number} (C)" in issues["D"].body
    listed = [c.body for c in tracking.get_comments() if "Sprint tasks" in c.body]
    assert len(listed) == 1 and all(f"#{i.number}" in listed[0] for i in issues.values())

    # A and B ran side by side, in the one worker of this serve that takes crew runs (its quick
    # lane takes none): each began its first step before the other ended its last.
    _until(world, "A and B wait", lambda: _waiting(world, "A") and _waiting(world, "B"))
    (a_began, a_ended), (b_began, b_ended) = _worked(world, "A"), _worked(world, "B")
    assert a_began < b_ended and b_began < a_ended
    assert set(_runs_of(world)) == {"A", "B"}

    _merge(world, repo, "A")
    time.sleep(1.0)
    assert "C" not in _runs_of(world)  # B is not delivered yet
    _merge(world, repo, "B")
    _merge(world, repo, "C")
    _merge(world, repo, "D")
    # C's run was made once A and B were both delivered, D's once C was.
    runs = _runs_of(world)
    assert runs["C"].created_at > max(_delivered_at(world, "A"), _delivered_at(world, "B"))
    assert runs["D"].created_at > _delivered_at(world, "C")
    assert _worked(world, "C")[0] > max(a_ended, b_ended)
    # Every task ended: reviewing, then the review (once) closes it.
    _until(world, "the sprint's review", lambda: _state(world) == "closed")
    assert [r.state for r in _runs_of(world).values()] == ["done"] * 4
    reviews = [c.body for c in tracking.get_comments() if "part=sprint-review" in c.body]
    assert len(reviews) == 1 and "**Delivered** (4 of 4)" in reviews[0]

    # Redelivering every webhook makes nothing twice.
    before = _counts(world, repo, tracking)
    for delivery in list(world.hub.webhooks.deliveries):
        world.hub.webhooks.redeliver(delivery)
    world.hub.webhooks.wait_idle(20)
    time.sleep(1.5)
    assert _counts(world, repo, tracking) == before


def _counts(world: World, repo, tracking) -> tuple:
    return (
        len(_rows(world, Run)),
        len(_rows(world, Sprint)),
        len(list(repo.get_issues(state="all"))),
        len(list(repo.get_pulls(state="all"))),
        [c.body for c in tracking.get_comments()],
    )


def test_a_plan_with_a_cycle_is_refused_with_a_clear_message(world):
    repo, tracking = _start(world, scripted.CYCLIC_GOAL)
    _until(world, "the refusal", lambda: _state(world) == "failed")
    (refusal,) = [c.body for c in tracking.get_comments() if "Sprint plan refused" in c.body]
    assert "cycle" in refusal and ("A → C → A" in refusal or "C → A → C" in refusal)
    tracking.create_comment("/crew go")  # nothing to approve: no sprint, no run, no issue
    world.hub.webhooks.wait_idle(10)
    time.sleep(0.5)
    assert _rows(world, SprintTask) == [] and _rows(world, Run) == []
    assert len(list(repo.get_issues(state="all"))) == 1


@pytest.mark.parametrize("world", ["A"], indirect=True)
def test_a_failed_dependency_blocks_its_dependents_with_the_reason_shown(world):
    repo, tracking = _start(world, scripted.BLOCKED_GOAL)
    _until(world, "the plan", lambda: _state(world) == "awaiting_approval")
    tracking.create_comment("/crew go")
    _until(world, "C and D blocked", lambda: {_tasks(world)[k].state for k in "CD"} == {"blocked"})
    tasks = _tasks(world)
    assert tasks["A"].state == "failed" and "stopped" in tasks["A"].reason
    assert tasks["C"].reason.startswith("dependency A failed: its run")
    assert tasks["D"].reason.startswith("dependency C is blocked")
    on_c = [c.body for c in repo.get_issue(tasks["C"].issue_number).get_comments()]
    assert len(on_c) == 1 and "Task C is **blocked**: dependency A failed" in on_c[0]
    assert "C" not in _runs_of(world) and "D" not in _runs_of(world)

    browser = signed_in(world.hub_url, "octocat")
    sprint_id = _sprint(world).id
    page = browser.get(
        f"{world.crew_url}/dashboard/login/github",
        params={"next": f"/dashboard/sprints/{sprint_id}"},
    )
    assert page.status_code == 200 and page.url.path == f"/dashboard/sprints/{sprint_id}"
    # C and D blocked: in the tasks table, and in today's column of the state-by-day grid.
    assert "dependency A failed: its run" in page.text and page.text.count("state-blocked") == 4
    assert page.text.count('<span class="task-reason">') == 3  # A failed, C and D blocked
    browser.close()


def test_a_task_delivered_by_the_vote_stacks_its_dependents_on_its_branch(database_url, tmp_path):
    """`[sprint] delivered = "approved"`: B waits on A; A's vote approves, nobody merges, and B
    starts from A's branch with its pull request based on it."""
    crew_file = tmp_path / "crew.toml"
    crew_file.write_text(roster_text("default") + '\n[sprint]\ndelivered = "approved"\n')
    with emulated_world(database_url, tmp_path / "work", crew_file=crew_file) as world:
        world.model.script = scripted.sprint_script()
        repo, tracking = _start(world, scripted.STACKED_GOAL)
        _until(world, "the plan", lambda: _state(world) == "awaiting_approval")
        tracking.create_comment("/crew go")
        a = _until(world, "A waits for a person", lambda: _waiting(world, "A"))
        _until(world, "A delivered", lambda: _tasks(world)["A"].state == "delivered")
        assert "approved by the vote" in _tasks(world)["A"].reason
        b = _until(world, "B waits for a person", lambda: _waiting(world, "B"))
        _until(world, "the sprint's end", lambda: _state(world) == "reviewing")

        a_pull, b_pull = repo.get_pull(a.pr_number), repo.get_pull(b.pr_number)
        assert not a_pull.merged and a_pull.base.ref == "main"
        assert b_pull.base.ref == a.branch and b_pull.head.ref == b.branch
        # B's branch holds A's module (built on it) and its own; its diff is B's alone.
        assert repo.get_contents("calc/alpha.py", ref=b.branch).decoded_content
        assert [f.filename for f in b_pull.get_files()] == ["calc/beta.py"]
        assert _tasks(world)["B"].state == "delivered"


def test_by_the_vote_a_task_on_several_tasks_waits_for_them_to_be_merged(database_url, tmp_path):
    """C waits on A and B: delivered by the vote, they give C no one branch to build on, so C
    starts once both are merged, from the default branch; D then stacks on C's branch."""
    crew_file = tmp_path / "crew.toml"
    crew_file.write_text(roster_text("default") + '\n[sprint]\ndelivered = "approved"\n')
    with emulated_world(database_url, tmp_path / "work", crew_file=crew_file) as world:
        world.model.script = scripted.sprint_script()
        repo, tracking = _start(world, scripted.GOAL)
        _until(world, "the plan", lambda: _state(world) == "awaiting_approval")
        tracking.create_comment("/crew go")
        _until(world, "A and B delivered", lambda: _delivered(world) >= {"A", "B"})
        a, b = _waiting(world, "A"), _waiting(world, "B")
        repo.get_pull(a.pr_number).merge()
        _until(world, "A's run done", lambda: _runs_of(world)["A"].state == "done")
        time.sleep(1.0)
        assert "C" not in _runs_of(world)  # B is voted, not merged
        repo.get_pull(b.pr_number).merge()
        c = _until(world, "C waits for a person", lambda: _waiting(world, "C"))
        assert repo.get_pull(c.pr_number).base.ref == "main"
        d = _until(world, "D waits for a person", lambda: _waiting(world, "D"))
        assert repo.get_pull(d.pr_number).base.ref == c.branch


def _delivered(world: World) -> set[str]:
    return {key for key, task in _tasks(world).items() if task.state == "delivered"}
