"""SIGKILL the worker in every working state of a run; a restarted worker finishes it.

Each crash lands between a side effect and the transition that records it (the worst place):
the restarted worker must find the comment, push, pull request, review, check and status it
made before, and the model calls it already paid for, and make none of them twice.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.roster.loader import load_crew
from bot.runs.lifecycle import queue_run, start_local_run
from bot.sandbox import sandbox_status
from bot.store.models import ModelCall
from bot.store.runs import get_run
from bot.wiring import local_forge_for
from emulators.anthropic import AnthropicEmulator, create_app
from emulators.server import running
from repocrew import demo_session as crew_script
from repocrew.demo_session import git
from tests.conftest import make_settings
from tests.support.crew_worker import spawn

KEY = "sk-ant-test-emulator-key-0002"

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox: {sandbox_status().reason}"
)

# state the run is in when the worker dies → where it dies
CRASHES = {
    "planning": "after:create_comment:1",
    "researching": "after:create_comment:2",
    "coding": "before:create_pull:1",
    "reviewing": "after:create_review:1",
    "fixing": "after:update_pull:1",
    "reviewing-again": "after:create_review:2",
    "testing": "after:create_check:1",
    "voting": "after:set_status:1",
}


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with running(create_app(AnthropicEmulator(crew_script.whole_run_script()))) as url:
        yield url


def _worker(settings, crash_at: str = "") -> subprocess.Popen:
    return spawn(settings, anthropic_key=KEY, crash_at=crash_at)


def _wait_for_state(engine, run_id: int, states: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = get_run(engine, run_id).state
        if state in states:
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} stayed {get_run(engine, run_id).state}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("state", list(CRASHES))
def test_a_killed_worker_resumes_without_duplicates(
    state, engine, database_url, tmp_path, model_url
):
    settings = make_settings(database_url, work_dir=tmp_path / "work", anthropic_base_url=model_url)
    bare = crew_script.make_sample_repository(tmp_path)
    run_id = start_local_run(
        engine, crew=load_crew(None), repo=bare, task=crew_script.TASK_BODY,
        title=crew_script.TASK_TITLE,
    )  # fmt: skip
    queue_run(engine, run_id)

    doomed = _worker(settings, CRASHES[state])
    assert doomed.wait(timeout=90) == -9, "the worker should have been killed"
    assert get_run(engine, run_id).state == state.removesuffix("-again")

    survivor = _worker(settings)
    try:
        final = _wait_for_state(engine, run_id, {"awaiting_human", "failed"}, timeout=120)
    finally:
        survivor.terminate()
        survivor.wait(timeout=30)
    run = get_run(engine, run_id)
    assert final == "awaiting_human", run.reason

    posted = local_forge_for(run, settings).snapshot()
    assert [c["role"] for c in posted["comments"]] == ["planner", "researcher", "lead"]
    assert len(posted["pulls"]) == 1 and posted["pulls"][0]["draft"] is False
    assert [r["event"] for r in posted["reviews"]] == ["REQUEST_CHANGES", "COMMENT"]
    assert [(c["status"], c["conclusion"]) for c in posted["checks"]] == [("completed", "success")]
    # Setting a commit status again with the same state is how GitHub updates one; a second,
    # different status for the context would be a duplicate.
    assert len({tuple(sorted(status.items())) for status in posted["statuses"]}) == 1
    assert git("rev-list", "--count", f"main..{run.branch}", cwd=bare) == "2"
    with engine.connect() as connection:
        calls = connection.execute(
            select(func.count()).where(ModelCall.run_id == run_id)
        ).scalar_one()
    assert calls == len(crew_script.whole_run())
