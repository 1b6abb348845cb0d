"""The `ask` tool with an in-process model and a local forge: a teammate answers on the run's
ledger, a step asks at most `[questions] max_per_step`, a question to the humans ends the step
and is posted once however often the step is done again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.llm.client import ModelReply, ModelUsage
from bot.llm.tools import ToolError
from bot.local_forge import LocalForge
from bot.roster.loader import load_crew
from bot.runs.progress import create_run
from bot.runs.questions import AwaitingAnswer
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.ask_tool import ask_tool
from bot.security.secrets import SecretScanner
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.model_calls import transcript
from bot.store.questions import questions_of_run
from bot.store.runs import get_run, update_run


class Teammate:
    """Answers every question with `submit_answer` (satisfies `ModelPort`)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def create(self, **request: Any) -> ModelReply:
        self.requests.append(json.loads(json.dumps(request)))
        answer = {"answer": f"answer {len(self.requests)}"}
        block = {"type": "tool_use", "id": f"toolu_{len(self.requests)}", "name": "submit_answer"}
        return ModelReply(
            id=f"msg_{len(self.requests)}",
            model="claude-sonnet-4-6",
            content=[{**block, "input": answer}],
            stop_reason="tool_use",
            usage=ModelUsage(input_tokens=100, output_tokens=10),
            request_id=None,
        )


@pytest.fixture
def bench(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ask.db'}")
    upgrade(engine)
    crew = load_crew(None)
    run_id = create_run(engine, repo="o/r", task="Validate ages", config={})
    update_run(engine, run_id=run_id, state=RunState.PLANNING, issue_number=7)
    forge = LocalForge(tmp_path / "forge.json", clone_url="/nowhere")
    model = Teammate()
    services = StepServices(engine, crew, forge, model, SecretScanner(), tmp_path / "work")
    yield services, get_run(engine, run_id), forge, model
    engine.dispose()


def test_a_teammate_answers_on_the_runs_ledger_and_a_step_asks_at_most_its_limit(bench):
    services, run, _forge, model = bench
    planner = services.crew.roles["planner"]
    tool = ask_tool(services, run, planner, step="plan-1", attempt="plan-1")
    assert tool.run({"to": "researcher", "question": "Callers?"}) == "Researcher answers:\nanswer 1"
    assert tool.run({"to": "coder", "question": "Effort?"}) == "Coder answers:\nanswer 2"
    with pytest.raises(ToolError, match="the limit"):
        tool.run({"to": "researcher", "question": "And a third?"})
    assert "Callers?" in json.dumps(model.requests[0]["messages"])
    assert "You are Researcher" in json.dumps(model.requests[0]["system"])
    calls = [(c["step"], c["role"]) for c in transcript(services.engine, run.id)]
    assert calls == [("plan-1.ask-1", "researcher"), ("plan-1.ask-2", "coder")]

    # The step done again (a crash) asks the same questions: answered from the store, no call.
    again = ask_tool(services, run, planner, step="plan-1", attempt="plan-1")
    assert (
        again.run({"to": "researcher", "question": "Callers?"}) == "Researcher answers:\nanswer 1"
    )
    assert len(model.requests) == 2 and len(questions_of_run(services.engine, run.id)) == 2


def test_a_question_to_the_humans_ends_the_step_and_is_posted_once(bench):
    services, run, forge, model = bench
    planner = services.crew.roles["planner"]
    for _attempt in range(2):  # the second time: the step done again after a crash
        tool = ask_tool(services, run, planner, step="plan-1", attempt="plan-1")
        with pytest.raises(AwaitingAnswer) as waiting:
            tool.run({"to": "humans", "question": "Accept 150?"})
        assert waiting.value.question.resume_state == "planning"
    (comment,) = forge.list_comments(7)
    assert "Accept 150?" in comment.body and "step=question-1" in comment.body
    assert model.requests == [] and len(questions_of_run(services.engine, run.id)) == 1


def test_the_tool_offers_the_other_roles_and_the_humans(bench):
    services, run, _forge, _model = bench
    tool = ask_tool(services, run, services.crew.roles["planner"], step="plan-1", attempt="plan-1")
    addressees = tool.input_schema["properties"]["to"]["enum"]
    assert "planner" not in addressees and {"coder", "humans"} <= set(addressees)
