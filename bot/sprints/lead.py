"""The lead's one-answer model calls for a sprint (its plan, its retrospective): the lead's
system prompt, a ledger with no run, and one submit tool whose answer is the result."""

from __future__ import annotations

from typing import Any

from bot.llm.ledger import Ledger
from bot.llm.loop import AgentStopped, AgentTurn
from bot.llm.tools import Tool, Toolbox
from bot.prompts import PromptLibrary
from bot.roster.models import Crew
from bot.security.untrusted import UNTRUSTED_PREAMBLE
from bot.services import Services
from bot.store.sprint_models import Sprint


def ask_lead(
    services: Services,
    sprint: Sprint,
    crew: Crew,
    *,
    step: str,
    tool: Tool,
    context: str,
    prompt: str,
    what: str,
) -> dict[str, Any]:
    """The lead's answer through `tool`; AgentStopped naming `what` when it gives none."""
    lead = crew.roles[crew.lead]
    system = PromptLibrary().render(
        "system",
        role=lead,
        crew_name=crew.name,
        repo=sprint.repo,
        team=list(crew.roles.values()),
        persona="",
        untrusted_preamble=UNTRUSTED_PREAMBLE,
    )
    turn = AgentTurn(
        model=services.model(),
        ledger=Ledger(services.engine, run_id=None, step=step, role=lead.key),
        toolbox=Toolbox([tool]),
        model_name=lead.model,
        system=system,
        context=context,
        prompt=prompt,
        max_tokens=lead.max_tokens,
        max_turns=max(lead.max_turns, 2),
    )
    result = turn.run()
    if result.answer is None:
        raise AgentStopped(f"{lead.name} gave no {what}")
    return result.answer
