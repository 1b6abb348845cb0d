"""The repository's context and the hand-offs on a whole scripted run (the Anthropic emulator),
and replays of runs recorded with other prompts.

Every model request of a run carries the same repository block in system[1], with its own
cache breakpoint; the coder's fix after failed tests is shown the tester's analysis, the
failing tests' messages and the researcher's notes, and the files earlier steps read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.llm.client import ModelClient
from bot.llm.ledger import request_key
from bot.operator.replay import replay_run
from bot.roster.loader import load_crew
from bot.runs.driver import drive
from bot.runs.lifecycle import start_local_run
from bot.runs.repository import HEADING
from bot.runs.states import RunState
from bot.sandbox import sandbox_status
from bot.store.models import ModelCall
from bot.store.runs import get_run, outputs
from bot.wiring import services_for
from emulators.anthropic import AnthropicEmulator, Turn, create_app
from emulators.anthropic.script import Script
from emulators.server import running
from repocrew import demo_session as crew_script
from repocrew.cli import app
from tests.conftest import make_settings

KEY = "sk-ant-test-emulator-key-0002"
ANALYSIS = "The range check's message says 'from 0 to'; the new tests expect 'between 0 and'."
pytestmark = [
    pytest.mark.skipif(
        not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def failing_then_fixed() -> list[Turn]:
    """plan → research → code (a wrong message) → review → test fails → fix → test → vote."""
    wrong = crew_script.AGES_CODED.replace("between 0 and", "from 0 to")
    code = crew_script.code_turns()  # its first turn writes calc/ages.py: with the wrong message
    code[0] = Turn(
        content=Turn.tool_use("write_file", {"path": "calc/ages.py", "content": wrong}).content,
        match=code[0].match,
    )
    tester = crew_script.tester_turns("test-1")[0]
    failed = Turn(
        content=Turn.tool_use("submit_test_report", {"analysis": ANALYSIS}).content,
        match=tester.match,
    )
    return [
        *crew_script.plan_turns(),
        *crew_script.research_turns(),
        *code,
        *crew_script.review_turns("review-1", request_changes=False),
        failed,
        *_fix_writing(crew_script.AGES_CODED),
        *crew_script.tester_turns("test-2"),
        *crew_script.vote_turns(),
    ]


def _fix_writing(text: str) -> list[Turn]:
    answer = {
        "summary": "The message now says 'between 0 and 150', as the tests expect.",
        "changes": [{"path": "calc/ages.py", "what": "the error message"}],
        "testing": "pytest",
    }
    turns = [
        Turn.tool_use("write_file", {"path": "calc/ages.py", "content": text}),
        Turn.tool_use("submit_change", answer),
    ]
    return [
        Turn(
            content=turn.content,
            match={"system": "You are Coder on", "first_user": "[step: fix-1]", "turn": number},
        )
        for number, turn in enumerate(turns)
    ]


@pytest.fixture
def world(database_url, tmp_path) -> Iterator[tuple[AnthropicEmulator, object]]:
    emulator = AnthropicEmulator(Script(failing_then_fixed(), reuse=True))
    with running(create_app(emulator)) as url:
        settings = make_settings(
            database_url, work_dir=tmp_path / "work", anthropic_api_key=KEY, anthropic_base_url=url
        )
        yield emulator, settings


def run_crew(engine, settings, tmp_path) -> int:
    bare = crew_script.make_sample_repository(tmp_path)
    run_id = start_local_run(
        engine, crew=load_crew(None), repo=bare, task=crew_script.TASK_BODY, title="Validate ages"
    )
    model = ModelClient(api_key=KEY, base_url=settings.anthropic_base_url, max_retries=1)
    assert drive(services_for(engine, settings, run_id, model=model), run_id) is (
        RunState.AWAITING_HUMAN
    ), get_run(engine, run_id).reason
    return run_id


def test_every_request_carries_one_map_and_the_fix_gets_the_testers_findings(
    engine, world, tmp_path
):
    emulator, settings = world
    run_id = run_crew(engine, settings, tmp_path)

    bodies = emulator.message_bodies()
    blocks = [body["system"][1] for body in bodies]
    assert len(bodies) > 10 and all(block == blocks[0] for block in blocks)  # byte-identical
    assert blocks[0]["cache_control"] == {"type": "ephemeral"}
    assert blocks[0]["text"].startswith(HEADING) and "ages.py (" in blocks[0]["text"]
    assert "parse_age()" in blocks[0]["text"]
    for body in bodies:  # the API's limit of four breakpoints holds with the map's
        marked = json.dumps(body).count('"cache_control"')
        assert marked <= 4 and not any("cache_control" in tool for tool in body["tools"])

    results = outputs(engine, run_id)
    failures = results["test-1"]["failures"]
    assert not results["test-1"]["passed"] and failures
    fix = next(b for b in bodies if "[step: fix-1]" in json.dumps(b["messages"][0]))
    asked = fix["messages"][0]["content"][0]["text"]
    for failure in failures:
        assert failure["message"] and failure["message"].splitlines()[0] in asked
        assert failure["test"] in asked
    assert ANALYSIS in asked  # the tester's analysis
    context = fix["system"][2]["text"]
    assert "parse_age is a one-line int() call; the plan fits." in context  # research notes
    assert "already read: calc/ages.py (research-1)" in context


def _alter_requests(engine, run_id: int, change) -> None:
    """Rewrite the run's recorded requests with `change`, each under its new hash: as if the
    run had been recorded by a crew whose prompts were different."""
    with engine.begin() as connection:
        rows = connection.execute(
            select(ModelCall.id, ModelCall.request).where(ModelCall.run_id == run_id)
        ).all()
        for row_id, stored in rows:
            request = change(json.loads(stored))
            connection.execute(
                update(ModelCall)
                .where(ModelCall.id == row_id)
                .values(request=json.dumps(request), request_key=request_key(request))
            )


def test_a_run_recorded_without_the_map_replays_without_it(engine, world, tmp_path):
    emulator, settings = world
    run_id = run_crew(engine, settings, tmp_path)
    asked = len(emulator.requests)

    def without_map(request):
        del request["system"][1]
        request["tools"][-1]["cache_control"] = {"type": "ephemeral"}
        return request

    _alter_requests(engine, run_id, without_map)
    result = replay_run(engine, settings, run_id)

    assert result.same_outcome and result.replay_state == "awaiting_human", result.reason
    assert len(emulator.requests) == asked  # every answer came from the recording


def test_a_run_recorded_with_other_prompts_says_what_changed(engine, world, tmp_path, monkeypatch):
    emulator, settings = world
    run_id = run_crew(engine, settings, tmp_path)

    def older_prompts(request):
        system = request["system"][0]
        assert "How you work:" in system["text"]
        system["text"] = system["text"].replace("How you work:", "How to work:")
        return request

    _alter_requests(engine, run_id, older_prompts)
    result = replay_run(engine, settings, run_id)

    assert result.replay_state == "failed" and result.prompts_changed
    assert result.reason.startswith(
        "prompts changed since this run was recorded: the system prompt differs at line "
    )
    assert '"How to work:" → "How you work:"' in result.reason
    assert result.reason.endswith("(model call 0 of plan-1)")

    monkeypatch.chdir(tmp_path)  # no developer's .env
    env = {
        "REPOCREW_DATABASE_URL": settings.database_url,
        "REPOCREW_WORK_DIR": str(settings.work_dir),
        "REPOCREW_LOG_LEVEL": "ERROR",
    }
    said = CliRunner().invoke(app, ["replay", str(run_id)], env=env)
    assert said.exit_code == 1, said.output
    (line,) = said.stderr.strip().splitlines()
    assert line.startswith(
        f"repocrew replay: run {run_id} cannot be replayed: prompts changed since this run was"
    )
    assert "Traceback" not in said.output
