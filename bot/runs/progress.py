"""Moving a run along its state machine, persisted: start it, finish a step, end it early.

The machine (`states`) says which moves exist; the store (`bot.store.runs`) makes each one
conditional on the state it was decided from, so two workers racing on one run (or a human's
stop landing mid-step) cannot both advance it.
"""

from __future__ import annotations

from typing import Any

from bot.runs.states import TERMINAL, TRANSITIONS, RunState, check_transition
from bot.store import run_queries
from bot.store import runs as stored
from bot.store.engine import Engine

SPEND_LIMIT_FLAG = "model_spend_limit"  # set while new runs wait for an operator


class StaleRun(RuntimeError):
    """The run moved on under us (another worker, a human's stop): this step's result is moot."""


def create_run(engine: Engine, *, repo: str, task: str, **fields: Any) -> int:
    """A new run, queued (see `bot.store.runs.insert_run` for the fields)."""
    return stored.insert_run(engine, state=RunState.QUEUED, repo=repo, task=task, **fields)


def create_run_if_idle(engine: Engine, *, repo: str, task: str, **fields: Any) -> int | None:
    """A new run, queued; None when a run on the same issue or pull request has not ended."""
    return stored.insert_run_if_idle(
        engine, ended=TERMINAL, state=RunState.QUEUED, repo=repo, task=task, **fields
    )


def finish_step(
    engine: Engine,
    *,
    run_id: int,
    expected: RunState,
    target: RunState,
    step: str,
    role: str,
    content: dict[str, Any] | None,
    reason: str = "",
    **fields: Any,
) -> None:
    """Save a step's result and move the run on in one transaction (StaleRun if it moved)."""
    check_transition(expected, target)
    moved = stored.write_step(
        engine,
        run_id=run_id,
        expected=expected,
        target=target,
        finished=target in TERMINAL,
        step=step,
        role=role,
        content=content,
        reason=reason,
        **fields,
    )
    if not moved:
        raise StaleRun(f"run {run_id} is no longer {expected}")


def transition(
    engine: Engine,
    *,
    run_id: int,
    expected: RunState,
    target: RunState,
    reason: str = "",
    **fields: Any,
) -> None:
    """Move a run from `expected` to `target` (with other column updates), saving no result."""
    finish_step(
        engine,
        run_id=run_id,
        expected=expected,
        target=target,
        step="",
        role="",
        content=None,
        reason=reason,
        **fields,
    )


def end_run(engine: Engine, run_id: int, *, target: RunState, reason: str) -> bool:
    """End a run whatever state it is in (a human's stop, a job the queue gave up on).

    A step in flight then finds the run ended and its result is dropped (StaleRun).
    """
    for _ in range(5):
        state = RunState(stored.get_run(engine, run_id).state)
        if target not in TRANSITIONS[state]:
            return False
        try:
            transition(engine, run_id=run_id, expected=state, target=target, reason=reason)
            return True
        except StaleRun:
            continue
    return False


def fail_run(engine: Engine, run_id: int, *, reason: str) -> bool:
    return end_run(engine, run_id, target=RunState.FAILED, reason=reason)


def stop_run(engine: Engine, run_id: int, *, reason: str) -> None:
    """Stop a run whatever it is doing; a step in flight finds the run stopped and gives up."""
    end_run(engine, run_id, target=RunState.STOPPED, reason=reason)


def active_run(engine: Engine, repo: str, *, issue: int | None = None, pr: int | None = None):
    """The run on this issue or pull request that has not ended, if any."""
    return run_queries.active_run(engine, repo, ended=TERMINAL, issue=issue, pr=pr)
