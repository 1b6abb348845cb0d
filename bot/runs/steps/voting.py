"""Voting: every voting role approves or asks for changes; the tally decides what comes next.

The outcome goes on the pull request as a comment and a `repocrew / consensus` status; a
passed vote marks the pull request ready for review. A human decides the merge.
"""

from __future__ import annotations

from typing import Any

from bot.roster.models import Role
from bot.runs import comments as render
from bot.runs.memory import context_for, newest
from bot.runs.publish import upsert_comment
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_VOTE
from bot.runs.steps.common import StepResult, ask, step_key
from bot.store.models import Run
from bot.store.runs import record_votes

STATUS_CONTEXT = "repocrew / consensus"


def vote(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    crew = services.crew
    key = step_key("vote", outputs)
    round_number = int(key.rsplit("-", 1)[1])
    ballots = _ballots(services, run, key, context=context_for("vote", run, outputs))
    record_votes(
        services.engine,
        run_id=run.id or 0,
        round=round_number,
        votes=[(role.key, decision, reason) for role, decision, reason in ballots],
    )
    approvals = sum(1 for _, decision, _ in ballots if decision == "approve")
    needed = crew.votes_needed
    passed = approvals >= needed
    lead = crew.roles[crew.lead]
    upsert_comment(
        services.forge,
        services.scanner,
        thread=run.pr_number or run.issue_number or 0,
        run_id=run.id or 0,
        step=key,
        body=render.vote_comment(lead, ballots, needed=needed, passed=passed),
        role=lead.key,
    )
    description = f"Consensus {approvals}/{len(ballots)} ({needed} needed)"
    _set_status(services, outputs, passed=passed, description=description)
    if passed and run.branch:
        _mark_ready(services, run.branch)
    output = {
        "round": round_number,
        "approvals": approvals,
        "needed": needed,
        "passed": passed,
        "votes": [{"role": r.key, "decision": d, "reason": why} for r, d, why in ballots],
    }
    if not passed and run.fix_rounds < crew.max_fix_rounds:
        return StepResult(RunState.FIXING, key, lead, output)
    reason = (
        "" if passed else f"the vote did not pass ({approvals}/{len(ballots)}); a human decides"
    )
    return StepResult(RunState.AWAITING_HUMAN, key, lead, output, reason=reason)


def _ballots(
    services: StepServices, run: Run, key: str, *, context: str
) -> list[tuple[Role, str, str]]:
    """(role, decision, reason) of every voting role, each asked on its own."""
    ballots = []
    for role in services.crew.voting_roles:
        answer = ask(
            services,
            run,
            role,
            f"{key}.{role.key}",
            kind="vote",
            answer=SUBMIT_VOTE,
            context=context,
        )
        ballots.append((role, answer["decision"], answer["reason"]))
    return ballots


def _set_status(
    services: StepServices, outputs: dict[str, Any], *, passed: bool, description: str
) -> None:
    """The consensus status on the commit the votes were about: the tested one, else the newest."""
    tested = newest(outputs, "test") or {}
    sha = tested.get("sha") or (newest(outputs, "fix") or newest(outputs, "code") or {}).get("sha")
    if sha:
        services.forge.set_status(
            sha,
            context=STATUS_CONTEXT,
            state="success" if passed else "failure",
            description=description,
        )


def _mark_ready(services: StepServices, branch: str) -> None:
    """A passed vote takes the pull request out of draft, so the humans see it is theirs."""
    pull = services.forge.find_pull(branch)
    if pull is not None and pull.draft:
        services.forge.update_pull(pull.number, title=pull.title, body=pull.body, draft=False)
