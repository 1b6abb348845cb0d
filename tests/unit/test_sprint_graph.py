"""The sprint's task graph: plans refused for cycles and bad references, the order, what may
start, and how a failed dependency blocks everything after it."""

from __future__ import annotations

from bot.sprints.graph import TaskSpec, blocked, chain, check_plan, cycle_in, order, runnable

ROLES = ["architect", "developer", "devops"]
GRAPH = {"A": (), "B": (), "C": ("A", "B"), "D": ("C",)}


def _task(key: str, *needs: str, owner: str = "developer") -> TaskSpec:
    return TaskSpec(key=key, title=f"Task {key}", owner=owner, depends_on=needs)


def test_a_plan_without_cycles_passes():
    tasks = [_task(k, *needs) for k, needs in GRAPH.items()]
    assert check_plan(tasks, roles=ROLES) == []


def test_a_cycle_is_refused_naming_its_path():
    tasks = [_task("A", "C"), _task("B"), _task("C", "A", "B")]
    (problem,) = check_plan(tasks, roles=ROLES)
    assert "cycle" in problem
    assert "A → C → A" in problem or "C → A → C" in problem


def test_a_longer_cycle_is_found_as_a_closed_path():
    cycle = cycle_in({"A": ("D",), "B": ("A",), "C": ("B",), "D": ("C",)})
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"A", "B", "C", "D"}
    assert cycle_in(GRAPH) is None


def test_self_dependencies_unknown_tasks_owners_and_duplicates_are_named():
    tasks = [_task("A", "A"), _task("B", "Z"), _task("C", owner="ceo"), _task("C")]
    problems = check_plan(tasks, roles=ROLES)
    assert "task C is named twice" in problems
    assert "task A depends on itself" in problems
    assert "task B depends on Z, which is not in the plan" in problems
    assert any("task C is owned by 'ceo'" in p for p in problems)
    assert check_plan([], roles=ROLES) == ["the plan has no tasks"]


def test_the_order_puts_every_task_after_its_dependencies_and_keeps_the_plans_order():
    assert order(GRAPH) == ["A", "B", "C", "D"]
    assert order({"D": ("C",), "C": ("B",), "B": (), "X": ()}) == ["B", "X", "C", "D"]
    assert order(GRAPH, plan_order=["B", "A", "C", "D"]) == ["B", "A", "C", "D"]


def test_only_tasks_whose_dependencies_are_delivered_may_start():
    states = {"A": "pending", "B": "pending", "C": "pending", "D": "pending"}
    assert runnable(GRAPH, states) == ["A", "B"]
    states |= {"A": "delivered", "B": "running"}
    assert runnable(GRAPH, states) == []
    states |= {"B": "delivered"}
    assert runnable(GRAPH, states) == ["C"]
    states |= {"C": "delivered"}
    assert runnable(GRAPH, states) == ["D"]


def test_a_failed_dependency_blocks_its_dependents_and_theirs():
    states = {"A": "failed", "B": "delivered", "C": "pending", "D": "pending"}
    assert blocked(GRAPH, states) == {"C": "A", "D": "C"}
    assert runnable(GRAPH, states) == []
    states |= {"A": "running"}
    assert blocked(GRAPH, states) == {}


def test_the_chain_names_what_each_task_unblocks_in_order():
    assert chain(GRAPH) == [("A", ["C"]), ("B", ["C"]), ("C", ["D"]), ("D", [])]
