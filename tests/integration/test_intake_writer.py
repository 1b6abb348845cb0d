"""The group-commit writer: batches, duplicates inside a batch, failures kept apart."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select, text

from bot.store.engine import make_engine
from bot.store.intake_writer import IncomingDelivery, IntakeWriter, Receipt, StoreUnavailable
from bot.store.models import Delivery, Job
from bot.store.queue import WORKERS_LIMIT
from tests.conftest import GITHUB_SECRET
from tests.support.signing import github_headers
from tests.support.store import count_rows


def _delivery(delivery_id: str, source: str = "github", job: bool = True, **fields):
    values = {"event": "issues", "action": "labeled", "payload": "{}"} | fields
    return IncomingDelivery(
        source=source,
        delivery_id=delivery_id,
        job_kind="github.event" if job else None,
        **values,
    )


async def _record_all(writer: IntakeWriter, deliveries: list[IncomingDelivery]) -> list:
    return await asyncio.gather(*(writer.record(d) for d in deliveries), return_exceptions=True)


def test_concurrent_deliveries_are_committed_together_and_deduplicated(engine):
    writer = IntakeWriter(engine)
    writer.start()
    try:
        deliveries = [
            _delivery("a"),
            _delivery("b", job=False),
            _delivery("a"),  # a redelivery racing the first one
            _delivery("a", source="slack"),  # same id from another source is another delivery
            *(_delivery(f"n{i}") for i in range(200)),
        ]
        receipts = asyncio.run(_record_all(writer, deliveries))
    finally:
        writer.stop()
    assert receipts[:4] == [Receipt.QUEUED, Receipt.IGNORED, Receipt.DUPLICATE, Receipt.QUEUED]
    assert set(receipts[4:]) == {Receipt.QUEUED}
    assert count_rows(engine) == (203, 202)
    with engine.connect() as connection:
        jobs = connection.execute(select(Job.max_attempts, Job.status).distinct()).all()
    assert jobs == [(WORKERS_LIMIT, "queued")]  # the claiming worker's REPOCREW_JOB_MAX_ATTEMPTS


def test_a_row_the_store_refuses_fails_alone(engine, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce VARCHAR lengths; the endpoint bounds them anyway")
    writer = IntakeWriter(engine)
    writer.start()
    try:
        receipts = asyncio.run(
            _record_all(writer, [_delivery("ok-1"), _delivery("x" * 500), _delivery("ok-2")])
        )
    finally:
        writer.stop()
    assert receipts[0] == receipts[2] == Receipt.QUEUED
    assert isinstance(receipts[1], StoreUnavailable)
    assert count_rows(engine) == (2, 2)


def test_an_unreachable_store_is_reported_not_acknowledged(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    writer = IntakeWriter(engine)
    writer.start()
    try:
        with pytest.raises(StoreUnavailable):
            asyncio.run(writer.record(_delivery("a")))
    finally:
        writer.stop()


def test_a_broken_store_answers_503_and_keeps_nothing(client, engine):
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE job"))
    body = json.dumps({"action": "labeled"}).encode()
    response = client.post(
        "/github/webhook", content=body, headers=github_headers(GITHUB_SECRET, body, "issues", "z")
    )
    assert response.status_code == 503
    assert "store unavailable" in response.json()["error"]
    with engine.connect() as connection:
        assert connection.execute(select(Delivery)).all() == []


def test_recording_before_start_is_refused(engine):
    with pytest.raises(StoreUnavailable):
        asyncio.run(IntakeWriter(engine).record(_delivery("a")))
