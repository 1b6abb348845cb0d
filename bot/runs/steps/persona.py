"""Who an agent is told it is: the system prompt of a role on this crew and repository, shared
by a step's agent and a role answering another's question."""

from __future__ import annotations

from bot.roster.models import Role
from bot.runs.step_services import StepServices
from bot.security.untrusted import UNTRUSTED_PREAMBLE
from bot.store.models import Run


def system_prompt(services: StepServices, run: Run, role: Role) -> str:
    prompts = services.prompts
    persona_name = f"roles/{role.prompt}"
    return prompts.render(
        "system",
        role=role,
        crew_name=services.crew.name,
        repo=run.repo,
        team=list(services.crew.roles.values()),
        persona=prompts.render(persona_name) if prompts.has(persona_name) else "",
        untrusted_preamble=UNTRUSTED_PREAMBLE,
    )
