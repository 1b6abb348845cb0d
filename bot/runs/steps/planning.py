"""Planning and research: the planner writes the plan, the researcher checks it in the repo."""

from __future__ import annotations

from typing import Any

from bot.runs import comments as render
from bot.runs.memory import context_for, newest
from bot.runs.publish import upsert_comment
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.answers import SUBMIT_PLAN, SUBMIT_RESEARCH
from bot.runs.steps.bench import bench_for
from bot.runs.steps.common import StepResult, ask, clone, step_key
from bot.runs.steps.workspace_tools import tools_for
from bot.store.models import Run

# The researcher may send the plan back once; a second "revise" goes ahead with its notes.
MAX_PLANS = 2
WEB_SEARCH_TOOL = "web_search_20250305"


def plan(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    role = services.crew.role_for("plan")
    key = step_key("plan", outputs)
    git, files = clone(services, run, role)
    research = newest(outputs, "research")
    answer = ask(
        services,
        run,
        role,
        key,
        kind="plan",
        answer=SUBMIT_PLAN,
        context=context_for("plan", run, outputs),
        tools=tools_for(role, bench_for(services, git, files)),
        feedback=research["notes"] if research else "",
    )
    # One plan comment per run, edited in place when the plan is revised.
    upsert_comment(
        services.forge,
        services.scanner,
        thread=run.issue_number or 0,
        run_id=run.id or 0,
        step="plan",
        body=render.plan_comment(role, answer),
        role=role.key,
    )
    return StepResult(RunState.RESEARCHING, key, role, answer)


def research(services: StepServices, run: Run, outputs: dict[str, Any]) -> StepResult:
    role = services.crew.role_for("research")
    key = step_key("research", outputs)
    git, files = clone(services, run, role)
    config = services.crew.research
    server_tools = []
    if config.web_search and "web_search" in role.tools:
        server_tools.append(
            {"type": WEB_SEARCH_TOOL, "name": "web_search", "max_uses": config.max_searches}
        )
    answer = ask(
        services,
        run,
        role,
        key,
        kind="research",
        answer=SUBMIT_RESEARCH,
        context=context_for("research", run, outputs),
        tools=tools_for(role, bench_for(services, git, files)),
        server_tools=server_tools,
        web_search=bool(server_tools),
    )
    upsert_comment(
        services.forge,
        services.scanner,
        thread=run.issue_number or 0,
        run_id=run.id or 0,
        step=key,
        body=render.research_comment(role, answer),
        role=role.key,
    )
    plans = sum(1 for k in outputs if k.startswith("plan-"))
    if answer["verdict"] == "revise" and plans < MAX_PLANS:
        return StepResult(RunState.PLANNING, key, role, answer)
    if run.mode == "plan":  # `/crew plan`: a human says `/crew go` when the plan suits them
        return StepResult(RunState.AWAITING_HUMAN, key, role, answer)
    return StepResult(RunState.CODING, key, role, answer)
