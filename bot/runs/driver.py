"""Drives a team run: one step per state, each step's result and transition saved together.

`advance` does exactly one step; `drive` repeats it until the run waits for a human or ends.
A worker killed anywhere leaves the run in the state of its last finished step, and the next
`advance` does that step again: side effects are found by markers and trailers, model calls
are answered from the ledger, so nothing is posted or paid for twice. Two jobs never drive
one run at once: `drive` holds the run's lock (`bot/store/run_locks.py`) while it works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.environments.setup_report import SetupFailed
from bot.llm.client import ModelRequestRejected, SpendLimitReached
from bot.llm.loop import AgentStopped, BudgetExhausted, ModelRefused
from bot.observability.logs import log_context
from bot.roster.models import Crew
from bot.runs import comments as render
from bot.runs.announce import announce, announce_end, catch_up
from bot.runs.progress import SPEND_LIMIT_FLAG, StaleRun, finish_step
from bot.runs.publish import upsert_comment
from bot.runs.questions import AwaitingAnswer, wait_for_answer
from bot.runs.states import STATE_STEP, TERMINAL, WAITING, RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.coding import code, fix
from bot.runs.steps.common import BranchDeleted, StepResult
from bot.runs.steps.planning import plan, research
from bot.runs.steps.reviewing import review
from bot.runs.steps.start import start
from bot.runs.steps.testing import test
from bot.runs.steps.voting import vote
from bot.sandbox import SandboxUnavailable
from bot.security.secrets import SecretLeak, redact_json
from bot.store.flags import set_flag
from bot.store.models import Run
from bot.store.run_locks import driving
from bot.store.runs import get_run, outputs

log = logging.getLogger(__name__)

Step = Callable[[StepServices, Run, dict[str, Any]], StepResult]


STEPS: dict[RunState, Step] = {
    RunState.QUEUED: start,
    RunState.PLANNING: plan,
    RunState.RESEARCHING: research,
    RunState.CODING: code,
    RunState.REVIEWING: review,
    RunState.FIXING: fix,
    RunState.TESTING: test,
    RunState.VOTING: vote,
}


def advance(services: StepServices, run_id: int) -> RunState:
    """Do the step of the run's current state and move it on; the new state is returned."""
    run = get_run(services.engine, run_id)
    with log_context(**run_fields(services.crew, run)):  # the step's ids on its log lines
        return _advance(services, run_id, run)


def run_fields(crew: Crew, run: Run) -> dict[str, Any]:
    """The ids a step's log lines carry: the run, its installation, the step's role."""
    step = STATE_STEP.get(run.state)
    role = crew.role_for(step).key if step is not None else crew.lead
    return {
        "run_id": run.id,
        "installation_id": run.installation_id,
        "state": run.state,
        "role": role,
    }


def _advance(services: StepServices, run_id: int, run: Run) -> RunState:
    state = RunState(run.state)
    if state in TERMINAL or state in WAITING:
        return state
    services.files_read.clear()  # what a failed attempt read is not this step's
    try:
        result = STEPS[state](services, run, outputs(services.engine, run_id))
    except AwaitingAnswer as waiting:  # the step asked the humans: the run waits for them
        return wait_for_answer(services, run, waiting.question)
    except BudgetExhausted as stop:
        return _end(services, run, RunState.BUDGET_EXHAUSTED, f"budget exhausted: {stop.reason}")
    except (ModelRefused, BranchDeleted) as stop:
        return _end(services, run, RunState.STOPPED, stop.reason)
    except SpendLimitReached as error:
        if set_flag(services.engine, name=SPEND_LIMIT_FLAG, value=str(error)):
            log.error("model spend limit reached; new runs are paused: %s", error)
        return _end(services, run, RunState.FAILED, f"the model account's spend limit: {error}")
    except (AgentStopped, ModelRequestRejected, SandboxUnavailable, SecretLeak) as error:
        return _end(services, run, RunState.FAILED, str(error))
    except SetupFailed as error:  # the report says what to configure; everywhere the run shows
        return _end(services, run, RunState.FAILED, services.scanner.redact(error.report()))
    try:
        finish_step(
            services.engine,
            run_id=run_id,
            expected=state,
            target=result.next,
            step=result.key,
            role=result.role.key,
            content=with_files_read(result.output, services.files_read.get(result.key, [])),
            reason=result.reason,
            **result.fields,
        )
    except StaleRun:  # a human stopped the run while the step worked: their word stands
        return RunState(get_run(services.engine, run_id).state)
    log.info("run %s: %s → %s (%s)", run_id, state, result.next, result.key)
    _announce(services, run_id, result)
    if result.next in TERMINAL and result.reason:
        _notify_end(services, run, result.next, result.reason)
    return result.next


def with_files_read(output: dict[str, Any] | None, read: list[str]) -> dict[str, Any] | None:
    """The step's result with the files its agents read (once each), for the next steps'
    hand-off (`bot/runs/memory.py`)."""
    if output is None or not read:
        return output
    return {**output, "files_read": list(dict.fromkeys(read))}


def _announce(services: StepServices, run_id: int, result: StepResult) -> None:
    """Tell the run's Slack thread; Slack being unreachable never holds the run up."""
    try:
        announce(
            services.engine,
            services.crew,
            get_run(services.engine, run_id),
            step_key=result.key,
            role=result.role,
            output=redact_json(result.output, services.scanner),
            target=result.next,
            web_url=services.web_url,
        )
    except Exception:  # the outbox is in the store; a failure here is logged, not fatal
        log.exception("run %s: could not queue its Slack post for %s", run_id, result.key)


class RunBusy(RuntimeError):
    """Another driver holds the run: this one leaves it alone (its job comes back later)."""


def drive(services: StepServices, run_id: int, *, max_steps: int = 100) -> RunState:
    """Advance until the run waits for a human or ends; RunBusy if another driver has it."""
    with driving(services.engine, run_id, lock_dir=services.work_root) as held:
        if not held:
            raise RunBusy(f"run {run_id} is being driven by another job")
        _catch_up(services, run_id)
        state = RunState(get_run(services.engine, run_id).state)
        for _ in range(max_steps):
            if state in TERMINAL or state in WAITING:
                break
            state = advance(services, run_id)
        return state


def _catch_up(services: StepServices, run_id: int) -> None:
    """Queue the last step's Slack posts if a killed worker left them out (they are keyed,
    so this is a no-op when they were queued)."""
    try:
        run = get_run(services.engine, run_id)
        catch_up(services.engine, services.crew, run, web_url=services.web_url)
    except Exception:  # as in _announce: Slack never holds the run up
        log.exception("run %s: could not check its Slack posts", run_id)


def _end(services: StepServices, run: Run, target: RunState, reason: str) -> RunState:
    """End the run early with a post saying why (never half-way through a write)."""
    log.warning("run %s ends %s: %s", run.id, target, reason)
    try:
        finish_step(
            services.engine,
            run_id=run.id or 0,
            expected=RunState(run.state),
            target=target,
            step="",
            role="",
            content=None,
            reason=reason,
        )
    except StaleRun:
        return RunState(get_run(services.engine, run.id or 0).state)
    _notify_end(services, run, target, reason)
    return target


def _notify_end(services: StepServices, run: Run, target: RunState, reason: str) -> None:
    """Say why the run ended, in its Slack thread and on GitHub."""
    lead = services.crew.roles[services.crew.lead]
    redacted = services.scanner.redact(reason)
    try:
        announce_end(
            services.engine,
            services.crew,
            run,
            target=target,
            reason=redacted,
            web_url=services.web_url,
        )
    except Exception:  # as in _announce: Slack never holds the run up
        log.exception("run %s: could not queue its Slack end notice", run.id)
    upsert_comment(
        services.forge,
        services.scanner,
        thread=run.pr_number or run.issue_number or 0,
        run_id=run.id or 0,
        step="end",
        body=render.stop_notice(lead, target, redacted),
        role=lead.key,
    )
