"""The crew's tools through the real agent loop: a team run on the sample repository, the model
scripted on the Anthropic emulator. The coder reproduces the bug with `run` (a script that also
serves on the sandbox's own loopback and fails to reach a port the test listens on, on the
host's), fixes it, runs one selected test with `run_tests`, reads the change with `git_diff` and
numbered lines with `read_file`; the tester runs the whole suite with the tools its roster
grants. Every tool result is read back from the model's own requests.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.llm.client import ModelClient
from bot.roster.loader import load_crew
from bot.runs.driver import drive
from bot.runs.lifecycle import start_local_run
from bot.runs.states import RunState
from bot.sandbox import sandbox_status
from bot.store.runs import get_run
from bot.wiring import services_for
from emulators.anthropic import AnthropicEmulator, Turn, create_app
from emulators.anthropic.script import Script
from emulators.server import running
from repocrew import demo_session as crew
from repocrew.demo_session import git
from tests.conftest import make_settings

pytestmark = [
    pytest.mark.skipif(
        not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

KEY = "sk-ant-test-emulator-key-0015-tools"
MARKER = "repocrew-background-marker-15"
FAKE_TOKEN = "ghp_" + "R3pr0" * 8  # made at run time inside the sandbox, printed by the script
SELECTED = "tests/test_ages.py::test_negative_ages_are_refused"
REPRO = """import socket, threading
from calc.ages import parse_age

try:
    print("parse_age('-1') =", parse_age("-1"), "(the bug: accepted)")
except ValueError as error:
    print("refused:", error)

server = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=lambda: server.accept()[0].sendall(b"hello"), daemon=True).start()
with socket.create_connection(server.getsockname(), timeout=2) as inside:
    print("sandbox loopback says", inside.recv(5).decode())
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("host port: CONNECTED")
except OSError as error:
    print("host port: no way through,", type(error).__name__)
print("token:", "ghp_" + "R3pr0" * 8)
"""
RUN = f"python -c 'import time; time.sleep(120)' {MARKER} & python repro.py"


def _turns(agent: str, step: str, turns: list[Turn]) -> list[Turn]:
    match = {"system": f"You are {agent} on", "first_user": f"[step: {step}]"}
    return [Turn(content=t.content, match={**match, "turn": n}) for n, t in enumerate(turns)]


def _coder(port: int) -> list[Turn]:
    use = Turn.tool_use
    return _turns(
        "Coder",
        "code-1",
        [
            use("write_file", {"path": "repro.py", "content": REPRO.format(port=port)}),
            use("run", {"command": RUN, "timeout_seconds": 60}),
            use("write_file", {"path": "calc/ages.py", "content": crew.AGES_CODED}),
            use("write_file", {"path": "tests/test_ages.py", "content": crew.TESTS_CODED}),
            use("run", {"command": "python repro.py"}),
            use("run_tests", {"tests": [SELECTED]}),
            use("git_diff", {}),
            use("git_diff", {"path": "calc/ages.py"}),
            use("read_file", {"path": "calc/ages.py", "start_line": 3, "end_line": 3}),
            use("delete_file", {"path": "repro.py"}),
            crew.code_turns()[-1],
        ],
    )


def _tester() -> list[Turn]:
    answer = {"analysis": "The whole suite passes."}
    return _turns(
        "Tester",
        "test-1",
        [Turn.tool_use("run_tests", {}), Turn.tool_use("submit_test_report", answer)],
    )


@pytest.fixture
def host_port() -> Iterator[socket.socket]:
    """A port listening on the host's loopback: nothing in the sandbox may connect to it."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


@pytest.fixture
def model(host_port) -> Iterator[tuple[AnthropicEmulator, str]]:
    turns = [
        *crew.plan_turns(),
        *crew.research_turns(),
        *_coder(host_port.getsockname()[1]),
        *crew.review_turns("review-1", request_changes=False),
        *_tester(),
        *crew.vote_turns(),
    ]
    emulator = AnthropicEmulator(Script(turns, reuse=True))
    with running(create_app(emulator)) as url:
        yield emulator, url


def _results(emulator: AnthropicEmulator, step: str) -> list[dict[str, Any]]:
    """The tool results of the step's last request, in order."""
    bodies = [b for b in emulator.message_bodies() if f"[step: {step}]" in json.dumps(b)]
    return [
        block
        for message in bodies[-1]["messages"]
        if message["role"] == "user"
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


def _processes_with(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


def test_the_coder_reproduces_fixes_and_verifies_with_its_tools(
    engine, database_url, tmp_path, model, host_port
):
    emulator, url = model
    settings = make_settings(
        database_url, work_dir=tmp_path / "work", anthropic_api_key=KEY, anthropic_base_url=url
    )
    bare = crew.make_sample_repository(tmp_path)
    run_id = start_local_run(
        engine, crew=load_crew(None), repo=bare, task=crew.TASK_BODY, title=crew.TASK_TITLE,
        by="Octo Human <octo@example.com>",
    )  # fmt: skip
    client = ModelClient(api_key=KEY, base_url=url, max_retries=0, deadline=60)
    state = drive(services_for(engine, settings, run_id, model=client), run_id)
    assert state is RunState.AWAITING_HUMAN, get_run(engine, run_id).reason

    results = _results(emulator, "code-1")
    texts = [r["content"] for r in results]
    assert [r.get("is_error", False) for r in results] == [False] * 10, texts
    wrote, reproduced, _, _, verified, selected, diff, one_file, numbered, _ = texts

    # `run`: the bug reproduced; the sandbox's loopback served; the host's port was out of reach.
    assert reproduced.startswith(f"$ {RUN}\nexit code 0 after ")
    assert float(re.search(r"after ([\d.]+) s", reproduced)[1]) < 30  # not the sleeper's 120
    assert "parse_age('-1') = -1 (the bug: accepted)" in reproduced
    assert "sandbox loopback says hello" in reproduced
    assert "host port: no way through, ConnectionRefusedError" in reproduced
    host_port.setblocking(False)
    with pytest.raises(BlockingIOError):
        host_port.accept()  # nobody connected
    assert _processes_with(MARKER) == []  # the background process ended with the command
    assert "refused: age must be between 0 and 150, got -1" in verified

    # No secret reaches the model: the token the script printed is redacted.
    assert "token: [REDACTED:" in reproduced
    assert FAKE_TOKEN not in json.dumps(emulator.message_bodies())

    # `run_tests` with a selection ran that test alone (the file has three).
    assert selected.startswith("$ ") and SELECTED in selected.splitlines()[0]
    assert selected.splitlines()[1] == "exit code 0; 1 passed"
    tester = _results(emulator, "test-1")[0]["content"]
    assert tester.splitlines()[1] == "exit code 0; 3 passed"

    # `git_diff`: the coder's edit and its new files, against the base; one path alone.
    assert "+MAX_AGE = 150" in diff and "+++ b/repro.py" in diff and "def test_ages_over" in diff
    assert "+MAX_AGE = 150" in one_file and "test_ages" not in one_file

    # `read_file` numbers lines as `cat -n` does.
    assert numbered == "     3\tMAX_AGE = 150\n"
    coder = [b for b in emulator.message_bodies() if "[step: code-1]" in json.dumps(b)][-1]
    described = {tool["name"]: tool.get("description", "") for tool in coder["tools"]}
    assert "cat -n" in described["read_file"]
    assert "not committed" in described["run"] and wrote.startswith("Created `repro.py`")

    # The scratch script was deleted; the commit holds the fix and its tests only.
    branch = get_run(engine, run_id).branch
    files = git("diff", "--name-only", f"main...{branch}", cwd=bare).split()
    assert files == ["calc/ages.py", "tests/test_ages.py"]
