"""Events the crew ignores cost no GitHub request: the worker decides from the payload (and a
repository's config, read once per push) before it asks GitHub anything."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from dataclasses import replace

import pytest

from bot.store import queue
from bot.store.intake_writer import IncomingDelivery, IntakeWriter
from bot.triggers.catalog import GITHUB_EVENT_JOB, github_acts_on
from bot.wiring import build_services
from emulators.github import GitHubEmulator
from emulators.github import create_app as github_app
from emulators.server import running
from jobs.worker import Worker
from tests.conftest import make_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REPO = "octo-org/hello"


def _acted_on(corpus) -> list[IncomingDelivery]:
    """Every corpus example of an event the crew acts on, about REPO through installation 1."""
    found = []
    for path in sorted((corpus / "github-webhooks" / "examples").glob("*/*.json")):
        event, payload = path.parent.name, json.loads(path.read_text())
        action = str(payload.get("action") or "")
        if not github_acts_on(event, action) or event.startswith("installation"):
            continue  # (installation events would uninstall the App from the emulator's view)
        if "repository" in payload:
            payload["repository"] |= {"full_name": REPO, "name": REPO.split("/")[1]}
        payload["installation"] = {"id": 1}
        found.append(
            IncomingDelivery(
                source="github",
                delivery_id=str(uuid.uuid4()),
                event=event,
                payload=json.dumps(payload),
                action=action,
                installation_id=1,
                job_kind=GITHUB_EVENT_JOB,
            )
        )
    return found


def _store(engine, deliveries: list[IncomingDelivery]) -> None:
    writer = IntakeWriter(engine)

    async def record_all() -> None:
        await asyncio.gather(*(writer.record(d) for d in deliveries))

    writer.start()
    try:
        asyncio.run(record_all())
    finally:
        writer.stop()


def test_events_the_crew_ignores_ask_github_nothing_once_the_config_is_known(
    corpus, engine, database_url, tmp_path
):
    hub = GitHubEmulator.with_defaults()
    with running(github_app(hub)) as hub_url:
        hub.base_url = hub_url
        settings = make_settings(
            database_url,
            github_app_id=1,
            github_private_key=hub.apps[1].private_key_pem.decode(),
            github_api_url=hub_url,
            github_web_url=hub_url,
            github_seconds_between_writes=0,
            work_dir=tmp_path,
        )
        services = build_services(settings, engine)
        worker = Worker(services, worker_id="w")
        examples = _acted_on(corpus)
        kinds = Counter(json.loads(d.payload).get("action") for d in examples)
        assert len(examples) > 20 and kinds["labeled"] >= 1  # label events are in the mix

        _store(engine, examples)
        assert worker.run_until_idle() == len(examples)
        first = sum(hub.rate_used.values())
        for _ in range(3):  # the same events again, as new deliveries: a busy repository
            _store(engine, [replace(d, delivery_id=str(uuid.uuid4())) for d in examples])
            assert worker.run_until_idle() == len(examples)
        services.close()
    assert sum(hub.rate_used.values()) == first
    assert queue.counts_by_status(engine) == {"done": 4 * len(examples)}
