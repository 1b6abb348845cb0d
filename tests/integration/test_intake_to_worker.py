"""From a signed delivery to its effect: intake → job → worker → installation table."""

from __future__ import annotations

import json

from bot.store.engine import session_scope
from bot.store.models import Installation, JobStatus
from bot.store.queue import counts_by_status
from bot.wiring import build_services
from jobs.worker import Worker
from tests.conftest import CORPUS, GITHUB_SECRET
from tests.support.signing import github_headers

EXAMPLES = CORPUS / "github-webhooks" / "examples"


def _deliver(client, relative: str, delivery: str) -> int:
    body = (EXAMPLES / relative).read_bytes()
    event = relative.split("/")[0]
    headers = github_headers(GITHUB_SECRET, body, event, delivery)
    return client.post("/github/webhook", content=body, headers=headers).status_code


def _installation(engine, installation_id: int) -> Installation | None:
    with session_scope(engine) as session:
        return session.get(Installation, installation_id)


def test_installation_events_keep_the_installation_table_current(client, engine, settings, corpus):
    worker = Worker(build_services(settings, engine), worker_id="w")
    assert _deliver(client, "installation/created.with-requester.payload.json", "d1") == 202
    assert worker.run_until_idle() == 1
    created = _installation(engine, 957387)
    assert created is not None
    assert (created.account_login, created.deleted) == ("Codertocat", False)
    assert created.repositories.splitlines() == ["Codertocat/Hello-World"]

    assert _deliver(client, "installation_repositories/added.payload.json", "d2") == 202
    # A redelivery of the same event queues nothing and changes nothing.
    assert _deliver(client, "installation_repositories/added.payload.json", "d2") == 200
    assert worker.run_until_idle() == 1
    added = _installation(engine, 957387)
    assert added.repositories.splitlines() == ["Codertocat/Hello-World", "Codertocat/Space"]

    payload = json.loads((EXAMPLES / "installation/suspend.payload.json").read_text())
    assert _deliver(client, "installation/suspend.payload.json", "d3") == 202
    worker.run_until_idle()
    assert _installation(engine, payload["installation"]["id"]).suspended

    assert _deliver(client, "installation/deleted.payload.json", "d4") == 202
    worker.run_until_idle()
    assert _installation(engine, 2).deleted
    assert counts_by_status(engine) == {JobStatus.DONE: 4}


def test_events_without_a_handler_yet_complete_cleanly(client, engine, settings, corpus):
    assert _deliver(client, "issues/opened.payload.json", "d5") == 202
    assert Worker(build_services(settings, engine), worker_id="w").run_until_idle() == 1
    assert counts_by_status(engine) == {JobStatus.DONE: 1}


def test_a_crew_trigger_without_an_installation_is_ignored_not_retried(
    client, engine, settings, corpus
):
    """A repository webhook (no `installation`) may look like a trigger; the App cannot act."""
    comment = json.loads((EXAMPLES / "issue_comment/created.payload.json").read_text())
    comment["comment"]["body"] = "/crew status"
    labelled = json.loads((EXAMPLES / "issues/labeled.payload.json").read_text())
    labelled["label"]["name"] = "crew"
    for number, (event, payload) in enumerate([("issue_comment", comment), ("issues", labelled)]):
        assert "installation" not in payload
        body = json.dumps(payload).encode()
        headers = github_headers(GITHUB_SECRET, body, event, f"no-installation-{number}")
        assert client.post("/github/webhook", content=body, headers=headers).status_code == 202
    Worker(build_services(settings, engine), worker_id="w").run_until_idle()
    assert counts_by_status(engine) == {JobStatus.DONE: 2}
