"""The JSON log of real work: a delivery taken in and run by the worker, a run's step.

Every line must parse, and the lines of a job carry its delivery's and its run's ids.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.local_forge import LocalForge
from bot.observability.logs import configure_logging
from bot.roster.loader import load_crew
from bot.runs.driver import advance
from bot.runs.lifecycle import CREW_RUN_JOB, start_local_run
from bot.runs.progress import end_run
from bot.runs.states import RunState
from bot.security.secrets import scanner_for_settings
from bot.store import queue
from bot.wiring import build_services, services_for
from jobs.worker import Worker
from tests.conftest import GITHUB_SECRET, make_settings
from tests.support.signing import github_headers
from webhooks.app import create_app

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, slack_api_url="http://127.0.0.1:9/api/")


@pytest.fixture
def json_log(settings) -> Iterator[io.StringIO]:
    """The process's log as `repocrew serve` writes it, into a buffer."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(
        level="INFO", log_format="json", scanner=scanner_for_settings(settings), stream=stream
    )
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # each line is JSON


@SQLITE_ONLY
def test_a_deliverys_lines_carry_its_ids_from_intake_to_worker(settings, engine, json_log):
    delivery = str(uuid.uuid4())
    body = json.dumps({"action": "opened", "installation": {"id": 42}, "issue": {}}).encode()
    with TestClient(create_app(settings, engine=engine)) as client:
        accepted = client.post(
            "/github/webhook",
            content=body,
            headers=github_headers(GITHUB_SECRET, body, "issues", delivery),
        )
        refused = client.post(
            "/github/webhook",
            content=body,
            headers=github_headers("not-the-secret", body, "issues", str(uuid.uuid4())),
        )
    assert (accepted.status_code, refused.status_code) == (202, 401)

    crew = load_crew(None)
    run_id = start_local_run(engine, crew=crew, repo="/nonexistent/repo", task="Do it")
    assert end_run(engine, run_id, target=RunState.STOPPED, reason="stopped by a human")
    queue.enqueue(engine, kind=CREW_RUN_JOB, args={"run_id": run_id})
    # (the run's Slack posts, queued by the crew.run job, meet a closed port: no network here)
    Worker(build_services(settings, engine)).run_until_idle()

    lines = lines_of(json_log)
    [refusal] = [line for line in lines if line["logger"] == "webhooks.metrics"]
    assert refusal["source"] == "github" and refusal["delivery_id"] is None

    github_job = [line for line in lines if line.get("job_kind") == "github.event"]
    messages = [line["message"] for line in github_job]
    assert any("no handler registered for github issues.opened" in m for m in messages)
    assert any(m.endswith("(github.event) done") for m in messages)
    for line in github_job:
        assert (line["delivery_id"], line["installation_id"], line["source"]) == (
            delivery,
            42,
            "github",
        )
        assert line["run_id"] is None

    run_job = [line for line in lines if line.get("job_kind") == CREW_RUN_JOB]
    assert f"run {run_id} is stopped" in [line["message"] for line in run_job]
    assert all(line["run_id"] == run_id and line["delivery_id"] is None for line in run_job)


def test_a_steps_lines_carry_the_run_the_state_and_the_role(settings, engine, json_log, tmp_path):
    crew = load_crew(None)
    run_id = start_local_run(engine, crew=crew, repo="/nonexistent/repo", task="Do it")
    forge = LocalForge(tmp_path / "forge.json", clone_url="/nonexistent/repo")
    services = services_for(engine, settings, run_id, forge=forge)

    assert advance(services, run_id) is RunState.PLANNING  # the lead takes it off the queue

    [moved] = [line for line in lines_of(json_log) if "queued → planning" in line["message"]]
    assert (moved["run_id"], moved["state"], moved["role"]) == (run_id, "queued", crew.lead)
    assert moved["installation_id"] is None and moved["logger"] == "bot.runs.driver"


def test_the_role_of_a_working_state_is_the_role_its_step_names():
    from bot.runs.driver import run_fields
    from bot.runs.states import STATE_STEP
    from bot.store.models import Run

    crew = load_crew(None)
    for state, step in STATE_STEP.items():
        fields = run_fields(crew, Run(id=1, repo="r", state=state, installation_id=9))
        assert fields == {
            "run_id": 1,
            "installation_id": 9,
            "state": state,
            "role": crew.steps[step],
        }
    assert run_fields(crew, Run(id=1, repo="r", state="voting"))["role"] == crew.lead
