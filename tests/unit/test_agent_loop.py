"""The agent loop with a scripted in-process model: bad replies become tool errors, limits hold,
and a step asked again is answered from the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.llm.client import ModelReply, ModelUsage
from bot.llm.ledger import Ledger
from bot.llm.loop import AgentStopped, AgentTurn, BudgetExhausted, ModelRefused, TurnLimitReached
from bot.llm.tools import Toolbox, final_tool
from bot.runs.steps.workspace_tools import workspace_tools
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import ModelCall
from bot.workspace.files import Workspace

ANSWER = final_tool(
    "submit_answer",
    "Answer.",
    {
        "type": "object",
        "properties": {"value": {"type": "integer"}},
        "required": ["value"],
        "additionalProperties": False,
    },
)


class ScriptedModel:
    """Replies in order and records what it was asked (satisfies `ModelPort`)."""

    def __init__(self, *replies: list[dict[str, Any]] | tuple[str, list[dict[str, Any]]]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def create(self, **request: Any) -> ModelReply:
        self.requests.append(json.loads(json.dumps(request)))
        reply = self.replies.pop(0)
        stop, content = reply if isinstance(reply, tuple) else (None, reply)
        for number, block in enumerate(content):
            block.setdefault("id", f"toolu_{len(self.requests)}_{number}") if block[
                "type"
            ] == "tool_use" else None
        if stop is None:
            stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
        return ModelReply(
            id=f"msg_{len(self.requests)}",
            model="claude-haiku-4-5",
            content=content,
            stop_reason=stop,
            usage=ModelUsage(input_tokens=100, output_tokens=10),
            request_id=None,
        )


def use(name: str, arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": arguments}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (root / "app.py").write_text("print('hi')\n")
    (tmp_path / "outside.txt").write_text("host file\n")
    (root / "escape").symlink_to(tmp_path / "outside.txt")
    return Workspace(root, protected=[".github/workflows/**"])


def turn(engine, model, tools=(), **options) -> AgentTurn:
    return AgentTurn(
        model=model,
        ledger=Ledger(engine, run_id=None, step=options.pop("step", "unit-1"), role="coder"),
        toolbox=Toolbox([*tools, ANSWER]),
        model_name="claude-haiku-4-5",
        system="You are a test agent.",
        context="## The task\nAnswer 42.",
        prompt="[step: unit-1] Answer.",
        max_tokens=1000,
        max_turns=options.pop("max_turns", 6),
        **options,
    )


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in request["messages"][-1]["content"] if b.get("type") == "tool_result"]


def test_bad_input_unknown_tools_and_non_objects_become_tool_errors(engine):
    model = ScriptedModel(
        [use("submit_answer", {"value": "forty-two"})],
        [use("no_such_tool", {})],
        [use("submit_answer", "not an object")],
        [use("submit_answer", {"value": 42})],
    )
    result = turn(engine, model).run()

    assert result.answer == {"value": 42}
    errors = [tool_results(request)[0] for request in model.requests[1:]]
    assert all(error["is_error"] for error in errors)
    assert "value: 'forty-two' is not of type 'integer'" in errors[0]["content"]
    assert "unknown tool `no_such_tool`" in errors[1]["content"]
    assert "takes a JSON object" in errors[2]["content"]


def _even_only(arguments: dict[str, Any]) -> str | None:
    return None if arguments["value"] % 2 == 0 else f"value {arguments['value']} is odd"


def checked_turn(engine, model, max_turns: int = 6) -> AgentTurn:
    checked = final_tool("submit_answer", "Answer.", ANSWER.input_schema, check=_even_only)
    return AgentTurn(
        model=model,
        ledger=Ledger(engine, run_id=None, step="unit-1", role="reviewer"),
        toolbox=Toolbox([checked]),
        model_name="claude-haiku-4-5",
        system="You are a test agent.",
        context="## The task\nAnswer an even number.",
        prompt="[step: unit-1] Answer.",
        max_tokens=1000,
        max_turns=max_turns,
    )


def test_a_final_answer_its_check_refuses_is_a_tool_error_corrected_in_the_same_turn(engine):
    model = ScriptedModel(
        [{"type": "text", "text": "Three."}, use("submit_answer", {"value": 3})],
        [use("submit_answer", {"value": 4})],
    )
    result = checked_turn(engine, model).run()

    assert result.answer == {"value": 4} and result.turns == 2
    (refused,) = tool_results(model.requests[1])
    assert refused["is_error"] is True
    assert refused["content"] == "`submit_answer` not accepted: value 3 is odd"
    assert [c["error"] for c in result.tool_calls] == [True, False]


def test_a_check_that_is_never_satisfied_ends_at_the_turn_limit(engine):
    model = ScriptedModel(*[[use("submit_answer", {"value": 1})] for _ in range(3)])
    with pytest.raises(TurnLimitReached):
        checked_turn(engine, model, max_turns=3).run()
    assert len(model.requests) == 3


def test_the_model_cannot_leave_the_workspace_or_touch_protected_paths(engine, workspace, tmp_path):
    model = ScriptedModel(
        [use("write_file", {"path": "../evil.py", "content": "x"})],
        [use("write_file", {"path": "/tmp/evil.py", "content": "x"})],
        [use("read_file", {"path": "escape"})],
        [use("write_file", {"path": "escape", "content": "owned"})],
        [
            use(
                "edit_file",
                {"path": ".github/workflows/ci.yml", "old_text": "push", "new_text": "x"},
            )
        ],
        [use("delete_file", {"path": ".GITHUB/workflows/ci.yml"})],
        [use("submit_answer", {"value": 1})],
    )
    tools = workspace_tools(workspace).values()
    turn(engine, model, tools, max_turns=10).run()

    errors = [tool_results(request)[0] for request in model.requests[1:]]
    assert [error.get("is_error") for error in errors] == [True] * 6
    assert "protected path" in errors[4]["content"]
    assert str(tmp_path) not in json.dumps(errors)  # no host paths shown to the model
    assert not (tmp_path / "evil.py").exists() and not Path("/tmp/evil.py").exists()
    assert (tmp_path / "outside.txt").read_text() == "host file\n"
    assert (workspace.root / ".github/workflows/ci.yml").read_text() == "on: push\n"


def test_a_plain_text_answer_is_nudged_once_then_fails_clearly(engine):
    model = ScriptedModel([{"type": "text", "text": "42"}], [{"type": "text", "text": "42!"}])
    with pytest.raises(AgentStopped, match="without calling submit_answer"):
        turn(engine, model).run()
    assert "submit_answer" in model.requests[1]["messages"][-1]["content"][0]["text"]


def test_refusal_and_max_tokens_inside_a_tool_call_stop_with_the_reason(engine):
    refusing = ScriptedModel(("refusal", [{"type": "text", "text": "I can't help with that."}]))
    with pytest.raises(ModelRefused, match="can't help"):
        turn(engine, refusing).run()
    truncated = ScriptedModel(("max_tokens", [use("submit_answer", {})]))
    with pytest.raises(AgentStopped, match="max_tokens"):
        turn(engine, truncated, step="unit-2").run()


def test_a_truncated_text_reply_is_continued(engine):
    model = ScriptedModel(
        ("max_tokens", [{"type": "text", "text": "The answer is"}]),
        [use("submit_answer", {"value": 42})],
    )
    assert turn(engine, model).run().answer == {"value": 42}
    assert "Continue" in model.requests[1]["messages"][-1]["content"][0]["text"]


def test_the_turn_limit_and_the_budget_are_checked_before_each_call(engine):
    looping = ScriptedModel(*[[use("no_such_tool", {})] for _ in range(3)])
    with pytest.raises(TurnLimitReached):
        turn(engine, looping, max_turns=3).run()

    def broke(_request):
        raise BudgetExhausted("no money left")

    unpaid = ScriptedModel([use("submit_answer", {"value": 1})])
    with pytest.raises(BudgetExhausted):
        turn(engine, unpaid, budget=broke, step="unit-2").run()
    assert unpaid.requests == []  # stopped before the call, not after


def test_asking_again_is_answered_from_the_ledger(engine):
    first = ScriptedModel([use("no_such_tool", {})], [use("submit_answer", {"value": 7})])
    assert turn(engine, first).run().answer == {"value": 7}

    nobody = ScriptedModel()  # would fail if asked anything
    assert turn(engine, nobody).run().answer == {"value": 7}
    assert nobody.requests == []
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ModelCall)).scalar_one() == 2


def test_prompt_caching_breakpoints_sit_on_the_stable_prefix_and_the_newest_message(engine):
    model = ScriptedModel([use("no_such_tool", {})], [use("submit_answer", {"value": 1})])
    turn(engine, model).run()
    request = model.requests[1]
    assert request["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    marked = [
        index
        for index, message in enumerate(request["messages"])
        if "cache_control" in json.dumps(message)
    ]
    # The newest user message writes this turn's prefix; the one before reads the last one's.
    assert marked == [0, 2] and request["messages"][1]["role"] == "assistant"
    assert request["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}


def test_a_repository_prompt_override_replaces_the_packaged_template():
    from bot.prompts import PromptLibrary

    packaged = PromptLibrary().render("steps/vote", step="vote-1")
    custom = PromptLibrary({"steps/vote": "[step: {{ step }}] Vote strictly."})
    assert "approve" in packaged
    assert custom.render("steps/vote", step="vote-2") == "[step: vote-2] Vote strictly.\n"
    with pytest.raises(Exception, match="undefined"):
        PromptLibrary({"steps/vote": "{{ missing }}"}).render("steps/vote", step="x")


def test_the_repository_block_is_system_1_with_its_own_breakpoint_and_at_most_four(engine):
    model = ScriptedModel([use("no_such_tool", {})], [use("submit_answer", {"value": 1})])
    turn(engine, model, repository="## The repository\ncalc/ages.py").run()

    first, second = model.requests
    assert [block["text"] for block in second["system"]] == [
        "You are a test agent.",
        "## The repository\ncalc/ages.py",
        "## The task\nAnswer 42.",
    ]
    assert second["system"][1] == first["system"][1]
    assert second["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert not any("cache_control" in tool for tool in second["tools"])  # covered by system[1]
    assert json.dumps(second).count('"cache_control"') == 4  # the API's limit
