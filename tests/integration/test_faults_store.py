"""PostgreSQL restarted under load (`pg_ctlcluster … stop`, then `start`, on the local server):
while it is down the webhook intake answers 503 with the reason, so GitHub redelivers; the
worker reconnects by itself; every delivery answered 2xx is stored and processed exactly once.

This stops the shared test server for a few seconds; it is started again whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.models import Delivery, Installation, Job
from emulators.server import running
from repocrew.serve import serve_app
from tests.conftest import CORPUS, GITHUB_SECRET, make_settings
from tests.support.signing import github_headers

CREATED = (
    CORPUS / "github-webhooks" / "examples" / "installation" / "created.with-requester.payload.json"
)
CLUSTERS = Path("/etc/postgresql")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.exclusive,  # every other PostgreSQL test would lose its connections meanwhile
    pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="no pg_ctlcluster here"),
    pytest.mark.skipif(os.geteuid() != 0, reason="restarting PostgreSQL needs root"),
    pytest.mark.skipif(not CREATED.exists(), reason=f"the corpus is not at {CORPUS}"),
]


def cluster(action: str) -> None:
    """`pg_ctlcluster <version> main <action>` on the local server."""
    (version,) = [path.name for path in CLUSTERS.iterdir() if (path / "main").is_dir()]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
        timeout=60,
    )


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception:  # noqa: BLE001 - the server may still be coming up
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_intake_refuses_while_postgres_is_down_and_loses_nothing_it_accepted(postgres_server):
    template = json.loads(CREATED.read_text())

    def deliver(base: str, number: int) -> httpx.Response:
        payload = json.loads(json.dumps(template))
        payload["installation"]["id"] = 700_000 + number
        body = json.dumps(payload).encode()
        headers = github_headers(GITHUB_SECRET, body, "installation", f"restart-{number}")
        return httpx.post(f"{base}/github/webhook", content=body, headers=headers, timeout=30)

    with _fresh_database(postgres_server) as url:
        engine = make_engine(url)
        upgrade(engine)  # before the app, whose start-up then has nothing to migrate
        settings = make_settings(url, job_backoff_seconds=0.2, job_lease_seconds=2)
        app = serve_app(settings, engine=engine, scheduler=False)
        accepted: set[int] = set()
        refused: list[httpx.Response] = []
        try:
            with running(app) as base:
                for number in range(5):
                    assert deliver(base, number).status_code == 202
                    accepted.add(number)
                cluster("stop")
                try:
                    for number in range(5, 8):
                        response = deliver(base, number)
                        if response.status_code == 202:  # only if it really was stored
                            accepted.add(number)
                        else:
                            refused.append(response)
                finally:
                    cluster("start")
                # GitHub redelivers what was refused; new deliveries keep coming.
                for number in range(5, 13):
                    if number in accepted:
                        continue
                    response = wait_until(
                        lambda number=number: (r := deliver(base, number)).status_code == 202 and r,
                        "the intake back",
                    )
                    assert response.status_code == 202
                    accepted.add(number)
                done = wait_until(lambda: _jobs_done(engine, len(accepted)), "the jobs", 60)
        finally:
            _ensure_running()
        assert done
        assert [r.status_code for r in refused] == [503] * len(refused) and refused
        assert all("store unavailable" in r.json()["error"] for r in refused)
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(Delivery)).scalar_one()
            jobs = connection.execute(select(Job.__table__)).all()  # type: ignore[attr-defined]
            ids = set(connection.execute(select(Installation.id)).scalars())
        assert stored == len(accepted) == 13
        assert len(jobs) == 13 and {job.status for job in jobs} == {"done"}
        assert ids == {700_000 + number for number in range(13)}
        engine.dispose()


def _jobs_done(engine, count: int) -> bool:
    table = Job.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        statuses = connection.execute(select(table.c.status)).scalars().all()
    return len(statuses) == count and set(statuses) == {"done"}


def _ensure_running() -> None:
    """Leave the shared server up, whatever the test did."""
    try:
        cluster("start")
    except subprocess.CalledProcessError:
        pass  # already running


@contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    """As conftest's `fresh_postgres_database`, with no pooled admin connection to outlive
    the restart."""
    name = f"repocrew_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
