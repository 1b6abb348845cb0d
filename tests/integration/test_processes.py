"""The real `repocrew` processes: serve end to end, readiness, graceful shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from bot.store import queue
from bot.store.engine import make_engine
from bot.store.migrate import head_revision
from bot.store.models import Installation, Job, JobStatus
from bot.wiring import build_services
from jobs.worker import Worker
from tests.conftest import CORPUS, GITHUB_SECRET, REPO, make_settings
from tests.support.signing import github_headers

EXAMPLES = CORPUS / "github-webhooks" / "examples"
REPOCREW = str(Path(sys.executable).with_name("repocrew"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 20) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_takes_a_delivery_to_its_effect_and_stops_on_sigterm(tmp_path, corpus):
    database = tmp_path / "serve.db"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPOCREW_", "ANTHROPIC_"))} | {
        "REPOCREW_DATABASE_URL": f"sqlite:///{database}",
        "REPOCREW_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "REPOCREW_WORKER_POLL_SECONDS": "0.05",
    }
    server = subprocess.Popen(
        [REPOCREW, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_http(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/readyz").json()["ready"] is True

        example = (
            CORPUS / "github-webhooks/examples/installation/created.with-requester.payload.json"
        )
        body = example.read_bytes()
        headers = github_headers(GITHUB_SECRET, body, "installation", "serve-1")
        assert (
            httpx.post(f"{base}/github/webhook", content=body, headers=headers).status_code == 202
        )

        engine = make_engine(f"sqlite:///{database}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.execute(select(Installation.id)).first():
                    break
            time.sleep(0.1)
        with engine.connect() as connection:
            assert connection.execute(select(Installation.account_login)).scalar() == "Codertocat"
        engine.dispose()
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    # uvicorn re-raises SIGTERM after a clean shutdown, as process managers expect.
    assert server.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    assert "missing ANTHROPIC_API_KEY" in stderr
    assert "missing REPOCREW_SLACK_SIGNING_SECRET" in stderr
    assert "missing REPOCREW_GITHUB_WEBHOOK_SECRET" not in stderr


def test_db_upgrade_command(tmp_path):
    env = os.environ | {"REPOCREW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [REPOCREW, "db", "upgrade"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert f"store at revision {head_revision()}" in result.stdout


def test_readyz_reports_an_outdated_schema(client, engine):
    assert client.get("/readyz").status_code == 200
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'stale'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "migrations not current" in response.json()["reason"]


@pytest.mark.parametrize(("grace", "expected"), [(5.0, JobStatus.DONE), (0.0, JobStatus.QUEUED)])
def test_sigterm_finishes_or_releases_the_job_in_flight(engine, database_url, grace, expected):
    started = threading.Event()

    def slow(job, _services):
        started.set()
        time.sleep(1.0)

    settings = make_settings(database_url, shutdown_grace_seconds=grace, job_lease_seconds=0.6)
    worker = Worker(build_services(settings, engine), handlers={"slow": slow}, worker_id="w")
    job_id = queue.enqueue(engine, kind="slow")
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(10)
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()
    with engine.connect() as connection:
        job = connection.execute(select(Job).where(Job.id == job_id)).one()
    assert job.status == expected
    if expected == JobStatus.QUEUED:
        assert (job.attempts, job.lease_owner) == (0, None)
