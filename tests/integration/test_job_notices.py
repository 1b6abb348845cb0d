"""On PostgreSQL a job queued by another process (the web intake, another worker) wakes an
idle worker at once through LISTEN/NOTIFY, and the listener comes back after its connection
is cut; the poll is not what finds the job (it is a minute here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from bot.store import queue
from bot.store.engine import make_engine
from bot.store.job_notices import CHANNEL
from bot.store.migrate import upgrade
from bot.wiring import build_services
from jobs.worker import Worker
from tests.conftest import make_settings
from tests.support.worker_thread import running

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_url: str) -> Iterator:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@contextmanager
def idle_worker(engine, url: str, handler) -> Iterator[Worker]:
    settings = make_settings(url, worker_poll_seconds=60, worker_concurrency=2)
    worker = Worker(build_services(settings, engine), handlers={"ping": handler})
    with running(worker):
        yield worker


def listeners(url: str) -> list[int]:
    """The server processes of this database listening for queued jobs."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND query = :listen"
                    ),
                    {"listen": f"LISTEN {CHANNEL}"},
                ).scalars()
            )
    finally:
        admin.dispose()


def wait_for_listener(url: str, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := listeners(url):
            return found
        time.sleep(0.05)
    raise AssertionError("no worker listens for queued jobs")


def test_a_job_queued_by_another_process_wakes_an_idle_worker(engine, postgres_url):
    ran = threading.Event()
    elsewhere = make_engine(postgres_url)  # another process's engine: no in-memory bell
    try:
        with idle_worker(engine, postgres_url, lambda *_: ran.set()):
            wait_for_listener(postgres_url)
            time.sleep(0.3)  # both slots have looked, found nothing, and sleep their minute
            queue.enqueue(elsewhere, kind="ping")
            assert ran.wait(10)  # long before the next poll
    finally:
        elsewhere.dispose()


def test_the_listener_comes_back_after_its_connection_is_cut(engine, postgres_url):
    ran = threading.Event()
    elsewhere = make_engine(postgres_url)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with idle_worker(engine, postgres_url, lambda *_: ran.set()):
            (cut,) = wait_for_listener(postgres_url)
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut})
            deadline = time.monotonic() + 10
            while set(listeners(postgres_url)) in (set(), {cut}):
                assert time.monotonic() < deadline, "the listener did not come back"
                time.sleep(0.05)
            time.sleep(0.3)
            queue.enqueue(elsewhere, kind="ping")
            assert ran.wait(10)
    finally:
        elsewhere.dispose()
        admin.dispose()
